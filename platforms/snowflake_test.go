package platforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"unicode/utf8"

	"github.com/openintegrations/integrations/render/sqlcheck"
	"github.com/openintegrations/integrations/templates"
)

// sfYAML builds a Snowflake payload whose config is the given YAML lines (indented by
// the caller with two spaces).
func sfYAML(auto bool, config string) string {
	return fmt.Sprintf("type: Snowflake\nautoBootstrap: %v\nconfig:\n%s", auto, config)
}

const sfBase = `  host: org.us-east-1.snowflakecomputing.com
  warehouse: SAMPLE_WAREHOUSE
  database: IMMUTA_DB
`

func sfDecode(t *testing.T, auto bool, config string) (*Snowflake, []string) {
	t.Helper()
	p, err := Decode([]byte(sfYAML(auto, config)), "in.yaml")
	if err != nil {
		ve, ok := err.(*ValidationError)
		if !ok {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		var paths []string
		for _, pr := range ve.Problems {
			paths = append(paths, pr.Path+": "+pr.Message)
		}
		return nil, paths
	}
	return p.Config.(*Snowflake), nil
}

func TestSnowflakeValidate(t *testing.T) {
	key := fixture(t, "key.p8")
	encKey := fixture(t, "key-aes256-sha256.p8")
	indent := func(s string) string { return "      " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n      ") }
	for _, tc := range []struct {
		name   string
		auto   bool
		config string
		want   []string // "path: message fragment", in reported order; empty: valid
	}{
		{name: "seed create example", config: sfBase + `  audit: {enabled: false}
  workspaces: {enabled: false}
  impersonation: {enabled: false}
  authenticationType: userPassword
  username: IMMUTA_SYSTEM_ACCOUNT
  password: Abc1234-secret
`},
		{name: "seed auto example", auto: true, config: sfBase + `  authenticationType: userPassword
  username: taylor@snowflake.com
  password: Abc1234-secret
  role: ACCOUNTADMIN
`},
		{name: "everything enabled", config: sfBase + `  port: 8443
  audit: {enabled: true}
  workspaces: {enabled: true}
  impersonation: {enabled: true, role: my_imp}
  lineage: {enabled: true, ingestBatchSize: 1000, tableFilter: '^PROD\..*', tagFilter: 'pii|phi'}
  authenticationType: userPassword
  username: taylor@example.com
  password: "Pa'ss\\word-12345"
`},
		{name: "key pair", config: sfBase + "  authenticationType: keyPair\n  username: SVC\n  privateKey:\n    userFilename: key.p8\n    content: |\n" + indent(key) + "\n"},
		{name: "encrypted key pair", config: sfBase + "  authenticationType: keyPair\n  username: SVC\n  privateKeyPassword: " + fixturePass + "\n  privateKey:\n    keyName: PRIV_KEY_FILE\n    content: |\n" + indent(encKey) + "\n"},
		{name: "oauth", config: sfBase + `  authenticationType: oAuthClientCredentials
  oAuthClientConfig:
    provider: Okta
    clientId: abc
    clientSecret: s3cret
    authorityUrl: https://example.okta.com/oauth2/v1/token
    scope: session:role:IMMUTA_DB_SYSTEM
`},
		{name: "oauth with certificate", config: sfBase + `  authenticationType: oAuthClientCredentials
  oAuthClientConfig: {clientId: abc, authorityUrl: "https://login.example.com/t", useCertificate: true, publicCertificateThumbprint: AB12}
`},
		// Problems of absent fields sit at the config object's position, then sort by path.
		{name: "all missing", config: "  port: 443\n", want: []string{
			"config.authenticationType: is required", "config.database: is required",
			"config.host: is required", "config.warehouse: is required",
		}},
		{name: "bad values everywhere", config: `  host: "bad host"
  port: 70000
  warehouse: "wh\u0000"
  database: "  spaced"
  impersonation: {enabled: true, role: ACCOUNTADMIN}
  lineage: {enabled: true, ingestBatchSize: 0, tableFilter: "(", tagFilter: "[a-"}
  authenticationType: password
`, want: []string{
			`config.host: must be a host name`, "config.port: must be between 1 and 65535 (got 70000)",
			"config.warehouse: must not contain control characters", "config.database: must not start or end with spaces",
			"config.impersonation.role: must not be a Snowflake system role",
			"config.lineage.ingestBatchSize: must be between 1 and 1000 (got 0)",
			"config.lineage.tableFilter: must be a regular expression (Go RE2 syntax): missing closing )",
			"config.lineage.tagFilter: must be a regular expression",
			`config.authenticationType: must be one of userPassword, keyPair, oAuthClientCredentials (got "password")`,
		}},
		{name: "batch size too big", config: sfBase + "  lineage: {enabled: true, ingestBatchSize: 1001}\n  authenticationType: userPassword\n  username: U\n  password: Passw0rd-12345\n",
			want: []string{"config.lineage.ingestBatchSize: must be between 1 and 1000 (got 1001)"}},
		{name: "names too long", config: "  host: h.example.com\n  warehouse: " + strings.Repeat("w", 256) + "\n  database: " + strings.Repeat("d", 241) + "\n  impersonation: {enabled: true, role: " + strings.Repeat("r", 256) + "}\n  authenticationType: userPassword\n  username: " + strings.Repeat("u", 256) + "\n  password: " + strings.Repeat("p", 257) + "\n",
			want: []string{
				"config.warehouse: must be at most 255 characters",
				"config.database: must be at most 240 characters (the names derived from it",
				"config.impersonation.role: must be at most 255 characters",
				"config.username: must be at most 255 characters",
				"config.password: must be at most 256 characters",
			}},
		{name: "shared database and role clash", config: "  host: h.example.com\n  warehouse: W\n  database: snowflake\n  impersonation: {enabled: true, role: snowflake_system}\n  authenticationType: userPassword\n  username: snowflake\n  password: Passw0rd-12345\n",
			want: []string{
				"config.database: must not be SNOWFLAKE",
				"config.impersonation.role: must differ from the system role",
				"config.username: must not be SNOWFLAKE",
			}},
		// Scripts set config.password: Snowflake's default password policy applies.
		{name: "seed password too short", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: abc1234\n",
			want: []string{"config.password: must be 14 to 256 characters with an upper-case letter (A-Z), a lower-case letter (a-z) and a digit"}},
		{name: "password without upper case", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: abcdefgh-1234567\n",
			want: []string{"config.password: must be 14 to 256 characters"}},
		{name: "password without digit", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: Abcdefgh-ijklmnop\n",
			want: []string{"config.password: must be 14 to 256 characters"}},
		{name: "password with only non-ASCII upper case", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: \u00c9bcdefgh-1234567\n",
			want: []string{"config.password: must be 14 to 256 characters"}},
		{name: "password of exactly 14 characters", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: Abcdefghij-123\n"},
		{name: "bootstrap password is only used to sign in", auto: true, config: sfBase + "  authenticationType: userPassword\n  username: admin\n  password: abc1234\n"},
		{name: "sample database", config: "  host: h.example.com\n  warehouse: W\n  database: snowflake_sample_data\n  authenticationType: userPassword\n  username: U\n  password: Passw0rd-12345\n",
			want: []string{"config.database: must not be SNOWFLAKE_SAMPLE_DATA: that is a database Snowflake shares with every account, read-only"}},
		{name: "user password missing", config: sfBase + "  authenticationType: userPassword\n",
			want: []string{"config.password: is required", "config.username: is required"}},
		{name: "password with control character", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: \"a\\nb\"\n",
			want: []string{"config.password: must not contain control characters"}},
		{name: "key pair missing key", config: sfBase + "  authenticationType: keyPair\n  username: U\n",
			want: []string{"config.privateKey: is required for keyPair"}},
		{name: "key pair bad key name and content", config: sfBase + "  authenticationType: keyPair\n  username: U\n  privateKey: {keyName: OTHER, content: not a key}\n",
			want: []string{`config.privateKey.keyName: must be PRIV_KEY_FILE (got "OTHER")`, "config.privateKey.content: must be a PEM private key"}},
		{name: "key pair wrong passphrase", config: sfBase + "  authenticationType: keyPair\n  username: U\n  privateKeyPassword: nope\n  privateKey:\n    content: |\n" + indent(encKey) + "\n",
			want: []string{"config.privateKeyPassword: does not decrypt the private key (wrong passphrase?)"}},
		{name: "key pair missing passphrase", config: sfBase + "  authenticationType: keyPair\n  username: U\n  privateKey:\n    content: |\n" + indent(encKey) + "\n",
			want: []string{"config.privateKeyPassword: is required: the private key is encrypted"}},
		{name: "oauth missing config", config: sfBase + "  authenticationType: oAuthClientCredentials\n",
			want: []string{"config.oAuthClientConfig: is required for oAuthClientCredentials"}},
		{name: "oauth bad fields", config: sfBase + "  authenticationType: oAuthClientCredentials\n  oAuthClientConfig: {authorityUrl: 'http://x/t'}\n",
			want: []string{"config.oAuthClientConfig.clientId: is required", "config.oAuthClientConfig.clientSecret: is required", "config.oAuthClientConfig.authorityUrl: must be an https URL"}},
		{name: "oauth certificate without thumbprint", config: sfBase + "  authenticationType: oAuthClientCredentials\n  oAuthClientConfig: {clientId: a, authorityUrl: 'https://x/t', useCertificate: true}\n",
			want: []string{"config.oAuthClientConfig.publicCertificateThumbprint: is required"}},
		{name: "oauth with auto bootstrap", auto: true, config: sfBase + "  authenticationType: oAuthClientCredentials\n  oAuthClientConfig: {clientId: a, clientSecret: b, authorityUrl: 'https://x/t'}\n",
			want: []string{"config.authenticationType: must be userPassword or keyPair with autoBootstrap"}},
		{name: "auto bootstrap database too long for the account", auto: true, config: "  host: h.example.com\n  warehouse: W\n  database: " + strings.Repeat("d", 241) + "\n  authenticationType: userPassword\n  username: U\n  password: Passw0rd-12345\n",
			want: []string{"config.database: must be at most 240 characters"}},
		{name: "auto bootstrap bad role", auto: true, config: sfBase + "  role: \"a\\tb\"\n  authenticationType: userPassword\n  username: U\n  password: Passw0rd-12345\n",
			want: []string{"config.role: must not contain control characters"}},
		{name: "unknown field", config: sfBase + "  authenticationType: userPassword\n  username: U\n  password: Passw0rd-12345\n  passwrd: x\n",
			want: []string{`config.passwrd: unknown field (did you mean "password"?)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := sfDecode(t, tc.auto, tc.config)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], tc.want[i])
				}
				for _, secret := range []string{"Abc1234-secret", "MII", fixturePass} {
					if strings.Contains(got[i], secret) {
						t.Errorf("problem %d leaks a secret: %s", i, got[i])
					}
				}
			}
		})
	}
}

func TestSnowflakeDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		auto bool
		in   Snowflake
		want Snowflake
	}{
		{"manual", false, Snowflake{}, Snowflake{Port: 443}},
		{"auto", true, Snowflake{}, Snowflake{Port: 443, Role: "ACCOUNTADMIN"}},
		{"auto keeps role", true, Snowflake{Role: "SETUP", Port: 8443}, Snowflake{Port: 8443, Role: "SETUP"}},
		{"manual keeps given role", false, Snowflake{Role: "X"}, Snowflake{Port: 443, Role: "X"}},
		{"disabled features get no sub-defaults", false, Snowflake{}, Snowflake{Port: 443}},
		{"impersonation", false, Snowflake{Impersonation: Impersonation{Enabled: true}},
			Snowflake{Port: 443, Impersonation: Impersonation{Enabled: true, Role: "IMMUTA_IMPERSONATION"}}},
		{"impersonation keeps role", false, Snowflake{Impersonation: Impersonation{Enabled: true, Role: "R"}},
			Snowflake{Port: 443, Impersonation: Impersonation{Enabled: true, Role: "R"}}},
		{"lineage", false, Snowflake{Lineage: Lineage{Enabled: true}},
			Snowflake{Port: 443, Lineage: Lineage{Enabled: true, IngestBatchSize: ptr(100)}}},
		{"lineage keeps size", false, Snowflake{Lineage: Lineage{Enabled: true, IngestBatchSize: ptr(7)}},
			Snowflake{Port: 443, Lineage: Lineage{Enabled: true, IngestBatchSize: ptr(7)}}},
		{"key name", false, Snowflake{PrivateKey: &PrivateKey{Content: "x"}},
			Snowflake{Port: 443, PrivateKey: &PrivateKey{KeyName: "PRIV_KEY_FILE", Content: "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			c.Defaults(tc.auto)
			got, _ := json.Marshal(c)
			want, _ := json.Marshal(tc.want)
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSnowflakeJSONOrder(t *testing.T) {
	c, probs := sfDecode(t, true, sfBase+"  authenticationType: userPassword\n  username: taylor@snowflake.com\n  password: Abc1234-secret\n")
	if probs != nil {
		t.Fatal(probs)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Redact(c)); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(buf.String())
	// The seed's GET example, byte for byte (with username shown: it is not a secret).
	want := `{"host":"org.us-east-1.snowflakecomputing.com","warehouse":"SAMPLE_WAREHOUSE","database":"IMMUTA_DB","port":443,` +
		`"audit":{"enabled":false},"workspaces":{"enabled":false},"impersonation":{"enabled":false},"lineage":{"enabled":false},` +
		`"authenticationType":"userPassword","username":"taylor@snowflake.com","password":"<REDACTED>","role":"ACCOUNTADMIN"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if c.UniqueKey() != "org.us-east-1.snowflakecomputing.com" {
		t.Fatalf("unique key %q", c.UniqueKey())
	}
}

func TestSnowflakeSecretsAndImmutables(t *testing.T) {
	c := &Snowflake{Host: "h", Port: 443, Database: "D", Password: "p", PrivateKeyPassword: "pp",
		PrivateKey:        &PrivateKey{Content: "k", UserFilename: "f"},
		OAuthClientConfig: &OAuthClientConfig{ClientSecret: "cs", ClientID: "id"}}
	paths := SecretPaths(c)
	want := []string{"config.password", "config.privateKey.content", "config.privateKeyPassword", "config.oAuthClientConfig.clientSecret"}
	if !slices.Equal(paths, want) {
		t.Fatalf("secret paths %v, want %v", paths, want)
	}
	n := *c
	n.Host, n.Port, n.Database, n.Warehouse = "h2", 1, "D2", "W2"
	if got := ImmutableChanges(c, &n); !slices.Equal(got, []string{"config.host", "config.database", "config.port"}) {
		t.Fatalf("immutable changes %v", got)
	}
}

// unquoteSnowflakeIdent reverses SnowflakeIdent.
func unquoteSnowflakeIdent(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	body := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '"' {
			if i+1 >= len(body) || body[i+1] != '"' {
				return "", false // an unescaped terminator inside
			}
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

// unquoteSnowflakeStr reverses SnowflakeStr, reading the literal the way Snowflake does
// (backslash escapes and doubled quotes).
func unquoteSnowflakeStr(q string) (string, bool) {
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		return "", false
	}
	body := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\\':
			if i+1 >= len(body) {
				return "", false // would escape the closing quote
			}
			i++
			if body[i] != '\\' && body[i] != '\'' {
				return "", false // SnowflakeStr only emits \\ (so this is never reached)
			}
		case '\'':
			if i+1 >= len(body) || body[i+1] != '\'' {
				return "", false
			}
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

var sfAdversarial = []string{
	`a"b`, `"`, `""`, `x'y`, `'`, `\`, `\'`, `a\\'b`, `]`, `x]y`, `--`, `a -- b`, `/*`, `*/`, `$$`, `$$ x $$`,
	`;`, `a; DROP DATABASE x; --`, `GO`, `taylor@example.com`, `Ünïcödé`, `a b`, `$x`, `_x`, `x$1`,
}

func TestSnowflakeQuoting(t *testing.T) {
	q := (&Snowflake{}).Quoting()
	for _, tc := range []struct{ in, ident, str string }{
		{"immuta_db", `"IMMUTA_DB"`, `'immuta_db'`},
		{"Mixed_Case$1", `"MIXED_CASE$1"`, `'Mixed_Case$1'`},
		{"_x", `"_X"`, `'_x'`},
		{"1abc", `"1abc"`, `'1abc'`},
		{"$x", `"$x"`, `'$x'`},
		{"taylor@example.com", `"taylor@example.com"`, `'taylor@example.com'`},
		{"my-db", `"my-db"`, `'my-db'`},
		{`a"b`, `"a""b"`, `'a"b'`},
		{`x'y`, `"x'y"`, `'x''y'`},
		{`a\b`, `"a\b"`, `'a\\b'`},
		{`\'`, `"\'"`, `'\\'''`},
		{`a; DROP DATABASE x; --`, `"a; DROP DATABASE x; --"`, `'a; DROP DATABASE x; --'`},
		{`]`, `"]"`, `']'`},
		{`/*`, `"/*"`, `'/*'`},
		{`$$`, `"$$"`, `'$$'`},
	} {
		id, err := q.Ident(tc.in)
		if err != nil || id != tc.ident {
			t.Errorf("Ident(%q) = %q, %v; want %q", tc.in, id, err, tc.ident)
		}
		s, err := q.Str(tc.in)
		if err != nil || s != tc.str {
			t.Errorf("Str(%q) = %q, %v; want %q", tc.in, s, err, tc.str)
		}
	}
	for _, bad := range []string{"", "a\nb", "a\rb", "a\x00b", "\nGO\n", "a\u2028b", "\xff", strings.Repeat("x", 256)} {
		if _, err := q.Ident(bad); err == nil {
			t.Errorf("Ident(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"a\nb", "\nGO\n", "x\x00", "\xff", "a\tb"} {
		if _, err := q.Str(bad); err == nil {
			t.Errorf("Str(%q) accepted", bad)
		}
	}
	if _, err := q.Ident(strings.Repeat("é", 255)); err != nil {
		t.Errorf("255 characters refused: %v", err)
	}
	if s, err := q.Str(""); err != nil || s != "''" {
		t.Errorf("Str(\"\") = %q, %v", s, err)
	}
	for _, a := range sfAdversarial {
		checkSnowflakeRoundTrip(t, a)
	}
}

func checkSnowflakeRoundTrip(t *testing.T, s string) {
	t.Helper()
	if id, err := SnowflakeIdent(s); err == nil {
		got, ok := unquoteSnowflakeIdent(id)
		if !ok || got != sfCanon(s) {
			t.Fatalf("ident %q -> %s -> %q, %v", s, id, got, ok)
		}
		if tok, err := sqlcheck.CheckStatement(sqlcheck.Snowflake, "DROP ROLE IF EXISTS "+id+";"); err != nil || tok != "drop-role" {
			t.Fatalf("ident %q -> %s is not one identifier token: %v", s, id, err)
		}
	}
	if lit, err := SnowflakeStr(s); err == nil {
		got, ok := unquoteSnowflakeStr(lit)
		if !ok || got != s {
			t.Fatalf("str %q -> %s -> %q, %v", s, lit, got, ok)
		}
		if tok, err := sqlcheck.CheckStatement(sqlcheck.Snowflake, `ALTER USER IF EXISTS "U" SET PASSWORD = `+lit+";"); err != nil || tok != "alter-user-set-credential" {
			t.Fatalf("str %q -> %s is not one string token: %v", s, lit, err)
		}
	}
}

func FuzzSnowflakeQuoting(f *testing.F) {
	for _, a := range sfAdversarial {
		f.Add(a)
	}
	f.Add("a1$")
	f.Add("1a")
	f.Add("_")
	f.Fuzz(func(t *testing.T, s string) {
		checkSnowflakeRoundTrip(t, s)
		if SnowflakeUnquoted(s) != sfUnquotedRE.MatchString(s) {
			t.Fatalf("SnowflakeUnquoted(%q) = %v, regexp says %v", s, SnowflakeUnquoted(s), !SnowflakeUnquoted(s))
		}
		if utf8.ValidString(s) && !hasControl(s) {
			if _, err := SnowflakeStr(s); err != nil {
				t.Fatalf("Str refused a valid value %q", s)
			}
		}
	})
}

// renderSnowflake renders every object's create, drop and alter templates the way the
// engine does (same function names), and checks each statement against the closed
// grammar. It returns the create statements in order.
func renderSnowflake(t *testing.T, m *Model) []string {
	t.Helper()
	q := (&Snowflake{}).Quoting()
	kwRE := regexp.MustCompile(`^[A-Z][A-Z_ ]*$`)
	funcs := template.FuncMap{
		"ident":  func(v string) (string, error) { return q.Ident(v) },
		"exact":  func(v string) (string, error) { return q.Exact(v) },
		"str":    func(v string) (string, error) { return q.Str(v) },
		"secret": func(v string) (string, error) { return q.Str(v) },
		"qname": func(parts ...string) (string, error) {
			var out []string
			for _, p := range parts {
				s, err := q.Ident(p)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, "."), nil
		},
		"kw": func(v string) (string, error) {
			if !kwRE.MatchString(v) {
				return "", fmt.Errorf("bad keyword %q", v)
			}
			return v, nil
		},
		"num": func(v int) string { return fmt.Sprint(v) },
	}
	sub, err := fs.Sub(templates.FS, "snowflake")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New("").Option("missingkey=error").Funcs(funcs).ParseFS(sub, "*.sql.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(name string, data any) string {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := b.String()
		if s == "" {
			return ""
		}
		if strings.Count(s, ";") < 1 || !strings.HasSuffix(s, ";") || strings.Contains(s, "\n") {
			t.Fatalf("%s: not one statement on one line: %q", name, s)
		}
		if _, err := sqlcheck.CheckStatement(sqlcheck.Snowflake, s); err != nil {
			t.Fatalf("%s: %q: %v", name, s, err)
		}
		return s
	}
	var creates []string
	ids := map[string]bool{}
	for _, o := range m.Objects {
		if ids[o.ID] {
			t.Fatalf("duplicate object id %s", o.ID)
		}
		ids[o.ID] = true
		for _, p := range o.Parents {
			if !ids[p] {
				t.Fatalf("%s: parent %s is not made before it", o.ID, p)
			}
		}
		if o.Phase != "create" || o.Teardown != "cleanup" || o.Why == "" {
			t.Fatalf("%s: phase %q teardown %q why %q", o.ID, o.Phase, o.Teardown, o.Why)
		}
		c := exec(o.Kind.Template("create"), o.Data)
		if c == "" {
			t.Fatalf("%s: empty create", o.ID)
		}
		creates = append(creates, c)
		d := exec(o.Kind.Template("drop"), o.Data)
		if d == "" && len(o.Parents) == 0 && !o.Guard {
			t.Fatalf("%s: empty drop without a parent", o.ID)
		}
		if tmpl.Lookup(o.Kind.Template("alter")) != nil {
			exec(o.Kind.Template("alter"), map[string]any{"Old": o.Data, "New": o.Data})
		}
	}
	return creates
}

func sfModel(t *testing.T, auto bool, config string, o ModelOptions) *Model {
	t.Helper()
	c, probs := sfDecode(t, auto, config)
	if probs != nil {
		t.Fatal(probs)
	}
	o.AutoBootstrap = auto
	m, err := c.Model(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func objectIDs(m *Model) []string {
	var ids []string
	for _, o := range m.Objects {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestSnowflakeModel(t *testing.T) {
	base := []string{
		"role:IMMUTA_DB_SYSTEM", "grant:role:IMMUTA_DB_SYSTEM:role:SYSADMIN", "database:IMMUTA_DB",
		"schema:IMMUTA_DB.IMMUTA_PROCEDURES", "schema:IMMUTA_DB.IMMUTA_FUNCTIONS", "schema:IMMUTA_DB.IMMUTA_SYSTEM", "schema:IMMUTA_DB.IMMUTA_POLICIES",
		"grant:ownership:schema:IMMUTA_DB.IMMUTA_PROCEDURES:role:IMMUTA_DB_SYSTEM", "grant:ownership:schema:IMMUTA_DB.IMMUTA_FUNCTIONS:role:IMMUTA_DB_SYSTEM",
		"grant:ownership:schema:IMMUTA_DB.IMMUTA_SYSTEM:role:IMMUTA_DB_SYSTEM", "grant:ownership:schema:IMMUTA_DB.IMMUTA_POLICIES:role:IMMUTA_DB_SYSTEM",
		"grant:ownership:database:IMMUTA_DB:role:IMMUTA_DB_SYSTEM",
	}
	user := func(u, cred string) []string {
		return []string{"user:" + u, cred + ":user:" + u, "grant:role:IMMUTA_DB_SYSTEM:user:" + u}
	}
	policy := []string{
		"grant:usage:warehouse:SAMPLE_WAREHOUSE:role:IMMUTA_DB_SYSTEM",
		"grant:apply-masking-policy:account:role:IMMUTA_DB_SYSTEM", "grant:apply-row-access-policy:account:role:IMMUTA_DB_SYSTEM",
		"grant:create-role:account:role:IMMUTA_DB_SYSTEM", "grant:manage-grants:account:role:IMMUTA_DB_SYSTEM",
	}
	imported := "grant:imported-privileges:database:SNOWFLAKE:role:IMMUTA_DB_SYSTEM"
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	pw := "  authenticationType: userPassword\n  username: svc\n  password: Abc1234-secret\n"
	for _, tc := range []struct {
		name    string
		auto    bool
		config  string
		opts    ModelOptions
		want    []string
		why     map[string]string
		secrets []string
		notes   []string
	}{
		{name: "password", config: sfBase + pw, want: cat(base, user("SVC", "password"), policy),
			secrets: []string{"Abc1234-secret"}, why: map[string]string{"user:SVC": "config.username, config.warehouse"}},
		{name: "audit", config: sfBase + "  audit: {enabled: true}\n" + pw, want: cat(base, user("SVC", "password"), policy, []string{imported}),
			secrets: []string{"Abc1234-secret"}, why: map[string]string{imported: "audit enabled (reads SNOWFLAKE.ACCOUNT_USAGE)"}},
		{name: "lineage", config: sfBase + "  lineage: {enabled: true}\n" + pw, want: cat(base, user("SVC", "password"), policy, []string{imported}),
			secrets: []string{"Abc1234-secret"}, why: map[string]string{imported: "lineage enabled (reads SNOWFLAKE.ACCOUNT_USAGE)"}},
		{name: "audit and lineage share one grant", config: sfBase + "  audit: {enabled: true}\n  lineage: {enabled: true}\n" + pw,
			want: cat(base, user("SVC", "password"), policy, []string{imported}), secrets: []string{"Abc1234-secret"},
			why: map[string]string{imported: "audit enabled, lineage enabled (reads SNOWFLAKE.ACCOUNT_USAGE)"}},
		{name: "workspaces", config: sfBase + "  workspaces: {enabled: true}\n" + pw,
			want: cat(base, user("SVC", "password"), policy, []string{"grant:create-database:account:role:IMMUTA_DB_SYSTEM"}), secrets: []string{"Abc1234-secret"}},
		{name: "impersonation", config: sfBase + "  impersonation: {enabled: true}\n" + pw,
			want:    cat(base, user("SVC", "password"), policy, []string{"role:IMMUTA_IMPERSONATION", "grant:role:IMMUTA_IMPERSONATION:role:IMMUTA_DB_SYSTEM", "grant:ownership:role:IMMUTA_IMPERSONATION:role:IMMUTA_DB_SYSTEM"}),
			secrets: []string{"Abc1234-secret"}},
		{name: "key pair", config: sfBase + "  authenticationType: keyPair\n  username: svc\n  privateKey:\n    content: |\n      " + strings.ReplaceAll(strings.TrimSpace(fixture(t, "key.p8")), "\n", "\n      ") + "\n",
			want: cat(base, user("SVC", "rsa-public-key"), policy)},
		{name: "oauth", config: sfBase + "  authenticationType: oAuthClientCredentials\n  oAuthClientConfig: {clientId: my-client, clientSecret: s, authorityUrl: 'https://x/t'}\n",
			want: cat(base, policy), notes: []string{`oAuthClientCredentials: no user is created; grant role "IMMUTA_DB_SYSTEM" to the Snowflake user of OAuth client "my-client"`}},
		{name: "auto bootstrap", auto: true, config: sfBase + "  authenticationType: userPassword\n  username: taylor@snowflake.com\n  password: Abc1234-secret\n",
			opts: ModelOptions{SystemPassword: "Gen3rated-Passw0rd"}, want: cat(base, user("IMMUTA_DB_SYSTEM_ACCOUNT", "password"), policy), secrets: []string{"Gen3rated-Passw0rd"}},
		{name: "auto bootstrap without password", auto: true, config: sfBase + "  authenticationType: keyPair\n  username: admin\n  privateKey:\n    content: |\n      " + strings.ReplaceAll(strings.TrimSpace(fixture(t, "key.p8")), "\n", "\n      ") + "\n",
			want: cat(base, user("IMMUTA_DB_SYSTEM_ACCOUNT", "password"), policy)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sfModel(t, tc.auto, tc.config, tc.opts)
			// Guards come first, one per role, database and user that create makes, in
			// the order create makes them.
			var guards []string
			for _, id := range tc.want {
				if strings.HasPrefix(id, "role:") || strings.HasPrefix(id, "database:") || strings.HasPrefix(id, "user:") {
					guards = append(guards, "guard:"+id)
				}
			}
			if got := objectIDs(m); !slices.Equal(got, cat(guards, tc.want)) {
				t.Fatalf("objects:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
			for id, why := range tc.why {
				for _, o := range m.Objects {
					if o.ID == id && o.Why != why {
						t.Errorf("%s: why %q, want %q", id, o.Why, why)
					}
				}
			}
			if !slices.Equal(m.Secrets, tc.secrets) {
				t.Errorf("secrets %q, want %q", m.Secrets, tc.secrets)
			}
			for _, n := range tc.notes {
				if !slices.ContainsFunc(m.Notes, func(s string) bool { return strings.HasPrefix(s, n) }) {
					t.Errorf("notes %q lack %q", m.Notes, n)
				}
			}
			if len(m.Create) != 1 || m.Create[0].Name != "create" || m.Create[0].ConnectTo != "account" ||
				len(m.Teardown) != 1 || m.Teardown[0].Name != "cleanup" || m.Needs == nil {
				t.Fatalf("phases %+v %+v needs %v", m.Create, m.Teardown, m.Needs)
			}
			creates := renderSnowflake(t, m)
			script := strings.Join(creates, "\n")
			for _, never := range []string{"taylor@snowflake.com", "PRIVATE KEY", "ACCOUNTADMIN"} {
				if strings.Contains(script, never) {
					t.Errorf("script contains %q:\n%s", never, script)
				}
			}
			if tc.auto && tc.opts.SystemPassword == "" && !strings.Contains(script, "'"+Redacted+"'") {
				t.Errorf("auto bootstrap without a generated password should render the placeholder:\n%s", script)
			}
		})
	}
}

func TestSnowflakeModelStatements(t *testing.T) {
	m := sfModel(t, false, sfBase+"  audit: {enabled: true}\n  workspaces: {enabled: true}\n  impersonation: {enabled: true, role: imp}\n  authenticationType: userPassword\n  username: taylor@example.com\n  password: \"It's-a-Passw0rd\"\n", ModelOptions{})
	got := strings.Join(renderSnowflake(t, m), "\n")
	want := `EXECUTE IMMEDIATE $$ DECLARE NAME_TAKEN EXCEPTION (-20001, 'role "IMMUTA_DB_SYSTEM" already exists: this create script makes it and never takes over an existing one; nothing was changed (choose another config.database, or drop the old one)'); BEGIN SHOW ROLES LIKE 'IMMUTA_DB_SYSTEM'; IF ((SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "name" = 'IMMUTA_DB_SYSTEM') > 0) THEN RAISE NAME_TAKEN; END IF; END; $$;
EXECUTE IMMEDIATE $$ DECLARE NAME_TAKEN EXCEPTION (-20001, 'database "IMMUTA_DB" already exists: this create script makes it and never takes over an existing one; nothing was changed (choose another config.database, or drop the old one)'); BEGIN SHOW DATABASES LIKE 'IMMUTA_DB'; IF ((SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "name" = 'IMMUTA_DB') > 0) THEN RAISE NAME_TAKEN; END IF; END; $$;
EXECUTE IMMEDIATE $$ DECLARE NAME_TAKEN EXCEPTION (-20001, 'user "taylor@example.com" already exists: this create script makes it and never takes over an existing one; nothing was changed (choose another config.username, or drop the old one)'); BEGIN SHOW USERS LIKE 'taylor@example.com'; IF ((SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "name" = 'taylor@example.com') > 0) THEN RAISE NAME_TAKEN; END IF; END; $$;
EXECUTE IMMEDIATE $$ DECLARE NAME_TAKEN EXCEPTION (-20001, 'role "IMP" already exists: this create script makes it and never takes over an existing one; nothing was changed (choose another config.impersonation.role, or drop the old one)'); BEGIN SHOW ROLES LIKE 'IMP'; IF ((SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "name" = 'IMP') > 0) THEN RAISE NAME_TAKEN; END IF; END; $$;
CREATE ROLE "IMMUTA_DB_SYSTEM";
GRANT ROLE "IMMUTA_DB_SYSTEM" TO ROLE "SYSADMIN";
CREATE DATABASE "IMMUTA_DB";
CREATE SCHEMA IF NOT EXISTS "IMMUTA_DB"."IMMUTA_PROCEDURES";
CREATE SCHEMA IF NOT EXISTS "IMMUTA_DB"."IMMUTA_FUNCTIONS";
CREATE SCHEMA IF NOT EXISTS "IMMUTA_DB"."IMMUTA_SYSTEM";
CREATE SCHEMA IF NOT EXISTS "IMMUTA_DB"."IMMUTA_POLICIES";
GRANT OWNERSHIP ON SCHEMA "IMMUTA_DB"."IMMUTA_PROCEDURES" TO ROLE "IMMUTA_DB_SYSTEM" COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA "IMMUTA_DB"."IMMUTA_FUNCTIONS" TO ROLE "IMMUTA_DB_SYSTEM" COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA "IMMUTA_DB"."IMMUTA_SYSTEM" TO ROLE "IMMUTA_DB_SYSTEM" COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA "IMMUTA_DB"."IMMUTA_POLICIES" TO ROLE "IMMUTA_DB_SYSTEM" COPY CURRENT GRANTS;
GRANT OWNERSHIP ON DATABASE "IMMUTA_DB" TO ROLE "IMMUTA_DB_SYSTEM" COPY CURRENT GRANTS;
CREATE USER "taylor@example.com" DEFAULT_ROLE = "IMMUTA_DB_SYSTEM" DEFAULT_WAREHOUSE = "SAMPLE_WAREHOUSE" DEFAULT_NAMESPACE = "IMMUTA_DB";
ALTER USER IF EXISTS "taylor@example.com" SET TYPE = LEGACY_SERVICE PASSWORD = 'It''s-a-Passw0rd';
GRANT ROLE "IMMUTA_DB_SYSTEM" TO USER "taylor@example.com";
GRANT USAGE ON WAREHOUSE "SAMPLE_WAREHOUSE" TO ROLE "IMMUTA_DB_SYSTEM";
GRANT APPLY MASKING POLICY ON ACCOUNT TO ROLE "IMMUTA_DB_SYSTEM";
GRANT APPLY ROW ACCESS POLICY ON ACCOUNT TO ROLE "IMMUTA_DB_SYSTEM";
GRANT CREATE ROLE ON ACCOUNT TO ROLE "IMMUTA_DB_SYSTEM";
GRANT MANAGE GRANTS ON ACCOUNT TO ROLE "IMMUTA_DB_SYSTEM";
GRANT IMPORTED PRIVILEGES ON DATABASE "SNOWFLAKE" TO ROLE "IMMUTA_DB_SYSTEM";
GRANT CREATE DATABASE ON ACCOUNT TO ROLE "IMMUTA_DB_SYSTEM";
CREATE ROLE "IMP";
GRANT ROLE "IMP" TO ROLE "IMMUTA_DB_SYSTEM";
GRANT OWNERSHIP ON ROLE "IMP" TO ROLE "IMMUTA_DB_SYSTEM" COPY CURRENT GRANTS;`
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestSnowflakeModelAdversarial renders a model whose every name is hostile: each
// statement must still be exactly one statement of an allowed shape.
func TestSnowflakeModelAdversarial(t *testing.T) {
	yq := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, a := range sfAdversarial {
		cfg := "  host: h.example.com\n  warehouse: " + yq("w"+a) + "\n  database: " + yq("d"+a) +
			"\n  audit: {enabled: true}\n  workspaces: {enabled: true}\n  impersonation: {enabled: true, role: " + yq("r"+a) +
			"}\n  authenticationType: userPassword\n  username: " + yq("u"+a) + "\n  password: " + yq("Pp1-Passw0rd-"+a) + "\n"
		if strings.Contains(a, "$$") {
			// The guard quotes names inside a $$...$$ body: the render refuses them.
			c, probs := sfDecode(t, false, cfg)
			if probs != nil {
				t.Fatal(probs)
			}
			var ve *ValidationError
			if _, err := c.Model(ModelOptions{}); !errors.As(err, &ve) || !strings.Contains(err.Error(), "must not contain $$") {
				t.Fatalf("%q: got %v, want the $$ refusal", a, err)
			}
			continue
		}
		m := sfModel(t, false, cfg, ModelOptions{})
		creates := renderSnowflake(t, m)
		if len(creates) != len(m.Objects) {
			t.Fatalf("%q: %d statements for %d objects", a, len(creates), len(m.Objects))
		}
	}
}

func TestSnowflakeModelCanonicalNames(t *testing.T) {
	// Spellings Snowflake folds to the same object give the same model (edits of case
	// only are no-ops); quoted-only names stay exact.
	a := sfModel(t, false, "  host: h.example.com\n  warehouse: wh\n  database: immuta_db\n  authenticationType: userPassword\n  username: svc\n  password: Passw0rd-12345\n", ModelOptions{})
	b := sfModel(t, false, "  host: h.example.com\n  warehouse: WH\n  database: IMMUTA_DB\n  authenticationType: userPassword\n  username: Svc\n  password: Passw0rd-12345\n", ModelOptions{})
	if !slices.Equal(objectIDs(a), objectIDs(b)) {
		t.Fatalf("%v\n%v", objectIDs(a), objectIDs(b))
	}
	for i := range a.Objects {
		ja, _ := json.Marshal(a.Objects[i].Data)
		jb, _ := json.Marshal(b.Objects[i].Data)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("%s: %s vs %s", a.Objects[i].ID, ja, jb)
		}
	}
	c := sfModel(t, false, "  host: h.example.com\n  warehouse: wh\n  database: my-db\n  authenticationType: userPassword\n  username: svc\n  password: Passw0rd-12345\n", ModelOptions{})
	if c.Objects[0].ID != "guard:role:my-db_SYSTEM" || c.Objects[3].ID != "role:my-db_SYSTEM" || c.Objects[5].ID != "database:my-db" {
		t.Fatalf("%v", objectIDs(c))
	}
}

// TestSnowflakeScriptOnlyRules: the password policy and the sample database are refused
// only where a script is rendered. A stored integration (POST, DecodeIntegration) keeps
// the API reference's own examples; a teardown decode (no password set) keeps the short
// password but the render (Model) still refuses the shared databases, whose delete
// script would drop the account's copy; a weak generated password is refused too.
func TestSnowflakeScriptOnlyRules(t *testing.T) {
	const seed = "  host: h.example.com\n  warehouse: W\n  database: SNOWFLAKE_SAMPLE_DATA\n  authenticationType: userPassword\n  username: U\n  password: abc1234\n"
	for _, tc := range []struct {
		name     string
		op       Operation
		post     bool
		auto     bool
		opts     ModelOptions
		decode   string // problem of the decode, "" none
		modelErr string // problem of Model, "" none
	}{
		{name: "POST keeps the seed example", post: true, modelErr: "config.database: must not be SNOWFLAKE_SAMPLE_DATA"},
		{name: "create refuses it", op: OpCreate, decode: "config.database: must not be SNOWFLAKE_SAMPLE_DATA"},
		{name: "edit refuses it", op: OpEdit, decode: "config.database: must not be SNOWFLAKE_SAMPLE_DATA"},
		{name: "delete decodes, its render refuses", op: OpDelete, modelErr: "config.database: must not be SNOWFLAKE_SAMPLE_DATA"},
		{name: "cleanup decodes, its render refuses", op: OpCleanup, modelErr: "config.database: must not be SNOWFLAKE_SAMPLE_DATA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(sfYAML(tc.auto, seed))
			var p *Payload
			var err error
			if tc.post {
				p, err = DecodeIntegration(in)
			} else {
				p, err = DecodeFor(tc.op, in, "in.yaml")
			}
			if tc.decode != "" {
				if err == nil || !strings.Contains(err.Error(), tc.decode) {
					t.Fatalf("decode: got %v, want %q", err, tc.decode)
				}
				if strings.Contains(err.Error(), "abc1234") {
					t.Fatalf("the problem shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			_, err = p.Config.(*Snowflake).Model(ModelOptions{AutoBootstrap: tc.auto})
			var ve *ValidationError
			if err == nil || !strings.Contains(err.Error(), tc.modelErr) || !errors.As(err, &ve) {
				t.Fatalf("model: got %v, want a *ValidationError with %q", err, tc.modelErr)
			}
		})
	}
	// A weak generated password (the server's automatic setup) is refused by the render.
	c, probs := sfDecode(t, true, sfBase+"  authenticationType: userPassword\n  username: admin\n  password: abc1234\n")
	if probs != nil {
		t.Fatal(probs)
	}
	for pw, bad := range map[string]bool{"short1A": true, "Generated-Passw0rd": false, Redacted: false} {
		_, err := c.Model(ModelOptions{AutoBootstrap: true, SystemPassword: pw})
		if got := err != nil; got != bad {
			t.Errorf("generated password %q: error %v, want refused=%t", pw, err, bad)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
