package server

// The import block is like bench_test.go's: both drive servers on real stores with the
// fake connector; a list of dependencies shares no logic.
import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/internal/store/storetest"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/templates"
)

// The bundles the migration tests upgrade between: bundle 1 kept as test data
// (golden/previous/1: its Redshift impersonation procedures differ, which only a
// superuser may replace), the current one, and nextBundle, the current one with
// Redshift's schema grants and Synapse's metadata row spelled differently (the system
// account owns the schemas and the table, so the server may migrate them itself).
var (
	bundle1    = os.DirFS(filepath.Join("..", "..", "golden", "previous", "1"))
	nextNumber = templates.BundleVersion + 1
)

const (
	nextGrant = "GRANT USAGE  ON SCHEMA"
	nextRow   = ") INSERT  INTO"
)

// nextBundle is the current bundle respelled.
func nextBundle(t *testing.T) fs.FS {
	t.Helper()
	fsys, err := templates.Respell(map[string][][2]string{
		"redshift/schema.sql.tmpl":  {{"GRANT USAGE ON SCHEMA", nextGrant}},
		"synapse/metadata.sql.tmpl": {{") INSERT INTO", nextRow}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// upgrade restarts e's server on bundle n (templates fsys).
func (e *env) upgrade(fsys fs.FS, n int) {
	e.stop()
	e.templates, e.bundle = fsys, n
	e.start(e.fake == nil)
}

// stored returns integration id as the store holds it, with what the server holds.
func (e *env) stored(id string) (*store.Integration, held) {
	e.t.Helper()
	n, _ := strconv.ParseInt(id, 10, 64)
	in, err := e.st.Get(e.t.Context(), n)
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := heldOf(in)
	if err != nil {
		e.t.Fatal(err)
	}
	return in, h
}

// calls returns the fake's calls that start with prefix.
func (e *env) calls(prefix string) []string {
	var out []string
	for _, c := range e.fake.Calls() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

const redshiftImpersonation = `{"type": "Redshift", "autoBootstrap": false, "config": {"host": "organization.aws.amazon.com",
	"database": "immuta", "impersonation": {"enabled": true}, "authenticationType": "userPassword",
	"username": "taylor@redshift.com", "password": "Abc12345"}}`

// TestMigrateOnStart: after an upgrade, an enabled integration an older bundle made is
// migrated by the server, as its system account, and its new state recorded; a
// restart on the same bundle migrates nothing more; the delete then starts from the
// new state.
func TestMigrateOnStart(t *testing.T) {
	e := newEnv(t)
	auto := e.create(seed(t, "post_integrations_azuresynapseanalytics"), lifecycle.Enabled)
	manual := e.create(redshiftImpersonation, lifecycle.Enabled)
	e.upgrade(nextBundle(t), nextNumber)
	e.waitStatus(auto, lifecycle.Enabled)
	e.waitStatus(manual, lifecycle.Enabled)
	e.waitIdle()
	for id, respelled := range map[string]string{auto: nextRow, manual: nextGrant} {
		in, h := e.stored(id)
		st, err := appliedState(in)
		if err != nil || st == nil || st.BundleVersion != nextNumber || in.StateBundle != nextNumber {
			t.Fatalf("integration %s after the migration: state %v (%v), bundle column %d; want bundle %d", id, st, err, in.StateBundle, nextNumber)
		}
		if h.Migration != nil || in.Message != "" || in.LeaseOwner != "" {
			t.Errorf("integration %s after the migration: progress %+v, message %q, lease %q", id, h.Migration, in.Message, in.LeaseOwner)
		}
		recorded := false
		for _, o := range st.Objects {
			recorded = recorded || strings.Contains(o.Create, respelled)
		}
		if !recorded {
			t.Errorf("integration %s: the new state does not record the new bundle's %q", id, respelled)
		}
	}
	// One statement per run: the automatic setup's metadata row as its system account
	// (the server holds its password), the manual setup's three schema grants with its
	// config's credentials, which are the system account's.
	migrations := e.calls("run:migrate(")
	sys := 0
	for _, c := range migrations {
		if strings.Contains(c, " as ") {
			sys++
		}
	}
	if len(migrations) != 4 || sys != 1 || len(e.calls("run:rollback(")) != 0 {
		t.Fatalf("migration runs %v (%d as the held system account), want 4 (1); rollbacks %v", migrations, sys, e.calls("run:rollback("))
	}
	// A restart on the same bundle migrates nothing more.
	e.restart()
	e.waitIdle()
	if n := len(e.calls("run:migrate(")); n != len(migrations) {
		t.Errorf("a restart on the same bundle ran %d more migration statements", n-len(migrations))
	}
	// The delete script is computed from the migrated state: it has no note of an
	// older bundle.
	r := e.do(req{method: "POST", path: "/integrations/" + manual + "/scripts/delete", headers: []string{"Accept: text/plain"}})
	expect(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "made this integration") {
		t.Errorf("the delete script after the migration still starts from an older state:\n%s", r.body)
	}
	expect(t, e.del("/integrations/"+manual, ""), http.StatusOK)
	e.waitStatus(manual, lifecycle.Deleted)
}

// TestMigrateOff: a server started with NoMigrations (serve --migrate=false) leaves an
// integration an older bundle made enabled and untouched; one started without it
// migrates it.
func TestMigrateOff(t *testing.T) {
	e := newEnv(t)
	id := e.create(redshiftImpersonation, lifecycle.Enabled)
	e.noMigrations = true
	e.upgrade(nextBundle(t), nextNumber)
	e.waitIdle()
	if in, _ := e.stored(id); in.Status != lifecycle.Enabled || in.StateBundle != templates.BundleVersion || len(e.calls("run:")) != 0 {
		t.Fatalf("with migrations off: %s at state bundle %d, runs %v", in.Status, in.StateBundle, e.calls("run:"))
	}
	e.noMigrations = false
	e.restart()
	e.eventually("not migrated once migrations are on", func() bool {
		in, _ := e.stored(id)
		return in.StateBundle == nextNumber && in.Status == lifecycle.Enabled
	})
}

// TestMigrateBackfill: a state stored before the state bundle column existed (0 with a
// state) gets its bundle at the next start, and is migrated.
func TestMigrateBackfill(t *testing.T) {
	e := newEnv(t)
	id := e.create(redshiftImpersonation, lifecycle.Enabled)
	in, _ := e.stored(id)
	in.StateBundle = 0
	if err := e.st.Update(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	e.upgrade(nextBundle(t), nextNumber)
	e.eventually("not migrated", func() bool {
		in, _ := e.stored(id)
		return in.StateBundle == nextNumber && in.Status == lifecycle.Enabled
	})
	if n := len(e.calls("run:migrate(")); n != 3 {
		t.Errorf("%d migration statements, want 3", n)
	}
}

// TestMigrateFailureRollsBack: a statement the platform refuses stops the migration;
// the integration is in migrateError with a message naming the statement and the
// rollback, its state unchanged, and it is not migrated again on the next start.
func TestMigrateFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	id := e.create(redshiftImpersonation, lifecycle.Enabled)
	grants := 0
	e.fake.Set(func(f *connector.Fake) {
		f.FailStatement = func(op, sql string) error {
			if op == string(opMigrate) && strings.HasPrefix(sql, nextGrant) {
				if grants++; grants == 2 {
					return errors.New("ERROR: permission denied for schema immuta_functions")
				}
			}
			return nil
		}
	})
	e.upgrade(nextBundle(t), nextNumber)
	e.waitStatus(id, lifecycle.MigrateError)
	e.waitIdle()
	in, h := e.stored(id)
	msg := in.Message
	t.Logf("message: %s", msg)
	for _, want := range []string{
		"migration from bundle " + strconv.Itoa(templates.BundleVersion) + " to " + strconv.Itoa(nextNumber) + " failed at phase edit, statement 2 (" + nextGrant,
		"): ERROR: permission denied for schema immuta_functions; rolled back: the undo of the 1 statement applied ran in reverse",
		"as bundle " + strconv.Itoa(templates.BundleVersion) + " made it", "POST /integrations/" + id + "/scripts/edit", "PUT /integrations/" + id,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// A schema grant's undo is the schema's drop, which the migration does not run.
	if n, r := len(e.calls("run:migrate(")), e.calls("run:rollback("); n != 2 || len(r) != 0 {
		t.Errorf("%d migration statements run (want 2, the second failing), rollback runs %v (want none)", n, r)
	}
	if in.StateBundle != templates.BundleVersion || h.Migration != nil {
		t.Errorf("after the rollback: state bundle %d (want %d), progress %+v", in.StateBundle, templates.BundleVersion, h.Migration)
	}
	e.restart()
	e.waitIdle()
	if n := len(e.calls("run:migrate(")); n != 2 {
		t.Errorf("a restart retried the failed migration: %d migration runs", n)
	}
}

// TestMigrateRollback: the rollback runs the undo of each applied statement in
// reverse (the running one's first, when the server stopped mid-statement, and its
// failure is only noted), records what is left after each, and when an undo fails
// says which undos are left to run by hand, in order.
func TestMigrateRollback(t *testing.T) {
	e := newEnv(t)
	id := e.create(redshiftImpersonation, lifecycle.Enabled)
	in, _ := e.stored(id)
	p, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		t.Fatal(err)
	}
	step := func(n int, undo string) migrationStep {
		return migrationStep{What: "statement " + strconv.Itoa(n), Phase: "edit", ConnectTo: "immuta", SQL: "S" + strconv.Itoa(n), Undo: undo}
	}
	tests := []struct {
		name    string
		applied []migrationStep
		next    *migrationStep
		fail    string // the undo that fails
		lost    bool   // the job's lease is lost (a forceDisable)
		runs    []string
		want    []string
		left    int // statements left in the recorded progress
	}{
		{"in reverse", []migrationStep{step(1, "U1"), step(2, ""), step(3, "U3")}, nil, "", false, []string{"U3", "U1"},
			[]string{"rolled back: the undo of the 3 statements applied ran in reverse (2 undo statements)"}, 0},
		{"running one first", []migrationStep{step(1, "U1")}, &migrationStep{What: "statement 2", Undo: "U2"}, "U2", false, []string{"U2", "U1"},
			[]string{"the statement that was running", "statement 2 may not have run: its undo failed (no such object), check it by hand"}, 0},
		{"undo fails", []migrationStep{step(1, "U1"), step(2, "U2"), step(3, "U3")}, nil, "U2", false, []string{"U3", "U2"},
			[]string{"the rollback failed at the undo of statement 2 (no such object): run by hand, in this order, the undo of statement 2; then statement 1"}, 2},
		{"nothing applied", nil, nil, "", false, nil, []string{"nothing to roll back"}, 0},
		{"job lost", []migrationStep{step(1, "U1")}, nil, "", true, nil, []string{"the rollback stopped: the job was ended (a forceDisable) or taken over"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs []string
			f := &connector.Fake{FailStatement: func(op, sql string) error {
				if op != string(opRollback) {
					return fmt.Errorf("ran %s %q", op, sql)
				}
				runs = append(runs, sql)
				if sql == tt.fail {
					return errors.New("no such object")
				}
				return nil
			}}
			prog := &migrationProgress{From: 1, To: 2, Applied: slices.Clone(tt.applied), Next: tt.next}
			if err := e.srv.setHeld(t.Context(), in.ID, func(h *held) { h.Migration = prog }); err != nil {
				t.Fatal(err)
			}
			// The job is this replica's, as a running migration's is.
			e.srv.qmu.Lock()
			e.srv.held[in.ID] = &heldJob{kind: opMigrate, lost: tt.lost}
			e.srv.qmu.Unlock()
			defer e.srv.forget(in.ID)
			msg := e.srv.rollback(t.Context(), f, job{id: in.ID, payload: p}, connector.Credentials{}, prog)
			if !slices.Equal(runs, tt.runs) {
				t.Errorf("undo runs %v, want %v", runs, tt.runs)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q: %s", w, msg)
				}
			}
			_, h := e.stored(id)
			if h.Migration == nil || len(h.Migration.Applied) != tt.left || h.Migration.Next != nil {
				t.Errorf("recorded progress %+v, want %d statements left and none running", h.Migration, tt.left)
			}
		})
	}
}

// TestMigratePrivilegedOnly: a migration with a statement the system account may not
// run (a Redshift SECURITY DEFINER procedure is a superuser's) runs nothing; the
// integration is in migrateError with a message saying what to run as whom; the PUT of
// the unchanged config after the DBA ran it records the new bundle.
func TestMigratePrivilegedOnly(t *testing.T) {
	e := newEnv(t)
	e.upgrade(bundle1, 1)
	id := e.create(redshiftImpersonation, lifecycle.Enabled)
	if in, _ := e.stored(id); in.StateBundle != 1 {
		t.Fatalf("bundle 1 recorded state bundle %d", in.StateBundle)
	}
	e.upgrade(nil, 0)
	e.waitStatus(id, lifecycle.MigrateError)
	e.waitIdle()
	in, _ := e.stored(id)
	t.Logf("message: %s", in.Message)
	for _, want := range []string{
		"migration from bundle 1 to " + strconv.Itoa(templates.BundleVersion) + " needs the privileged runner", "nothing changed",
		"(CREATE OR REPLACE PROCEDURE", "POST /integrations/" + id + "/scripts/edit", "run it as the runner its header names (a superuser)",
		"PUT /integrations/" + id,
	} {
		if !strings.Contains(in.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, in.Message)
		}
	}
	if runs := e.calls("run:"); len(runs) != 0 {
		t.Errorf("a privileged-only migration ran statements: %v", runs)
	}
	// The script the message names is the migration.
	r := e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/edit", body: redshiftImpersonation, headers: []string{"Accept: text/plain"}})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "-- migration from bundle 1 to "+strconv.Itoa(templates.BundleVersion)) {
		t.Errorf("the edit script is not the migration:\n%s", r.body)
	}
	// The DBA ran it; the PUT records it.
	expect(t, e.put("/integrations/"+id, redshiftImpersonation), http.StatusOK)
	e.waitStatus(id, lifecycle.Enabled)
	if in, _ := e.stored(id); in.StateBundle != templates.BundleVersion {
		t.Errorf("after the PUT: state bundle %d, want %d", in.StateBundle, templates.BundleVersion)
	}
}

// TestMigrateInterruptedRollsBack: a migration whose server stops mid-statement is
// taken over by the next start, which rolls back what the progress records (the
// statement that was running included: TestMigrateRollback checks the order) and ends
// in migrateError.
func TestMigrateInterruptedRollsBack(t *testing.T) {
	e := newEnv(t)
	id := e.create(seed(t, "post_integrations_azuresynapseanalytics"), lifecycle.Enabled)
	gate := make(chan struct{})
	started := make(chan struct{}, 100)
	e.fake.Set(func(f *connector.Fake) {
		f.Gate = gate
		f.OnRun = func(call, _, _ string) {
			if strings.HasPrefix(call, "run:migrate(") {
				started <- struct{}{}
			}
		}
	})
	e.upgrade(nextBundle(t), nextNumber)
	select { // the first statement runs, held by the gate
	case <-started:
	case <-time.After(10 * time.Second):
		in, _ := e.stored(id)
		t.Fatalf("no migration statement started: %s, %q", in.Status, in.Message)
	}
	e.stop() // its context ends: the server stops mid-statement
	e.fake.Set(func(f *connector.Fake) { f.Gate, f.OnRun = nil, nil })
	close(gate)
	// With no server running, the store shows the migration stopped mid-statement.
	st, err := store.Open(t.Context(), e.db, store.Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	in, h := e.stored(id)
	st.Close()
	if in.Status != lifecycle.Migrating || h.Migration == nil || h.Migration.Next == nil {
		t.Fatalf("after the stop: status %s, progress %+v; want migrating with the running statement recorded", in.Status, h.Migration)
	}
	e.start(false)
	e.waitStatus(id, lifecycle.MigrateError)
	e.waitIdle()
	in, h = e.stored(id)
	t.Logf("message: %s", in.Message)
	for _, want := range []string{"interrupted: the server running it stopped at phase edit, statement 1 (IF NOT EXISTS", "; rolled back: the statement that was running (it may or may not have run) was undone",
		"PUT /integrations/" + id + " with the unchanged config and the privileged credentials"} {
		if !strings.Contains(in.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, in.Message)
		}
	}
	// The metadata row's undo is the table's drop, which the migration does not run.
	if r := e.calls("run:rollback("); len(r) != 0 {
		t.Errorf("rollback runs %v, want none", r)
	}
	if in.StateBundle != templates.BundleVersion || h.Migration != nil {
		t.Errorf("after the rollback: state bundle %d, progress %+v", in.StateBundle, h.Migration)
	}
}

// TestMigrateTwoReplicas: two replicas start on a new bundle at once, on one store;
// each integration's migration runs once, on one of them.
func TestMigrateTwoReplicas(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var opts []func(*envOpt)
			if db == "postgres" {
				dsn := storetest.PostgresURL(t)
				opts = append(opts, func(o *envOpt) { o.dsn = dsn })
			}
			e := newEnv(t, opts...)
			const n = 6
			var ids []string
			for i := range n {
				ids = append(ids, e.create(strings.Replace(redshiftImpersonation, "organization.aws", fmt.Sprintf("org%d.aws", i), 1), lifecycle.Enabled))
			}
			e.stop()
			var mu sync.Mutex
			perHost := map[string]int{}
			e.fake.Set(func(f *connector.Fake) {
				f.Latency = 2 * time.Millisecond
				f.OnRun = func(call, _, key string) {
					if strings.HasPrefix(call, "run:migrate(") {
						mu.Lock()
						perHost[key]++
						mu.Unlock()
					}
				}
			})
			e.templates, e.bundle = nextBundle(t), nextNumber
			other := &env{t: t, dir: e.dir, db: e.db, fake: e.fake, logs: &syncBuffer{}, admin: e.admin, templates: e.templates, bundle: e.bundle}
			var wg sync.WaitGroup
			wg.Go(func() { e.start(false) })
			wg.Go(func() { other.start(false) })
			wg.Wait()
			// Either replica's background work may end a migration: wait on both.
			deadline := time.After(20 * time.Second)
			for _, id := range ids {
				for {
					a, b := e.background.next(), other.background.next()
					if in, _ := e.stored(id); in.Status == lifecycle.Enabled {
						break
					} else if in.Status != lifecycle.Migrating {
						t.Fatalf("integration %s: %s (%s)", id, in.Status, in.Message)
					}
					select {
					case <-a:
					case <-b:
					case <-deadline:
						t.Fatalf("integration %s: still migrating", id)
					}
				}
			}
			e.waitIdle()
			other.waitIdle()
			mu.Lock()
			defer mu.Unlock()
			if len(perHost) != n {
				t.Errorf("migrations ran for %d integrations, want %d: %v", len(perHost), n, perHost)
			}
			for host, runs := range perHost {
				if runs != 3 { // its three schema grants, once
					t.Errorf("%s: %d migration statements run, want 3 (one migration)", host, runs)
				}
			}
			for _, id := range ids {
				if in, _ := e.stored(id); in.StateBundle != nextNumber {
					t.Errorf("integration %s: state bundle %d, want %d", id, in.StateBundle, nextNumber)
				}
			}
		})
	}
}

// TestMigrateForceDisabled: a forceDisable during a migration stops it and touches the
// platform no more: no rollback runs, the progress is dropped, and the message says
// the migration was stopped.
func TestMigrateForceDisabled(t *testing.T) {
	e := newEnv(t)
	id := e.create(redshiftImpersonation, lifecycle.Enabled)
	started := make(chan struct{}, 10)
	e.fake.Set(func(f *connector.Fake) {
		f.Gate = make(chan struct{}) // never opened: the statement runs until cancelled
		f.OnRun = func(call, _, _ string) {
			if strings.HasPrefix(call, "run:migrate(") {
				started <- struct{}{}
			}
		}
	})
	e.upgrade(nextBundle(t), nextNumber)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no migration statement started")
	}
	expect(t, e.del("/integrations/"+id+"?forceDisable=true", ""), http.StatusOK)
	e.waitIdle()
	in, h := e.stored(id)
	if in.Status != lifecycle.Disabled || !strings.Contains(in.Message, "a migration was running and was stopped without a rollback") {
		t.Errorf("after the forceDisable: %s, %q", in.Status, in.Message)
	}
	if h.Migration != nil {
		t.Errorf("the migration's progress is kept: %+v", h.Migration)
	}
	if r := e.calls("run:rollback("); len(r) != 0 || len(e.calls("run:migrate(")) != 1 {
		t.Errorf("after the forceDisable the server ran %v and %v", e.calls("run:migrate("), r)
	}
}
