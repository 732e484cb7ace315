package render_test

import (
	"errors"
	"testing"

	"github.com/openintegrations/integrations/render"
)

// Query renders a connector definition and checks it against the connector shapes;
// Suggest checks like a script statement. A definition checked the other way, a value
// the quoting refuses, an unknown definition or platform fail with the engine's errors.
func TestQueryAndSuggest(t *testing.T) {
	eng := engine(t)
	cases := []struct {
		name     string
		suggest  bool
		key, def string
		data     any
		want     string
		err      error
	}{
		{name: "query", key: "snowflake", def: "connector.show-roles-with-prefix", data: map[string]any{"Prefix": "IMMUTA"},
			want: `SHOW ROLES STARTS WITH 'IMMUTA'`},
		{name: "query quotes", key: "snowflake", def: "connector.show-like", data: map[string]any{"Objects": "ROLES", "Name": `x'; DROP ROLE y; --`},
			want: `SHOW ROLES LIKE 'x''; DROP ROLE y; --'`},
		{name: "exact keeps case", key: "snowflake", def: "connector.show-grants-to-role", data: map[string]any{"Role": "low"},
			want: `SHOW GRANTS TO ROLE "low"`},
		{name: "ident folds", key: "snowflake", def: "connector.use-role", data: map[string]any{"Role": "low"},
			want: `USE ROLE "LOW"`},
		{name: "redshift list", key: "redshift", def: "connector.schema-names", data: map[string]any{"Schemas": []string{"a", "b'c"}},
			want: `SELECT nspname FROM pg_namespace WHERE nspname IN ('a', 'b''c') ORDER BY nspname`},
		{name: "suggest", suggest: true, key: "snowflake", def: "account-grant.create", data: map[string]any{"Privilege": "CREATE USER", "Role": "R"},
			want: `GRANT CREATE USER ON ACCOUNT TO ROLE "R";`},
		{name: "script statement is no query", key: "snowflake", def: "role.create", data: map[string]any{"Name": "R"}, err: render.ErrCheck},
		{name: "query is no suggestion", suggest: true, key: "snowflake", def: "connector.current-user", err: render.ErrCheck},
		{name: "list too long for the shape", key: "redshift", def: "connector.schema-names",
			data: map[string]any{"Schemas": []string{"a", "b", "c", "d", "e"}}, err: render.ErrCheck},
		{name: "keyword refused", key: "snowflake", def: "connector.show-like", data: map[string]any{"Objects": "ROLES; DROP", "Name": "x"}, err: render.ErrTemplate},
		{name: "unknown definition", key: "snowflake", def: "connector.nothing", err: render.ErrTemplate},
		{name: "unknown platform", key: "mysql", def: "connector.current-user", err: render.ErrTemplate},
		{name: "empty definition", suggest: true, key: "snowflake", def: "guard.drop", err: render.ErrTemplate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := eng.Query
			if c.suggest {
				f = eng.Suggest
			}
			got, err := f(c.key, c.def, c.data)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got %q, %v; want an error matching %v", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
