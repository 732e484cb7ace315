package sqlcheck

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TokenKind classifies a Token.
type TokenKind int

// The token kinds.
const (
	Word        TokenKind = iota // a bare word: keyword or unquoted name (synapse: also @var, #tmp)
	QuotedIdent                  // "x" (all dialects) or [x] (synapse)
	String                       // a string literal, with its quotes and prefix (N'x', E'x')
	Number                       // a numeric literal
	Punct                        // ( ) , . ; : [ ] { }
	Operator                     // any other symbol, possibly several characters (|| <> :: ...)
	Comment                      // -- ..., // ... (snowflake), /* ... */
	DollarBody                   // $$...$$ or (redshift) $tag$...$tag$
	BatchSep                     // a synapse GO line
)

var tokenKindNames = [...]string{"word", "quoted identifier", "string", "number", "punctuation", "operator", "comment", "dollar body", "batch separator"}

// String returns a lower-case name of k.
func (k TokenKind) String() string {
	if k >= 0 && int(k) < len(tokenKindNames) {
		return tokenKindNames[k]
	}
	return fmt.Sprintf("TokenKind(%d)", int(k))
}

// Token is one lexical token: its kind, its exact source text and where it starts.
type Token struct {
	Kind TokenKind
	Text string
	Pos  Pos
}

// multi-character operators, longest first.
var operators = []string{"||", "<>", "!=", "<=", ">=", "::", "=>"}

// Tokenize splits src into the tokens of dialect d. Whitespace (space, tab, CR, LF) is
// dropped; comments are kept as Comment tokens. Every token's Text is the exact source
// text at its Pos. A lexical problem is returned as an *Error.
func Tokenize(d Dialect, src string) ([]Token, error) {
	toks, err := tokenize(d, src, startPos)
	if err != nil {
		return toks, err
	}
	return toks, nil
}

// tokenize is Tokenize with positions starting at base; the error is nil or an *Error.
func tokenize(d Dialect, src string, base Pos) ([]Token, *Error) {
	if !d.valid() {
		return nil, errAt(base, "unknown dialect %q", string(d))
	}
	l := lexer{o: d.spec(), src: src, p: base, toks: make([]Token, 0, len(src)/6+4)}
	lexErr := l.run()
	if off, what := badByte(src); off >= 0 && (lexErr == nil || off+base.Offset < lexErr.Pos.Offset) {
		return nil, errAt(advance(base, src[:off]), "%s", what)
	}
	if lexErr != nil {
		return nil, lexErr
	}
	return l.toks, nil
}

type lexer struct {
	o       *dialectSpec // the dialect's lexical rules
	src     string
	i       int // byte offset in src
	p       Pos // position of src[i]
	lastEnd int // end offset (in src) of the last token
	toks    []Token
}

func (l *lexer) emit(kind TokenKind, n int) {
	text := l.src[l.i : l.i+n]
	l.toks = append(l.toks, Token{Kind: kind, Text: text, Pos: l.p})
	l.p = advance(l.p, text)
	l.i += n
	l.lastEnd = l.i
}

// errAfter is an error at the position n bytes after the current one.
func (l *lexer) errAfter(n int, format string, args ...any) *Error {
	return errAt(advance(l.p, l.src[l.i:l.i+n]), format, args...)
}

func isCtl(c byte) bool { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordStart(c byte) bool { return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isWordPart(c byte) bool { return isWordStart(c) || isDigit(c) || c == '$' }

func (l *lexer) run() *Error {
	src := l.src
	for l.i < len(src) {
		c := src[l.i]
		switch c {
		case ' ', '\t', '\r', '\n':
			l.p = advance(l.p, src[l.i:l.i+1])
			l.i++
			continue
		}
		if isCtl(c) {
			if c == 0 {
				return l.errAfter(0, "nul character")
			}
			return l.errAfter(0, "control character U+%04X", c)
		}
		if l.o.batches {
			if n := l.goLine(); n > 0 {
				l.emit(BatchSep, n)
				continue
			}
		}
		kind, n, err := l.next()
		if err != nil {
			return err
		}
		l.emit(kind, n)
	}
	return nil
}

// goLine returns the length of a GO batch separator starting at l.i, or 0.
func (l *lexer) goLine() int {
	src := l.src
	if l.i+2 > len(src) || !strings.EqualFold(src[l.i:l.i+2], "go") {
		return 0
	}
	// GO must be the first thing on its line: only blanks since the last token's line.
	if len(l.toks) > 0 && strings.IndexByte(src[l.lastEnd:l.i], '\n') < 0 {
		return 0
	}
	n := 2
	j := l.i + 2
	k := j
	for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
		k++
	}
	if k > j && k < len(src) && isDigit(src[k]) {
		for k < len(src) && isDigit(src[k]) {
			k++
		}
		n = k - l.i
		j = k
	}
	for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
		j++
	}
	if j < len(src) && src[j] != '\n' {
		return 0
	}
	return n
}

// next lexes the token at l.i (not whitespace, not a control character).
func (l *lexer) next() (TokenKind, int, *Error) {
	src := l.src[l.i:]
	c := src[0]
	var c1 byte
	if len(src) > 1 {
		c1 = src[1]
	}
	switch {
	case c == '-' && c1 == '-', l.o.slashComments && c == '/' && c1 == '/':
		n := strings.IndexByte(src, '\n')
		if n < 0 {
			n = len(src)
		}
		if n > 0 && src[n-1] == '\r' {
			n--
		}
		return Comment, n, nil
	case c == '/' && c1 == '*':
		return l.blockComment(src)
	case c == '\'':
		return l.str(src, 0)
	case (c == 'N' || c == 'n') && c1 == '\'' && l.o.nationalStrings:
		return l.str(src, 1)
	case (c == 'E' || c == 'e') && c1 == '\'' && l.o.escapeStrings:
		return l.str(src, 1)
	case c == '"':
		return l.quoted(src, '"')
	case c == '[' && l.o.brackets:
		return l.quoted(src, ']')
	case c == '$':
		if n := l.dollarTag(src); n > 0 {
			end := strings.Index(src[n:], src[:n])
			if end < 0 {
				return 0, 0, l.errAfter(0, "unterminated dollar-quoted body")
			}
			return DollarBody, n + end + n, nil
		}
		return Operator, 1, nil
	case isWordStart(c), l.o.variables && (c == '@' || c == '#'):
		n := 1
		for n < len(src) && (isWordPart(src[n]) || l.o.variables && (src[n] == '@' || src[n] == '#')) {
			n++
		}
		return Word, n, nil
	case isDigit(c):
		return Number, number(src, l.o.hexNumbers), nil
	case strings.IndexByte("(),.;:[]{}", c) >= 0:
		if c == ':' && c1 == ':' {
			return Operator, 2, nil
		}
		return Punct, 1, nil
	case c >= utf8.RuneSelf:
		_, n := utf8.DecodeRuneInString(src)
		return Operator, n, nil
	}
	for _, op := range operators {
		if strings.HasPrefix(src, op) {
			return Operator, len(op), nil
		}
	}
	return Operator, 1, nil
}

// dollarTag returns the length of a dollar-quote delimiter ($$ or, for redshift, $tag$) at
// the start of src, or 0.
func (l *lexer) dollarTag(src string) int {
	if !l.o.dollarBodies {
		return 0
	}
	if strings.HasPrefix(src, "$$") {
		return 2
	}
	if !l.o.taggedDollar || len(src) < 3 || !isWordStart(src[1]) {
		return 0
	}
	for n := 2; n < len(src); n++ {
		switch {
		case src[n] == '$':
			return n + 1
		case isWordStart(src[n]) || isDigit(src[n]):
		default:
			return 0
		}
	}
	return 0
}

func (l *lexer) blockComment(src string) (TokenKind, int, *Error) {
	nested := l.o.nestedComments
	depth := 1
	for n := 2; n < len(src)-1; n++ {
		switch {
		case src[n] == '*' && src[n+1] == '/':
			depth--
			n++
			if depth == 0 || !nested {
				return Comment, n + 1, nil
			}
		case nested && src[n] == '/' && src[n+1] == '*':
			depth++
			n++
		}
	}
	return 0, 0, l.errAfter(0, "unterminated comment")
}

// str lexes a string literal whose opening quote is at src[skip].
func (l *lexer) str(src string, skip int) (TokenKind, int, *Error) {
	backslash := l.o.backslashEscapes
	for n := skip + 1; n < len(src); n++ {
		switch src[n] {
		case '\\':
			if backslash {
				n++
			}
		case '\'':
			if n+1 < len(src) && src[n+1] == '\'' {
				n++
				continue
			}
			return String, n + 1, nil
		}
	}
	return 0, 0, l.errAfter(0, "unterminated string literal")
}

// quoted lexes a quoted identifier opened by src[0] and closed by end (doubled to escape).
func (l *lexer) quoted(src string, end byte) (TokenKind, int, *Error) {
	for n := 1; n < len(src); n++ {
		switch c := src[n]; {
		case c == end:
			if n+1 < len(src) && src[n+1] == end {
				n++
				continue
			}
			if n == 1 {
				return 0, 0, l.errAfter(0, "empty quoted identifier")
			}
			return QuotedIdent, n + 1, nil
		case isCtl(c):
			return 0, 0, l.errAfter(n, "control character U+%04X in quoted identifier", c)
		}
	}
	return 0, 0, l.errAfter(0, "unterminated quoted identifier")
}

// number returns the length of the numeric literal at the start of src; hex accepts
// 0x literals too.
func number(src string, hex bool) int {
	n := 0
	if hex && len(src) > 2 && src[0] == '0' && (src[1]|0x20) == 'x' {
		n = 2
		for n < len(src) && (isDigit(src[n]) || (src[n]|0x20) >= 'a' && (src[n]|0x20) <= 'f') {
			n++
		}
		return n
	}
	for n < len(src) && isDigit(src[n]) {
		n++
	}
	if n+1 < len(src) && src[n] == '.' && isDigit(src[n+1]) {
		n++
		for n < len(src) && isDigit(src[n]) {
			n++
		}
	}
	if n < len(src) && (src[n]|0x20) == 'e' {
		k := n + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			for k < len(src) && isDigit(src[k]) {
				k++
			}
			n = k
		}
	}
	return n
}
