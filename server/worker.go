package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/openintegrations/integrations/connector"
	"github.com/openintegrations/integrations/lifecycle"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/store"
)

// job is background work on one integration. payload is the request's payload, which
// for an automatic setup holds the privileged bootstrap credentials: they live in this
// struct, in memory, and nowhere else.
type job struct {
	kind    platforms.Operation // create, edit or delete
	id      int64
	payload *platforms.Payload
}

// enqueue hands a job to the workers. The queue is in memory: the store's status is the
// durable record, and Start re-creates the jobs a crash interrupted.
func (s *Server) enqueue(j job) {
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

// Start resumes the work a previous run left in flight (API.md section 5) and starts
// the workers. Integrations of a manual setup are checked again; an automatic setup's
// work cannot resume, because its privileged credentials were held in memory only, so
// it moves to the matching error status with a message saying what to do.
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
						return // stopping: the next Start resumes or fails it
					default:
					}
					s.runJob(s.jobCtx, j)
				}
			}
		}()
	}
	return s.recover(ctx)
}

// Close stops the workers. Jobs that are running get until ctx ends to finish, then
// their contexts are cancelled; queued and cancelled jobs leave their integrations
// busy, and the next Start resumes or fails them.
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
	select {
	case <-done:
		s.stop()
		return nil
	case <-ctx.Done():
		s.stop()
		<-done
		return ctx.Err()
	}
}

const interrupted = "interrupted by a server restart; the privileged credentials of an automatic setup are held in memory only, so the work cannot resume"

func (s *Server) recover(ctx context.Context) error {
	busy, err := s.store.ListByStatus(ctx, lifecycle.Creating, lifecycle.Editing, lifecycle.Deleting, lifecycle.Migrating)
	if err != nil {
		return fmt.Errorf("resume interrupted work: %w", err)
	}
	for _, in := range busy {
		auto := boolOf(in.AutoBootstrap)
		switch {
		case in.Status == lifecycle.Migrating:
			s.finish(ctx, in.ID, lifecycle.Migrating, lifecycle.MigrateFailed, "migration interrupted by a server restart and rolled back; retry it", nil)
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
			j, err := s.resumeJob(in)
			if err != nil {
				return err
			}
			s.log.InfoContext(ctx, "resuming interrupted work", "integration", in.ID, "status", in.Status)
			s.enqueue(j)
		}
	}
	return nil
}

// resumeJob rebuilds the job of a manual setup from what the store holds.
func (s *Server) resumeJob(in *store.Integration) (job, error) {
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

// runJob does the platform work of j and records the outcome.
func (s *Server) runJob(parent context.Context, j job) {
	ctx, cancel := context.WithTimeout(parent, s.workTimeout)
	defer cancel()
	var err error
	var from lifecycle.Status
	var ok, fail lifecycle.Event
	switch j.kind {
	case platforms.OpCreate:
		from, ok, fail = lifecycle.Creating, lifecycle.Created, lifecycle.CreateFailed
		err = s.doCreate(ctx, j)
	case platforms.OpEdit:
		from, ok, fail = lifecycle.Editing, lifecycle.Edited, lifecycle.EditFailed
		err = s.doEdit(ctx, j)
	case platforms.OpDelete:
		from, ok, fail = lifecycle.Deleting, lifecycle.Removed, lifecycle.DeleteFailed
		err = s.doDelete(ctx, j)
	}
	if parent.Err() != nil {
		// Shut down mid-job: leave the status for the next Start.
		s.metrics.jobs.WithLabelValues(string(j.kind), "interrupted").Inc()
		return
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s (%v)", s.workTimeout, err)
	}
	if err != nil {
		s.log.WarnContext(ctx, "background work failed", "integration", j.id, "kind", j.kind, "err", err)
		s.metrics.jobs.WithLabelValues(string(j.kind), "failed").Inc()
		s.finish(context.Background(), j.id, from, fail, failMessage(j, err), nil)
		return
	}
	s.metrics.jobs.WithLabelValues(string(j.kind), "ok").Inc()
	s.finish(context.Background(), j.id, from, ok, "", func(in *store.Integration) {
		if j.kind == platforms.OpEdit && in.Pending != nil {
			in.Config, in.Pending = in.Pending, nil
			in.Keys = keysOf(uniqueKeys(j.payload))
		}
	})
}

// finish moves integration id from status from by event, if it is still in from (a
// forceDisable may have overtaken the work). change edits the record before it is
// written.
func (s *Server) finish(ctx context.Context, id int64, from lifecycle.Status, ev lifecycle.Event, msg string, change func(*store.Integration)) {
	for attempt := 0; attempt < 5; attempt++ {
		in, err := s.store.Get(ctx, id)
		if err != nil {
			s.log.ErrorContext(ctx, "finish: read", "integration", id, "err", err)
			return
		}
		if in.Status != from {
			s.log.InfoContext(ctx, "work outcome dropped: the integration moved on", "integration", id, "status", in.Status)
			s.metrics.jobs.WithLabelValues(string(ev), "dropped").Inc()
			return
		}
		next, err := lifecycle.Next(in.Status, ev)
		if err != nil {
			s.log.ErrorContext(ctx, "finish: transition", "integration", id, "err", err)
			return
		}
		in.Status, in.Message = next, msg
		if ev == lifecycle.EditFailed {
			// The previous config is kept: drop the pending one and its keys.
			if in.Pending != nil {
				if old, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config); err == nil {
					in.Keys = keysOf(uniqueKeys(old))
				}
			}
			in.Pending = nil
		}
		if change != nil {
			change(in)
		}
		err = s.store.Update(ctx, in)
		if errors.Is(err, store.ErrStale) {
			continue
		}
		if err != nil {
			s.log.ErrorContext(ctx, "finish: write", "integration", id, "err", err)
		}
		return
	}
}

// failMessage says what went wrong and what to do, without secrets.
func failMessage(j job, err error) string {
	msg := redactSecrets(j.payload, err.Error())
	switch j.kind {
	case platforms.OpCreate:
		if j.payload.Auto() {
			return "automatic setup failed: " + msg
		}
		return "the manual setup is not complete: " + msg + "; run the create script (POST /integrations/scripts/create), then delete this integration and create it again"
	case platforms.OpEdit:
		return "edit failed, the previous config is kept: " + msg
	default:
		return "delete failed, the integration is kept: " + msg
	}
}

// redactSecrets removes every secret of the payload from msg.
func redactSecrets(p *platforms.Payload, msg string) string {
	if p == nil || p.Config == nil {
		return msg
	}
	for _, v := range platforms.SecretValues(p.Config) {
		if len(v) >= 3 {
			msg = strings.ReplaceAll(msg, v, platforms.Redacted)
		}
	}
	return msg
}

func (s *Server) doCreate(ctx context.Context, j job) error {
	if j.payload.Type == "Trino" {
		in, err := s.store.Get(ctx, j.id)
		if err != nil {
			return err
		}
		_, err = s.rotateTrinoKey(ctx, in.ID)
		return err
	}
	c := s.connectorFor(j.payload.Type)
	if c == nil {
		return nil // offline: the static checks passed
	}
	if !j.payload.Auto() {
		return c.Verify(ctx, platforms.OpCreate, j.payload, connector.Credentials{})
	}
	// Keep the generated password before anything runs, so that a crash mid-setup still
	// leaves the server able to describe (and a DBA to clean up) what was made.
	pw := newSystemPassword()
	if err := s.setHeld(ctx, j.id, func(h *held) { h.SystemPassword = pw }); err != nil {
		return err
	}
	script, err := s.engine.Render(render.Request{Operation: platforms.OpCreate, Payload: j.payload, SystemPassword: pw})
	if err != nil {
		return err
	}
	if err := c.Run(ctx, script, j.payload); err != nil {
		return s.cleanupAfter(ctx, c, j, pw, err)
	}
	return nil
}

// cleanupAfter runs the cleanup script after a failed automatic create and reports both.
func (s *Server) cleanupAfter(ctx context.Context, c connector.Connector, j job, pw string, runErr error) error {
	script, err := s.engine.Render(render.Request{Operation: platforms.OpCleanup, Payload: j.payload, SystemPassword: pw})
	if err == nil {
		err = c.Run(ctx, script, j.payload)
	}
	if err != nil {
		return fmt.Errorf("%v; the cleanup also failed (%v): run the cleanup script (POST /integrations/scripts/cleanup) yourself", runErr, err)
	}
	return fmt.Errorf("%v; the cleanup script ran, so nothing is left behind: fix the cause and create the integration again", runErr)
}

func (s *Server) doEdit(ctx context.Context, j job) error {
	c := s.connectorFor(j.payload.Type)
	if c == nil || j.payload.Config == nil {
		return nil
	}
	if !j.payload.Auto() {
		return c.Verify(ctx, platforms.OpEdit, j.payload, connector.Credentials{})
	}
	in, err := s.store.Get(ctx, j.id)
	if err != nil {
		return err
	}
	from, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		return err
	}
	h, err := heldOf(in)
	if err != nil {
		return err
	}
	script, err := s.engine.Render(render.Request{Operation: platforms.OpEdit, Payload: j.payload, From: from, SystemPassword: h.SystemPassword})
	if err != nil {
		return err
	}
	return c.Run(ctx, script, j.payload)
}

func (s *Server) doDelete(ctx context.Context, j job) error {
	c := s.connectorFor(j.payload.Type)
	if c == nil {
		return nil
	}
	if !j.payload.Auto() {
		return c.Verify(ctx, platforms.OpDelete, j.payload, connector.Credentials{})
	}
	in, err := s.store.Get(ctx, j.id)
	if err != nil {
		return err
	}
	h, err := heldOf(in)
	if err != nil {
		return err
	}
	script, err := s.engine.Render(render.Request{Operation: platforms.OpDelete, Payload: j.payload, SystemPassword: h.SystemPassword})
	if err != nil {
		return err
	}
	return c.Run(ctx, script, j.payload)
}

// setHeld changes the server-held credentials of integration id.
func (s *Server) setHeld(ctx context.Context, id int64, change func(*held)) error {
	for attempt := 0; attempt < 5; attempt++ {
		in, err := s.store.Get(ctx, id)
		if err != nil {
			return err
		}
		h, err := heldOf(in)
		if err != nil {
			return err
		}
		change(&h)
		in.Credentials, _ = json.Marshal(h)
		err = s.store.Update(ctx, in)
		if !errors.Is(err, store.ErrStale) {
			return err
		}
	}
	return store.ErrStale
}

// rotateTrinoKey gives Trino integration id a new API key (revoking the old one in the
// same store transaction) and records it.
func (s *Server) rotateTrinoKey(ctx context.Context, id int64) (string, error) {
	_, key, err := s.store.RotateIntegrationKey(ctx, id, store.APIKeySpec{
		Name: "trino-integration-" + strconv.FormatInt(id, 10), IntegrationID: id})
	s.auths.reset() // the old key stops working at once
	if err != nil {
		return "", err
	}
	return key, s.setHeld(ctx, id, func(h *held) { h.APIKey = key })
}

const pwAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// newSystemPassword generates a 32-character system-account password that meets every
// platform's rules (upper and lower case letters and digits).
func newSystemPassword() string {
	out := []byte("Aa2")
	var b [1]byte
	limit := 256 - 256%len(pwAlphabet) // rejection sampling: no modulo bias
	for len(out) < 32 {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			out = append(out, pwAlphabet[int(b[0])%len(pwAlphabet)])
		}
	}
	return string(out)
}
