package sqlcheck

import (
	"fmt"
	"strings"
)

// Shape is one statement form of a dialect's closed grammar.
//
// Pattern is a sequence of space-separated items, matched against the tokens of one
// statement (comments and the terminating ';' excluded); the whole statement must match:
//
//	CREATE         a word (upper-case letters, digits, _ $ @ #): a Word token, any case
//	( ) , . = ; *  punctuation and operators (also || <> :: <= >= != =>): that exact token
//	0              digits: a Number token with that exact text
//	\[  \<  \|     a backslash makes the rest a literal (for [ ] < > | and words like \$x)
//	[ A B ]        optional sequence (may nest)
//	< A | B C >    alternatives, each a non-empty sequence
//	$ident         one quoted identifier: "x" (snowflake, redshift) or [x] (synapse)
//	$name          a dotted name a.b.c whose parts are quoted identifiers or words
//	$string        a string literal: '...' (synapse also N'...'; never E'...')
//	$number        a numeric literal
//	$body          a dollar-quoted body $$...$$ (redshift also $tag$...$tag$)
//	$word          any bare word
//	$parens        a balanced parenthesised group of any tokens
//	$exec          a string literal whose content is itself a statement the same
//	               dialect's shapes accept (EXEC(N'CREATE SCHEMA [x]'))
//	$block         a $$...$$ body whose whole content (';' tokens included, comments
//	               dropped) a Block shape of the same dialect accepts: a Snowflake
//	               Scripting block run by EXECUTE IMMEDIATE
//	$rest          all remaining tokens (use sparingly)
//
// RedshiftOnly marks a Redshift shape that pg_query cannot parse; statements it accepts
// are checked by the shape alone.
//
// Block marks a shape that matches only the content of a $block body, never a
// statement of a script.
//
// Connector marks a statement a connector runs on its own session to look at the
// platform (a SELECT, SHOW, USE or SET of templates/<platform>/connector.sql.tmpl):
// CheckConnector accepts only these shapes, and CheckStatement, CheckScript and Parse
// never do, so no script can hold one.
type Shape struct {
	Name         string
	Pattern      string
	RedshiftOnly bool
	Block        bool
	Connector    bool
}

type nodeKind int

const (
	nWord nodeKind = iota
	nLit
	nNumLit
	nOpt
	nAlt
	nIdent
	nName
	nString
	nNumber
	nBody
	nAnyWord
	nParens
	nExec
	nBlock
	nRest
)

var placeholders = map[string]nodeKind{
	"$ident": nIdent, "$name": nName, "$string": nString, "$number": nNumber, "$body": nBody,
	"$word": nAnyWord, "$parens": nParens, "$exec": nExec, "$block": nBlock, "$rest": nRest,
}

type node struct {
	kind nodeKind
	text string
	seq  []node   // nOpt
	alts [][]node // nAlt
}

type compiledShape struct {
	Shape
	seq []node
}

// grammar is a compiled shape list of one dialect.
type grammar struct {
	d      Dialect
	o      *dialectSpec // d's entry of the dialect table
	shapes []compiledShape
}

// compileShapes compiles the shape list of dialect d.
func compileShapes(d Dialect, shapes []Shape) (*grammar, error) {
	g := &grammar{d: d, o: d.spec()}
	names := map[string]bool{}
	for _, s := range shapes {
		if s.Name == "" {
			return nil, fmt.Errorf("%s shape with pattern %q has no name", d, s.Pattern)
		}
		if names[s.Name] {
			return nil, fmt.Errorf("%s shape %s: duplicate name", d, s.Name)
		}
		names[s.Name] = true
		if s.Block && s.Connector {
			return nil, fmt.Errorf("%s shape %s: Block and Connector exclude each other", d, s.Name)
		}
		if s.RedshiftOnly && !g.o.pgQuery {
			return nil, fmt.Errorf("%s shape %s: RedshiftOnly set on a %s shape", d, s.Name, d)
		}
		seq, err := compilePattern(s.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%s shape %s: %v", d, s.Name, err)
		}
		g.shapes = append(g.shapes, compiledShape{Shape: s, seq: seq})
	}
	return g, nil
}

func compilePattern(pattern string) ([]node, error) {
	p := patternParser{items: strings.Fields(pattern)}
	seq, err := p.seq()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.items) {
		return nil, fmt.Errorf("unexpected %q at item %d", p.items[p.i], p.i+1)
	}
	return seq, nil
}

type patternParser struct {
	items []string
	i     int
}

// seq parses items up to a closing ] | > or the end; the sequence must not be empty.
func (p *patternParser) seq() ([]node, error) {
	var seq []node
	for p.i < len(p.items) {
		it := p.items[p.i]
		switch it {
		case "]", "|", ">":
			if len(seq) == 0 {
				return nil, fmt.Errorf("empty sequence before %q at item %d", it, p.i+1)
			}
			return seq, nil
		case "[":
			p.i++
			inner, err := p.seq()
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.items) || p.items[p.i] != "]" {
				return nil, fmt.Errorf("missing ] for [")
			}
			p.i++
			seq = append(seq, node{kind: nOpt, seq: inner})
			continue
		case "<":
			p.i++
			var alts [][]node
			for {
				inner, err := p.seq()
				if err != nil {
					return nil, err
				}
				alts = append(alts, inner)
				if p.i >= len(p.items) {
					return nil, fmt.Errorf("missing > for <")
				}
				if p.items[p.i] == ">" {
					p.i++
					break
				}
				if p.items[p.i] != "|" {
					return nil, fmt.Errorf("unexpected %q in < >", p.items[p.i])
				}
				p.i++
			}
			seq = append(seq, node{kind: nAlt, alts: alts})
			continue
		}
		n, err := item(it)
		if err != nil {
			return nil, fmt.Errorf("item %d: %v", p.i+1, err)
		}
		seq = append(seq, n)
		p.i++
	}
	if len(seq) == 0 {
		return nil, fmt.Errorf("empty pattern")
	}
	return seq, nil
}

func item(it string) (node, error) {
	if strings.HasPrefix(it, "\\") && len(it) > 1 {
		return literal(it[1:])
	}
	if strings.HasPrefix(it, "$") {
		if k, ok := placeholders[it]; ok {
			return node{kind: k}, nil
		}
		return node{}, fmt.Errorf("unknown placeholder %q", it)
	}
	return literal(it)
}

func literal(it string) (node, error) {
	isWord, isNum, isPunct := true, true, true
	for i := 0; i < len(it); i++ {
		c := it[i]
		up := c >= 'A' && c <= 'Z' || c == '_' || c == '@' || c == '#'
		isWord = isWord && (up || i > 0 && (isDigit(c) || c == '$'))
		isNum = isNum && isDigit(c)
		isPunct = isPunct && strings.IndexByte("()[]{},.;:=*|<>!+-/%&^~?$", c) >= 0
	}
	switch {
	case isWord:
		return node{kind: nWord, text: it}, nil
	case isNum:
		return node{kind: nNumLit, text: it}, nil
	case isPunct:
		return node{kind: nLit, text: it}, nil
	}
	return node{}, fmt.Errorf("invalid item %q (words are upper-case; placeholders start with $)", it)
}

// firstWord is the word every match of seq starts with, or "".
func firstWord(seq []node) string {
	if len(seq) > 0 && seq[0].kind == nWord {
		return seq[0].text
	}
	return ""
}
