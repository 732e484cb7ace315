package sqlcheck

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

var (
	grammarsOnce sync.Once
	grammars     map[Dialect]*grammar
	grammarErrs  map[Dialect]error
)

// grammarFor returns the compiled package shape list of d.
func grammarFor(d Dialect) (*grammar, error) {
	grammarsOnce.Do(func() {
		grammars = map[Dialect]*grammar{}
		grammarErrs = map[Dialect]error{}
		for _, s := range dialects {
			grammars[s.name], grammarErrs[s.name] = compileShapes(s.name, s.shapes)
		}
	})
	return grammars[d], grammarErrs[d]
}

// ShapeNames lists the names of the shapes of d's closed grammar, in grammar order (nil
// for an unknown dialect).
func ShapeNames(d Dialect) []string {
	var list []Shape
	if s := d.spec(); s != nil {
		list = s.shapes
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Name
	}
	return out
}

// CheckStatement checks one statement (with or without its trailing ';', comments
// allowed) and returns the name of the shape that accepted it. The error is an *Error
// with a position in sql.
func CheckStatement(d Dialect, sql string) (shape string, err error) {
	g, e := grammarOf(d)
	if e != nil {
		return "", e
	}
	shape, e = g.checkStatement(sql)
	if e != nil {
		return "", e
	}
	return shape, nil
}

// grammarOf returns the compiled grammar of d, or the error a check in d reports.
func grammarOf(d Dialect) (*grammar, *Error) {
	g, gerr := grammarFor(d)
	if !d.valid() {
		return nil, errAt(startPos, "unknown dialect %q", string(d))
	}
	if gerr != nil {
		return nil, errAt(startPos, "internal error: invalid shape list: %v", gerr)
	}
	return g, nil
}

func (g *grammar) checkStatement(sql string) (string, *Error) {
	st, err := g.single(sql)
	if err != nil {
		return "", err
	}
	return g.check(st, false)
}

// CheckConnector checks one statement a connector runs to look at the platform (with
// or without its trailing ';') against d's Connector shapes only, and returns the name
// of the shape that accepted it. A script statement is not a connector statement: it
// fails here, as a connector statement fails CheckStatement. The error is an *Error
// with a position in sql.
func CheckConnector(d Dialect, sql string) (shape string, err error) {
	g, e := grammarOf(d)
	if e != nil {
		return "", e
	}
	st, e := g.single(sql)
	if e != nil {
		return "", e
	}
	shape, e = g.check(st, true)
	if e != nil {
		return "", e
	}
	return shape, nil
}

// single tokenizes sql and returns its only statement.
func (g *grammar) single(sql string) (*Statement, *Error) {
	toks, err := tokenize(g.d, sql, startPos)
	if err != nil {
		return nil, err
	}
	stmts, _ := splitTokens(g.d, sql, 0, toks)
	switch {
	case len(stmts) == 0:
		return nil, errAt(startPos, "empty statement")
	case len(stmts) > 1:
		return nil, errAt(stmts[1].Pos, "more than one statement")
	}
	return &stmts[0], nil
}

// CheckScript checks a whole script text (comments, several statements, synapse GO
// lines) and returns every problem found, with its position in src; nil means the
// script is accepted.
func CheckScript(d Dialect, src string) []*Error {
	if !d.valid() {
		return []*Error{errAt(startPos, "unknown dialect %q", string(d))}
	}
	g, gerr := grammarFor(d)
	if gerr != nil {
		return []*Error{errAt(startPos, "internal error: invalid shape list: %v", gerr)}
	}
	return g.checkScript(src)
}

func (g *grammar) checkScript(src string) []*Error {
	toks, err := tokenize(g.d, src, startPos)
	if err != nil {
		return []*Error{err}
	}
	errs := reviewCopy(g.d, toks)
	stmts, batch := splitTokens(g.d, src, 0, toks)
	for i := range stmts {
		if g.o.batches && i > 0 && batch[i] == batch[i-1] && startsBatch(stmts[i].Tokens) {
			errs = append(errs, errAt(stmts[i].Pos, "statement must be the first in its batch: add a GO line before it"))
		}
		if _, e := g.check(&stmts[i], false); e != nil {
			errs = append(errs, e)
		}
	}
	return errs
}

// ReviewCopy is the header line of a redacted render (a review copy): its secrets read
// "<REDACTED>", so running it would set that literal as a password. CheckScript refuses
// a script that holds it.
const ReviewCopy = "review copy: secrets replaced, do not run"

// redactedValue is the placeholder of platforms.Redacted (sqlcheck does not import
// platforms).
const redactedValue = "<REDACTED>"

// reviewCopy reports the review-copy header and every string literal that holds the
// redaction placeholder: a script with either is not meant to run.
func reviewCopy(d Dialect, toks []Token) []*Error {
	var errs []*Error
	for _, t := range toks {
		switch t.Kind {
		case Comment:
			if strings.Contains(t.Text, ReviewCopy) {
				errs = append(errs, errAt(t.Pos, "this is a review copy (rendered with redact): its secrets are placeholders; render it again without redact to get a script to run"))
			}
		case String:
			if v, ok := unquoteString(d, t.Text); ok && strings.Contains(v, redactedValue) {
				errs = append(errs, errAt(t.Pos, "string holds the placeholder %s, not a secret: render the script without redact", redactedValue))
			}
		}
	}
	return errs
}

// check checks one split statement: shapes (the Connector shapes when connector is
// set, else the others), then (redshift) pg_query.
func (g *grammar) check(st *Statement, connector bool) (string, *Error) {
	m := matcher{g: g, toks: st.Tokens, connector: connector}
	s, ok := m.match()
	if !ok {
		p := st.Pos
		if m.far < len(st.Tokens) {
			p = st.Tokens[m.far].Pos
		} else if n := len(st.Tokens); n > 0 {
			p = advance(st.Tokens[n-1].Pos, st.Tokens[n-1].Text)
		}
		return "", errAt(p, "statement not in the %s closed grammar: %s%s", g.d, firstRunes(st.SQL, 60), g.expected(st.Tokens, connector))
	}
	if g.o.pgQuery && !s.RedshiftOnly {
		if e := checkPG(st); e != nil {
			return "", e
		}
	}
	return s.Name, nil
}

// maxExpected bounds the statement forms a refusal lists.
const maxExpected = 4

// expected names the statement forms of g that begin with the same words as toks
// (the first two, else the first), for a refusal: "; the forms it accepts that start
// GRANT ROLE: ...". Empty when none does.
func (g *grammar) expected(toks []Token, connector bool) string {
	var first []string
	for _, t := range toks {
		if t.Kind != Word || len(first) == 2 {
			break
		}
		first = append(first, strings.ToUpper(t.Text))
	}
	for n := len(first); n > 0; n-- {
		var forms []string
		for _, s := range g.shapes {
			if s.Block || s.Connector != connector {
				continue
			}
			words := strings.Fields(s.Pattern)
			if len(words) < n || !slices.Equal(words[:n], first[:n]) {
				continue
			}
			forms = append(forms, s.Pattern)
		}
		if len(forms) == 0 {
			continue
		}
		more := ""
		if len(forms) > maxExpected {
			more = fmt.Sprintf(" (and %d more)", len(forms)-maxExpected)
			forms = forms[:maxExpected]
		}
		return fmt.Sprintf("; the forms it accepts that start %s: %s%s", strings.Join(first[:n], " "), strings.Join(forms, " | "), more)
	}
	return ""
}

// plpgsqlMu serializes pg_query's plpgsql parser, which redirects the process's stderr
// while it runs.
var plpgsqlMu sync.Mutex

// checkPG parses a Redshift statement with pg_query and checks plpgsql bodies. Only
// CREATE FUNCTION/PROCEDURE needs the parse tree (to find a plpgsql body); every other
// statement goes through pgCount, which still refuses any syntax error and counts the
// statements. pg_cgo.go and pg_nocgo.go give the parser's two builds.
func checkPG(st *Statement) *Error {
	if !createsRoutine(st) {
		n, err := pgCount(st.SQL)
		if err != nil {
			return pgError(st, err, "pg_query")
		}
		if n != 1 {
			return errAt(st.Pos, "pg_query: expected one statement, found %d", n)
		}
		return nil
	}
	tree, err := pgParse(st.SQL)
	if err != nil {
		return pgError(st, err, "pg_query")
	}
	stmts := tree.GetStmts()
	if len(stmts) != 1 {
		return errAt(st.Pos, "pg_query: expected one statement, found %d", len(stmts))
	}
	fn := stmts[0].GetStmt().GetCreateFunctionStmt()
	if fn == nil {
		return nil
	}
	plpgsql, hasBody := false, false
	for _, o := range fn.GetOptions() {
		de := o.GetDefElem()
		switch {
		case de == nil:
		case de.GetDefname() == "language":
			plpgsql = strings.EqualFold(de.GetArg().GetString_().GetSval(), "plpgsql")
		case de.GetDefname() == "as":
			// pg_query's plpgsql compiler asserts (aborts the process) unless the body is
			// a list of strings: check before calling it.
			items := de.GetArg().GetList().GetItems()
			hasBody = len(items) > 0
			for _, it := range items {
				hasBody = hasBody && it.GetString_() != nil
			}
		}
	}
	if !plpgsql {
		return nil
	}
	if !hasBody || fn.GetSqlBody() != nil {
		return errAt(st.Pos, "plpgsql: no function body given with AS")
	}
	plpgsqlMu.Lock()
	err = pgPlpgsql(st.SQL)
	plpgsqlMu.Unlock()
	if err != nil {
		return plpgsqlError(st, err)
	}
	return nil
}

// createsRoutine reports whether st is CREATE [OR REPLACE] FUNCTION or PROCEDURE.
func createsRoutine(st *Statement) bool {
	var words []string
	for _, t := range st.Tokens {
		if t.Kind == Comment {
			continue
		}
		w := ""
		if t.Kind == Word {
			w = strings.ToUpper(t.Text)
		}
		words = append(words, w)
		if len(words) == 4 {
			break
		}
	}
	if len(words) < 2 || words[0] != "CREATE" {
		return false
	}
	for _, w := range words[1:] {
		if w == "FUNCTION" || w == "PROCEDURE" {
			return true
		}
	}
	return false
}

// pgError maps a pg_query error to the script: Cursorpos is a 1-based character
// position in the statement (Lineno is a line of PostgreSQL's C source, not of ours).
func pgError(st *Statement, err error, who string) *Error {
	var pe *pgParserError
	if !errors.As(err, &pe) {
		return errAt(st.Pos, "%s: %v", who, err)
	}
	p := st.Pos
	if pe.Cursorpos > 0 {
		p = runePos(st.Pos, st.SQL, pe.Cursorpos-1)
	}
	return errAt(p, "%s: %s", who, pe.Message)
}

// runePos returns the position n runes into s, which starts at p (clamped to its end).
func runePos(p Pos, s string, n int) Pos {
	off := 0
	for ; n > 0 && off < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return advance(p, s[:off])
}

var (
	plLineRE = regexp.MustCompile(`near line ([0-9]+)`)
)

// plpgsqlError maps a plpgsql parser error to the script. The parser reports no cursor
// position, only "near line N" of the body (the line of the last statement it
// finished), so the error is placed at the first non-blank character from the start of
// line N of the dollar-quoted body: the problem is there or a little after it.
func plpgsqlError(st *Statement, err error) *Error {
	var pe *pgParserError
	if !errors.As(err, &pe) {
		return errAt(st.Pos, "plpgsql: %v", err)
	}
	var body *Token
	for i := range st.Tokens {
		if st.Tokens[i].Kind == DollarBody {
			body = &st.Tokens[i]
		}
	}
	msg := "plpgsql: " + pe.Message
	if body == nil {
		return errAt(st.Pos, "%s", msg)
	}
	tag := strings.IndexByte(body.Text[1:], '$') + 2
	content := body.Text[tag : len(body.Text)-tag]
	start := 0
	if m := plLineRE.FindStringSubmatch(pe.Context); m != nil {
		line, _ := strconv.Atoi(m[1])
		for l := 1; l < line; l++ {
			nl := strings.IndexByte(content[start:], '\n')
			if nl < 0 {
				break
			}
			start += nl + 1
		}
		msg += " (near line " + m[1] + " of the body)"
	}
	off := start
	for off < len(content) && (content[off] == ' ' || content[off] == '\t' || content[off] == '\r' || content[off] == '\n') {
		off++
	}
	return errAt(advance(body.Pos, body.Text[:tag+off]), "%s", msg)
}
