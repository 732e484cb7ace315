package server

// The import block is like middleware.go's: both are server plumbing around requests
// and jobs; a list of dependencies shares no logic.
import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
)

// The job queue. An integration in a busy status (creating, editing, deleting,
// migrating) is a job (migrate.go says how migrations enter it); the store keeps who holds it (a lease) so that with several
// replicas each job runs on one of them, and a job whose replica died is taken over
// once its lease lapses:
//
//   - A POST, PUT or DELETE that would start a job first takes a place in this
//     replica's queue: Options.Workers jobs run at once and Options.Queue more may wait.
//     When every place is taken (or the server is stopping) the request is a 503 with
//     Retry-After and nothing is written.
//   - The lease is taken in the same write that moves the status, and from then until
//     the job's outcome is written the job is held, waiting or running: one keeper
//     renews the leases of every held job every third of the lease, in one write
//     (store.RenewLeases). A job the renewal reports lost (another replica claimed it
//     after its lease lapsed, or a forceDisable ended it) is cancelled if it runs and
//     never started if it waits.
//   - Right before its platform work starts a worker renews the job's lease once more,
//     a write conditional on this replica still holding it: the work of a job starts at
//     most once, unless its replica died (its lease lapsed unrenewed). An outcome is
//     written only while the lease is still this replica's (finish).
//   - Every replica polls the store (Claim), while it has a free place, for busy
//     integrations whose lease lapsed: a manual setup's job is run again from the
//     stored config; an automatic setup's cannot be (its credentials are gone), so it
//     ends in the matching error status with a message saying what to do. A start-up
//     is the first poll.
//   - A graceful stop (Close) refuses new jobs, lets the workers finish the held ones,
//     waiting or running, until its deadline, then cancels the rest and releases their
//     leases, so that another replica (or the next start) takes them over at once.

// job is background work on one integration. payload is the request's payload, which
// for an automatic setup holds the privileged bootstrap credentials: they live in this
// struct, in memory, and nowhere else.
type job struct {
	kind    platforms.Operation // create, edit or delete
	id      int64
	payload *platforms.Payload
}

// Default lease timings and queue bound.
const (
	DefaultLease        = 15 * time.Second
	DefaultPollInterval = time.Second
	// DefaultQueue is how many accepted jobs may wait for a worker (Options.Queue).
	DefaultQueue = 100
)

// retryAfter is the Retry-After (seconds) of a request refused because the queue is
// full: a place frees up as soon as one job ends.
const retryAfter = 1

// newReplicaID names this server process in leases: host, pid and a random suffix.
func newReplicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// heldJob is what the replica knows of a job whose lease it holds.
type heldJob struct {
	kind platforms.Operation
	// until is when the lease lapses, as last written.
	until time.Time
	// cancel stops the job's work; set while it runs.
	cancel context.CancelFunc
	// lost: a renewal found the lease no longer this replica's.
	lost bool
	// ending: the outcome is being written (the lease is cleared with it), so the
	// keeper no longer renews it.
	ending bool
}

// place is a place in the job queue, taken by a request before it writes the busy
// status of a job: enqueue hands the job to the workers in it, cancel gives it back
// when the write did not happen. Not safe for concurrent use.
type place struct {
	s     *Server
	until time.Time
	used  bool
	// probe: the poller's place while it looks for a lapsed job (claim); it does not
	// count against the requests' capacity until a job is claimed into it (keep).
	probe bool
}

// reserve takes a place in the queue for a job of kind and sets in's lease (the
// request's busy write takes it); a 503 with Retry-After when every place is taken or
// the server is stopping.
func (s *Server) reserve(kind platforms.Operation, in *store.Integration) (*place, error) {
	p, err := s.takePlace(false)
	if err != nil {
		s.metrics.jobs.WithLabelValues(string(kind), "rejected").Inc()
		return nil, err
	}
	p.until = time.Now().Add(s.lease).UTC()
	in.LeaseOwner, in.LeaseUntil = s.replica, p.until
	return p, nil
}

// takePlace takes a place in the queue, or says why there is none. A probe place
// (the poller's, while its claim looks for a lapsed job) is taken only when a place is
// free, like any other, but a request never waits for it nor is refused because of
// it: most probes find nothing and give the place back, and a request that arrived in
// between would have been refused for a job that does not exist. So a probe that does
// claim a job may bring the taken places to one above capacity (one poll runs at a
// time; the jobs channel has that extra slot).
func (s *Server) takePlace(probe bool) (*place, error) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	switch taken := s.active - s.probes; {
	case s.closing:
		return nil, &httpError{status: http.StatusServiceUnavailable, retryAfter: retryAfter,
			message: "the server is shutting down; nothing was written, retry (another replica, or this one once restarted, takes the request)"}
	case taken >= s.capacity:
		return nil, &httpError{status: http.StatusServiceUnavailable, retryAfter: retryAfter,
			message: fmt.Sprintf("the job queue is full (%d jobs accepted and not finished); nothing was written, retry later", taken)}
	}
	s.active++
	if probe {
		s.probes++
	}
	return &place{s: s, probe: probe}, nil
}

// keep makes a probe place an ordinary one (a job was claimed into it); a no-op on an
// ordinary place. cancel calls it too before giving the place back.
func (p *place) keep() {
	if !p.probe {
		return
	}
	p.probe = false
	p.s.qmu.Lock()
	p.s.probes--
	p.s.qmu.Unlock()
}

// enqueue hands j, whose lease the busy write took, to the workers: it is held from now
// until its outcome is written.
func (p *place) enqueue(j job) {
	p.used = true
	s := p.s
	s.qmu.Lock()
	s.held[j.id] = &heldJob{kind: j.kind, until: p.until}
	s.qmu.Unlock()
	s.jobs <- j // never blocks: the channel has a slot for every place
}

// cancel gives the place back unless a job took it.
func (p *place) cancel() {
	if p.used {
		return
	}
	p.used = true
	p.keep()
	p.s.freePlace()
	p.s.onBackground() // a test waiting for the queue to empty looks again
}

// freePlace returns a place to the queue.
func (s *Server) freePlace() {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.active--
	if s.closing && s.active == 0 {
		close(s.drained)
	}
}

// heldOf returns what is held of job id (nil when nothing).
func (s *Server) heldOf(id int64) *heldJob {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.held[id]
}

// forget drops job id from the held jobs (its outcome is written, or it is lost).
func (s *Server) forget(id int64) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	delete(s.held, id)
}

// Start claims the work a stopped server left (API.md section 5) and starts the
// workers, the lease keeper and the poller.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("server: already started")
	}
	s.started = true
	s.quit = make(chan struct{})
	s.jobCtx, s.stop = context.WithCancel(context.Background())
	s.mu.Unlock()
	for i := 0; i < s.workers; i++ {
		s.wg.Go(func() {
			for {
				select {
				case <-s.quit:
					return
				case j := <-s.jobs:
					s.runQueued(j)
				}
			}
		})
	}
	// The leases of the held jobs are renewed every third of the lease.
	s.wg.Go(func() { s.every(s.lease/3, s.renewHeld) })
	if err := s.backfillStateBundles(ctx); err != nil {
		return fmt.Errorf("read the applied states: %w", err)
	}
	if err := s.poll(ctx); err != nil {
		return fmt.Errorf("resume interrupted work: %w", err)
	}
	s.wg.Go(func() {
		s.every(s.pollInterval, func() {
			if err := s.poll(s.jobCtx); err != nil && s.jobCtx.Err() == nil {
				s.log.Warn("job queue poll failed", "err", err)
			}
			if err := s.revalidateDue(s.jobCtx); err != nil && s.jobCtx.Err() == nil {
				s.log.Warn("recurring validation poll failed", "err", err)
			}
		})
	})
	return nil
}

// every calls fn each period until the server stops.
func (s *Server) every(period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			fn()
		}
	}
}

// Close stops the server's background work: new jobs are refused (503), the held
// ones, waiting or running, get until ctx ends to finish; then the rest are cancelled
// (or never started) and their leases released, so that another replica (or the next
// start) takes them over at once. It returns ctx's error when jobs were cut off.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.qmu.Lock()
	if !s.closing {
		s.closing = true
		if s.active == 0 {
			close(s.drained)
		}
	}
	s.qmu.Unlock()
	var err error
	select {
	case <-s.drained:
	case <-ctx.Done():
		err = ctx.Err()
		s.stop() // running jobs stop, waiting ones are not started
		<-s.drained
	}
	s.stop()
	s.stopOnce.Do(func() { close(s.quit) })
	s.wg.Wait()
	s.releaseHeld()
	return err
}

// renewHeld renews the lease of every held job in one write; a job whose lease is no
// longer this replica's is marked lost and, if it runs, cancelled.
func (s *Server) renewHeld() {
	s.qmu.Lock()
	snap := make(map[int64]*heldJob, len(s.held))
	ids := make([]int64, 0, len(s.held))
	for id, h := range s.held {
		if !h.ending && !h.lost {
			snap[id] = h
			ids = append(ids, id)
		}
	}
	s.qmu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.lease/3)
	defer cancel()
	until := time.Now().Add(s.lease).UTC()
	kept, err := s.store.RenewLeases(store.Relaxed(ctx), s.replica, until, ids) // bookkeeping (store.Relaxed)
	if err != nil {
		s.log.Warn("lease renewal failed", "jobs", len(ids), "err", err)
		return
	}
	defer s.onBackground()
	s.qmu.Lock()
	defer s.qmu.Unlock()
	for id, h := range snap {
		if s.held[id] != h || h.ending {
			continue // it ended meanwhile (and id may be a new job's)
		}
		if _, ok := slices.BinarySearch(kept, id); ok {
			h.until = until
			continue
		}
		s.log.Warn("lease lost: another replica took the job over, or it was ended; stopping", "integration", id)
		h.lost = true
		if h.cancel != nil {
			h.cancel()
		}
	}
}

// begin confirms, right before the platform work of job id starts, that this replica
// still holds its lease (a read while it has half its term left, else a write
// conditional on it), and registers cancel for the
// keeper. False when the lease is lost, or the store cannot confirm it while the
// lease as last written still holds.
func (s *Server) begin(ctx context.Context, id int64, cancel context.CancelFunc) bool {
	for {
		h := s.heldOf(id)
		if h == nil {
			return false
		}
		// A read is enough while the lease has at least half its term left: no other
		// replica may claim it before it lapses, and a forceDisable after the read is
		// seen by the keeper's next renewal, as one after a renewal write would be.
		owner, held, err := s.store.Lease(ctx, id)
		switch {
		case err == nil && owner == s.replica && time.Until(held) > s.lease/2:
			s.qmu.Lock()
			lost := h.lost
			if !lost {
				h.cancel = cancel
			}
			s.qmu.Unlock()
			return !lost
		case err == nil && owner != s.replica, errors.Is(err, store.ErrNotFound):
			s.qmu.Lock()
			h.lost = true
			s.qmu.Unlock()
			return false
		}
		until := time.Now().Add(s.lease).UTC()
		err = s.store.RenewLease(store.Relaxed(ctx), id, s.replica, until) // bookkeeping (store.Relaxed)
		s.qmu.Lock()
		switch {
		case err == nil && !h.lost:
			h.until, h.cancel = until, cancel
			s.qmu.Unlock()
			return true
		case err == nil, errors.Is(err, store.ErrStale), errors.Is(err, store.ErrNotFound):
			h.lost = true
			s.qmu.Unlock()
			return false
		}
		left := time.Until(h.until)
		s.qmu.Unlock()
		s.log.Warn("lease check before starting a job failed", "integration", id, "err", err)
		wait := s.lease / 10
		if left < 2*wait {
			return false // it may lapse before the work starts: another replica may take it
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// ending marks job id as having its outcome written: its lease is no longer renewed.
// It reports whether the lease was lost meanwhile.
func (s *Server) ending(id int64) (lost bool) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	h := s.held[id]
	if h == nil {
		return true
	}
	h.cancel = nil
	h.ending = !h.lost
	return h.lost
}

// releaseHeld gives up the leases of the jobs this replica did not finish.
func (s *Server) releaseHeld() {
	s.qmu.Lock()
	held := s.held
	s.held = map[int64]*heldJob{}
	s.qmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id, h := range held {
		if h.lost {
			continue
		}
		s.metrics.jobs.WithLabelValues(string(h.kind), "released").Inc()
		if err := s.store.RenewLease(ctx, id, s.replica, time.Unix(0, 0).UTC()); err != nil && !errors.Is(err, store.ErrStale) {
			s.log.Warn("release lease", "integration", id, "err", err)
		}
	}
}

const interrupted = "interrupted: the server running it stopped; the privileged credentials of an automatic setup are held in memory only, so the work cannot resume"

// poll claims, while this replica has a free place in its queue, every busy
// integration whose lease lapsed: manual setups' jobs are run again, automatic
// setups' end in their error status.
func (s *Server) poll(ctx context.Context) error {
	for {
		p, err := s.takePlace(true)
		if err != nil {
			return nil // full or stopping: the lapsed jobs wait for a free place or another replica
		}
		now := time.Now().UTC()
		p.until = now.Add(s.lease)
		in, err := s.store.Claim(ctx, s.replica, now, p.until, lifecycle.Creating, lifecycle.Editing, lifecycle.Deleting, lifecycle.Migrating)
		switch {
		case err == nil:
			p.keep()
			s.takeOver(ctx, in, p)
			continue
		case !errors.Is(err, store.ErrNotFound):
			p.cancel()
			return err
		}
		// No lapsed job: an integration to migrate, if any, takes the place.
		if claimed, err := s.claimMigration(ctx, p, now); !claimed {
			p.cancel()
			return err
		}
	}
}

// takeOver handles one claimed integration in place p.
func (s *Server) takeOver(ctx context.Context, in *store.Integration, p *place) {
	defer p.cancel()
	if h := s.heldOf(in.ID); h != nil {
		// This replica's own job, whose lease lapsed before the keeper renewed it (a
		// slow store): the claim renewed it, the job goes on where it is.
		s.log.Warn("lease of a held job lapsed before its renewal; kept", "integration", in.ID)
		s.qmu.Lock()
		h.until = in.LeaseUntil
		s.qmu.Unlock()
		return
	}
	auto := boolOf(in.AutoBootstrap)
	switch {
	case in.Status == lifecycle.Migrating:
		// Rolled back from the progress the server recorded (migrate.go).
		pl, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
		if err != nil {
			s.interrupt(ctx, opRollback, in, lifecycle.MigrateFailed, "migration interrupted: the server running it stopped, and the stored config cannot be read to roll it back: "+err.Error())
			return
		}
		s.log.WarnContext(ctx, "migration interrupted: rolling it back", "integration", in.ID)
		s.metrics.jobs.WithLabelValues(string(opRollback), "resumed").Inc()
		p.enqueue(job{kind: opRollback, id: in.ID, payload: pl})
	case auto && in.Status == lifecycle.Creating:
		s.interrupt(ctx, platforms.OpCreate, in, lifecycle.CreateFailed, interrupted+"; run the cleanup script (POST /integrations/scripts/cleanup) and create it again")
	case auto && in.Status == lifecycle.Editing:
		s.interrupt(ctx, platforms.OpEdit, in, lifecycle.EditFailed, interrupted+"; the previous config is kept; send the PUT again with the privileged credentials")
	case auto && in.Status == lifecycle.Deleting:
		s.interrupt(ctx, platforms.OpDelete, in, lifecycle.DeleteFailed, interrupted+"; send the DELETE again with the privileged credentials")
	default:
		j, err := resumeJob(in)
		if err != nil {
			s.log.ErrorContext(ctx, "resume", "integration", in.ID, "err", err)
			return
		}
		s.log.InfoContext(ctx, "resuming interrupted work", "integration", in.ID, "status", in.Status)
		s.metrics.jobs.WithLabelValues(string(j.kind), "resumed").Inc()
		p.enqueue(j)
	}
}

// interrupt ends the claimed job of in, which cannot be resumed, in the error status
// of event fail with msg.
func (s *Server) interrupt(ctx context.Context, kind platforms.Operation, in *store.Integration, fail lifecycle.Event, msg string) {
	s.log.WarnContext(ctx, "interrupted work cannot resume", "integration", in.ID, "status", in.Status)
	defer s.onBackground()
	if s.finish(ctx, kind, in.ID, in.Status, fail, msg, nil) {
		s.metrics.jobs.WithLabelValues(string(kind), "interrupted").Inc()
	}
}

// resumeJob rebuilds the job of a manual setup from what the store holds.
func resumeJob(in *store.Integration) (job, error) {
	cfg := in.Config
	kind := platforms.OpCreate
	switch in.Status {
	case lifecycle.Editing:
		kind = platforms.OpEdit
		if in.Pending != nil {
			cfg = in.Pending
		}
	case lifecycle.Deleting:
		kind = platforms.OpDelete
	}
	p, err := platforms.Restore(in.Type, in.AutoBootstrap, cfg)
	if err != nil {
		return job{}, fmt.Errorf("resume integration %d: %w", in.ID, err)
	}
	return job{kind: kind, id: in.ID, payload: p}, nil
}

// runQueued runs job j taken from the queue and gives its place back.
func (s *Server) runQueued(j job) {
	defer s.onBackground() // after the place is back, however the job ended
	defer s.freePlace()
	if s.jobCtx.Err() != nil {
		return // stopped past its deadline: Close releases the lease, unstarted
	}
	s.runJob(j)
}
