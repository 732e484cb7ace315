package render_test

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/sqlcheck"
	"github.com/openintegrations/integrations/templates"
)

// defineRE finds the template definitions of a file; an empty one ({{define "x"}}{{end}})
// renders no statement.
var defineRE = regexp.MustCompile(`\{\{define "([^"]+)"\}\}(\{\{end\}\})?`)

// connectorSamples renders every definition of templates/<platform>/connector.sql.tmpl
// (the statements the connectors run to look at a platform, which no golden script
// holds) with sample data of the shape the connector gives it. A definition missing
// here is a template no test renders, and TestTemplatesAndShapes fails on it.
var connectorSamples = []struct {
	key, name string
	data      any
	// suggest: a fix a connector's message suggests (render.Engine.Suggest, a script
	// shape), not a statement it runs (render.Engine.Query, a connector shape).
	suggest bool
}{
	{"snowflake", "connector.current-user", nil, false},
	{"snowflake", "connector.use-role", map[string]any{"Role": "IMMUTA_DB_SYSTEM"}, false},
	{"snowflake", "connector.use-warehouse", map[string]any{"Warehouse": "compute_wh"}, false},
	{"snowflake", "connector.show-like", map[string]any{"Objects": "DATABASES", "Name": "IMMUTA_DB"}, false},
	{"snowflake", "connector.show-roles-with-prefix", map[string]any{"Prefix": "IMMUTA"}, false},
	{"snowflake", "connector.show-grants-to-role", map[string]any{"Role": "a lower-case role"}, false},
	{"snowflake", "connector.show-grants-to-user", map[string]any{"User": "IMMUTA_SYSTEM_ACCOUNT"}, false},
	{"redshift", "connector.set-statement-timeout", map[string]any{"Milliseconds": int64(120000)}, false},
	{"redshift", "connector.select-one", nil, false},
	{"redshift", "connector.database-privileges", nil, false},
	{"redshift", "connector.schemas", map[string]any{"Schemas": []string{"immuta_system", "immuta_functions", "immuta_procedures"}}, false},
	{"redshift", "connector.schema-names", map[string]any{"Schemas": []string{"immuta_system"}}, false},
	{"redshift", "connector.group-count", map[string]any{"Group": "immuta_impersonation"}, false},
	{"redshift", "connector.procedures", map[string]any{"Schemas": []string{"immuta_procedures", "immuta_procedures"}, "Names": []string{"grant_impersonation", "revoke_impersonation"}}, false},
	{"redshift", "connector.fix-schema-owner", map[string]any{"Schema": "immuta_system", "Owner": "immuta_sys"}, true},
	{"redshift", "connector.fix-schema-privileges", map[string]any{"Schema": "immuta_system", "User": "immuta_sys"}, true},
	{"synapse", "connector.login-name", nil, false},
	{"synapse", "connector.pool-edition", nil, false},
	{"synapse", "connector.login-manager", nil, false},
	{"synapse", "connector.db-owner", nil, false},
	{"synapse", "connector.schema-names", map[string]any{"Names": []string{"views", "immuta_system", "immuta_functions", "immuta_procedures"}}, false},
	{"synapse", "connector.principal-names", map[string]any{"Names": []string{"pool1_SYSTEM_ACCOUNT", "IMMUTA_IMPERSONATION"}}, false},
	{"synapse", "connector.login-names", map[string]any{"Name": "pool1_SYSTEM_ACCOUNT"}, false},
	{"synapse", "connector.principal", map[string]any{"Name": "IMMUTA_IMPERSONATION"}, false},
	{"synapse", "connector.principal-type", map[string]any{"Name": "IMMUTA_IMPERSONATION"}, false},
	{"synapse", "connector.setup", map[string]any{"Members": []string{"db_datareader"}, "Schemas": []string{"immuta_system", "views"},
		"Tables": []map[string]string{{"Schema": "immuta_system", "Name": "metadata"}}, "Role": "IMMUTA_IMPERSONATION"}, false},
	{"synapse", "connector.permissions", map[string]any{"Principal": ""}, false},
	{"synapse", "connector.permissions", map[string]any{"Principal": "IMMUTA_IMPERSONATION"}, false},
	{"synapse", "connector.fix-enable-login", map[string]any{"Login": "sqladmin"}, true},
	{"synapse", "connector.fix-drop-role", map[string]any{"Name": "IMMUTA_IMPERSONATION"}, true},
}

// TestTemplatesAndShapes: every statement template renders, for some object of the
// golden corpus's models (or, for the connectors' definitions, for connectorSamples),
// to a statement of a grammar shape, and every shape of each dialect's closed grammar
// is the shape of some rendered statement: a template without a shape, or a shape no
// template produces, fails here.
func TestTemplatesAndShapes(t *testing.T) {
	eng := engine(t)
	rendered := map[string]map[string]bool{} // platform key -> template -> rendered
	shapes := map[string]map[string]bool{}   // dialect -> shape -> seen
	note := func(key, dialect, tmpl, sql string) {
		if sql == "" {
			return
		}
		if rendered[key] == nil {
			rendered[key] = map[string]bool{}
		}
		rendered[key][tmpl] = true
		d, err := sqlcheck.ParseDialect(dialect)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sqlcheck.Parse(d, sql)
		if err != nil {
			t.Errorf("%s: %s does not parse: %v", key, tmpl, err)
			return
		}
		if shapes[dialect] == nil {
			shapes[dialect] = map[string]bool{}
		}
		for ; p != nil; p = p.Exec {
			shapes[dialect][p.Shape] = true
		}
	}
	undoOf := map[string]string{"create": "drop", "drop": "create", "alter": "alter"}
	var scripts []*render.Script
	var plats []*platforms.Platform
	for _, c := range loadCases(t) {
		if c.wantErr {
			continue
		}
		s, err := renderCase(t, eng, c)
		if err != nil {
			t.Fatalf("%s: %v", c.name(), err)
		}
		p, err := decodeFile(t, c.input)
		if err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, s)
		plats = append(plats, p.Platform)
		if p.Config != nil && len(platforms.RedactedPaths(p.Config)) == 0 {
			for _, f := range []string{c.input, c.from} {
				if f == "" {
					continue
				}
				q, err := decodeFile(t, f)
				if err != nil {
					t.Fatal(err)
				}
				if err := eng.EachTemplate(q, systemPassword(q), func(name, sql string) {
					note(q.Platform.Key, q.Platform.Dialect, name, sql)
				}); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			}
		}
	}
	for i, s := range scripts {
		plat := plats[i]
		for _, ph := range s.Phases {
			for _, st := range ph.Statements {
				e := render.EffectOf(st)
				note(plat.Key, plat.Dialect, e.Kind.Template(e.Op), st.SQL)
				note(plat.Key, plat.Dialect, e.Kind.Template(undoOf[e.Op]), st.Undo)
			}
		}
	}
	for _, c := range connectorSamples {
		plat, ok := platforms.ByKey(c.key)
		if !ok {
			t.Fatalf("no platform %q", c.key)
		}
		render, check := eng.Query, sqlcheck.CheckConnector
		if c.suggest {
			render, check = eng.Suggest, sqlcheck.CheckStatement
		}
		sql, err := render(c.key, c.name, c.data)
		if err != nil {
			t.Errorf("%s: %s: %v", c.key, c.name, err)
			continue
		}
		d, err := sqlcheck.ParseDialect(plat.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		shape, err := check(d, sql)
		if err != nil {
			t.Errorf("%s: %s renders %q, which no shape accepts: %v", c.key, c.name, sql, err)
			continue
		}
		if rendered[c.key] == nil {
			rendered[c.key] = map[string]bool{}
		}
		rendered[c.key][c.name] = true
		if shapes[plat.Dialect] == nil {
			shapes[plat.Dialect] = map[string]bool{}
		}
		shapes[plat.Dialect][shape] = true
	}
	for _, plat := range platforms.All() {
		if !plat.HasScripts() {
			continue
		}
		files, err := fs.Glob(templates.FS, plat.Key+"/*.sql.tmpl")
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, f := range files {
			src, err := fs.ReadFile(templates.FS, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range defineRE.FindAllStringSubmatch(string(src), -1) {
				name, empty := m[1], m[2] != ""
				if strings.HasPrefix(name, "_") || empty || rendered[plat.Key][name] {
					continue
				}
				missing = append(missing, f+": "+name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: templates that no golden case renders, so no shape is known to accept them (add a case):\n  %s", plat.Type, strings.Join(missing, "\n  "))
		}
		d, _ := sqlcheck.ParseDialect(plat.Dialect)
		var unused []string
		for _, name := range sqlcheck.ShapeNames(d) {
			if !shapes[plat.Dialect][name] {
				unused = append(unused, name)
			}
		}
		sort.Strings(unused)
		if len(unused) > 0 {
			t.Errorf("%s: shapes of the closed grammar that no template produces (remove them, or add the template and a case):\n  %s", plat.Type, strings.Join(unused, "\n  "))
		}
	}
}
