package sqlcheck

import (
	"errors"
	"strings"
	"testing"
)

var kindAbbrev = map[TokenKind]string{Word: "w", QuotedIdent: "i", String: "s", Number: "n", Punct: "p", Operator: "o", Comment: "c", DollarBody: "d", BatchSep: "g"}

// render shows tokens as "kind:text" items separated by spaces.
func render(toks []Token) string {
	var b []string
	for _, t := range toks {
		b = append(b, kindAbbrev[t.Kind]+":"+t.Text)
	}
	return strings.Join(b, " ")
}

type lexCase struct {
	name, src, want string // want: rendered tokens, or "error line:col: msg"
}

func runLexCases(t *testing.T, d Dialect, cases []lexCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			toks, err := Tokenize(d, c.src)
			got := render(toks)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *Error", err)
				}
				got = "error " + err.Error()
			}
			if got != c.want {
				t.Errorf("Tokenize(%s, %q)\n got %s\nwant %s", d, c.src, got, c.want)
			}
			if err == nil {
				checkTokenInvariants(t, c.src, toks)
			}
		})
	}
}

func TestTokenizeSnowflake(t *testing.T) {
	runLexCases(t, Snowflake, []lexCase{
		{"words", "CREATE role IF NOT EXISTS a_b$1", "w:CREATE w:role w:IF w:NOT w:EXISTS w:a_b$1"},
		{"ident doubling", `"a""b" "x.y"`, `i:"a""b" i:"x.y"`},
		{"string doubling", `'it''s'`, `s:'it''s'`},
		{"string backslash", `'a\'b' x`, `s:'a\'b' w:x`},
		{"string backslash backslash", `'a\\' x`, `s:'a\\' w:x`},
		{"backslash hides end quote", `'a\' x'`, `s:'a\' x'`},
		{"dollar body", "AS $$ select ';' -- $$;", "w:AS d:$$ select ';' -- $$ p:;"},
		{"dollar alone", "$1", "o:$ n:1"},
		{"comments", "a -- x\nb // y\r\nc /* /* z */ d", "w:a c:-- x w:b c:// y w:c c:/* /* z */ w:d"},
		{"numbers", "1 2.5 3e10 4. 1e", "n:1 n:2.5 n:3e10 n:4 p:. n:1 w:e"},
		{"operators", "a||b <> c != d::e => =*", "w:a o:|| w:b o:<> w:c o:!= w:d o::: w:e o:=> o:= o:*"},
		{"punct", "f(a, b.c);", "w:f p:( w:a p:, w:b p:. w:c p:) p:;"},
		{"no GO separator", "GO\n", "w:GO"},
		{"brackets are punct", "[x]", "p:[ w:x p:]"},
		{"non-ascii outside quotes", "é", "o:é"},
		{"control chars inside strings and comments", "'a\tb\x01' -- \x02", "s:'a\tb\x01' c:-- \x02"},
		{"unterminated string", "x\n  'abc", "error 2:3: unterminated string literal"},
		{"unterminated string after backslash", `'abc\'`, "error 1:1: unterminated string literal"},
		{"unterminated ident", `a "b`, "error 1:3: unterminated quoted identifier"},
		{"empty ident", `""`, "error 1:1: empty quoted identifier"},
		{"control in ident", "\"a\x01\"", "error 1:3: control character U+0001 in quoted identifier"},
		{"unterminated comment", "a\n/* x", "error 2:1: unterminated comment"},
		{"comments do not nest", "/* /* */ */", "c:/* /* */ o:* o:/"},
		{"unterminated body", "é $$ x", "error 1:3: unterminated dollar-quoted body"},
		{"control char", "ab\n é\x07", "error 2:3: control character U+0007"},
		{"del", "a\x7f", "error 1:2: control character U+007F"},
		{"form feed", "a\fb", "error 1:2: control character U+000C"},
		{"nul in string", "x 'a\x00b'", "error 1:5: nul character"},
		{"nul in comment", "-- \x00", "error 1:4: nul character"},
		{"invalid utf8", "'a\xffb'", "error 1:3: invalid utf-8 encoding"},
		{"earliest error wins", "'abc\x00", "error 1:1: unterminated string literal"},
		{"empty", "", ""},
	})
}

func TestTokenizeRedshift(t *testing.T) {
	runLexCases(t, Redshift, []lexCase{
		{"doubling", `'a''b' "c""d"`, `s:'a''b' i:"c""d"`},
		{"backslash escapes conservatively", `'a\'b' x`, `s:'a\'b' w:x`},
		{"E string", `E'a\'b' e'c'`, `s:E'a\'b' s:e'c'`},
		{"N is a word", `N'x'`, `w:N s:'x'`},
		{"dollar", "AS $$ a; 'b $$", "w:AS d:$$ a; 'b $$"},
		{"tagged dollar", "$fn$ x $$ y $fn$ z", "d:$fn$ x $$ y $fn$ w:z"},
		{"dollar param", "$1", "o:$ n:1"},
		{"word with dollar", "a$b$ c", "w:a$b$ w:c"},
		{"nested comments", "a /* x /* y */ z */ b -- c\nd", "w:a c:/* x /* y */ z */ w:b c:-- c w:d"},
		{"slashes are not comments", "a // b", "w:a o:/ o:/ w:b"},
		{"cast", "x::int", "w:x o::: w:int"},
		{"unterminated nested comment", "/* /* */", "error 1:1: unterminated comment"},
		{"unterminated tagged body", "\n\n  $a$ x $b$", "error 3:3: unterminated dollar-quoted body"},
		{"unterminated E string", `x E'a\'`, "error 1:3: unterminated string literal"},
		{"GO is a word", "GO", "w:GO"},
	})
}

func TestTokenizeSynapse(t *testing.T) {
	runLexCases(t, Synapse, []lexCase{
		{"N string", `N'it''s' n'x' 'y'`, `s:N'it''s' s:n'x' s:'y'`},
		{"backslash is ordinary", `'a\' x`, `s:'a\' w:x`},
		{"bracket ident", "[a]]b] [x y]", "i:[a]]b] i:[x y]"},
		{"quoted ident", `"a""b"`, `i:"a""b"`},
		{"variables", "@sql #tmp @@ROWCOUNT", "w:@sql w:#tmp w:@@ROWCOUNT"},
		{"schema scope", "ON SCHEMA::[x]", "w:ON w:SCHEMA o::: i:[x]"},
		{"nested comments", "/* a /* b */ c */ x", "c:/* a /* b */ c */ w:x"},
		{"hex", "0x1F", "n:0x1F"},
		{"GO line", "a;\nGO\nb", "w:a p:; g:GO w:b"},
		{"GO lower case with blanks and count", "a\n  go 3 \r\nb", "w:a g:go 3 w:b"},
		{"GO at start and end", "GO\nx\nGo", "g:GO w:x g:Go"},
		{"GO after token on line", "a GO\n", "w:a w:GO"},
		{"GO followed by text", "a\nGO x\n", "w:a w:GO w:x"},
		{"GOTO", "a\nGOTO\n", "w:a w:GOTO"},
		{"GO in string", "N'\nGO\n'", "s:N'\nGO\n'"},
		{"GO in comment", "/*\nGO\n*/", "c:/*\nGO\n*/"},
		{"GO after comment on same line", "/* x */ GO\n", "c:/* x */ w:GO"},
		{"GO after line comment", "a -- x\nGO", "w:a c:-- x g:GO"},
		{"GO with count no blank", "a\nGO2", "w:a w:GO2"},
		{"dollar is not a body", "$$", "o:$ o:$"},
		{"unterminated bracket", "x\n[ab", "error 2:1: unterminated quoted identifier"},
		{"unterminated N string", "N'ab''", "error 1:1: unterminated string literal"},
		{"unterminated comment", "/* /* */", "error 1:1: unterminated comment"},
		{"control char", "[a]\x1b", "error 1:4: control character U+001B"},
	})
}

func TestTokenizeUnknownDialect(t *testing.T) {
	if _, err := Tokenize("oracle", "x"); err == nil {
		t.Fatal("no error for an unknown dialect")
	}
}

func TestParseDialect(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Dialect
		ok   bool
	}{{"snowflake", Snowflake, true}, {" Redshift ", Redshift, true}, {"SYNAPSE", Synapse, true}, {"tsql", "", false}, {"", "", false}} {
		got, err := ParseDialect(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("ParseDialect(%q) = %q, %v", c.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "snowflake, redshift, synapse") {
			t.Errorf("error %q does not list the accepted names", err)
		}
	}
}

func TestTokenKindString(t *testing.T) {
	if Word.String() != "word" || BatchSep.String() != "batch separator" || TokenKind(99).String() != "TokenKind(99)" {
		t.Error("TokenKind.String")
	}
}

// checkTokenInvariants checks that every token's text is the source at its position,
// that tokens are in order without overlap, that only whitespace lies between them and
// that Line/Col agree with Offset.
func checkTokenInvariants(t *testing.T, src string, toks []Token) {
	t.Helper()
	end := 0
	for i, tk := range toks {
		if tk.Text == "" {
			t.Fatalf("token %d is empty", i)
		}
		if tk.Pos.Offset < end || tk.Pos.Offset+len(tk.Text) > len(src) {
			t.Fatalf("token %d at %d out of order or bounds (previous end %d, len %d)", i, tk.Pos.Offset, end, len(src))
		}
		if src[tk.Pos.Offset:tk.Pos.Offset+len(tk.Text)] != tk.Text {
			t.Fatalf("token %d text %q is not the source at %d", i, tk.Text, tk.Pos.Offset)
		}
		if gap := src[end:tk.Pos.Offset]; strings.Trim(gap, " \t\r\n") != "" {
			t.Fatalf("non-blank %q skipped before token %d", gap, i)
		}
		if want := advance(startPos, src[:tk.Pos.Offset]); want != tk.Pos {
			t.Fatalf("token %d at %+v, want %+v", i, tk.Pos, want)
		}
		end = tk.Pos.Offset + len(tk.Text)
	}
	if gap := src[end:]; strings.Trim(gap, " \t\r\n") != "" {
		t.Fatalf("non-blank tail %q skipped", gap)
	}
}
