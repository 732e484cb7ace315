package render_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/templates"
)

// stateCases are the golden create cases (with their system password): every model
// the engine builds.
func stateCases(t *testing.T) []goldenCase {
	var out []goldenCase
	for _, c := range loadCases(t) {
		if (c.op == platforms.OpCreate || c.op == platforms.OpInitialCreate) && !c.wantErr && !c.redact {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatal("no create cases")
	}
	return out
}

// TestStateNoSecretAndRoundTrip: the applied state of every golden create holds no
// secret of its payload, survives a JSON round trip, and a delete and an edit from it
// equal the delete and the "nothing to change" edit of the same payload.
func TestStateNoSecretAndRoundTrip(t *testing.T) {
	eng := engine(t)
	for _, c := range stateCases(t) {
		t.Run(c.name(), func(t *testing.T) {
			p, err := decodeFile(t, c.input)
			if err != nil {
				t.Fatal(err)
			}
			req := render.Request{Operation: c.op, Payload: p, SystemPassword: systemPassword(p)}
			st, err := eng.StateOf(req)
			if err != nil {
				t.Fatal(err)
			}
			if st.BundleVersion != templates.BundleVersion {
				t.Errorf("bundle version %d, want %d", st.BundleVersion, templates.BundleVersion)
			}
			data, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range append(platforms.SecretValues(p.Config), testSystemPassword) {
				if len(sec) >= 6 && strings.Contains(string(data), sec) {
					t.Errorf("the state holds the secret %q", sec)
				}
			}
			var back render.State
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&back, st) {
				t.Errorf("JSON round trip changed the state")
			}
			for _, op := range []platforms.Operation{platforms.OpDelete, platforms.OpCleanup} {
				want, err := eng.Render(render.Request{Operation: op, Payload: p, SystemPassword: systemPassword(p)})
				if err != nil {
					t.Fatal(err)
				}
				got, err := eng.Render(render.Request{Operation: op, Payload: p, SystemPassword: systemPassword(p), FromState: &back})
				if err != nil {
					t.Fatal(err)
				}
				if got.Script != want.Script {
					t.Errorf("%s from the state differs from %s of the payload:\n%s\n---\n%s", op, op, got.Script, want.Script)
				}
			}
			ed, err := eng.Render(render.Request{Operation: platforms.OpEdit, Payload: p, SystemPassword: systemPassword(p), FromState: &back})
			if err != nil {
				t.Fatal(err)
			}
			for _, ph := range ed.Phases {
				if len(ph.Statements) > 0 {
					t.Errorf("an edit from the state of the same config changes something:\n%s", ed.Script)
					break
				}
			}
		})
	}
}
