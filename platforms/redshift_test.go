package platforms

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// rsDecode decodes a Redshift payload whose config is the given YAML block (indented by
// two spaces) and returns the config and the "path: message" problems.
func rsDecode(t *testing.T, config string) (*Redshift, []string) {
	t.Helper()
	src := "type: Redshift\nautoBootstrap: false\nconfig:\n" + config
	p, err := Decode([]byte(src), "in.yaml")
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("decode: %v", err)
		}
		var out []string
		for _, pr := range ve.Problems {
			out = append(out, pr.Path+": "+pr.Message)
		}
		return nil, out
	}
	return p.Config.(*Redshift), nil
}

const rsBase = `  host: organization.aws.amazon.com
  database: immuta
`

const rsUserPassword = rsBase + `  authenticationType: userPassword
  username: taylor@redshift.com
  password: Abc12345
`

const rsAccessKey = rsBase + `  authenticationType: accessKey
  username: immuta_system
  awsAccessKeyId: AKIAIOSFODNN7EXAMPLE
  awsSecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
  awsRegion: us-west-2
`

func TestRedshiftDefaults(t *testing.T) {
	c, probs := rsDecode(t, rsUserPassword)
	if probs != nil {
		t.Fatal(probs)
	}
	if c.Port != 5439 || c.InitialDatabase != "dev" {
		t.Errorf("port %d, initialDatabase %q; want 5439, dev", c.Port, c.InitialDatabase)
	}
	if c.Impersonation.Enabled || c.Impersonation.Role != "" {
		t.Errorf("impersonation %+v: the role defaults only when enabled", c.Impersonation)
	}
	c, probs = rsDecode(t, rsUserPassword+"  impersonation: {enabled: true}\n  port: 5440\n  initialDatabase: analytics\n")
	if probs != nil {
		t.Fatal(probs)
	}
	if c.Impersonation.Role != "immuta_impersonation" || c.Port != 5440 || c.InitialDatabase != "analytics" {
		t.Errorf("got %+v", c)
	}
	c, _ = rsDecode(t, rsUserPassword+"  impersonation: {enabled: true, role: my_group}\n")
	if c.Impersonation.Role != "my_group" {
		t.Errorf("role %q, want my_group", c.Impersonation.Role)
	}
}

func TestRedshiftValidate(t *testing.T) {
	for _, c := range []struct {
		name, config string
		want         []string // problems, exactly, in order
	}{
		{"user password ok", rsUserPassword, nil},
		{"access key ok", rsAccessKey, nil},
		{"md5 password", rsBase + "  authenticationType: userPassword\n  username: u\n  password: md5153c434b4b77c89e6b94f12c5393af5b\n", nil},
		{"sha256 password", rsBase + "  authenticationType: userPassword\n  username: u\n  password: sha256|0ffe34b4e04c2b282c5a388b1ad8aa7a\n", nil},
		{"sha256 with salt", rsBase + "  authenticationType: userPassword\n  username: u\n  password: sha256|ab12|c2FsdA==\n", nil},
		{"missing everything", "  port: 5439\n", []string{
			// Absent fields sit at the config's position: sorted by path.
			"config.authenticationType: is required",
			"config.database: is required",
			"config.host: is required",
			"config.username: is required",
		}},
		{"every problem at once", `  host: "bad host"
  port: 70000
  database: "db\\x"
  initialDatabase: "a\"b"
  impersonation: {enabled: true, role: "r$$"}
  authenticationType: accessKey
  username: public
  password: Abc12345
  awsAccessKeyId: "123"
  awsSecretAccessKey: s
  awsRegion: Mars
`, []string{
			`config.host: must be a host name such as org.example.com (got "bad host")`,
			"config.port: must be between 1 and 65535 (got 70000)",
			`config.database: must not contain \ (backslash)`,
			`config.initialDatabase: must not contain " (double quote)`,
			"config.impersonation.role: must not contain $ (it is written inside a procedure body)",
			`config.username: must not be "public": that name is reserved by Redshift`,
			"config.password: must be absent with authenticationType accessKey (the user signs in with IAM and has no password)",
			"config.awsAccessKeyId: must be an AWS access key id: AKIA followed by 16 upper-case letters or digits",
			`config.awsRegion: must be an AWS region such as us-east-1 (got "Mars")`,
		}},
		{"unknown auth type", rsBase + "  authenticationType: iam\n  username: u\n", []string{
			`config.authenticationType: must be one of userPassword, accessKey (got "iam")`,
		}},
		{"user password needs password, no aws fields", rsBase + "  authenticationType: userPassword\n  username: u\n  awsRegion: us-east-1\n", []string{
			"config.password: is required",
			"config.awsRegion: must be absent with authenticationType userPassword",
		}},
		{"access key needs its fields", rsBase + "  authenticationType: accessKey\n  username: u\n", []string{
			"config.awsAccessKeyId: is required",
			"config.awsRegion: is required",
			"config.awsSecretAccessKey: is required",
		}},
		{"database is the initial database", "  host: h.example.com\n  database: Analytics\n  initialDatabase: analytics\n  authenticationType: userPassword\n  username: u\n  password: Abc12345\n", []string{
			`config.database: must differ from config.initialDatabase ("analytics"): the scripts create and drop it`,
		}},
		{"database is dev", "  host: h.example.com\n  database: DEV\n  authenticationType: userPassword\n  username: u\n  password: Abc12345\n", []string{
			`config.database: must not be "dev": that database belongs to Redshift; name a new database the script creates`,
		}},
		{"reserved database template1", "  host: h.example.com\n  database: template1\n  authenticationType: userPassword\n  username: u\n  password: Abc12345\n", []string{
			`config.database: must not be "template1": that database belongs to Redshift; name a new database the script creates`,
		}},
		{"rdsdb user and public role", rsBase + "  impersonation: {enabled: true, role: PUBLIC}\n  authenticationType: userPassword\n  username: RDSDB\n  password: Abc12345\n", []string{
			"config.impersonation.role: must not be PUBLIC",
			`config.username: must not be "RDSDB": that name is reserved by Redshift`,
		}},
		{"$$ in the names the guard quotes", "  host: h.example.com\n  database: \"a$$b\"\n  authenticationType: userPassword\n  username: \"u$$\"\n  password: Abc12345\n", []string{
			"config.database: must not contain $$ (create's guard writes the name in a string literal)",
			"config.username: must not contain $$ (create's guard writes the name in a string literal)",
		}},
		{"a lone $ is a valid name", "  host: h.example.com\n  database: \"a$b\"\n  authenticationType: userPassword\n  username: \"u$\"\n  password: Abc12345\n", nil},
		{"names too long", "  host: h.example.com\n  database: " + strings.Repeat("d", 128) + "\n  authenticationType: userPassword\n  username: " + strings.Repeat("é", 64) + "\n  password: Abc12345\n", []string{
			"config.database: must be at most 127 bytes",
			"config.username: must be at most 127 bytes",
		}},
		{"names at the limit", "  host: h.example.com\n  database: " + strings.Repeat("d", 127) + "\n  authenticationType: userPassword\n  username: " + strings.Repeat("é", 63) + "\n  password: Abc12345\n", nil},
		{"control characters and spaces", rsBase + "  impersonation: {enabled: false, role: \"a\\tb\"}\n  authenticationType: userPassword\n  username: \" u\"\n  password: Abc12345\n", []string{
			"config.impersonation.role: must not contain control characters (line breaks, tabs, NUL)",
			"config.username: must not start or end with spaces",
		}},
		{"role newline GO", rsBase + "  impersonation: {enabled: true, role: \"r\\nGO\"}\n  authenticationType: userPassword\n  username: u\n  password: Abc12345\n", []string{
			"config.impersonation.role: must not contain control characters (line breaks, tabs, NUL)",
		}},
		{"secret access key with a line break", rsBase + "  authenticationType: accessKey\n  username: u\n  awsAccessKeyId: AKIAIOSFODNN7EXAMPLE\n  awsSecretAccessKey: \"a\\nb\"\n  awsRegion: us-east-1\n", []string{
			"config.awsSecretAccessKey: must be an AWS secret access key (at most 128 printable characters)",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, got := rsDecode(t, c.config)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("problems\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestRedshiftPassword(t *testing.T) {
	const rule = "must be 8 to 64 characters"
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"Abc12345", true},
		{"Abcdefg1", true},
		{"A1" + strings.Repeat("b", 62), true},
		{"A1" + strings.Repeat("b", 63), false}, // 65
		{"Abc1234", false},                      // the seed's abc1234: too short, no upper
		{"abc12345", false},                     // no upper
		{"ABC12345", false},                     // no lower
		{"Abcdefgh", false},                     // no digit
		{"Abc 12345", false},
		{"Abc'12345", false},
		{`Abc"12345`, false},
		{`Abc\12345`, false},
		{"Abc/12345", false},
		{"Abc@12345", false},
		{"Abc$12345", false}, // refused by the engine: $$ would close a procedure body
		{"Abcé12345", false},
		{"Ab1--;*x*#!%^&()", true},
		{"md5" + strings.Repeat("a", 32), true},
		{"md5" + strings.Repeat("a", 31), false},
		{"md5" + strings.Repeat("g", 32), false},
		{"sha256|", false},
		{"sha256|abc'def", false},
		{"sha256|a|b|c", false},
	} {
		v := newValidator(nil)
		checkRedshiftPassword(v, "config.password", c.pw)
		err := v.Err("")
		if c.ok != (err == nil) {
			t.Errorf("%q: ok=%v, got %v", c.pw, c.ok, err)
		}
		if err != nil {
			if !strings.Contains(err.Error(), rule) {
				t.Errorf("%q: message %q", c.pw, err)
			}
			if len(c.pw) >= 8 && strings.Contains(err.Error(), c.pw) {
				t.Errorf("%q: the message echoes the password", c.pw)
			}
		}
	}
}

func TestRedshiftUniqueKeyAndTags(t *testing.T) {
	c, _ := rsDecode(t, strings.Replace(rsUserPassword, "organization.aws", "Organization.AWS", 1))
	if c.UniqueKey() != "organization.aws.amazon.com" {
		t.Errorf("unique key %q", c.UniqueKey())
	}
	c2, _ := rsDecode(t, rsAccessKey)
	if got := SecretPaths(c); !reflect.DeepEqual(got, []string{"config.password"}) {
		t.Errorf("secret paths %v", got)
	}
	if got := SecretPaths(c2); !reflect.DeepEqual(got, []string{"config.awsSecretAccessKey"}) {
		t.Errorf("secret paths %v", got)
	}
	old := *c
	c.Host, c.Port, c.Database, c.InitialDatabase, c.Username = "x.example.com", 1, "other", "other_init", "other_user"
	if got := ImmutableChanges(&old, c); !reflect.DeepEqual(got, []string{"config.host", "config.port", "config.database"}) {
		t.Errorf("immutable changes %v", got)
	}
}

func TestRedshiftQuoting(t *testing.T) {
	for _, c := range []struct{ in, ident, str string }{
		{"immuta", `"immuta"`, `'immuta'`},
		{"Taylor@Redshift.COM", `"taylor@redshift.com"`, `'Taylor@Redshift.COM'`},
		{`a"b`, `"a""b"`, `'a"b'`},
		{`o'brien`, `"o'brien"`, `'o''brien'`},
		{`x"; DROP DATABASE dev; --`, `"x""; drop database dev; --"`, `'x"; DROP DATABASE dev; --'`},
		{`'); DROP USER u; /*`, `"'); drop user u; /*"`, `'''); DROP USER u; /*'`},
		{"]]", `"]]"`, `']]'`},
		{"ÉCOLE", `"École"`, `'ÉCOLE'`}, // only ASCII folds, as in Redshift
		{"$$", `"$$"`, ""},              // str refuses $$ (it could close a $$ body)
		{"a$$b", `"a$$b"`, ""},
		{"a$b", `"a$b"`, `'a$b'`}, // a lone $ cannot close a $$ body
		{"$x$", `"$x$"`, `'$x$'`},
		{`a\b`, "", ""},
		{"a\nGO", "", ""},
		{"a\x00b", "", ""},
		{"a\rb", "", ""},
		{"\u2028", "", ""},
		{string([]byte{0xff}), "", ""},
		{strings.Repeat("a", 127), `"` + strings.Repeat("a", 127) + `"`, `'` + strings.Repeat("a", 127) + `'`},
		{strings.Repeat("a", 128), "", `'` + strings.Repeat("a", 128) + `'`},
		{"", "", "''"},
	} {
		id, err := RedshiftIdent(c.in)
		if (c.ident == "") != (err != nil) || id != c.ident {
			t.Errorf("ident(%q) = %q, %v; want %q", c.in, id, err, c.ident)
		}
		s, err := RedshiftStr(c.in)
		if (c.str == "") != (err != nil) || s != c.str {
			t.Errorf("str(%q) = %q, %v; want %q", c.in, s, err, c.str)
		}
	}
	q := (&Redshift{}).Quoting()
	if q.Ident == nil || q.Str == nil {
		t.Fatal("quoting functions missing")
	}
}

// rsUnquote reverses a quoted token: it must start and end with q, and every q inside
// must be doubled. ok is false when the token is not one well-formed quoted token.
func rsUnquote(tok string, q byte) (string, bool) {
	if len(tok) < 2 || tok[0] != q || tok[len(tok)-1] != q {
		return "", false
	}
	inner := tok[1 : len(tok)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == q {
			if i+1 >= len(inner) || inner[i+1] != q {
				return "", false // an unescaped terminator
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}

// FuzzRedshiftQuoting checks that a quoted identifier or string is one well-formed
// token that round-trips (identifiers: to the folded name), holds no backslash, no
// control character and (strings) no $, whatever the input.
func FuzzRedshiftQuoting(f *testing.F) {
	for _, s := range []string{"immuta", `a"b`, "o'brien", `x\y`, "$$", "a\nGO", "--", "/*", ";", "]", "É", "\x00", strings.Repeat("z", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := RedshiftIdent(s); err == nil {
			got, ok := rsUnquote(id, '"')
			if !ok || got != redshiftFold(s) {
				t.Fatalf("ident(%q) = %q: does not round-trip (%q, %v)", s, id, got, ok)
			}
			if strings.ContainsAny(id, "\\") || hasControl(id) || !utf8.ValidString(id) || len(s) > 127 || s == "" {
				t.Fatalf("ident(%q) = %q accepted a value it must refuse", s, id)
			}
		}
		if str, err := RedshiftStr(s); err == nil {
			got, ok := rsUnquote(str, '\'')
			if !ok || got != s {
				t.Fatalf("str(%q) = %q: does not round-trip (%q, %v)", s, str, got, ok)
			}
			if strings.Contains(str, `\`) || strings.Contains(str, "$$") || hasControl(str) || !utf8.ValidString(str) {
				t.Fatalf("str(%q) = %q accepted a value it must refuse", s, str)
			}
		}
	})
}

// rsModel decodes config and returns its model.
func rsModel(t *testing.T, config string) *Model {
	t.Helper()
	c, probs := rsDecode(t, config)
	if probs != nil {
		t.Fatal(probs)
	}
	m, err := c.Model(ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func rsIDs(m *Model) []string {
	var ids []string
	for _, o := range m.Objects {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestRedshiftModel(t *testing.T) {
	base := []string{
		"guard:names",
		"user:system",
		"password:system",
		"database:immuta",
		"grant:temp,create:database:immuta:system",
		"schema:immuta_procedures",
		"schema:immuta_functions",
		"schema:immuta_system",
		"grant:usage:schema:immuta_procedures:public",
		"grant:usage:schema:immuta_functions:public",
		"grant:usage:schema:immuta_system:public",
	}
	m := rsModel(t, rsUserPassword)
	if got := rsIDs(m); !reflect.DeepEqual(got, base) {
		t.Errorf("objects\n got %q\nwant %q", got, base)
	}
	if !reflect.DeepEqual(m.Secrets, []string{"Abc12345"}) {
		t.Errorf("secrets %q", m.Secrets)
	}
	wantPhases := []PhaseSpec{{Name: "initial-create", ConnectTo: "dev", RunAs: "a superuser"}, {Name: "create", ConnectTo: "immuta", RunAs: "a superuser"}}
	if !reflect.DeepEqual(m.Create, wantPhases) {
		t.Errorf("create phases %+v", m.Create)
	}
	wantTeardown := []PhaseSpec{{Name: "cleanup", ConnectTo: "immuta", RunAs: "a superuser"}, {Name: "post-cleanup", ConnectTo: "dev", RunAs: "a superuser"}}
	if !reflect.DeepEqual(m.Teardown, wantTeardown) {
		t.Errorf("teardown phases %+v", m.Teardown)
	}
	byID := map[string]Object{}
	for _, o := range m.Objects {
		byID[o.ID] = o
		if o.Why == "" || o.Kind == "" || o.Phase == "" || o.Teardown == "" {
			t.Errorf("%s: incomplete %+v", o.ID, o)
		}
	}
	u := byID["user:system"]
	if !u.NotRerunnable || u.Phase != "initial-create" || u.Teardown != "post-cleanup" || DataField(u.Data, "Password") != "Abc12345" || DataField(u.Data, "PasswordDisabled") != false {
		t.Errorf("user %+v", u)
	}
	d := byID["database:immuta"]
	if !d.NotRerunnable || !d.TolerateMissing || d.Phase != "initial-create" {
		t.Errorf("database %+v", d)
	}

	// Impersonation: the group first (so post-cleanup drops it last), then the
	// procedures with their grants, after the schemas.
	m = rsModel(t, rsUserPassword+"  impersonation: {enabled: true, role: Immuta_Group}\n")
	proc := func(name string) []string {
		id := "procedure:immuta_procedures." + name
		return []string{id, "revoke:all:" + id + ":public", "grant:execute:" + id + ":system"}
	}
	want := append(append(append([]string{"guard:names", "group:immuta_group"}, base[1:]...), proc("grant_impersonation")...), proc("revoke_impersonation")...)
	if got := rsIDs(m); !reflect.DeepEqual(got, want) {
		t.Errorf("objects\n got %q\nwant %q", got, want)
	}
	for _, o := range m.Objects {
		switch o.Kind {
		case "group":
			if !o.NotRerunnable || !o.TolerateMissing || o.Phase != "create" || o.Teardown != "post-cleanup" || DataField(o.Data, "Name") != "immuta_group" {
				t.Errorf("group %+v", o)
			}
		case "procedure":
			if DataField(o.Data, "Group") != "immuta_group" || o.Teardown != "cleanup" || len(o.Parents) != 0 {
				t.Errorf("procedure %+v", o)
			}
		case "procedure-grant", "procedure-revoke-public":
			if len(o.Parents) != 1 || !strings.HasPrefix(o.Parents[0], "procedure:") {
				t.Errorf("%s parents %v", o.ID, o.Parents)
			}
		}
		if strings.HasPrefix(string(o.Kind), "procedure") || o.Kind == "group" {
			if o.Why != "impersonation enabled (config.impersonation.role)" {
				t.Errorf("%s why %q", o.ID, o.Why)
			}
		}
	}

	// accessKey: the user has PASSWORD DISABLE, no secret reaches SQL.
	m = rsModel(t, rsAccessKey)
	if len(m.Secrets) != 0 {
		t.Errorf("secrets %q", m.Secrets)
	}
	if u := m.Objects[1]; u.ID != "user:system" || DataField(u.Data, "Name") != "immuta_system" || DataField(u.Data, "PasswordDisabled") != true || DataField(u.Data, "Password") != "" {
		t.Errorf("user %+v", u)
	}

	// autoBootstrap is refused.
	c, _ := rsDecode(t, rsUserPassword)
	if _, err := c.Model(ModelOptions{AutoBootstrap: true}); err == nil {
		t.Error("autoBootstrap model: want an error")
	}
}

// TestRedshiftModelEdits checks the IDs and data edits rely on: a password change
// changes only the user's data (alter), a role change replaces the group and changes
// the procedures' data (CREATE OR REPLACE).
func TestRedshiftModelEdits(t *testing.T) {
	a := rsModel(t, rsUserPassword+"  impersonation: {enabled: true}\n")
	b := rsModel(t, strings.Replace(rsUserPassword, "Abc12345", "Xyz98765", 1)+"  impersonation: {enabled: true, role: other}\n")
	data := func(m *Model) map[string]any {
		out := map[string]any{}
		for _, o := range m.Objects {
			out[o.ID] = o.Data
		}
		return out
	}
	da, db := data(a), data(b)
	var changed, onlyA, onlyB []string
	for id, d := range da {
		if e, ok := db[id]; !ok {
			onlyA = append(onlyA, id)
		} else if !reflect.DeepEqual(d, e) {
			changed = append(changed, id)
		}
	}
	for id := range db {
		if _, ok := da[id]; !ok {
			onlyB = append(onlyB, id)
		}
	}
	for _, l := range [][]string{changed, onlyA, onlyB} {
		sortStrings(l)
	}
	if want := []string{"guard:names", "password:system", "procedure:immuta_procedures.grant_impersonation", "procedure:immuta_procedures.revoke_impersonation", "user:system"}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed %q, want %q", changed, want)
	}
	if !reflect.DeepEqual(onlyA, []string{"group:immuta_impersonation"}) || !reflect.DeepEqual(onlyB, []string{"group:other"}) {
		t.Errorf("only old %q, only new %q", onlyA, onlyB)
	}
}

// TestRedshiftEditProblems: a username change is refused while the new password is a
// pre-hashed md5 (salted with the user name); every other edit passes.
func TestRedshiftEditProblems(t *testing.T) {
	const md5pw = "md5153c434b4b77c89e6b94f12c5393af5b"
	const sha = "sha256|Mypassword1"
	cfg := func(user, pw string) string {
		return rsBase + "  authenticationType: userPassword\n  username: " + user + "\n  password: \"" + pw + "\"\n"
	}
	for _, c := range []struct {
		name     string
		old, new string
		refused  bool
	}{
		{"rename with md5", cfg("taylor", md5pw), cfg("immuta_system", md5pw), true},
		{"rename from plain to md5", cfg("taylor", "Abc12345"), cfg("immuta_system", md5pw), true},
		{"rename from md5 to plain", cfg("taylor", md5pw), cfg("immuta_system", "Abc12345"), false},
		{"rename with sha256", cfg("taylor", sha), cfg("immuta_system", sha), false},
		{"rename with plain", cfg("taylor", "Abc12345"), cfg("immuta_system", "Abc12345"), false},
		{"case only is the same user", cfg("taylor", md5pw), cfg("TAYLOR", md5pw), false},
		{"md5 password change, same user", cfg("taylor", md5pw), cfg("taylor", "md5"+strings.Repeat("0", 32)), false},
		{"rename to access key", cfg("taylor", md5pw), rsAccessKey, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, probs := rsDecode(t, c.old)
			if probs != nil {
				t.Fatal(probs)
			}
			n, probs := rsDecode(t, c.new)
			if probs != nil {
				t.Fatal(probs)
			}
			got := n.EditProblems(o)
			if !c.refused {
				if got != nil {
					t.Fatalf("refused: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Path != "config.username" || !strings.Contains(got[0].Message, "md5") {
				t.Fatalf("problems %+v, want one on config.username about md5", got)
			}
			if strings.Contains(got[0].Message, md5pw) {
				t.Errorf("message echoes the password hash: %s", got[0].Message)
			}
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
