package render_test

import (
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// TestModelSystemRunnable: every statement the engine marks as the system account's
// own (Statement.SystemRunnable: the server runs a migration made of such statements
// itself, signed in as that account) succeeds on the platform model when that account
// runs it after create; so do its undo and the statement once more, which is what a
// migration that replaces the object, and its rollback, run.
func TestModelSystemRunnable(t *testing.T) {
	eng := engine(t)
	marked := 0
	eachModelPayload(t, func(t *testing.T, np namedPayload) {
		var phases []render.Phase
		for _, op := range []platforms.Operation{platforms.OpInitialCreate, platforms.OpCreate} {
			if np.p.Platform.Supports(op) {
				phases = append(phases, mustRender(t, eng, op, np.p).Phases...)
			}
		}
		w := newWorld(t, np.p)
		if err := w.run(phases); err != nil {
			t.Fatalf("create: %v", err)
		}
		if w.n.user == "" {
			return // signed in through OAuth: no system user the model signs in as
		}
		for _, ph := range phases {
			for _, st := range ph.Statements {
				if !st.SystemRunnable() {
					continue
				}
				marked++
				role := ""
				if np.p.Platform.Dialect == "snowflake" {
					role = w.n.sysRole
				}
				s, err := w.acct.Connect(ph.ConnectTo, w.n.user, role)
				if err != nil {
					t.Fatalf("sign in as the system account %s: %v", w.n.user, err)
				}
				for i, sql := range []string{st.SQL, st.Undo, st.SQL} {
					if sql == "" {
						continue
					}
					if err := w.acct.Exec(s, sql); err != nil {
						t.Errorf("the system account %s cannot run %s (%s; the statement is marked as its own): %v", w.n.user, sql, [...]string{"run again", "its undo", "run after its undo"}[i], err)
					}
				}
				s.Close()
			}
		}
	})
	if marked == 0 {
		t.Fatal("no statement of the corpus is marked as the system account's")
	}
	t.Logf("%d statements marked as the system account's", marked)
}
