//go:build !cgo

package sqlcheck

import (
	pg "github.com/pganalyze/pg_query_go/v6"
	wasm "github.com/wasilibs/go-pgquery"
	wasmparser "github.com/wasilibs/go-pgquery/parser"
)

// pgParserError is the error type of the wasm build's parser; its Cursorpos is a
// 1-based character position in the statement, as in the cgo build.
type pgParserError = wasmparser.Error

// The wasm build of pg_query (github.com/wasilibs/go-pgquery), used when cgo is off.

// pgCount parses sql and returns how many statements it holds. The wasm build has no
// SplitWithParser, so the tree is built and dropped.
func pgCount(sql string) (int, error) {
	tree, err := wasm.Parse(sql)
	if err != nil {
		return 0, err
	}
	return len(tree.GetStmts()), nil
}

// pgParse returns the parse tree of sql.
func pgParse(sql string) (*pg.ParseResult, error) { return wasm.Parse(sql) }

// pgPlpgsql runs the plpgsql compiler over the routine created by sql.
func pgPlpgsql(sql string) error {
	_, err := wasm.ParsePlPgSqlToJSON(sql)
	return err
}
