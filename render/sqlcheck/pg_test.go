package sqlcheck

import (
	"strings"
	"sync"
	"testing"
)

var testRedshiftShapes = []Shape{
	{Name: "create-schema", Pattern: "CREATE SCHEMA [ IF NOT EXISTS ] $ident [ AUTHORIZATION $ident ]"},
	{Name: "select", Pattern: "SELECT $rest"},
	{Name: "create-user", Pattern: "CREATE USER $ident PASSWORD < $string | DISABLE > $rest", RedshiftOnly: true},
	{Name: "grant", Pattern: "GRANT $rest"},
	{Name: "procedure", Pattern: "CREATE [ OR REPLACE ] < PROCEDURE | FUNCTION > $name $parens $rest"},
}

const goodProc = `CREATE OR REPLACE PROCEDURE "immuta_procedures"."grant_impersonation"(username VARCHAR)
LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE 'GRANT "r" TO ' || quote_ident(username);
END;
$$`

func TestRedshiftPgQuery(t *testing.T) {
	rs := mustGrammar(t, Redshift, testRedshiftShapes)
	for _, c := range []struct {
		name, src string
		want      []string // "line:col" prefixes of the errors, with a message fragment
	}{
		{"valid", "-- h\nCREATE SCHEMA IF NOT EXISTS \"s\" AUTHORIZATION \"u\";\nSELECT 1;\n", nil},
		{"broken on line 3", "-- h\nCREATE SCHEMA \"s\";\nSELECT a,\n  FROM t;\n", []string{"4:3: pg_query: syntax error at or near \"FROM\""}},
		{"broken at end", "SELECT 1 +\n", []string{"1:11: pg_query: syntax error at end of input"}},
		{"cursor counts characters", "SELECT 'ééé' /* ü */\n  + FROM x;", []string{"2:5: pg_query: syntax error at or near \"FROM\""}},
		{"redshift only skips pg_query", "CREATE USER \"u\" PASSWORD 'x' CREATEUSER CONNECTION LIMIT UNLIMITED SYSLOG ACCESS UNRESTRICTED;", nil},
		{"redshift only still needs the shape", "CREATE USER u PASSWORD 'x';", []string{"1:13: statement not in the redshift closed grammar"}},
		{"grant to group is fine for pg", "GRANT USAGE ON SCHEMA \"s\" TO GROUP \"g\";", nil},
		{"pg rejects what the shape let through", "GRANT TO;", []string{"1:7: pg_query: syntax error at or near \"TO\""}},
		{"backslash splits differently", "SELECT 'a\\'' , 'z';\n", []string{"1:18: pg_query: unterminated quoted string"}},
		{"valid procedure", "-- h\n" + goodProc + ";\n", nil},
		{"plpgsql body error", "-- h\nSELECT 1;\n" + strings.Replace(goodProc, "END;", "  IF username THEN\nEND;", 1) + ";\n",
			[]string{"7:3: plpgsql: syntax error at or near \";\" (near line 3 of the body)"}},
		{"plpgsql bad statement", "CREATE PROCEDURE p() LANGUAGE plpgsql AS $body$\nBEGIN\n  PERFORM 1;\n  SELEC 1;\nEND;\n$body$;",
			[]string{"3:3: plpgsql: syntax error at or near \"SELEC\" (near line 3 of the body)"}},
		{"function body error", "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$;",
			[]string{"1:56: plpgsql: syntax error at end of input"}},
		{"plpgsql without a body", "CREATE PROCEDURE p() LANGUAGE plpgsql", []string{"1:1: plpgsql: no function body"}},
		{"sql function body not checked as plpgsql", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELEC 1 $$;", nil},
	} {
		got := errStrings(rs.checkScript(c.src))
		ok := len(got) == len(c.want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.HasPrefix(got[i], c.want[i])
		}
		if !ok {
			t.Errorf("%s: %q\n got %q\nwant %q", c.name, c.src, got, c.want)
		}
	}
}

func TestRedshiftPgQueryConcurrent(t *testing.T) {
	rs := mustGrammar(t, Redshift, testRedshiftShapes)
	bad := strings.Replace(goodProc, "END;", "  IF username THEN\nEND;", 1)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if errs := rs.checkScript(goodProc); errs != nil {
					t.Error(errs)
				}
				if errs := rs.checkScript(bad); len(errs) != 1 {
					t.Error("bad procedure accepted")
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkRedshiftStatement(b *testing.B) {
	rs, err := compileShapes(Redshift, testRedshiftShapes)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := rs.checkStatement(`CREATE SCHEMA IF NOT EXISTS "s" AUTHORIZATION "u"`); err != nil {
			b.Fatal(err)
		}
	}
}

// Only CREATE FUNCTION/PROCEDURE takes the parse-tree path; everything else is parsed
// without building the tree, and that path still refuses syntax errors and a second
// statement hidden in one.
func TestPGFastPath(t *testing.T) {
	for _, c := range []struct {
		sql     string
		routine bool
	}{
		{`CREATE OR REPLACE PROCEDURE p() AS $$ BEGIN END $$ LANGUAGE plpgsql;`, true},
		{`CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;`, true},
		{`CREATE /* c */ PROCEDURE p() AS $$ BEGIN END $$ LANGUAGE plpgsql;`, true},
		{`CREATE SCHEMA "FUNCTION";`, false},
		{`GRANT EXECUTE ON PROCEDURE p() TO u;`, false},
		{`DROP PROCEDURE p();`, false},
	} {
		sts, err := Split(Redshift, c.sql)
		if err != nil || len(sts) != 1 {
			t.Fatalf("%s: split %v %v", c.sql, sts, err)
		}
		if got := createsRoutine(&sts[0]); got != c.routine {
			t.Errorf("createsRoutine(%s) = %v, want %v", c.sql, got, c.routine)
		}
	}
	for _, bad := range []string{`GRANT TEMP ON DATABAS "d" TO u;`, `SELECT 1; SELECT 2`} {
		st := &Statement{SQL: bad}
		if e := checkPG(st); e == nil {
			t.Errorf("checkPG(%q) accepted it", bad)
		}
	}
}
