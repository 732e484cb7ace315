package sqlcheck

import "strings"

// maxExecDepth bounds the nesting of $exec strings.
const maxExecDepth = 4

// matcher matches the tokens of one statement against shapes. Matching is by sets of
// end positions, so every alternative is explored (no greedy dead ends).
type matcher struct {
	g     *grammar
	toks  []Token
	far   int // furthest token index at which some item failed
	depth int // $exec nesting
	// block: m.toks are the content of a $block body, matched by Block shapes only.
	block bool
	// connector: m.toks are a connector's statement, matched by Connector shapes only.
	connector bool
}

func (m *matcher) fail(i int) {
	if i > m.far {
		m.far = i
	}
}

// match returns the first shape that accepts all of m.toks.
func (m *matcher) match() (*compiledShape, bool) {
	for k := range m.g.shapes {
		s := &m.g.shapes[k]
		if s.Block != m.block || s.Connector != m.connector {
			continue
		}
		if w := firstWord(s.seq); w != "" && (len(m.toks) == 0 || m.toks[0].Kind != Word || !strings.EqualFold(m.toks[0].Text, w)) {
			m.fail(0)
			continue
		}
		ends := m.seq(s.seq, []int{0})
		full := false
		for _, e := range ends {
			if e == len(m.toks) {
				full = true
			} else {
				m.fail(e)
			}
		}
		if full {
			return s, true
		}
	}
	return nil, false
}

func addEnd(set []int, e int) []int {
	for _, x := range set {
		if x == e {
			return set
		}
	}
	return append(set, e)
}

// seq returns the end positions of matches of seq starting at any of starts.
func (m *matcher) seq(seq []node, starts []int) []int {
	cur := starts
	for i := range seq {
		var next []int
		for _, p := range cur {
			next = m.one(&seq[i], p, next)
		}
		if len(next) == 0 {
			return nil
		}
		cur = next
	}
	return cur
}

// one adds to ends the end positions of matches of n starting at token p.
func (m *matcher) one(n *node, p int, ends []int) []int {
	switch n.kind {
	case nOpt:
		ends = addEnd(ends, p)
		for _, e := range m.seq(n.seq, []int{p}) {
			ends = addEnd(ends, e)
		}
		return ends
	case nAlt:
		for _, alt := range n.alts {
			for _, e := range m.seq(alt, []int{p}) {
				ends = addEnd(ends, e)
			}
		}
		return ends
	case nRest:
		return addEnd(ends, len(m.toks))
	}
	if p >= len(m.toks) {
		m.fail(p)
		return ends
	}
	t := &m.toks[p]
	ok := false
	switch n.kind {
	case nWord:
		ok = t.Kind == Word && strings.EqualFold(t.Text, n.text)
	case nLit:
		ok = (t.Kind == Punct || t.Kind == Operator) && t.Text == n.text
	case nNumLit:
		ok = t.Kind == Number && t.Text == n.text
	case nIdent:
		ok = m.isIdent(t)
	case nString:
		ok = m.isString(t)
	case nNumber:
		ok = t.Kind == Number
	case nBody:
		ok = t.Kind == DollarBody
	case nAnyWord:
		ok = t.Kind == Word
	case nName:
		if t.Kind != Word && !m.isIdent(t) {
			break
		}
		ends = addEnd(ends, p+1)
		for q := p + 1; q+1 < len(m.toks) && m.toks[q].Kind == Punct && m.toks[q].Text == "."; q += 2 {
			if u := &m.toks[q+1]; u.Kind != Word && !m.isIdent(u) {
				m.fail(q + 1)
				break
			}
			ends = addEnd(ends, q+2)
		}
		return ends
	case nParens:
		if t.Kind != Punct || t.Text != "(" {
			break
		}
		depth := 0
		for q := p; q < len(m.toks); q++ {
			if m.toks[q].Kind != Punct {
				continue
			}
			switch m.toks[q].Text {
			case "(":
				depth++
			case ")":
				depth--
				if depth == 0 {
					return addEnd(ends, q+1)
				}
			}
		}
		m.fail(len(m.toks))
		return ends
	case nExec:
		ok = m.isString(t) && m.execOK(t.Text)
	case nBlock:
		ok = t.Kind == DollarBody && m.blockOK(t.Text)
	}
	if !ok {
		m.fail(p)
		return ends
	}
	return addEnd(ends, p+1)
}

func (m *matcher) isIdent(t *Token) bool {
	if t.Kind != QuotedIdent {
		return false
	}
	if m.g.o.brackets {
		return t.Text[0] == '['
	}
	return t.Text[0] == '"'
}

func (m *matcher) isString(t *Token) bool {
	if t.Kind != String {
		return false
	}
	return t.Text[0] == '\'' || m.g.o.nationalStrings && (t.Text[0] == 'N' || t.Text[0] == 'n')
}

// execOK reports whether the content of string literal lit is one statement that the
// grammar accepts.
func (m *matcher) execOK(lit string) bool {
	if m.depth >= maxExecDepth {
		return false
	}
	inner, ok := unquoteString(m.g.d, lit)
	if !ok {
		return false
	}
	toks, err := tokenize(m.g.d, inner, startPos)
	if err != nil {
		return false
	}
	stmts, _ := splitTokens(m.g.d, inner, 0, toks)
	return len(stmts) == 1 && m.nested(stmts[0].Tokens, false)
}

// nested reports whether toks, a statement (or, block, a $$ body) inside the one being
// matched, is accepted, at most maxExecDepth levels down.
func (m *matcher) nested(toks []Token, block bool) bool {
	if m.depth >= maxExecDepth {
		return false
	}
	sub := matcher{g: m.g, toks: toks, depth: m.depth + 1, block: block}
	_, ok := sub.match()
	return ok
}

// blockTokens returns the tokens of the content of a $$...$$ body, comments dropped.
func blockTokens(d Dialect, body string) ([]Token, bool) {
	if len(body) < 4 || !strings.HasPrefix(body, "$$") || !strings.HasSuffix(body, "$$") {
		return nil, false
	}
	toks, err := tokenize(d, body[2:len(body)-2], startPos)
	if err != nil {
		return nil, false
	}
	out := toks[:0]
	for _, t := range toks {
		if t.Kind != Comment {
			out = append(out, t)
		}
	}
	return out, true
}

// blockOK reports whether the content of the $$...$$ body is accepted whole by a Block
// shape of the grammar.
func (m *matcher) blockOK(body string) bool {
	if m.depth >= maxExecDepth {
		return false
	}
	toks, ok := blockTokens(m.g.d, body)
	return ok && m.nested(toks, true)
}

// unquoteString returns the content of a string literal token of dialect d.
func unquoteString(d Dialect, lit string) (string, bool) {
	if lit != "" && lit[0] != '\'' {
		lit = lit[1:] // N'...' or E'...'
	}
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", false
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && d.spec().backslashEscapes && i+1 < len(body):
			i++
			b.WriteByte(body[i])
		case c == '\'' && i+1 < len(body) && body[i+1] == '\'':
			i++
			b.WriteByte('\'')
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
