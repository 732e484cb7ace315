package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// TestModelMigration runs every golden payload on the platform model through an upgrade
// from bundle 1 (golden/previous/1): what bundle 1's create plus the migration leave is
// what the current create leaves, and the delete computed from the state the migration
// records, like the delete computed from bundle 1's own state without a migration,
// removes everything either bundle made (the account ends as it began).
func TestModelMigration(t *testing.T) {
	eng := engine(t)
	old, err := render.New(render.Options{FS: os.DirFS(filepath.Join(goldenRoot, "previous", "1")), BundleVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer checkGaps(t, "migration")
	eachModelPayload(t, func(t *testing.T, np namedPayload) {
		pw := systemPassword(np.p)
		oldCreate, err := old.CreateAll(np.p, pw)
		if err != nil {
			t.Fatal(err)
		}
		st1, err := old.StateOf(render.Request{Operation: platforms.OpCreate, Payload: np.p, SystemPassword: pw})
		if err != nil {
			t.Fatal(err)
		}
		migration, err := eng.Render(render.Request{Operation: platforms.OpEdit, Payload: np.p, From: np.p, FromState: st1, SystemPassword: pw})
		if err != nil {
			t.Fatal(err)
		}
		st2, err := eng.StateOf(render.Request{Operation: platforms.OpEdit, Payload: np.p, From: np.p, SystemPassword: pw})
		if err != nil {
			t.Fatal(err)
		}
		newCreate, err := eng.CreateAll(np.p, pw)
		if err != nil {
			t.Fatal(err)
		}
		deleteFrom := func(st *render.State) []render.Phase {
			s, err := eng.Render(render.Request{Operation: platforms.OpDelete, Payload: np.p, FromState: st, SystemPassword: pw})
			if err != nil {
				t.Fatal(err)
			}
			return s.Phases
		}
		err = func() error {
			got, want, unmigrated := newWorld(t, np.p), newWorld(t, np.p), newWorld(t, np.p)
			before := got.acct.Snapshot()
			if err := got.run(oldCreate); err != nil {
				return fmt.Errorf("create (bundle 1): %w", err)
			}
			if err := got.run(migration.Phases); err != nil {
				return fmt.Errorf("migration: %w", err)
			}
			if err := want.run(newCreate); err != nil {
				return fmt.Errorf("create (current bundle): %w", err)
			}
			if g, w := got.acct.Snapshot(), want.acct.Snapshot(); g != w {
				return fmt.Errorf("create (bundle 1) + migration differs from the current create (- current, + migrated):\n%s", diffLines(w, g))
			}
			if err := got.run(deleteFrom(st2)); err != nil {
				return fmt.Errorf("delete after the migration: %w", err)
			}
			if after := got.acct.Snapshot(); after != before {
				return fmt.Errorf("delete after the migration leaves the account changed:\n%s", diffLines(before, after))
			}
			if err := unmigrated.run(oldCreate); err != nil {
				return fmt.Errorf("create (bundle 1): %w", err)
			}
			if err := unmigrated.run(deleteFrom(st1)); err != nil {
				return fmt.Errorf("delete from bundle 1's state: %w", err)
			}
			if after := unmigrated.acct.Snapshot(); after != before {
				return fmt.Errorf("delete from bundle 1's state leaves the account changed:\n%s", diffLines(before, after))
			}
			return nil
		}()
		if gap(t, "migration", err) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}
