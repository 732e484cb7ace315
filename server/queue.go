package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/openintegrations/integrations/connector"
	"github.com/openintegrations/integrations/lifecycle"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/store"
)

// The job queue. An integration in a busy status (creating, editing, deleting,
// migrating) is a job; the store keeps who runs it (a lease) so that with several
// replicas each job runs on one of them, and a job whose replica stopped is taken over
// once its lease lapses:
//
//   - The replica that accepts a POST, PUT or DELETE takes the lease in the same write
//     that moves the status, and runs the job at once (it alone holds an automatic
//     setup's privileged credentials, in memory).
//   - While a job runs its lease is renewed every third of its length; a replica that
//     cannot renew (another one claimed the job, or a forceDisable ended it) cancels
//     the job, and finish records an outcome only while the lease is still its own.
//   - Every replica polls the store (Claim) for busy integrations whose lease lapsed:
//     a manual setup's job is run again from the stored config; an automatic setup's
//     cannot be (its credentials are gone), so it ends in the matching error status
//     with a message saying what to do. A start-up is the first poll.
//   - A graceful stop releases the leases of the jobs it did not finish, so they are
//     taken over at once rather than after the lease.

// job is background work on one integration. payload is the request's payload, which
// for an automatic setup holds the privileged bootstrap credentials: they live in this
// struct, in memory, and nowhere else.
type job struct {
	kind    platforms.Operation // create, edit or delete
	id      int64
	payload *platforms.Payload
}

// Default lease timings.
const (
	DefaultLease        = 15 * time.Second
	DefaultPollInterval = time.Second
)

// newReplicaID names this server process in leases: host, pid and a random suffix.
func newReplicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// lease returns the lease fields a busy write takes for this replica.
func (s *Server) takeLease(in *store.Integration) {
	in.LeaseOwner, in.LeaseUntil = s.replica, time.Now().Add(s.lease).UTC()
}

// enqueue hands a job whose lease this replica holds to the workers.
func (s *Server) enqueue(j job) {
	s.hold(j.id, true)
	select {
	case s.jobs <- j:
	default:
		// The queue is full: run the job on its own goroutine rather than block a request.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runJob(s.jobCtx, j)
		}()
	}
}

// hold records (or forgets) that this replica holds the lease of integration id.
func (s *Server) hold(id int64, held bool) {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	if held {
		s.held[id] = true
	} else {
		delete(s.held, id)
	}
}

// Start claims the work a stopped server left (API.md section 5) and starts the
// workers and the poller.
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
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-s.quit:
					return
				case j := <-s.jobs:
					select {
					case <-s.quit:
						return // stopping: Close releases its lease
					default:
					}
					s.runJob(s.jobCtx, j)
				}
			}
		}()
	}
	if err := s.poll(ctx); err != nil {
		return fmt.Errorf("resume interrupted work: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.pollInterval)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				if err := s.poll(s.jobCtx); err != nil && s.jobCtx.Err() == nil {
					s.log.Warn("job queue poll failed", "err", err)
				}
				if err := s.revalidateDue(s.jobCtx); err != nil && s.jobCtx.Err() == nil {
					s.log.Warn("recurring validation poll failed", "err", err)
				}
			}
		}
	}()
	return nil
}

// Close stops the workers and the poller. Jobs that are running get until ctx ends to
// finish, then their contexts are cancelled; the leases of every job not finished are
// released so that another replica (or the next start) takes them over at once.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.stopOnce.Do(func() { close(s.quit) })
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	<-done
	s.releaseHeld()
	return err
}

// releaseHeld gives up the leases of the jobs this replica did not finish.
func (s *Server) releaseHeld() {
	s.heldMu.Lock()
	ids := make([]int64, 0, len(s.held))
	for id := range s.held {
		ids = append(ids, id)
	}
	s.held = map[int64]bool{}
	s.heldMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, id := range ids {
		if err := s.store.RenewLease(ctx, id, s.replica, time.Unix(0, 0).UTC()); err != nil && !errors.Is(err, store.ErrStale) {
			s.log.Warn("release lease", "integration", id, "err", err)
		}
	}
}

const interrupted = "interrupted: the server running it stopped; the privileged credentials of an automatic setup are held in memory only, so the work cannot resume"

// poll claims every busy integration whose lease lapsed: manual setups' jobs are run
// again, automatic setups' end in their error status.
func (s *Server) poll(ctx context.Context) error {
	for {
		now := time.Now().UTC()
		in, err := s.store.Claim(ctx, s.replica, now, now.Add(s.lease), lifecycle.Creating, lifecycle.Editing, lifecycle.Deleting, lifecycle.Migrating)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		s.takeOver(ctx, in)
	}
}

// takeOver handles one claimed integration.
func (s *Server) takeOver(ctx context.Context, in *store.Integration) {
	auto := boolOf(in.AutoBootstrap)
	switch {
	case in.Status == lifecycle.Migrating:
		s.finish(ctx, in.ID, lifecycle.Migrating, lifecycle.MigrateFailed, "migration interrupted: the server running it stopped; it was rolled back, retry it", nil)
	case auto && in.Status == lifecycle.Creating:
		s.finish(ctx, in.ID, in.Status, lifecycle.CreateFailed, interrupted+"; run the cleanup script (POST /integrations/scripts/cleanup) and create it again", nil)
		s.metrics.jobs.WithLabelValues("create", "interrupted").Inc()
	case auto && in.Status == lifecycle.Editing:
		s.finish(ctx, in.ID, in.Status, lifecycle.EditFailed, interrupted+"; the previous config is kept; send the PUT again with the privileged credentials", nil)
		s.metrics.jobs.WithLabelValues("edit", "interrupted").Inc()
	case auto && in.Status == lifecycle.Deleting:
		s.finish(ctx, in.ID, in.Status, lifecycle.DeleteFailed, interrupted+"; send the DELETE again with the privileged credentials", nil)
		s.metrics.jobs.WithLabelValues("delete", "interrupted").Inc()
	default:
		j, err := resumeJob(in)
		if err != nil {
			s.log.ErrorContext(ctx, "resume", "integration", in.ID, "err", err)
			return
		}
		s.log.InfoContext(ctx, "resuming interrupted work", "integration", in.ID, "status", in.Status)
		s.metrics.jobs.WithLabelValues(string(j.kind), "resumed").Inc()
		s.enqueue(j)
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

// keepLease renews the lease of integration id while its job runs; when the lease is
// lost it cancels the job. The returned func stops it and reports whether the lease
// was lost.
func (s *Server) keepLease(ctx context.Context, cancel context.CancelFunc, id int64) func() bool {
	done := make(chan struct{})
	lost := make(chan bool, 1)
	go func() {
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				lost <- false
				return
			case <-t.C:
				err := s.store.RenewLease(ctx, id, s.replica, time.Now().Add(s.lease).UTC())
				if errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) {
					s.log.Warn("lease lost: another replica took the job over, or it was ended; stopping", "integration", id)
					cancel()
					<-done
					lost <- true
					return
				}
				if err != nil && ctx.Err() == nil {
					s.log.Warn("lease renewal failed", "integration", id, "err", err)
				}
			}
		}
	}()
	return func() bool {
		close(done)
		return <-lost
	}
}

// runJob does the platform work of j and records the outcome.
func (s *Server) runJob(parent context.Context, j job) {
	ctx, cancel := context.WithTimeout(parent, s.workTimeout)
	defer cancel()
	stopLease := s.keepLease(ctx, cancel, j.id)
	var err error
	var from lifecycle.Status
	var ok, fail lifecycle.Event
	switch j.kind {
	case platforms.OpCreate:
		from, ok, fail = lifecycle.Creating, lifecycle.Created, lifecycle.CreateFailed
		err = s.doCreate(ctx, j)
	case platforms.OpEdit:
		from, ok, fail = lifecycle.Editing, lifecycle.Edited, lifecycle.EditFailed
		err = s.doChange(ctx, j)
	case platforms.OpDelete:
		from, ok, fail = lifecycle.Deleting, lifecycle.Removed, lifecycle.DeleteFailed
		err = s.doChange(ctx, j)
	}
	if stopLease() {
		s.hold(j.id, false)
		s.metrics.jobs.WithLabelValues(string(j.kind), "lost").Inc()
		return
	}
	if parent.Err() != nil {
		// Shut down mid-job: Close releases the lease for another replica or restart.
		s.metrics.jobs.WithLabelValues(string(j.kind), "interrupted").Inc()
		return
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s (%v)", s.workTimeout, err)
	}
	if err != nil {
		s.log.WarnContext(ctx, "background work failed", "integration", j.id, "kind", j.kind, "err", connector.Scrub(err, connector.Secrets(j.payload, connector.Credentials{})))
		s.metrics.jobs.WithLabelValues(string(j.kind), "failed").Inc()
		s.finish(context.Background(), j.id, from, fail, failMessage(j, err), nil)
	} else {
		s.metrics.jobs.WithLabelValues(string(j.kind), "ok").Inc()
		s.finish(context.Background(), j.id, from, ok, "", func(in *store.Integration) {
			if j.kind == platforms.OpEdit && in.Pending != nil {
				in.Config, in.Pending = in.Pending, nil
				in.Keys = keysOf(uniqueKeys(j.payload))
			}
		})
	}
	s.hold(j.id, false)
}
