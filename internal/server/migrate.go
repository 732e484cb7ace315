package server

// The import block is like worker.go's and integrations.go's: all three take a job of an
// integration from its payload to the platform and the store; a list of dependencies
// shares no logic.
import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// Migrations (issue 12). An integration whose applied state an older bundle made is
// migrated by the server itself:
//
//   - The poll claims it (store.ClaimMigration: one UPDATE moves it from enabled to
//     migrating under this replica's lease, so each migration is claimed once across
//     replicas) at start and then at most every migrateScan while none is found. An
//     offline server has no platform to migrate on and claims none, nor does one
//     started with Options.NoMigrations; neither is a stateless integration (stored
//     before states were kept) ever claimed.
//   - The migration is the edit script from the applied state to the current model of
//     the unchanged config. The server runs it only when every statement and every
//     undo is one the integration's own system account may run
//     (render.Statement.SystemRunnable: it owns what they change), signed in as that
//     account. Otherwise nothing runs and the integration moves to migrateError with a
//     message saying how to run it as the privileged runner its header names.
//   - Statements run one at a time. Before each, the server records in the sealed
//     credentials it holds the statements applied so far and the one about to run
//     (migrationProgress), so that whoever finishes the job knows what to undo.
//   - A failing statement stops the migration; the undo of each statement applied
//     runs in reverse, and the integration moves to migrateError with a message naming
//     the failing statement and whether the rollback completed. On success the new
//     state is recorded and the integration is enabled again.
//   - A migration whose server stopped is taken over once its lease lapses (by another
//     replica, or the next start): the recorded progress is rolled back the same way,
//     the statement that was running included (it may or may not have run), and the
//     integration moves to migrateError, as API.md's lifecycle says.
//
// After a migrateError, PUT /integrations/{id} with the unchanged config is the retry:
// an automatic setup's edit runs the migration with the privileged credentials; a
// manual setup's checks what the DBA ran and records the new bundle.

// The job kinds of a migration (metrics label them too).
const (
	// opMigrate runs a claimed migration.
	opMigrate platforms.Operation = "migrate"
	// opRollback rolls back a migration whose server stopped.
	opRollback platforms.Operation = "rollback"
)

// migrateScan is how long the poll waits, after a look for integrations to migrate
// found none, before it looks again: after an upgrade the first poll finds them, and
// an integration an older replica edited during a rolling upgrade is found within it.
const migrateScan = time.Minute

// migrationProgress is what the server holds of a running migration.
type migrationProgress struct {
	From int `json:"from"`
	To   int `json:"to"`
	// Applied are the statements that ran, in order.
	Applied []migrationStep `json:"applied,omitempty"`
	// Next is the statement running: it may or may not have run.
	Next *migrationStep `json:"next,omitempty"`
}

// migrationStep is one statement of a migration.
type migrationStep struct {
	// What names the statement in messages: its phase, its position and its first
	// line, secrets removed.
	What      string `json:"what"`
	Phase     string `json:"phase"`
	ConnectTo string `json:"connectTo"`
	RunAs     string `json:"runAs"`
	SQL       string `json:"sql"`
	Undo      string `json:"undo"`
}

// migrationFailed is a migration's outcome other than success: its text is the whole
// message of migrateError.
type migrationFailed struct{ msg string }

func (e *migrationFailed) Error() string { return e.msg }

// claimMigration claims, into place p, one integration to migrate: false when there is
// none (or migrations are not looked for now).
func (s *Server) claimMigration(ctx context.Context, p *place, now time.Time) (bool, error) {
	if s.Offline() || s.noMigrations || now.Before(s.migrateAfter) {
		return false, nil
	}
	to, err := lifecycle.Next(lifecycle.Enabled, lifecycle.Migrate)
	if err != nil {
		return false, err
	}
	in, err := s.store.ClaimMigration(ctx, s.replica, now, p.until, s.engine.BundleVersion(), lifecycle.Enabled, to)
	if errors.Is(err, store.ErrNotFound) {
		s.migrateAfter = now.Add(migrateScan)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p.keep()
	defer p.cancel()
	pl, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		s.log.ErrorContext(ctx, "migrate: restore", "integration", in.ID, "err", err)
		s.finish(ctx, opMigrate, in.ID, in.Status, lifecycle.MigrateFailed, "migration not started: the stored config cannot be read: "+err.Error(), nil)
		return true, nil
	}
	s.log.InfoContext(ctx, "migrating", "integration", in.ID, "from bundle", in.StateBundle, "to bundle", s.engine.BundleVersion())
	p.enqueue(job{kind: opMigrate, id: in.ID, payload: pl})
	return true, nil
}

// doMigrate runs the migration of job j (the integration is migrating under this
// replica's lease). A nil error is success; the caller records the new state.
func (s *Server) doMigrate(ctx context.Context, j job) error {
	in, err := s.store.Get(ctx, j.id)
	if err != nil {
		return err
	}
	st, err := appliedState(in)
	if err != nil || st == nil {
		return &migrationFailed{fmt.Sprintf("migration not started: the applied state cannot be read (%v)", err)}
	}
	h, err := heldOf(in)
	if err != nil {
		return err
	}
	from, to := st.BundleVersion, s.engine.BundleVersion()
	script, err := s.engine.Render(render.Request{Operation: platforms.OpEdit, Payload: j.payload, From: j.payload,
		FromState: st, SystemPassword: h.SystemPassword})
	if err != nil {
		return &migrationFailed{fmt.Sprintf("migration from bundle %d to %d not started: it cannot be rendered (%v)", from, to, err)}
	}
	sys := systemCredentials(in, j.payload)
	secrets := connector.Secrets(j.payload, sys)
	var steps []migrationStep
	var privileged, runAs []string
	for _, ph := range script.Phases {
		for i, stmt := range ph.Statements {
			step := migrationStep{What: describe(ph.Name, i+1, stmt.SQL, secrets), Phase: ph.Name, ConnectTo: ph.ConnectTo,
				RunAs: ph.RunAs, SQL: stmt.SQL, Undo: stmt.Undo}
			steps = append(steps, step)
			if !stmt.SystemRunnable() {
				privileged = append(privileged, step.What)
				if !slices.Contains(runAs, ph.RunAs) {
					runAs = append(runAs, ph.RunAs)
				}
			}
		}
	}
	if len(privileged) > 0 {
		return &migrationFailed{fmt.Sprintf("migration from bundle %d to %d needs the privileged runner, so the server did not run it (nothing changed): %s %s objects its system account does not own: %s",
			from, to, plural(len(privileged), "statement", "statements"), verbFor(len(privileged)), strings.Join(privileged, "; ")) + "; " + retryHint(in, j.payload, runAs)}
	}
	if len(steps) == 0 {
		return nil // the new bundle changes nothing this integration has: record it
	}
	c := s.connectorFor(in.Type)
	if c == nil {
		return &migrationFailed{fmt.Sprintf("migration from bundle %d to %d not started: the server has no connector for %s", from, to, in.Type)}
	}
	prog := migrationProgress{From: from, To: to}
	for _, step := range steps {
		if ctx.Err() != nil {
			return ctx.Err() // stopping, timed out, or the lease was lost (a forceDisable)
		}
		prog.Next = &step
		if err := s.setHeld(ctx, j.id, func(h *held) { h.Migration = &prog }); err != nil {
			return s.migrationError(ctx, c, j, sys, in, &prog, fmt.Sprintf("migration from bundle %d to %d stopped before %s: its progress could not be recorded (%v)", from, to, step.What, err))
		}
		if err := c.Run(ctx, oneStatement(opMigrate, step, step.SQL), j.payload, sys); err != nil {
			if s.jobCtx.Err() != nil {
				return err // stopping: the next owner of the job rolls back from the progress
			}
			if s.jobLost(j.id) {
				return err // a forceDisable ended it, or another replica took it: touch nothing more
			}
			prog.Next = nil // the platform refused it: it did not run
			return s.migrationError(ctx, c, j, sys, in, &prog, fmt.Sprintf("migration from bundle %d to %d failed at %s: %v", from, to, step.What, platformErr(err, secrets)))
		}
		prog.Applied = append(prog.Applied, step)
	}
	return nil
}

// migrationError rolls back prog and returns the migrateError of a migration that
// stopped for cause.
func (s *Server) migrationError(ctx context.Context, c connector.Connector, j job, sys connector.Credentials, in *store.Integration, prog *migrationProgress, cause string) error {
	// The rollback gets its own time: the migration may have stopped on its timeout.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.workTimeout)
	defer cancel()
	stop := context.AfterFunc(s.jobCtx, cancel) // a shutdown still stops it
	defer stop()
	return &migrationFailed{cause + "; " + s.rollback(rctx, c, j, sys, prog) + "; " + retryHint(in, j.payload, nil)}
}

// rollback runs, in reverse, the undo of each statement prog records as applied (and,
// first, of the one that was running, which may not have run), recording what is left
// after each, and says how it went.
func (s *Server) rollback(ctx context.Context, c connector.Connector, j job, sys connector.Credentials, prog *migrationProgress) string {
	secrets := connector.Secrets(j.payload, sys)
	var notes []string
	running := prog.Next != nil
	undos := 0 // a statement whose undo is empty is undone by the drop of its container
	if s.jobLost(j.id) {
		return "the rollback stopped: the job was ended (a forceDisable) or taken over"
	}
	if n := prog.Next; n != nil {
		if n.Undo != "" {
			undos++
			if err := c.Run(ctx, oneStatement(opRollback, *n, n.Undo), j.payload, sys); err != nil {
				notes = append(notes, fmt.Sprintf("%s may not have run: its undo failed (%v), check it by hand", n.What, platformErr(err, secrets)))
			}
		}
		prog.Next = nil
		if err := s.setHeld(ctx, j.id, func(h *held) { h.Migration = prog }); err != nil {
			return fmt.Sprintf("the rollback stopped: its progress could not be recorded (%v)", err)
		}
	}
	applied := len(prog.Applied)
	for i := applied - 1; i >= 0; i-- {
		if s.jobLost(j.id) {
			return "the rollback stopped: the job was ended (a forceDisable) or taken over"
		}
		step := prog.Applied[i]
		if step.Undo != "" {
			undos++
			if err := c.Run(ctx, oneStatement(opRollback, step, step.Undo), j.payload, sys); err != nil {
				left := make([]string, 0, i+1)
				for k := i; k >= 0; k-- {
					if prog.Applied[k].Undo != "" {
						left = append(left, prog.Applied[k].What)
					}
				}
				return fmt.Sprintf("the rollback failed at the undo of %s (%v): run by hand, in this order, the undo of %s (POST /integrations/%d/scripts/edit with the unchanged config shows each statement's undo)",
					step.What, platformErr(err, secrets), strings.Join(left, "; then "), j.id)
			}
		}
		prog.Applied = prog.Applied[:i]
		if err := s.setHeld(ctx, j.id, func(h *held) { h.Migration = prog }); err != nil {
			return fmt.Sprintf("the rollback stopped after the undo of %s: its progress could not be recorded (%v)", step.What, err)
		}
	}
	var msg string
	switch {
	case running && applied == 0:
		msg = fmt.Sprintf("rolled back: the statement that was running (it may or may not have run) was undone (%d undo statements), so the integration is as bundle %d made it", undos, prog.From)
	case running:
		msg = fmt.Sprintf("rolled back: the undo of the statement that was running (it may or may not have run) and of the %s applied before it ran in reverse (%d undo statements), so the integration is as bundle %d made it", plural(applied, "statement", "statements"), undos, prog.From)
	case applied == 0:
		msg = fmt.Sprintf("nothing to roll back: no statement had been applied, so the integration is as bundle %d made it", prog.From)
	default:
		msg = fmt.Sprintf("rolled back: the undo of the %s applied ran in reverse (%d undo statements), so the integration is as bundle %d made it", plural(applied, "statement", "statements"), undos, prog.From)
	}
	if len(notes) > 0 {
		msg += "; " + strings.Join(notes, "; ")
	}
	return msg
}

// doRollback rolls back the migration of job j, whose server stopped while it ran; it
// always ends in migrateError, with the message it returns.
func (s *Server) doRollback(ctx context.Context, j job) error {
	in, err := s.store.Get(ctx, j.id)
	if err != nil {
		return err
	}
	h, err := heldOf(in)
	if err != nil {
		return err
	}
	prog := h.Migration
	if prog == nil || len(prog.Applied) == 0 && prog.Next == nil {
		return &migrationFailed{"migration interrupted: the server running it stopped before any statement ran, so nothing changed; " + retryHint(in, j.payload, nil)}
	}
	cause := fmt.Sprintf("migration from bundle %d to %d interrupted: the server running it stopped", prog.From, prog.To)
	if prog.Next != nil {
		cause += " at " + prog.Next.What
	}
	c := s.connectorFor(in.Type)
	if c == nil {
		return &migrationFailed{cause + "; the server taking it over has no connector to roll it back: run by hand the undo of what the edit script lists; " + retryHint(in, j.payload, nil)}
	}
	return &migrationFailed{cause + "; " + s.rollback(ctx, c, j, systemCredentials(in, j.payload), prog) + "; " + retryHint(in, j.payload, nil)}
}

// retryHint says how to finish a migration the server could not: runAs names the
// runners it needs (nil: those the edit script's header names).
func retryHint(in *store.Integration, p *platforms.Payload, runAs []string) string {
	if p.Auto() {
		return fmt.Sprintf("to migrate, send PUT /integrations/%d with the unchanged config and the privileged credentials: that edit runs the migration", in.ID)
	}
	runner := "the runner its header names"
	if len(runAs) > 0 {
		runner += " (" + strings.Join(runAs, "; ") + ")"
	}
	return fmt.Sprintf("to migrate, render the script with POST /integrations/%d/scripts/edit and the unchanged config, run it as %s, then send PUT /integrations/%d with the unchanged config to record it", in.ID, runner, in.ID)
}

// oneStatement is a script of one statement of step's phase (sql: the statement or its
// undo), named op.
func oneStatement(op platforms.Operation, step migrationStep, sql string) *render.Script {
	return &render.Script{Operation: string(op), Script: sql, Phases: []render.Phase{{Name: step.Phase, ConnectTo: step.ConnectTo,
		RunAs: step.RunAs, Statements: []render.Statement{{SQL: sql}}}}}
}

// describe names statement n of phase in messages: "phase edit, statement 2 (its first
// line)", secrets removed and the line cut at 100 characters.
func describe(phase string, n int, sql string, secrets []string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
	if len(line) > 100 {
		// Scrub removes what is left of a secret this cut splits, before the mark.
		line = strings.ToValidUTF8(line[:100], "") + "…"
	}
	line = connector.Scrub(errors.New(line), secrets).Error()
	return fmt.Sprintf("phase %s, statement %d (%s)", phase, n, line)
}

// platformErr is the platform's error of a one-statement run, secrets removed: a
// *connector.RunError's phase and position are those of the one-statement script, and
// the message names the statement otherwise.
func platformErr(err error, secrets []string) error {
	var re *connector.RunError
	if errors.As(err, &re) && re.Err != nil {
		err = re.Err
	}
	return connector.Scrub(err, secrets)
}

// plural is "1 statement" or "n statements".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// verbFor is "changes" or "change", for a subject of n.
func verbFor(n int) string {
	if n == 1 {
		return "changes"
	}
	return "change"
}

// backfillStateBundles sets the state bundle column of the integrations whose applied
// state was stored before the column existed (0 with a state), so that the migration
// queue sees them. One read of every stored integration at start (about 30 ms at
// 10,000); a write only for those. A write that loses a race is left to the next start.
func (s *Server) backfillStateBundles(ctx context.Context) error {
	all, err := s.store.List(ctx)
	if err != nil {
		return err
	}
	for _, in := range all {
		if in.StateBundle != 0 || len(in.AppliedState) == 0 {
			continue
		}
		st, err := appliedState(in)
		if err != nil || st == nil || st.BundleVersion <= 0 {
			s.log.WarnContext(ctx, "applied state without a readable bundle version", "integration", in.ID, "err", err)
			continue
		}
		in.StateBundle = st.BundleVersion
		if err := s.store.Update(ctx, in); err != nil && !errors.Is(err, store.ErrStale) {
			return err
		}
	}
	return nil
}

// jobLost reports whether this replica no longer holds the lease of job id (a
// forceDisable ended it, or another replica took it over after a lapse).
func (s *Server) jobLost(id int64) bool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	h := s.held[id]
	return h == nil || h.lost
}
