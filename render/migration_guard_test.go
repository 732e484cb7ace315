package render_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/templates"
)

// TestMigrationKeepsContainers: a bundle that only respells the create of an object
// other objects live in (a Snowflake schema) cannot migrate by dropping and making it
// again, which would remove what the service made in it: the render refuses, naming
// the object and the fix. A respelled leaf (a Redshift grant) migrates.
func TestMigrationKeepsContainers(t *testing.T) {
	tests := []struct {
		name, file, old, new, payload string
		refused                       string
	}{
		{"snowflake schema", "snowflake/objects.sql.tmpl", "CREATE SCHEMA IF NOT EXISTS", "CREATE SCHEMA  IF NOT EXISTS",
			"snowflake", `the migration would drop and make again schema:`},
		{"redshift schema grant", "redshift/schema.sql.tmpl", "GRANT USAGE ON SCHEMA", "GRANT USAGE  ON SCHEMA", "redshift", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, err := templates.Respell(map[string][][2]string{tt.file: {{tt.old, tt.new}}})
			if err != nil {
				t.Fatal(err)
			}
			next, err := render.New(render.Options{FS: fsys, BundleVersion: templates.BundleVersion + 1})
			if err != nil {
				t.Fatal(err)
			}
			ran := 0
			eachModelPayload(t, func(t *testing.T, np namedPayload) {
				if np.p.Platform.Key != tt.payload {
					return
				}
				pw := systemPassword(np.p)
				st, err := engine(t).StateOf(render.Request{Operation: platforms.OpCreate, Payload: np.p, SystemPassword: pw})
				if err != nil {
					t.Fatal(err)
				}
				s, err := next.Render(render.Request{Operation: platforms.OpEdit, Payload: np.p, From: np.p, FromState: st, SystemPassword: pw})
				if tt.refused != "" {
					if !errors.Is(err, render.ErrTemplate) || !strings.Contains(err.Error(), tt.refused) || !strings.Contains(err.Error(), "alter template") {
						t.Fatalf("migration: %v; want it refused (%s)", err, tt.refused)
					}
					ran++
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(s.Script, tt.new) {
					t.Fatalf("the migration does not make the respelled statement:\n%s", s.Script)
				}
				ran++
			})
			if ran == 0 {
				t.Fatalf("no %s payload", tt.payload)
			}
		})
	}
}
