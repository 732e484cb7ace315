// Package sqlcheck checks the syntax of the SQL the engine renders for the three scripted
// dialects: Snowflake, Amazon Redshift and Azure Synapse (T-SQL).
//
// Each dialect is one entry of the dialect table (dialect.go): its name, its closed
// grammar and the lexical rules (strings, quoted identifiers, comments, dollar quoting,
// GO batch lines) by which the tokenizer rejects anything lexically broken. A statement is then
// accepted only if it matches one of a closed list of statement shapes written in a small
// pattern language (see Shape). Redshift statements are additionally parsed with
// pg_query (PostgreSQL's own parser), and plpgsql procedure bodies with its plpgsql
// parser, except for shapes marked RedshiftOnly.
//
// This is the only package of the module that uses cgo (through pg_query). With cgo off
// (CGO_ENABLED=0, no C compiler), pg_nocgo.go runs the same C parser compiled to
// WebAssembly (github.com/wasilibs/go-pgquery on wazero) instead: the verdicts and the
// messages are the same, only slower, so a program embedding the engine builds without
// gcc. The package must never import net/http, database/sql or os/exec.
package sqlcheck

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pos is a position in a source text: a 0-based byte Offset, a 1-based Line and a
// 1-based Col that counts runes.
type Pos struct{ Offset, Line, Col int }

// String formats p as "line:col".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// startPos is the position of the first byte of a text.
var startPos = Pos{Offset: 0, Line: 1, Col: 1}

// advance returns the position just after text s when s starts at p.
func advance(p Pos, s string) Pos {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			p.Line++
			p.Col = 1
		} else if c&0xC0 != 0x80 {
			p.Col++
		}
	}
	p.Offset += len(s)
	return p
}

// Error is a syntax problem at a position of the checked text.
type Error struct {
	Pos Pos
	Msg string
}

// Error formats e as "line:col: msg".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

func errAt(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// firstRunes returns at most n runes of s, with line breaks and tabs shown as blanks.
func firstRunes(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if n == 0 {
			break
		}
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		b.WriteRune(r)
		n--
	}
	return b.String()
}

// badByte returns the offset and description of the first NUL byte or invalid UTF-8
// sequence in s, or -1.
func badByte(s string) (int, string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0 {
			return i, "nul character"
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i, "invalid utf-8 encoding"
		}
		i += size
	}
	return -1, ""
}
