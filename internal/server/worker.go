package server

// The import block is like integrations.go's: both handle an integration from its
// payload to the store; a list of dependencies shares no logic.
import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// runJob does the platform work of j, whose lease this replica holds, and records
// the outcome.
func (s *Server) runJob(j job) {
	ctx, cancel := context.WithTimeout(s.jobCtx, s.workTimeout)
	defer cancel()
	if !s.begin(ctx, j.id, cancel) {
		if s.jobCtx.Err() == nil {
			s.forget(j.id)
			s.metrics.jobs.WithLabelValues(string(j.kind), "lost").Inc()
		}
		return // stopping: Close releases the lease, unstarted
	}
	s.metrics.jobs.WithLabelValues(string(j.kind), "started").Inc()
	s.onBackground()
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
	case opMigrate:
		from, ok, fail = lifecycle.Migrating, lifecycle.Migrated, lifecycle.MigrateFailed
		err = s.doMigrate(ctx, j)
	case opRollback:
		from, fail = lifecycle.Migrating, lifecycle.MigrateFailed
		err = s.doRollback(ctx, j)
	}
	if s.jobCtx.Err() != nil {
		// Shut down mid-job: Close releases the lease for another replica or restart.
		s.ending(j.id)
		return
	}
	if s.ending(j.id) {
		s.forget(j.id)
		s.metrics.jobs.WithLabelValues(string(j.kind), "lost").Inc()
		return
	}
	defer s.forget(j.id)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s (%v)", s.workTimeout, err)
	}
	if err != nil {
		s.log.WarnContext(ctx, "background work failed", "integration", j.id, "kind", j.kind, "err", connector.Scrub(err, connector.Secrets(j.payload, connector.Credentials{})))
		if s.finish(context.Background(), j.kind, j.id, from, fail, failMessage(j, err), clearMigration) {
			s.metrics.jobs.WithLabelValues(string(j.kind), "failed").Inc()
		}
		return
	}
	// The state is computed once, though finish may apply its change again after a
	// conflicting write.
	var state []byte
	stateDone := j.kind != platforms.OpCreate && j.kind != platforms.OpEdit && j.kind != opMigrate
	if s.finish(context.Background(), j.kind, j.id, from, ok, "", func(in *store.Integration) {
		if j.kind == platforms.OpEdit && in.Pending != nil {
			in.Config, in.Pending = in.Pending, nil
			in.Keys = keysOf(j.payload)
		}
		if !stateDone {
			state, stateDone = s.stateOf(in, j.kind, j.payload), true
		}
		if state != nil {
			in.AppliedState, in.StateBundle = state, s.engine.BundleVersion()
		}
		clearMigration(in)
	}) {
		s.metrics.jobs.WithLabelValues(string(j.kind), "ok").Inc()
	}
}

// clearMigration drops the progress of a migration from what the server holds of in:
// the job that ran it ended.
func clearMigration(in *store.Integration) {
	h, err := heldOf(in)
	if err != nil || h.Migration == nil {
		return
	}
	h.Migration = nil
	in.Credentials, _ = json.Marshal(h)
}

// finishTimeout bounds the writing of a job's outcome.
const finishTimeout = 30 * time.Second

// finish moves integration id from status from by event, if it is still in from and
// its lease still this replica's (a forceDisable may have overtaken the work, or
// another replica taken it over), and reports whether it wrote the outcome; an
// outcome it could not write is counted as dropped for kind. change edits the record
// before it is written.
func (s *Server) finish(ctx context.Context, kind platforms.Operation, id int64, from lifecycle.Status, ev lifecycle.Event, msg string, change func(*store.Integration)) bool {
	// A job's outcome is bookkeeping a restart recovers from (store.Relaxed): lost
	// with the machine's power, it is redone as interrupted work.
	ctx, cancel := context.WithTimeout(store.Relaxed(ctx), finishTimeout)
	defer cancel()
	for attempt := 0; attempt < 5; attempt++ {
		in, err := s.store.Get(ctx, id)
		if err != nil {
			s.log.ErrorContext(ctx, "work outcome dropped: read failed", "integration", id, "err", err)
			break
		}
		if in.Status != from || in.LeaseOwner != s.replica {
			// A forceDisable ended the work, or another replica took it over.
			s.log.InfoContext(ctx, "work outcome dropped: the integration moved on", "integration", id, "status", in.Status)
			break
		}
		next, err := lifecycle.Next(in.Status, ev)
		if err != nil {
			s.log.ErrorContext(ctx, "work outcome dropped: transition", "integration", id, "err", err)
			break
		}
		in.Status, in.Message = next, msg
		in.LeaseOwner, in.LeaseUntil = "", time.Time{}
		if ev == lifecycle.EditFailed {
			// The previous config is kept: drop the pending one and its keys.
			if in.Pending != nil {
				if old, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config); err == nil {
					in.Keys = keysOf(old)
				}
			}
			in.Pending = nil
		}
		if change != nil {
			change(in)
		}
		err = s.store.Update(ctx, in)
		if errors.Is(err, store.ErrStale) {
			if attempt == 4 {
				s.log.ErrorContext(ctx, "work outcome dropped: the integration kept changing", "integration", id)
			}
			continue
		}
		if err != nil {
			s.log.ErrorContext(ctx, "work outcome dropped: write failed", "integration", id, "err", err)
			break
		}
		return true
	}
	s.metrics.jobs.WithLabelValues(string(kind), "dropped").Inc()
	return false
}

// failMessage says what went wrong and what to do, without secrets.
func failMessage(j job, err error) string {
	msg := connector.Scrub(err, connector.Secrets(j.payload, connector.Credentials{})).Error()
	switch j.kind {
	case platforms.OpCreate:
		if j.payload.Auto() {
			return "automatic setup failed: " + msg
		}
		return "the manual setup is not complete: " + msg + "; run the create script (POST /integrations/scripts/create), then delete this integration and create it again"
	case platforms.OpEdit:
		return "edit failed, the previous config is kept: " + msg
	case opMigrate, opRollback:
		var mf *migrationFailed
		if errors.As(err, &mf) {
			return msg
		}
		return "migration failed: " + msg
	default:
		return "delete failed, the integration is kept: " + msg
	}
}

func (s *Server) doCreate(ctx context.Context, j job) error {
	if platforms.IssuesKey(j.payload.Type) {
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
	script, err := s.renderPhases(j.payload, pw, platforms.OpCreate, platforms.OpInitialCreate, platforms.OpCreate)
	if err != nil {
		return err
	}
	if err := c.Run(ctx, script, j.payload, connector.Credentials{}); err != nil {
		return s.cleanupAfter(ctx, c, j, pw, err)
	}
	return nil
}

// renderPhases renders, for an automatic setup, every operation of ops the platform
// supports, in order, as one script named op: the whole setup (initial-create then
// create, each phase on its own connection) or the whole cleanup (cleanup then
// post-cleanup).
func (s *Server) renderPhases(p *platforms.Payload, pw string, op platforms.Operation, ops ...platforms.Operation) (*render.Script, error) {
	out := &render.Script{Type: p.Type, Operation: string(op)}
	for _, o := range ops {
		if !p.Platform.Supports(o) {
			continue
		}
		sc, err := s.engine.Render(render.Request{Operation: o, Payload: p, SystemPassword: pw})
		if err != nil {
			return nil, err
		}
		out.Phases = append(out.Phases, sc.Phases...)
		out.Script += sc.Script
	}
	return out, nil
}

// cleanupAfter runs the cleanup script after a failed automatic create and reports both.
func (s *Server) cleanupAfter(ctx context.Context, c connector.Connector, j job, pw string, runErr error) error {
	script, err := s.renderPhases(j.payload, pw, platforms.OpCleanup, platforms.OpCleanup, platforms.OpPostCleanup)
	if err == nil {
		err = c.Run(ctx, script, j.payload, connector.Credentials{})
	}
	if err != nil {
		return fmt.Errorf("%v; the cleanup also failed (%v): run the cleanup script (POST /integrations/scripts/cleanup) yourself", runErr, err)
	}
	return fmt.Errorf("%v; the cleanup script ran, so nothing is left behind: fix the cause and create the integration again", runErr)
}

// doChange does an edit or a delete: a manual setup's is checked as done (Verify); an
// automatic setup's script runs with the request's privileged credentials.
func (s *Server) doChange(ctx context.Context, j job) error {
	if platforms.IssuesKey(j.payload.Type) && j.kind == platforms.OpDelete {
		return s.retireTrinoKey(ctx, j.id)
	}
	c := s.connectorFor(j.payload.Type)
	if c == nil || j.kind == platforms.OpEdit && j.payload.Config == nil {
		return nil
	}
	if !j.payload.Auto() {
		return c.Verify(ctx, j.kind, j.payload, connector.Credentials{})
	}
	in, err := s.store.Get(ctx, j.id)
	if err != nil {
		return err
	}
	h, err := heldOf(in)
	if err != nil {
		return err
	}
	req := render.Request{Operation: j.kind, Payload: j.payload, SystemPassword: h.SystemPassword}
	if j.kind == platforms.OpEdit {
		if req.From, err = platforms.Restore(in.Type, in.AutoBootstrap, in.Config); err != nil {
			return err
		}
	}
	// The edit or delete starts from what the integration made, not from what the
	// current bundle would make of its config.
	if err := fromState(&req, in); err != nil {
		return err
	}
	script, err := s.engine.Render(req)
	if err != nil {
		return err
	}
	return c.Run(ctx, script, j.payload, connector.Credentials{})
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

// retireTrinoKey revokes the API key of Trino integration id and forgets it: a deleted
// or disabled integration's cluster key stops working at once, and GET shows no key.
func (s *Server) retireTrinoKey(ctx context.Context, id int64) error {
	err := s.store.RevokeAPIKey(ctx, trinoKeyName(id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.auths.reset()
	return s.setHeld(ctx, id, func(h *held) { h.APIKey = "" })
}

// trinoKeyName names the API key of Trino integration id.
func trinoKeyName(id int64) string { return "trino-integration-" + strconv.FormatInt(id, 10) }

// rotateTrinoKey gives Trino integration id a new API key (revoking the old one in the
// same store transaction) and records it.
func (s *Server) rotateTrinoKey(ctx context.Context, id int64) (string, error) {
	_, key, err := s.store.RotateIntegrationKey(ctx, id, store.APIKeySpec{
		Name: trinoKeyName(id), IntegrationID: id})
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
