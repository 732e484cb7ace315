//go:build cgo

package sqlcheck

import (
	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// pgParserError is the error type of pg_query's parser; its Cursorpos is a 1-based
// character position in the statement.
type pgParserError = pgparser.Error

// pgCount runs the parser over sql without building the tree and returns how many
// statements it found. SplitWithParser costs about 0.8 µs where Parse costs 6 µs, and
// it refuses every syntax error Parse refuses.
func pgCount(sql string) (int, error) {
	stmts, err := pg.SplitWithParser(sql, true)
	return len(stmts), err
}

// pgParse returns the parse tree of sql.
func pgParse(sql string) (*pg.ParseResult, error) { return pg.Parse(sql) }

// pgPlpgsql runs the plpgsql compiler over the routine created by sql.
func pgPlpgsql(sql string) error {
	_, err := pg.ParsePlPgSqlToJSON(sql)
	return err
}
