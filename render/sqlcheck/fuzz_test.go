package sqlcheck

import (
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	"",
	"CREATE ROLE IF NOT EXISTS \"R\"\"x\";\n-- c\nGRANT USAGE ON DATABASE \"D\" TO ROLE \"R\";",
	"SELECT 'a''b', 'c\\'d', E'e\\'f', N'g' /* x /* y */ z */ -- t\n;",
	"CREATE PROCEDURE p() AS $$ a; 'b $$; $t$ x $t$ $1 $",
	"CREATE SCHEMA [a]]b]\nGO\nEXEC(N'CREATE SCHEMA [x]')\n  go 2 \r\n",
	"'unterminated",
	"\"a\x01\"",
	"/* open",
	"a\x00b",
	"x\xff",
	"1.5e-3 0x1F a||b <> :: => é",
	"// c\n-- d\r\n[x",
}

func fuzzTokenize(f *testing.F, d Dialect) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	g, err := compileShapes(d, map[Dialect][]Shape{Snowflake: testSnowflakeShapes, Redshift: testRedshiftShapes, Synapse: testSynapseShapes}[d])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		toks, err := Tokenize(d, src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Pos.Offset < 0 || e.Pos.Offset > len(src) || advance(startPos, src[:e.Pos.Offset]) != e.Pos {
				t.Fatalf("error position %+v inconsistent with the source", e.Pos)
			}
			if len(g.checkScript(src)) == 0 {
				t.Fatal("CheckScript accepted a text that does not tokenize")
			}
			return
		}
		checkTokenInvariants(t, src, toks)
		stmts, err := Split(d, src)
		if err != nil {
			t.Fatalf("Split failed after Tokenize succeeded: %v", err)
		}
		for _, s := range stmts {
			if len(s.Tokens) == 0 || src[s.Pos.Offset:s.Pos.Offset+len(s.SQL)] != s.SQL {
				t.Fatalf("bad statement %+v", s)
			}
		}
		for _, e := range g.checkScript(src) {
			if e.Pos.Offset < 0 || e.Pos.Offset > len(src) || advance(startPos, src[:e.Pos.Offset]) != e.Pos {
				t.Fatalf("error %v position %+v inconsistent with the source", e, e.Pos)
			}
		}
	})
}

func FuzzTokenizeSnowflake(f *testing.F) { fuzzTokenize(f, Snowflake) }

func FuzzTokenizeRedshift(f *testing.F) { fuzzTokenize(f, Redshift) }

func FuzzTokenizeSynapse(f *testing.F) { fuzzTokenize(f, Synapse) }
