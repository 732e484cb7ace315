package platforms

import (
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/openintegrations/integrations/templates"
)

// systemPlatforms are the scripted platforms whose Needs say what the system account may
// run: the template folder, the needs and the data table of each.
var systemPlatforms = []struct {
	name  string
	dir   string
	needs map[Kind]Needs
	data  map[Kind]any
}{
	{"snowflake", "snowflake", sfNeeds, sfData},
	{"redshift", "redshift", rsNeeds, rsData},
	{"synapse", "synapse", synNeeds, synData},
}

// systemOps are the operations Needs.System may list.
var systemOps = []string{"create", "alter", "drop"}

// undoOp is the operation whose statement undoes op (render's inverse).
var undoOp = map[string]string{"create": "drop", "drop": "create", "alter": "alter"}

// platformTemplates parses every template of a platform's folder, without executing it
// (functions are not resolved), and returns the defined templates by name.
func platformTemplates(t *testing.T, dir string) map[string]*parse.Tree {
	t.Helper()
	sub, err := fs.Sub(templates.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(sub, "*.sql.tmpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no templates (%v)", dir, err)
	}
	set := map[string]*parse.Tree{}
	for _, f := range files {
		b, err := fs.ReadFile(sub, f)
		if err != nil {
			t.Fatal(err)
		}
		tr := parse.New(f)
		tr.Mode = parse.SkipFuncCheck | parse.ParseComments
		if _, err := tr.Parse(string(b), "{{", "}}", set); err != nil {
			t.Fatalf("%s/%s: %v", dir, f, err)
		}
	}
	return set
}

// emptyTree reports whether a template renders nothing whatever its data: no nodes but
// comments and blank text.
func emptyTree(tr *parse.Tree) bool {
	if tr == nil || tr.Root == nil {
		return true
	}
	for _, n := range tr.Root.Nodes {
		switch n := n.(type) {
		case *parse.CommentNode:
		case *parse.TextNode:
			if strings.TrimSpace(string(n.Text)) != "" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// TestNeedsSystemWellFormed: every operation a kind's Needs.System lists is one of
// create, alter and drop, listed once, an operation the kind has (its needs are listed
// and its template renders a statement), on a kind of the platform; and its undo, when
// the kind's template for the undo renders a statement, is listed too (render marks a
// statement system-runnable only when its undo is, so a half-listed pair would be a rule
// that never applies).
func TestNeedsSystemWellFormed(t *testing.T) {
	listed := 0
	for _, p := range systemPlatforms {
		t.Run(p.name, func(t *testing.T) {
			tmpls := platformTemplates(t, p.dir)
			kinds := make([]Kind, 0, len(p.needs))
			for k := range p.needs {
				kinds = append(kinds, k)
			}
			sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
			for _, k := range kinds {
				n := p.needs[k]
				if len(n.System) == 0 {
					continue
				}
				if _, ok := p.data[k]; !ok {
					t.Errorf("%s: System %q on a kind that is not one of %s's (no Data type)", k, n.System, p.name)
				}
				seen := map[string]bool{}
				for _, op := range n.System {
					listed++
					if !slices.Contains(systemOps, op) {
						t.Errorf("%s: System lists %q: must be one of %q", k, op, systemOps)
						continue
					}
					if seen[op] {
						t.Errorf("%s: System lists %q twice", k, op)
					}
					seen[op] = true
					if len(n.For(op)) == 0 {
						t.Errorf("%s: System lists %q, but the kind lists no needs for %s (it has no such operation)", k, op, op)
					}
					tr, ok := tmpls[k.Template(op)]
					if !ok {
						t.Errorf("%s: System lists %q, but templates/%s defines no %q", k, op, p.dir, k.Template(op))
					} else if emptyTree(tr) {
						t.Errorf("%s: System lists %q, but %q renders nothing", k, op, k.Template(op))
					}
					if !n.SystemMay(op) {
						t.Errorf("%s: SystemMay(%q) is false although System lists it", k, op)
					}
					undo := undoOp[op]
					if ut, ok := tmpls[k.Template(undo)]; ok && !emptyTree(ut) && !n.SystemMay(undo) {
						t.Errorf("%s: System lists %q but not its undo %q, which %q renders: the rule would never apply", k, op, undo, k.Template(undo))
					}
				}
				for _, op := range systemOps {
					if n.SystemMay(op) != seen[op] {
						t.Errorf("%s: SystemMay(%q) = %v, System %q", k, op, n.SystemMay(op), n.System)
					}
				}
			}
		})
	}
	if listed == 0 {
		t.Fatal("no kind of any platform lists a System operation: the checks above checked nothing")
	}
}

// TestNeedsSystemMay: SystemMay is true exactly for the operations System lists,
// compared exactly.
func TestNeedsSystemMay(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    Needs
		want map[string]bool
	}{
		{"zero", Needs{}, map[string]bool{}},
		{"needs without System", Needs{Create: []string{"x"}, Alter: []string{"x"}, Drop: []string{"x"}}, map[string]bool{}},
		{"create and drop", Needs{Create: []string{"x"}, Drop: []string{"x"}, System: []string{"create", "drop"}},
			map[string]bool{"create": true, "drop": true}},
		{"alter", Needs{Alter: []string{"x"}, System: []string{"alter"}}, map[string]bool{"alter": true}},
	} {
		for _, op := range []string{"create", "alter", "drop", "", "CREATE", "Drop", "create "} {
			if got := tc.n.SystemMay(op); got != tc.want[op] {
				t.Errorf("%s: SystemMay(%q) = %v, want %v", tc.name, op, got, tc.want[op])
			}
		}
	}
}

// TestNeedsSystemExpectations pins what the system account may and may not run itself,
// per the vendor pages cited above each platform's needs: a "yes" that is wrong would
// make the server run, as the system account, a statement that fails.
func TestNeedsSystemExpectations(t *testing.T) {
	for _, tc := range []struct {
		platform string
		needs    map[Kind]Needs
		kind     Kind
		op       string
		want     bool
	}{
		// Snowflake: the system role owns the database and its schemas.
		{"snowflake", sfNeeds, KindSchema, "create", true},
		{"snowflake", sfNeeds, KindSchema, "drop", true},
		{"snowflake", sfNeeds, KindUser, "alter", true},
		{"snowflake", sfNeeds, KindUser, "create", false},
		{"snowflake", sfNeeds, KindUser, "drop", false},
		{"snowflake", sfNeeds, KindUserPassword, "alter", false},
		{"snowflake", sfNeeds, KindUserKey, "alter", false},
		{"snowflake", sfNeeds, KindRole, "create", false},
		{"snowflake", sfNeeds, KindRole, "drop", false},
		{"snowflake", sfNeeds, KindDatabase, "create", false},
		{"snowflake", sfNeeds, KindDatabase, "drop", false},
		{"snowflake", sfNeeds, KindSchemaOwnership, "create", false},
		{"snowflake", sfNeeds, KindDatabaseOwnership, "create", false},
		{"snowflake", sfNeeds, KindRoleOwnership, "create", false},
		{"snowflake", sfNeeds, KindAccountGrant, "create", false},
		{"snowflake", sfNeeds, KindAccountGrant, "drop", false},
		{"snowflake", sfNeeds, KindRoleMember, "create", false},
		{"snowflake", sfNeeds, KindRoleMember, "drop", false},
		{"snowflake", sfNeeds, KindWarehouseGrant, "create", false},
		{"snowflake", sfNeeds, KindWarehouseGrant, "drop", false},
		{"snowflake", sfNeeds, KindImportedGrant, "create", false},
		{"snowflake", sfNeeds, KindGuard, "create", false},
		// Redshift: the system user owns the three schemas, not the database or the
		// procedures.
		{"redshift", rsNeeds, KindSchemaUsagePublic, "create", true},
		{"redshift", rsNeeds, KindSchema, "create", false},
		{"redshift", rsNeeds, KindSchema, "alter", false},
		{"redshift", rsNeeds, KindSchema, "drop", false},
		{"redshift", rsNeeds, KindUser, "alter", false},
		{"redshift", rsNeeds, KindUserPassword, "alter", false},
		{"redshift", rsNeeds, KindDatabase, "drop", false},
		{"redshift", rsNeeds, KindDatabaseGrant, "create", false},
		{"redshift", rsNeeds, KindGroup, "create", false},
		{"redshift", rsNeeds, KindProcedure, "create", false},
		{"redshift", rsNeeds, KindProcedureGrant, "create", false},
		{"redshift", rsNeeds, KindProcedureRevokePublic, "create", false},
		{"redshift", rsNeeds, KindGuard, "create", false},
		// Synapse: CONTROL on immuta_system and CREATE TABLE; the schemas are dbo's.
		{"synapse", synNeeds, KindMetadataTable, "create", true},
		{"synapse", synNeeds, KindMetadataTable, "drop", true},
		{"synapse", synNeeds, KindMetadataRow, "create", true},
		{"synapse", synNeeds, KindSchema, "create", false},
		{"synapse", synNeeds, KindSchema, "drop", false},
		{"synapse", synNeeds, KindViewSchema, "create", false},
		{"synapse", synNeeds, KindViewSchema, "drop", false},
		{"synapse", synNeeds, KindRole, "create", false},
		{"synapse", synNeeds, KindSchemaGrant, "create", false},
		{"synapse", synNeeds, KindSchemaGrant, "drop", false},
		{"synapse", synNeeds, KindRoleGrant, "create", false},
		{"synapse", synNeeds, KindDatabaseGrant, "create", false},
		{"synapse", synNeeds, KindRoleMember, "create", false},
		{"synapse", synNeeds, KindUser, "drop", false},
		{"synapse", synNeeds, KindExternalUser, "drop", false},
		{"synapse", synNeeds, KindLogin, "alter", false},
		{"synapse", synNeeds, KindGuardPrincipal, "create", false},
		{"synapse", synNeeds, KindLoginSessions, "drop", false},
	} {
		n, ok := tc.needs[tc.kind]
		if !ok {
			t.Errorf("%s: no needs for kind %s", tc.platform, tc.kind)
			continue
		}
		if got := n.SystemMay(tc.op); got != tc.want {
			t.Errorf("%s %s %s: SystemMay = %v, want %v", tc.platform, tc.kind, tc.op, got, tc.want)
		}
	}
}

// TestNeedsSystemInModels: the models carry the needs (so what System says reaches the
// render), and each kind with a System rule is a kind the model of a typical config
// makes (no rule is dead).
func TestNeedsSystemInModels(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		kinds     []Kind
	}{
		{"snowflake", "type: Snowflake\nautoBootstrap: false\nconfig:\n  host: org.us-east-1.snowflakecomputing.com\n  warehouse: SAMPLE_WAREHOUSE\n  database: IMMUTA_DB\n" +
			"  authenticationType: userPassword\n  username: svc\n  password: Abc1234-secret-pw\n", []Kind{KindSchema, KindUser}},
		{"redshift", "type: Redshift\nautoBootstrap: false\nconfig:\n  host: organization.aws.amazon.com\n  database: immuta\n" +
			"  authenticationType: userPassword\n  username: immuta_system\n  password: Abc12345\n", []Kind{KindSchemaUsagePublic}},
		{"synapse", "type: Azure Synapse Analytics\nautoBootstrap: false\nconfig:\n  host: organization.azure.com\n  schema: sample_schema\n  database: immuta\n" +
			"  authenticationType: userPassword\n  username: immuta_system\n  password: Abc1234!secret\n", []Kind{KindMetadataTable, KindMetadataRow}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode([]byte(tc.src), "in.yaml")
			if err != nil {
				t.Fatal(err)
			}
			sc, ok := p.Config.(Scripted)
			if !ok {
				t.Fatalf("%T is not scripted", p.Config)
			}
			m, err := sc.Model(ModelOptions{})
			if err != nil {
				t.Fatal(err)
			}
			made := map[Kind]bool{}
			for _, o := range m.Objects {
				made[o.Kind] = true
			}
			for k, n := range m.Needs {
				if len(n.System) > 0 && !made[k] {
					t.Errorf("kind %s has System %q but the model makes no object of it", k, n.System)
				}
			}
			for _, k := range tc.kinds {
				if !made[k] {
					t.Errorf("the model makes no %s object", k)
				}
				if len(m.Needs[k].System) == 0 {
					t.Errorf("the model's needs give %s no System operation", k)
				}
			}
		})
	}
}
