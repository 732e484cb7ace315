package sqlcheck

import "strings"

// Parsed is one statement accepted by its dialect's closed grammar, with the values its
// tokens carry: what a reader of the statement (the platform model in render/simulate)
// needs without writing the statement forms down again.
type Parsed struct {
	// Shape is the name of the shape that accepted the statement.
	Shape string
	// SQL is the statement's text without the terminating ';'.
	SQL string
	// Words are the statement's bare words, upper-cased, in order (keywords and unquoted
	// names).
	Words []string
	// Idents are the values of the quoted identifiers, in order: quotes removed and
	// doubled quote characters undoubled ("a""b" and [a]]b] give a"b and a]b).
	Idents []string
	// Strings are the values of the string literals, in order, unquoted.
	Strings []string
	// Exec is the statement inside an $exec string (sp_executesql N'...'), or the
	// content of a $block body (its Shape a Block shape), or nil.
	Exec *Parsed
	// Batch is the synapse batch number of the statement in its script (ParseScript).
	Batch int
}

// Has reports whether the statement holds the words ws in a row (upper case).
func (p *Parsed) Has(ws ...string) bool {
	for i := 0; i+len(ws) <= len(p.Words); i++ {
		ok := true
		for j, w := range ws {
			if p.Words[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Parse checks one statement like CheckStatement and returns what it holds.
func Parse(d Dialect, sql string) (*Parsed, error) {
	g, gerr := grammarFor(d)
	if !d.valid() {
		return nil, errAt(startPos, "unknown dialect %q", string(d))
	}
	if gerr != nil {
		return nil, errAt(startPos, "internal error: invalid shape list: %v", gerr)
	}
	st, e := g.single(sql)
	if e != nil {
		return nil, e
	}
	p, e := g.parse(st, 0)
	if e != nil {
		return nil, e
	}
	return p, nil
}

// ParseScript checks a whole script like CheckScript and returns its statements in
// order, each with its batch number; the first problem is the error.
func ParseScript(d Dialect, src string) ([]*Parsed, error) {
	if errs := CheckScript(d, src); len(errs) > 0 {
		return nil, errs[0]
	}
	g, _ := grammarFor(d)
	toks, _ := tokenize(d, src, startPos)
	stmts, batch := splitTokens(d, src, 0, toks)
	out := make([]*Parsed, 0, len(stmts))
	for i := range stmts {
		p, e := g.parse(&stmts[i], 0)
		if e != nil {
			return nil, e
		}
		p.Batch = batch[i]
		out = append(out, p)
	}
	return out, nil
}

func (g *grammar) parse(st *Statement, depth int) (*Parsed, *Error) {
	name, e := g.check(st, false)
	if e != nil {
		return nil, e
	}
	p := &Parsed{Shape: name, SQL: st.SQL}
	hasExec, hasBlock := false, false
	for _, s := range g.shapes {
		if s.Name == name {
			hasExec = strings.Contains(s.Pattern, "$exec")
			hasBlock = strings.Contains(s.Pattern, "$block")
			break
		}
	}
	g.collect(p, st.Tokens, depth, hasExec, hasBlock)
	return p, nil
}

// collect records the words, identifiers and strings of toks in p and, where the shape
// has an $exec string (hasExec) or a $block body (hasBlock), parses the first one into
// p.Exec.
func (g *grammar) collect(p *Parsed, toks []Token, depth int, hasExec, hasBlock bool) {
	for _, t := range toks {
		switch t.Kind {
		case Word:
			p.Words = append(p.Words, strings.ToUpper(t.Text))
		case QuotedIdent:
			p.Idents = append(p.Idents, unquoteIdent(t.Text))
		case DollarBody:
			if hasBlock && p.Exec == nil && depth < maxExecDepth {
				if inner, ok := g.parseBlock(t.Text, depth+1); ok {
					p.Exec = inner
				}
			}
		case String:
			v, _ := unquoteString(g.d, t.Text)
			p.Strings = append(p.Strings, v)
			if hasExec && p.Exec == nil && depth < maxExecDepth {
				if inner, ok := g.parseInner(v, depth+1); ok {
					p.Exec = inner
				}
			}
		}
	}
}

// parseInner parses the content of an $exec string, or reports false.
func (g *grammar) parseInner(src string, depth int) (*Parsed, bool) {
	toks, err := tokenize(g.d, src, startPos)
	if err != nil {
		return nil, false
	}
	stmts, _ := splitTokens(g.d, src, 0, toks)
	if len(stmts) != 1 {
		return nil, false
	}
	p, e := g.parse(&stmts[0], depth)
	return p, e == nil
}

// parseBlock parses the content of a $block body, or reports false.
func (g *grammar) parseBlock(body string, depth int) (*Parsed, bool) {
	toks, ok := blockTokens(g.d, body)
	if !ok {
		return nil, false
	}
	m := matcher{g: g, toks: toks, depth: depth, block: true}
	s, ok := m.match()
	if !ok {
		return nil, false
	}
	p := &Parsed{Shape: s.Name, SQL: body[2 : len(body)-2]}
	g.collect(p, toks, depth, false, false)
	return p, true
}

// unquoteIdent returns the value of a quoted identifier token ("x" or [x]).
func unquoteIdent(text string) string {
	if len(text) < 2 {
		return text
	}
	body := text[1 : len(text)-1]
	if text[0] == '[' {
		return strings.ReplaceAll(body, "]]", "]")
	}
	return strings.ReplaceAll(body, `""`, `"`)
}
