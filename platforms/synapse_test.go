package platforms_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render/sqlcheck"
)

// synapseBase is a valid userPassword payload; tests patch its config.
func synapseBase() map[string]any {
	return map[string]any{
		"type":          "Azure Synapse Analytics",
		"autoBootstrap": false,
		"config": map[string]any{
			"host":               "organization.azure.com",
			"schema":             "sample_schema",
			"database":           "immuta",
			"username":           "taylor@synapse.com",
			"password":           "Abc1234!secret",
			"authenticationType": "userPassword",
		},
	}
}

func synapseOAuthBase() map[string]any {
	p := synapseBase()
	c := p["config"].(map[string]any)
	delete(c, "username")
	delete(c, "password")
	c["authenticationType"] = "oAuthClientSecret"
	c["oAuthClientConfig"] = map[string]any{
		"clientId":     "3f2b8c1e-7d4a-4e9b-a1c2-5d6e7f8a9b0c",
		"clientSecret": "s3cr3t",
		"authorityUrl": "https://login.microsoftonline.com/contoso",
		"resource":     "https://database.windows.net/",
		"displayName":  "immuta-app",
	}
	return p
}

func decodeSynapse(t *testing.T, p map[string]any) (*platforms.Payload, error) {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return platforms.Decode(data, "")
}

func synapseCfg(t *testing.T, p map[string]any) *platforms.Synapse {
	t.Helper()
	pl, err := decodeSynapse(t, p)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return pl.Config.(*platforms.Synapse)
}

// problemPaths returns "path: message" of every problem of err, sorted.
func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ve *platforms.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.Path)
	}
	sort.Strings(out)
	return out
}

func TestSynapseDefaults(t *testing.T) {
	c := synapseCfg(t, synapseBase())
	if c.Port != 1433 {
		t.Errorf("port = %d, want 1433", c.Port)
	}
	want := platforms.SynapseDelimiters{HashDelimiter: "|", HashKeyDelimiter: "-", ArrayDelimiter: ","}
	if c.MetadataDelimiters != want {
		t.Errorf("delimiters = %+v, want %+v", c.MetadataDelimiters, want)
	}
	if c.Impersonation.Enabled || c.Impersonation.Role != "" {
		t.Errorf("impersonation = %+v, want disabled without a role", c.Impersonation)
	}

	p := synapseBase()
	cfg := p["config"].(map[string]any)
	cfg["impersonation"] = map[string]any{"enabled": true}
	cfg["metadataDelimiters"] = map[string]any{"arrayDelimiter": ";"}
	cfg["port"] = 11433
	c = synapseCfg(t, p)
	if c.Impersonation.Role != "IMMUTA_IMPERSONATION" {
		t.Errorf("role = %q, want IMMUTA_IMPERSONATION", c.Impersonation.Role)
	}
	if c.Port != 11433 {
		t.Errorf("port = %d, want 11433 kept", c.Port)
	}
	want.ArrayDelimiter = ";"
	if c.MetadataDelimiters != want {
		t.Errorf("partial delimiters = %+v, want %+v", c.MetadataDelimiters, want)
	}
}

func TestSynapseJSONOrder(t *testing.T) {
	p := synapseBase()
	p["config"].(map[string]any)["impersonation"] = map[string]any{"enabled": true}
	c := synapseCfg(t, p)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"host":"organization.azure.com","port":1433,"schema":"sample_schema","database":"immuta",` +
		`"metadataDelimiters":{"hashDelimiter":"|","hashKeyDelimiter":"-","arrayDelimiter":","},` +
		`"username":"taylor@synapse.com","password":"Abc1234!secret","authenticationType":"userPassword",` +
		`"impersonation":{"enabled":true,"role":"IMMUTA_IMPERSONATION"}}`
	if string(b) != want {
		t.Errorf("json:\n got %s\nwant %s", b, want)
	}
	r, _ := json.Marshal(platforms.Redact(c))
	if strings.Contains(string(r), "Abc1234!secret") || !strings.Contains(string(r), `"password":"\u003cREDACTED\u003e"`) {
		t.Errorf("redacted json shows the password: %s", r)
	}
	o := synapseCfg(t, synapseOAuthBase())
	if got := platforms.SecretPaths(o); !reflect.DeepEqual(got, []string{"config.oAuthClientConfig.clientSecret"}) {
		t.Errorf("secret paths = %v", got)
	}
}

func TestSynapseUniqueKeyAndImmutable(t *testing.T) {
	p := synapseBase()
	p["config"].(map[string]any)["host"] = "Organization.Azure.com"
	c := synapseCfg(t, p)
	if c.UniqueKey() != "organization.azure.com" {
		t.Errorf("unique key = %q", c.UniqueKey())
	}
	q := synapseBase()
	qc := q["config"].(map[string]any)
	qc["host"] = "other.azure.com"
	qc["port"] = 1434
	qc["database"] = "other"
	qc["schema"] = "other_schema"                                   // editable
	qc["username"] = "someone"                                      // editable
	qc["password"] = "Xyz9876!secret"                               // editable
	qc["impersonation"] = map[string]any{"enabled": true}           // editable
	qc["metadataDelimiters"] = map[string]any{"hashDelimiter": "#"} // immutable
	got := platforms.ImmutableChanges(c, synapseCfg(t, q))
	sort.Strings(got)
	want := []string{"config.database", "config.host", "config.metadataDelimiters.hashDelimiter", "config.port"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("immutable changes = %v, want %v", got, want)
	}
}

func TestSynapseValidate(t *testing.T) {
	long := strings.Repeat("a", 129)
	cases := []struct {
		name  string
		base  func() map[string]any
		auto  bool
		patch map[string]any // config fields; nil value deletes
		want  []string       // sorted problem paths
	}{
		{"valid userPassword", synapseBase, false, nil, nil},
		{"valid oauth", synapseOAuthBase, false, nil, nil},
		{"valid adversarial names", synapseBase, false, map[string]any{
			"schema": "x]]'; DROP TABLE t; --/*", "username": "a]b'c--d", "password": "P@ss'w0rd]]--/*",
			"impersonation": map[string]any{"enabled": true, "role": "r]'--"},
		}, nil},
		{"seed bootstrap password with autoBootstrap", synapseBase, true, map[string]any{"password": "abc1234"}, nil},
		{"required fields", synapseBase, false, map[string]any{
			"host": nil, "schema": nil, "database": nil, "username": nil, "password": nil,
		}, []string{"config.database", "config.host", "config.password", "config.schema", "config.username"}},
		{"authenticationType missing", synapseBase, false, map[string]any{"authenticationType": nil},
			[]string{"config.authenticationType"}},
		{"authenticationType unknown", synapseBase, false, map[string]any{"authenticationType": "keyPair"},
			[]string{"config.authenticationType"}},
		{"bad host and port", synapseBase, false, map[string]any{"host": "a b", "port": 70000},
			[]string{"config.host", "config.port"}},
		{"control characters everywhere", synapseBase, false, map[string]any{
			"schema": "a\nGO", "database": "d\x00", "username": "u\r", "password": "Abc1234!\tx",
			"impersonation": map[string]any{"enabled": true, "role": "r\u2028"},
		}, []string{"config.database", "config.impersonation.role", "config.password", "config.schema", "config.username"}},
		{"names too long", synapseBase, false, map[string]any{
			"schema": long, "database": long, "username": long,
			"impersonation": map[string]any{"enabled": true, "role": long},
		}, []string{"config.database", "config.impersonation.role", "config.schema", "config.username"}},
		{"database too long for the system account", synapseBase, true, map[string]any{"database": strings.Repeat("d", 114)},
			[]string{"config.database"}},
		{"database just fits the system account", synapseBase, true, map[string]any{"database": strings.Repeat("d", 113)}, nil},
		{"quote lookalikes", synapseBase, false, map[string]any{"schema": "a\u02bcb", "username": "u\uff07", "password": "Abc1234!\uff3d"},
			[]string{"config.password", "config.schema", "config.username"}},
		{"reserved names", synapseBase, false, map[string]any{
			"schema": "DBO", "username": "sa", "impersonation": map[string]any{"enabled": true, "role": "db_owner"},
		}, []string{"config.impersonation.role", "config.schema", "config.username"}},
		{"schema is an Immuta schema", synapseBase, false, map[string]any{"schema": "IMMUTA_SYSTEM"}, []string{"config.schema"}},
		{"backslash login", synapseBase, false, map[string]any{"username": `DOMAIN\u`}, []string{"config.username"}},
		{"weak password", synapseBase, false, map[string]any{"password": "abcdefgh1"}, []string{"config.password"}},
		{"short password", synapseBase, false, map[string]any{"password": "Ab1!"}, []string{"config.password"}},
		{"password contains username", synapseBase, false, map[string]any{"username": "svc", "password": "Xsvc1234!"}, []string{"config.password"}},
		{"role equals system account", synapseBase, false, map[string]any{
			"impersonation": map[string]any{"enabled": true, "role": "TAYLOR@synapse.com"},
		}, []string{"config.impersonation.role"}},
		{"role equals generated system account", synapseBase, true, map[string]any{
			"impersonation": map[string]any{"enabled": true, "role": "immuta_system_account"},
		}, []string{"config.impersonation.role"}},
		{"delimiters", synapseBase, false, map[string]any{"metadataDelimiters": map[string]any{
			"hashDelimiter": "||", "hashKeyDelimiter": "'", "arrayDelimiter": "]",
		}}, []string{"config.metadataDelimiters.arrayDelimiter", "config.metadataDelimiters.hashDelimiter", "config.metadataDelimiters.hashKeyDelimiter"}},
		{"delimiter space and control", synapseBase, false, map[string]any{"metadataDelimiters": map[string]any{
			"hashDelimiter": " ", "hashKeyDelimiter": "\n", "arrayDelimiter": "\uff07",
		}}, []string{"config.metadataDelimiters.arrayDelimiter", "config.metadataDelimiters.hashDelimiter", "config.metadataDelimiters.hashKeyDelimiter"}},
		{"delimiters not distinct", synapseBase, false, map[string]any{"metadataDelimiters": map[string]any{
			"hashDelimiter": "#", "hashKeyDelimiter": "#", "arrayDelimiter": "#",
		}}, []string{"config.metadataDelimiters.arrayDelimiter", "config.metadataDelimiters.hashKeyDelimiter"}},
		{"unicode delimiters", synapseBase, false, map[string]any{"metadataDelimiters": map[string]any{
			"hashDelimiter": "§", "hashKeyDelimiter": "¦", "arrayDelimiter": "•",
		}}, nil},
		{"oauth fields with userPassword", synapseBase, false, map[string]any{
			"oAuthClientConfig": map[string]any{"clientId": "3f2b8c1e-7d4a-4e9b-a1c2-5d6e7f8a9b0c"},
		}, []string{"config.oAuthClientConfig"}},
		{"oauth missing config", synapseOAuthBase, false, map[string]any{"oAuthClientConfig": nil},
			[]string{"config.oAuthClientConfig"}},
		{"oauth bad fields", synapseOAuthBase, false, map[string]any{
			"username": "x", "password": "y",
			"oAuthClientConfig": map[string]any{"clientId": "my-app", "authorityUrl": "http://login", "resource": "r\n"},
		}, []string{"config.oAuthClientConfig.authorityUrl", "config.oAuthClientConfig.clientId",
			"config.oAuthClientConfig.clientSecret", "config.oAuthClientConfig.displayName", "config.oAuthClientConfig.resource", "config.password", "config.username"}},
		{"oauth display name taken by a fixed principal", synapseOAuthBase, false, map[string]any{
			"oAuthClientConfig": map[string]any{"clientId": "3f2b8c1e-7d4a-4e9b-a1c2-5d6e7f8a9b0c", "clientSecret": "s", "displayName": "dbo",
				"authorityUrl": "https://login.microsoftonline.com/contoso"},
		}, []string{"config.oAuthClientConfig.displayName"}},
		{"oauth display name with a quote lookalike", synapseOAuthBase, false, map[string]any{
			"oAuthClientConfig": map[string]any{"clientId": "3f2b8c1e-7d4a-4e9b-a1c2-5d6e7f8a9b0c", "clientSecret": "s", "displayName": "app\u02bc",
				"authorityUrl": "https://login.microsoftonline.com/contoso"},
		}, []string{"config.oAuthClientConfig.displayName"}},
		{"impersonation disabled ignores role", synapseBase, false, map[string]any{
			"impersonation": map[string]any{"enabled": false, "role": "db_owner"},
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.base()
			p["autoBootstrap"] = tc.auto
			cfg := p["config"].(map[string]any)
			for k, v := range tc.patch {
				if v == nil {
					delete(cfg, k)
				} else {
					cfg[k] = v
				}
			}
			_, err := decodeSynapse(t, p)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want problems at %v, got none", tc.want)
			}
			if got := problemPaths(t, err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems at %v, want %v\n%v", got, tc.want, err)
			}
			var ve *platforms.ValidationError
			errors.As(err, &ve)
			for _, p := range ve.Problems {
				if p.Message == "" || strings.ToLower(p.Message[:1]) != p.Message[:1] {
					t.Errorf("message should start lower-case: %q", p.Message)
				}
				if strings.Contains(p.Message, "Abc1234!") {
					t.Errorf("a problem echoes the password: %q", p.Message)
				}
			}
		})
	}
}

func TestSynapseUnknownField(t *testing.T) {
	p := synapseBase()
	p["config"].(map[string]any)["warehouse"] = "w"
	p["config"].(map[string]any)["metadataDelimiters"] = map[string]any{"hash": "#"}
	_, err := decodeSynapse(t, p)
	got := problemPaths(t, err)
	want := []string{"config.metadataDelimiters.hash", "config.warehouse"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems at %v, want %v", got, want)
	}
}

// adversarial are values that try to leave their token: quotes, brackets, comments,
// statement and batch separators, dollar quotes, backslashes.
var synapseAdversarial = []string{
	"]", "'", "]]'", "']]", "--", "/*", "*/", `"`, `\`, `\'`, "$$", ";", "GO", "; GO --",
	"x]; DROP LOGIN [sa]; --", "a' + N'b", "N'", "[", "[x]", "''", "]]]]", "é]ü'",
}

func TestSynapseQuoting(t *testing.T) {
	q := platforms.SynapseQuoting
	fixed := []struct{ in, ident, str string }{
		{"plain", "[plain]", "N'plain'"},
		{"a]b", "[a]]b]", "N'a]b'"},
		{"a'b", "[a'b]", "N'a''b'"},
		{"]]'", "[]]]]']", "N']]'''"},
		{`"x"`, `["x"]`, `N'"x"'`},
		{`c:\d`, `[c:\d]`, `N'c:\d'`},
		{"--", "[--]", "N'--'"},
		{"/*", "[/*]", "N'/*'"},
	}
	for _, f := range fixed {
		if got, err := q.Ident(f.in); err != nil || got != f.ident {
			t.Errorf("Ident(%q) = %q, %v; want %q", f.in, got, err, f.ident)
		}
		if got, err := q.Str(f.in); err != nil || got != f.str {
			t.Errorf("Str(%q) = %q, %v; want %q", f.in, got, err, f.str)
		}
	}
	for _, bad := range []string{"", "a\nGO", "a\r", "\x00", "a\tb", "\u2028", "\xff", "\u02bc", "\uff07", strings.Repeat("x", 129)} {
		if _, err := q.Ident(bad); err == nil {
			t.Errorf("Ident(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"a\nGO", "a\r", "\x00", "\xff", "\u02bc", "\uff3d"} {
		if _, err := q.Str(bad); err == nil {
			t.Errorf("Str(%q) accepted", bad)
		}
	}
	if got, err := q.Str(""); err != nil || got != "N''" {
		t.Errorf("Str(\"\") = %q, %v", got, err)
	}
	for _, s := range synapseAdversarial {
		checkSynapseRoundTrip(t, s)
	}
}

// checkSynapseRoundTrip checks that quoting s gives exactly one token of the right kind
// (the engine's own T-SQL tokenizer) and that unquoting gives s back.
func checkSynapseRoundTrip(t *testing.T, s string) {
	t.Helper()
	q := platforms.SynapseQuoting
	if id, err := q.Ident(s); err == nil {
		toks, terr := sqlcheck.Tokenize(sqlcheck.Synapse, id)
		if terr != nil || len(toks) != 1 || toks[0].Kind != sqlcheck.QuotedIdent || toks[0].Text != id {
			t.Errorf("Ident(%q) = %s: tokens %v, %v", s, id, toks, terr)
		}
		if back, err := platforms.SynapseUnquoteIdent(id); err != nil || back != s {
			t.Errorf("unquote(Ident(%q)) = %q, %v", s, back, err)
		}
	}
	if st, err := q.Str(s); err == nil {
		toks, terr := sqlcheck.Tokenize(sqlcheck.Synapse, st)
		if terr != nil || len(toks) != 1 || toks[0].Kind != sqlcheck.String || toks[0].Text != st {
			t.Errorf("Str(%q) = %s: tokens %v, %v", s, st, toks, terr)
		}
		if back, err := platforms.SynapseUnquoteStr(st); err != nil || back != s {
			t.Errorf("unquote(Str(%q)) = %q, %v", s, back, err)
		}
	}
}

// createSchemaStmt builds the statement of templates/synapse schema.create the way the
// template does: str applied to text that holds ident-quoted names.
func createSchemaStmt(name, owner string) (string, error) {
	q := platforms.SynapseQuoting
	qs, err := q.Str(name)
	if err != nil {
		return "", err
	}
	in, err := q.Ident(name)
	if err != nil {
		return "", err
	}
	io, err := q.Ident(owner)
	if err != nil {
		return "", err
	}
	inner, err := q.Str("CREATE SCHEMA " + in + " AUTHORIZATION " + io)
	if err != nil {
		return "", err
	}
	return "IF SCHEMA_ID(" + qs + ") IS NULL EXEC sp_executesql " + inner + ";", nil
}

func tokenKinds(t *testing.T, sql string) []sqlcheck.TokenKind {
	t.Helper()
	toks, err := sqlcheck.Tokenize(sqlcheck.Synapse, sql)
	if err != nil {
		t.Fatalf("tokenize %q: %v", sql, err)
	}
	kinds := make([]sqlcheck.TokenKind, len(toks))
	for i, tk := range toks {
		kinds[i] = tk.Kind
	}
	return kinds
}

// TestSynapseNestedQuoting proves that adversarial names stay inside their tokens at
// both levels of EXEC sp_executesql N'CREATE SCHEMA [x] AUTHORIZATION [u]'.
func TestSynapseNestedQuoting(t *testing.T) {
	benign, err := createSchemaStmt("s", "u")
	if err != nil {
		t.Fatal(err)
	}
	outerKinds := tokenKinds(t, benign)
	innerBenign := "CREATE SCHEMA [s] AUTHORIZATION [u]"
	innerKinds := tokenKinds(t, innerBenign)
	for _, name := range synapseAdversarial {
		for _, owner := range []string{"u", name} {
			sql, err := createSchemaStmt(name, owner)
			if err != nil {
				t.Fatalf("%q: %v", name, err)
			}
			if got := tokenKinds(t, sql); !reflect.DeepEqual(got, outerKinds) {
				t.Errorf("outer tokens of %s = %v, want %v", sql, got, outerKinds)
				continue
			}
			toks, _ := sqlcheck.Tokenize(sqlcheck.Synapse, sql)
			lit := toks[len(toks)-2].Text // the EXEC argument, before ';'
			inner, err := platforms.SynapseUnquoteStr(lit)
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			if got := tokenKinds(t, inner); !reflect.DeepEqual(got, innerKinds) {
				t.Errorf("inner tokens of %s = %v, want %v", inner, got, innerKinds)
				continue
			}
			itoks, _ := sqlcheck.Tokenize(sqlcheck.Synapse, inner)
			gotName, _ := platforms.SynapseUnquoteIdent(itoks[2].Text)
			gotOwner, _ := platforms.SynapseUnquoteIdent(itoks[4].Text)
			if gotName != name || gotOwner != owner {
				t.Errorf("inner names of %s = %q, %q; want %q, %q", inner, gotName, gotOwner, name, owner)
			}
			if shape, err := sqlcheck.CheckStatement(sqlcheck.Synapse, sql); err != nil || shape != "create-schema-guarded" {
				t.Errorf("check %s: shape %q, %v", sql, shape, err)
			}
		}
	}
	// The closed grammar refuses a payload that escaped into the inner statement.
	evil := "IF SCHEMA_ID(N's') IS NULL EXEC sp_executesql N'CREATE SCHEMA [s] AUTHORIZATION [u]; DROP LOGIN [sa]';"
	if _, err := sqlcheck.CheckStatement(sqlcheck.Synapse, evil); err == nil {
		t.Errorf("closed grammar accepted %s", evil)
	}
}

func FuzzSynapseQuoting(f *testing.F) {
	for _, s := range synapseAdversarial {
		f.Add(s)
	}
	f.Add("plain")
	f.Add("a\nGO\n")
	f.Fuzz(func(t *testing.T, s string) {
		q := platforms.SynapseQuoting
		id, ierr := q.Ident(s)
		st, serr := q.Str(s)
		if ierr == nil {
			if !utf8.ValidString(s) || s == "" {
				t.Fatalf("Ident accepted %q", s)
			}
			if back, err := platforms.SynapseUnquoteIdent(id); err != nil || back != s {
				t.Fatalf("unquote(Ident(%q)) = %q, %v", s, back, err)
			}
			if strings.Count(id[1:len(id)-1], "]")%2 != 0 || strings.Contains(strings.ReplaceAll(id[1:len(id)-1], "]]", ""), "]") {
				t.Fatalf("Ident(%q) = %s holds an unescaped ]", s, id)
			}
			toks, err := sqlcheck.Tokenize(sqlcheck.Synapse, id)
			if err != nil || len(toks) != 1 || toks[0].Kind != sqlcheck.QuotedIdent {
				t.Fatalf("Ident(%q) = %s is not one quoted identifier: %v %v", s, id, toks, err)
			}
		}
		if serr == nil {
			if back, err := platforms.SynapseUnquoteStr(st); err != nil || back != s {
				t.Fatalf("unquote(Str(%q)) = %q, %v", s, back, err)
			}
			if strings.Contains(strings.ReplaceAll(st[2:len(st)-1], "''", ""), "'") {
				t.Fatalf("Str(%q) = %s holds an unescaped '", s, st)
			}
			toks, err := sqlcheck.Tokenize(sqlcheck.Synapse, st)
			if err != nil || len(toks) != 1 || toks[0].Kind != sqlcheck.String {
				t.Fatalf("Str(%q) = %s is not one string: %v %v", s, st, toks, err)
			}
			if ierr == nil {
				sql, err := createSchemaStmt(s, s)
				if err != nil {
					t.Fatal(err)
				}
				if shape, err := sqlcheck.CheckStatement(sqlcheck.Synapse, sql); err != nil || shape != "create-schema-guarded" {
					t.Fatalf("check %s: shape %q, %v", sql, shape, err)
				}
			}
		}
	})
}

type objSummary struct {
	ID, Kind, Phase, Teardown string
	Parents                   []string
}

func summarize(m *platforms.Model) map[string]objSummary {
	out := map[string]objSummary{}
	for _, o := range m.Objects {
		out[o.ID] = objSummary{o.ID, string(o.Kind), o.Phase, o.Teardown, o.Parents}
	}
	return out
}

// byID indexes the objects of m by ID.
func byID(m *platforms.Model) map[string]platforms.Object {
	out := map[string]platforms.Object{}
	for _, o := range m.Objects {
		out[o.ID] = o
	}
	return out
}

func ids(m *platforms.Model) []string {
	var out []string
	for _, o := range m.Objects {
		out = append(out, o.ID)
	}
	return out
}

func TestSynapseModel(t *testing.T) {
	const u = "taylor@synapse.com"
	guards := func(principals ...string) []string {
		out := []string{"guard:login:" + u}
		for _, n := range principals {
			out = append(out, "guard:principal:"+n)
		}
		return append(out, "guard:schema:immuta_system", "guard:schema:immuta_functions", "guard:schema:immuta_procedures")
	}
	objects := []string{
		"login:" + u, "user:" + u,
		"member:db_datareader:" + u,
		"grant:CREATE TABLE:database:user:" + u, "grant:CREATE VIEW:database:user:" + u,
		"grant:CREATE PROCEDURE:database:user:" + u, "grant:CREATE FUNCTION:database:user:" + u,
		"schema:immuta_system", "schema:immuta_functions", "schema:immuta_procedures",
		"grant:CONTROL:schema:immuta_system:user:" + u, "grant:CONTROL:schema:immuta_functions:user:" + u,
		"grant:CONTROL:schema:immuta_procedures:user:" + u,
		"table:immuta_system.metadata", "row:immuta_system.metadata",
		"schema:sample_schema", "grant:CONTROL:schema:sample_schema:user:" + u,
	}
	// sessions: last, so that cleanup ends the service's sessions first (a login that
	// is signed in cannot be dropped).
	sessions := "sessions:" + u
	base := append(append(guards(u), objects...), sessions)
	// Impersonation grants the role nothing: the session context needs no permission.
	imp := []string{"role:IMMUTA_IMPERSONATION", "grant:ALTER:role:IMMUTA_IMPERSONATION:user:" + u}

	t.Run("userPassword", func(t *testing.T) {
		c := synapseCfg(t, synapseBase())
		m, err := c.Model(platforms.ModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(m); !reflect.DeepEqual(got, base) {
			t.Errorf("objects:\n got %v\nwant %v", got, base)
		}
		phases := func(ps []platforms.PhaseSpec) (out []string) {
			for _, p := range ps {
				out = append(out, p.Name+"@"+p.ConnectTo)
			}
			return
		}
		// initial-create's script starts in the database: its guards check the names
		// create takes there before the login is made in master.
		if got := phases(m.Create); !reflect.DeepEqual(got, []string{"initial-check@immuta", "initial-create@master", "create@immuta"}) || m.Create[0].Operation() != "initial-create" {
			t.Errorf("create phases %v", got)
		}
		if got := phases(m.Teardown); !reflect.DeepEqual(got, []string{"cleanup@immuta", "post-cleanup@master"}) {
			t.Errorf("teardown phases %v", got)
		}
		s := summarize(m)
		for _, id := range []string{"login:" + u, "guard:login:" + u} {
			if l := s[id]; l.Phase != "initial-create" || l.Teardown != "post-cleanup" {
				t.Errorf("%s phases %+v", id, l)
			}
		}
		for _, o := range m.Objects {
			if o.Guard != strings.HasPrefix(o.ID, "guard:") {
				t.Errorf("%s: guard %v", o.ID, o.Guard)
			}
			wantPhase := "create"
			if strings.HasPrefix(o.ID, "guard:principal:") || strings.HasPrefix(o.ID, "guard:schema:") {
				wantPhase = "initial-check"
			}
			if o.ID != "login:"+u && o.ID != "guard:login:"+u && (o.Phase != wantPhase || o.Teardown != "cleanup") {
				t.Errorf("%s: phases %s/%s", o.ID, o.Phase, o.Teardown)
			}
			if o.Why == "" {
				t.Errorf("%s: no why", o.ID)
			}
			// The service's sessions are ended by their own statement: a parent would
			// cover it, and cleanup would skip it.
			if o.Kind == "login-sessions" && len(o.Parents) != 0 {
				t.Errorf("%s has parents %v: its drop must run on its own", o.ID, o.Parents)
			}
			// A table is not removed by DROP SCHEMA in T-SQL: it must be dropped itself.
			if o.Kind == "metadata-table" && len(o.Parents) != 0 {
				t.Errorf("%s has parents %v: DROP SCHEMA does not cascade", o.ID, o.Parents)
			}
		}
		if !reflect.DeepEqual(m.Secrets, []string{"Abc1234!secret"}) {
			t.Errorf("secrets %v", m.Secrets)
		}
		if row := byID(m)["row:immuta_system.metadata"]; platforms.DataField(row.Data, "HashDelimiter") != "|" || platforms.DataField(row.Data, "HashKeyDelimiter") != "-" || platforms.DataField(row.Data, "ArrayDelimiter") != "," {
			t.Errorf("metadata row data %v", row.Data)
		}
	})

	t.Run("impersonation", func(t *testing.T) {
		p := synapseBase()
		p["config"].(map[string]any)["impersonation"] = map[string]any{"enabled": true}
		m, err := synapseCfg(t, p).Model(platforms.ModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(m), append(append(append(guards(u, "IMMUTA_IMPERSONATION"), objects...), imp...), sessions); !reflect.DeepEqual(got, want) {
			t.Errorf("objects:\n got %v\nwant %v", got, want)
		}
		found := false
		for _, n := range m.Notes {
			found = found || strings.Contains(n, "sp_addrolemember")
		}
		if !found {
			t.Errorf("no impersonation note: %v", m.Notes)
		}
	})

	t.Run("oauth", func(t *testing.T) {
		m, err := synapseCfg(t, synapseOAuthBase()).Model(platforms.ModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		name := "immuta-app" // the display name, not the client id
		for _, o := range m.Objects {
			if o.Phase == "initial-create" || o.Teardown == "post-cleanup" {
				t.Errorf("%s in a master phase: oauth has no login", o.ID)
			}
			if strings.Contains(fmt.Sprint(o.Data), "s3cr3t") {
				t.Errorf("%s data holds the client secret", o.ID)
			}
		}
		if o := byID(m)["user:"+name]; o.Kind != "external-user" || platforms.DataField(o.Data, "Name") != name {
			t.Errorf("external user %+v", o)
		}
		if o := m.Objects[0]; !o.Guard || platforms.DataField(o.Data, "Name") != name {
			t.Errorf("first object %+v: not the guard of the user's name", o)
		}
		if len(m.Secrets) != 0 {
			t.Errorf("secrets %v", m.Secrets)
		}
		note := strings.Join(m.Notes, "\n")
		if !strings.Contains(note, "initial-create and post-cleanup phases are empty") {
			t.Errorf("notes do not say the master phases are empty: %v", m.Notes)
		}
	})

	t.Run("autoBootstrap", func(t *testing.T) {
		p := synapseBase()
		p["autoBootstrap"] = true
		p["config"].(map[string]any)["password"] = "abc1234"
		c := synapseCfg(t, p)
		m, err := c.Model(platforms.ModelOptions{AutoBootstrap: true, SystemPassword: "Gen-Passw0rd!"})
		if err != nil {
			t.Fatal(err)
		}
		sys := "immuta_SYSTEM_ACCOUNT"
		if l := byID(m)["login:"+sys]; platforms.DataField(l.Data, "Password") != "Gen-Passw0rd!" {
			t.Errorf("login %+v", l)
		}
		for _, o := range m.Objects {
			d := fmt.Sprint(o.Data)
			if strings.Contains(d, "taylor") || strings.Contains(d, "abc1234") {
				t.Errorf("%s renders the bootstrap credentials: %v", o.ID, o.Data)
			}
		}
		if !reflect.DeepEqual(m.Secrets, []string{"Gen-Passw0rd!"}) {
			t.Errorf("secrets %v", m.Secrets)
		}
		// Without the generated password the model renders a placeholder, never a secret.
		m, _ = c.Model(platforms.ModelOptions{AutoBootstrap: true})
		if pw := platforms.DataField(byID(m)["login:"+sys].Data, "Password"); pw != "<SYSTEM_ACCOUNT_PASSWORD>" || len(m.Secrets) != 0 {
			t.Errorf("placeholder %v, secrets %v", pw, m.Secrets)
		}
	})

	t.Run("edits change IDs or data", func(t *testing.T) {
		a := synapseCfg(t, synapseBase())
		p := synapseBase()
		p["config"].(map[string]any)["schema"] = "governed"
		p["config"].(map[string]any)["password"] = "N3w-Pa55word"
		b := synapseCfg(t, p)
		ma, _ := a.Model(platforms.ModelOptions{})
		mb, _ := b.Model(platforms.ModelOptions{})
		sa, sb := summarize(ma), summarize(mb)
		if _, ok := sb["schema:governed"]; !ok {
			t.Errorf("new schema missing")
		}
		if _, ok := sb["schema:sample_schema"]; ok {
			t.Errorf("old schema kept")
		}
		if _, ok := sa["grant:CONTROL:schema:governed:user:"+u]; ok {
			t.Errorf("grant did not move")
		}
		if la, lb := byID(ma)["login:"+u], byID(mb)["login:"+u]; platforms.DataField(la.Data, "Password") == platforms.DataField(lb.Data, "Password") || la.ID != lb.ID {
			t.Errorf("password change should alter the same login")
		}
	})
}

func TestSynapseModelDeterministic(t *testing.T) {
	p := synapseBase()
	p["config"].(map[string]any)["impersonation"] = map[string]any{"enabled": true}
	c := synapseCfg(t, p)
	m1, _ := c.Model(platforms.ModelOptions{})
	m2, _ := c.Model(platforms.ModelOptions{})
	if !reflect.DeepEqual(m1, m2) {
		t.Error("two models of one config differ")
	}
}
