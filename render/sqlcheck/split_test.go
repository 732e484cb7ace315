package sqlcheck

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		src  string
		want []string // "line:col SQL"
	}{
		{Snowflake, "-- header\n\nCREATE ROLE \"A\";\n  GRANT x -- why\n  TO y;\n-- only a comment\n;;", []string{"3:1 CREATE ROLE \"A\"", "4:3 GRANT x -- why\n  TO y"}},
		{Snowflake, "a; b", []string{"1:1 a", "1:4 b"}},
		{Snowflake, "CREATE PROCEDURE p() AS $$ a; b; $$;", []string{"1:1 CREATE PROCEDURE p() AS $$ a; b; $$"}},
		{Redshift, "SELECT ';' /* ; */ ;\nx", []string{"1:1 SELECT ';'", "2:1 x"}},
		{Synapse, "CREATE SCHEMA [a;b];\nGO\nx\nGO\n\ny", []string{"1:1 CREATE SCHEMA [a;b]", "3:1 x", "6:1 y"}},
		{Synapse, "CREATE OR ALTER PROCEDURE p AS BEGIN a; b; END;\nGO\nc; d", []string{"1:1 CREATE OR ALTER PROCEDURE p AS BEGIN a; b; END", "3:1 c", "3:4 d"}},
		{Synapse, "create proc p as a; b\ngo\n", []string{"1:1 create proc p as a; b"}},
		{Synapse, "-- x\nGO\n/* y */", nil},
	} {
		stmts, err := Split(c.d, c.src)
		if err != nil {
			t.Errorf("Split(%s, %q): %v", c.d, c.src, err)
			continue
		}
		var got []string
		for _, s := range stmts {
			got = append(got, s.Pos.String()+" "+s.SQL)
			if c.src[s.Pos.Offset:s.Pos.Offset+len(s.SQL)] != s.SQL {
				t.Errorf("SQL %q is not the source at %d", s.SQL, s.Pos.Offset)
			}
			for _, tk := range s.Tokens {
				if tk.Kind == Comment || tk.Kind == BatchSep {
					t.Errorf("statement %q holds token %v", s.SQL, tk)
				}
			}
			if n := len(s.Tokens); n > 0 && s.Tokens[n-1].Text == ";" {
				t.Errorf("statement %q keeps its ';'", s.SQL)
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Split(%s, %q)\n got %q\nwant %q", c.d, c.src, got, c.want)
		}
	}
	if _, err := Split(Synapse, "x\n'"); err == nil || err.Error() != "2:1: unterminated string literal" {
		t.Errorf("Split error: %v", err)
	}
}

func errStrings(errs []*Error) []string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return s
}

func TestCheckScriptPositions(t *testing.T) {
	sf := mustGrammar(t, Snowflake, testSnowflakeShapes)
	sy := mustGrammar(t, Synapse, testSynapseShapes)
	for _, c := range []struct {
		g    *grammar
		src  string
		want []string // "line:col" of each error, in order
	}{
		{sf, "-- h\nCREATE ROLE \"A\";\nGRANT USAGE ON SCHEMA \"D\".\"S\" TO ROLE \"A\";\n", nil},
		{sf, "-- h\nCREATE ROLE \"A\";\n\n  CREATE ROLE IF EXISTS \"B\";\nDROP ROLE \"C\";\n  FOO;\n", []string{"4:18", "6:3"}},
		{sf, "CREATE ROLE \"A\"\n  COMMENT = 'x\n", []string{"2:13"}},
		{sf, "CREATE ROLE \"A\" COMMENT = 'é' 'x';", []string{"1:31"}},
		{sy, "CREATE SCHEMA [a]\nGO\nCREATE LOGIN [u] WITH PASSWORD = N'x'\nGO\n", nil},
		{sy, "CREATE LOGIN [u] WITH PASSWORD = N'x';\nCREATE SCHEMA [a];\nGO\n", []string{"2:1"}},
		{sy, "CREATE SCHEMA [a]\nGO\nGRANT SELECT ON SCHEMA::[a] TO [u] [v]\nGO\n", []string{"3:36"}},
	} {
		got := errStrings(c.g.checkScript(c.src))
		var pos []string
		for _, e := range got {
			pos = append(pos, e[:strings.Index(e, ": ")])
		}
		if strings.Join(pos, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s %q\n got %q\nwant %q", c.g.d, c.src, got, c.want)
		}
	}
}
