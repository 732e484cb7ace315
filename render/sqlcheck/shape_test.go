package sqlcheck

import (
	"strings"
	"testing"
)

func mustGrammar(t *testing.T, d Dialect, shapes []Shape) *grammar {
	t.Helper()
	g, err := compileShapes(d, shapes)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPackageShapeLists compiles every dialect's shape list.
func TestPackageShapeLists(t *testing.T) {
	for _, d := range []Dialect{Snowflake, Redshift, Synapse} {
		if _, err := grammarFor(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{"", "empty pattern"},
		{"CREATE [ ROLE", "missing ]"},
		{"CREATE [ ] ROLE", "empty sequence"},
		{"CREATE < A | B", "missing >"},
		{"CREATE < A | | B >", "empty sequence"},
		{"CREATE ]", `unexpected "]"`},
		{"create role", "invalid item"},
		{"CREATE $foo", "unknown placeholder"},
		{"CREATE 'x'", "invalid item"},
	} {
		_, err := compileShapes(Snowflake, []Shape{{Name: "s", Pattern: c.pattern}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pattern %q: error %v, want %q", c.pattern, err, c.want)
		}
	}
	for _, c := range []struct {
		shapes []Shape
		want   string
	}{
		{[]Shape{{Pattern: "X"}}, "no name"},
		{[]Shape{{Name: "a", Pattern: "X"}, {Name: "a", Pattern: "Y"}}, "duplicate"},
		{[]Shape{{Name: "a", Pattern: "X", RedshiftOnly: true}}, "RedshiftOnly"},
	} {
		_, err := compileShapes(Snowflake, c.shapes)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.shapes, err, c.want)
		}
	}
}

var testSnowflakeShapes = []Shape{
	{Name: "create-role", Pattern: "CREATE [ OR REPLACE ] ROLE [ IF NOT EXISTS ] $ident [ COMMENT = $string ]"},
	{Name: "grant", Pattern: "GRANT < USAGE | OWNERSHIP | CREATE < SCHEMA | TABLE > > ON < DATABASE | WAREHOUSE > $name TO ROLE $ident"},
	{Name: "grant-schema", Pattern: "GRANT USAGE ON SCHEMA $name TO ROLE $ident"},
	{Name: "proc", Pattern: "CREATE PROCEDURE $name $parens RETURNS $word LANGUAGE SQL AS $body"},
	{Name: "set", Pattern: "ALTER USER $ident SET DEFAULT_WAREHOUSE = < $ident | $word > , N = $number"},
	{Name: "lit", Pattern: "SELECT 1 \\[ \\| A_B || \\$"},
	{Name: "anything", Pattern: "EXPLAIN $rest"},
	{Name: "opt-then", Pattern: "DROP [ ROLE ] ROLE $ident"},
}

var testSynapseShapes = []Shape{
	{Name: "create-schema", Pattern: "CREATE SCHEMA $ident [ AUTHORIZATION $ident ]"},
	{Name: "exec-if", Pattern: "IF NOT EXISTS $parens EXEC ( $exec )"},
	{Name: "grant", Pattern: "GRANT SELECT ON SCHEMA :: $ident TO $ident"},
	{Name: "login", Pattern: "CREATE LOGIN $ident WITH PASSWORD = $string"},
}

func TestShapes(t *testing.T) {
	sf := mustGrammar(t, Snowflake, testSnowflakeShapes)
	sy := mustGrammar(t, Synapse, testSynapseShapes)
	for _, c := range []struct {
		g    *grammar
		sql  string
		want string // shape name, or "error line:col"
	}{
		{sf, `CREATE ROLE "R"`, "create-role"},
		{sf, `create or replace role if not exists "R" comment = 'x';`, "create-role"},
		{sf, `CREATE ROLE "R" COMMENT = 'x' -- why`, "create-role"},
		{sf, `CREATE ROLE R`, "error 1:13"},               // $ident needs a quoted identifier
		{sf, `CREATE ROLE IF EXISTS "R"`, "error 1:16"},   // longest match: NOT expected at EXISTS
		{sf, `CREATE ROLE "R" COMMENT = 1`, "error 1:27"}, // $string
		{sf, `CREATE ROLE "R" COMMENT =`, "error 1:26"},   // ran out: end of statement
		{sf, `CREATE ROLE "R" "S"`, "error 1:17"},         // extra token
		{sf, `GRANT CREATE SCHEMA ON DATABASE "D" TO ROLE "R"`, "grant"},
		{sf, `GRANT USAGE ON WAREHOUSE W TO ROLE "R"`, "grant"}, // $name: a word
		{sf, `GRANT CREATE VIEW ON DATABASE "D" TO ROLE "R"`, "error 1:14"},
		{sf, `GRANT USAGE ON SCHEMA "D"."S" TO ROLE "R"`, "grant-schema"},
		{sf, `GRANT USAGE ON SCHEMA "D".S."T" TO ROLE "R"`, "grant-schema"},
		{sf, `GRANT USAGE ON SCHEMA "D". TO ROLE "R"`, "error 1:31"}, // "D".TO is a name
		{sf, `GRANT USAGE ON SCHEMA "D".`, "error 1:26"},
		{sf, `GRANT USAGE ON SCHEMA "D".'x' TO ROLE "R"`, "error 1:27"},
		{sf, `CREATE PROCEDURE "D"."P"(a VARCHAR, b NUMBER(1,2)) RETURNS VARCHAR LANGUAGE SQL AS $$ x; y $$`, "proc"},
		{sf, `CREATE PROCEDURE "P" (a (b) RETURNS VARCHAR LANGUAGE SQL AS $$ $$`, "error 1:66"}, // unbalanced: reported at the end
		{sf, `CREATE PROCEDURE "P" () RETURNS VARCHAR LANGUAGE SQL AS 'x'`, "error 1:57"},
		{sf, `ALTER USER "U" SET DEFAULT_WAREHOUSE = "W", N = 3`, "set"},
		{sf, `ALTER USER "U" SET DEFAULT_WAREHOUSE = W, n = 3.5`, "set"},
		{sf, `ALTER USER "U" SET DEFAULT_WAREHOUSE = 'W', N = 3`, "error 1:40"},
		{sf, `SELECT 1 [ | A_B || $`, "lit"},
		{sf, `SELECT 2 [ | A_B || $`, "error 1:8"},
		{sf, "EXPLAIN anything 'at' all ( ", "anything"},
		{sf, "EXPLAIN", "anything"},
		{sf, `DROP ROLE "R"`, "opt-then"},
		{sf, `DROP ROLE ROLE "R"`, "opt-then"},
		{sf, "FOO", "error 1:1"},
		{sf, "  \n  -- c\n  CREATE\n  USER", "error 4:3"},
		{sf, "", "error 1:1"},
		{sf, "CREATE ROLE \"A\"; CREATE ROLE \"B\"", "error 1:18"},
		{sy, `CREATE SCHEMA [s] AUTHORIZATION [u]`, "create-schema"},
		{sy, `CREATE SCHEMA "s"`, "error 1:15"}, // synapse $ident is [x] only
		{sy, `IF NOT EXISTS (SELECT 1 FROM sys.schemas WHERE name = N'a''b') EXEC(N'CREATE SCHEMA [a''b]')`, "exec-if"},
		{sy, `IF NOT EXISTS (SELECT 1) EXEC('CREATE SCHEMA [x] AUTHORIZATION [y];')`, "exec-if"},
		{sy, `IF NOT EXISTS (SELECT 1) EXEC(N'DROP SCHEMA [x]')`, "error 1:31"},
		{sy, `IF NOT EXISTS (SELECT 1) EXEC(N'CREATE SCHEMA [x]; CREATE SCHEMA [y]')`, "error 1:31"},
		{sy, `IF NOT EXISTS (SELECT 1) EXEC(N'CREATE SCHEMA [x')`, "error 1:31"},
		{sy, `IF NOT EXISTS (SELECT 1) EXEC(N'IF NOT EXISTS (SELECT 1) EXEC(N''CREATE SCHEMA [x]'')')`, "exec-if"},
		{sy, `GRANT SELECT ON SCHEMA::[s] TO [u]`, "grant"},
		{sy, `CREATE LOGIN [u] WITH PASSWORD = N'p''w'`, "login"},
	} {
		shape, err := c.g.checkStatement(c.sql)
		got := shape
		if err != nil {
			got = "error " + err.Pos.String()
			if !strings.HasPrefix(err.Msg, "statement not in the") && !strings.Contains(err.Msg, "statement") {
				t.Errorf("%q: unexpected message %q", c.sql, err.Msg)
			}
		}
		if got != c.want {
			t.Errorf("%s %q: got %s, want %s (%v)", c.g.d, c.sql, got, c.want, err)
		}
	}
}

func TestExecDepthLimit(t *testing.T) {
	sy := mustGrammar(t, Synapse, testSynapseShapes)
	stmt := "CREATE SCHEMA [x]"
	for i := 0; i <= maxExecDepth; i++ {
		stmt = "IF NOT EXISTS (SELECT 1) EXEC(N'" + strings.ReplaceAll(stmt, "'", "''") + "')"
	}
	if _, err := sy.checkStatement(stmt); err == nil {
		t.Fatal("nesting deeper than maxExecDepth accepted")
	}
}

// A refusal quotes the statement's start and names the forms the grammar accepts that
// begin with the same two words, else the same one, else none.
func TestNotInGrammarMessage(t *testing.T) {
	sf := mustGrammar(t, Snowflake, testSnowflakeShapes)
	long := "CREATE USER \"" + strings.Repeat("x", 100) + "\"\n"
	tests := []struct {
		stmt, pos, want string
	}{
		{long, "1:8", "statement not in the snowflake closed grammar: " + long[:60] +
			"; the forms it accepts that start CREATE: CREATE [ OR REPLACE ] ROLE [ IF NOT EXISTS ] $ident [ COMMENT = $string ] | CREATE PROCEDURE $name $parens RETURNS $word LANGUAGE SQL AS $body"},
		{"ALTER USER \"u\" SET X = 1", "1:20", "statement not in the snowflake closed grammar: ALTER USER \"u\" SET X = 1" +
			"; the forms it accepts that start ALTER USER: ALTER USER $ident SET DEFAULT_WAREHOUSE = < $ident | $word > , N = $number"},
		{"TRUNCATE TABLE t", "1:1", "statement not in the snowflake closed grammar: TRUNCATE TABLE t"},
	}
	for _, tt := range tests {
		_, err := sf.checkStatement(tt.stmt)
		if err == nil || err.Msg != tt.want || err.Pos.String() != tt.pos {
			t.Errorf("got %v\nwant %s: %s", err, tt.pos, tt.want)
		}
	}
}

func TestCheckStatementExported(t *testing.T) {
	if _, err := CheckStatement("oracle", "x"); err == nil {
		t.Error("unknown dialect accepted")
	}
	if _, err := CheckStatement(Snowflake, "'unterminated"); err == nil || !strings.Contains(err.Error(), "1:1: unterminated string literal") {
		t.Errorf("got %v", err)
	}
	if errs := CheckScript("oracle", "x"); len(errs) != 1 {
		t.Errorf("unknown dialect: %v", errs)
	}
}

func BenchmarkShapes(b *testing.B) {
	g, err := compileShapes(Snowflake, testSnowflakeShapes)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.checkStatement(`GRANT USAGE ON SCHEMA "D"."S" TO ROLE "R";`); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReviewCopyRefused: a script with the review-copy header, or a string holding the
// redaction placeholder, is not a script to run.
func TestReviewCopyRefused(t *testing.T) {
	cases := []struct {
		name string
		d    Dialect
		src  string
		want []string // the problems' "line:col: message" prefixes
	}{
		{"runnable", Redshift, "CREATE USER \"u\" PASSWORD 'Abc12345';\n", nil},
		{"header", Redshift, "-- " + ReviewCopy + ": every secret reads <REDACTED>\nCREATE USER \"u\" PASSWORD 'Abc12345';\n",
			[]string{"1:1: this is a review copy"}},
		{"placeholder", Snowflake, "ALTER USER IF EXISTS \"U\" SET TYPE = LEGACY_SERVICE PASSWORD = '<REDACTED>';\n",
			[]string{"1:63: string holds the placeholder <REDACTED>"}},
		{"synapse", Synapse, "CREATE LOGIN [l] WITH PASSWORD = '<REDACTED>';\n",
			[]string{"1:34: string holds the placeholder <REDACTED>"}},
		{"placeholder in a comment only", Redshift, "-- the password reads <REDACTED> in review copies\nDROP USER IF EXISTS \"u\";\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range CheckScript(c.d, c.src) {
				got = append(got, e.Error())
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems %q, want %d starting %q", got, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %q, want it to start %q", got[i], w)
				}
			}
		})
	}
}
