package sqlcheck

import (
	"fmt"
	"strings"
)

// Dialect names an SQL dialect the engine renders.
type Dialect string

// The dialects sqlcheck knows: the names of the entries of dialects.
const (
	Snowflake Dialect = "snowflake"
	Redshift  Dialect = "redshift"
	Synapse   Dialect = "synapse"
)

// dialectSpec is one entry of the dialect table: a dialect's name, its closed grammar
// and the lexical rules its tokenizer, splitter and matcher follow. Every difference
// between dialects is a field here; the code reads the fields, never the name.
type dialectSpec struct {
	name Dialect
	// shapes is the closed grammar (shapes_<name>.go).
	shapes []Shape
	// batches: a GO line ends a batch; a module definition (CREATE PROCEDURE, VIEW,
	// ...) runs to the end of its batch and must start one (T-SQL).
	batches bool
	// brackets: [x] quotes an identifier, and is the quoting the grammar's $ident
	// accepts (T-SQL); otherwise "x" is.
	brackets bool
	// nationalStrings: N'x' is a string literal (T-SQL).
	nationalStrings bool
	// escapeStrings: E'x' is a string literal (PostgreSQL).
	escapeStrings bool
	// backslashEscapes: a backslash escapes the next character of a string literal.
	backslashEscapes bool
	// slashComments: // starts a line comment (Snowflake).
	slashComments bool
	// nestedComments: /* ... */ comments nest.
	nestedComments bool
	// dollarBodies: $$...$$ quotes a body; taggedDollar: so does $tag$...$tag$
	// (PostgreSQL).
	dollarBodies, taggedDollar bool
	// variables: @ and # are word characters (T-SQL variables, temporary tables).
	variables bool
	// hexNumbers: 0x... is a numeric literal (T-SQL).
	hexNumbers bool
	// pgQuery: every statement is also parsed with pg_query, except those of shapes
	// marked RedshiftOnly.
	pgQuery bool
}

// dialects is the dialect table, one entry per dialect. Adding a dialect is adding an
// entry (and its shapes_<name>.go).
var dialects = []*dialectSpec{
	{name: Snowflake, shapes: snowflakeShapes,
		backslashEscapes: true, slashComments: true, dollarBodies: true},
	{name: Redshift, shapes: redshiftShapes,
		escapeStrings: true, backslashEscapes: true, nestedComments: true,
		dollarBodies: true, taggedDollar: true, pgQuery: true},
	{name: Synapse, shapes: synapseShapes,
		batches: true, brackets: true, nationalStrings: true, nestedComments: true,
		variables: true, hexNumbers: true},
}

// spec returns d's entry of the table, or nil for an unknown dialect.
func (d Dialect) spec() *dialectSpec {
	for _, s := range dialects {
		if s.name == d {
			return s
		}
	}
	return nil
}

func (d Dialect) valid() bool { return d.spec() != nil }

// Dialects lists the dialects sqlcheck knows, in table order.
func Dialects() []Dialect {
	out := make([]Dialect, len(dialects))
	for i, s := range dialects {
		out[i] = s.name
	}
	return out
}

// ParseDialect returns the Dialect named s (case-insensitive, surrounding blanks ignored).
func ParseDialect(s string) (Dialect, error) {
	d := Dialect(strings.ToLower(strings.TrimSpace(s)))
	if d.valid() {
		return d, nil
	}
	names := make([]string, len(dialects))
	for i, spec := range dialects {
		names[i] = string(spec.name)
	}
	return "", fmt.Errorf("unknown dialect %q: accepted names are %s", s, strings.Join(names, ", "))
}
