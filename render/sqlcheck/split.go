package sqlcheck

import "strings"

// Statement is one statement of a script.
type Statement struct {
	SQL    string  // source text from the first to the last token, without the terminating ';'
	Pos    Pos     // position of SQL in the script
	Tokens []Token // the statement's tokens, without comments and without the terminating ';'
}

// Split tokenizes src and splits it into statements at top-level ';' and, for synapse,
// at GO batch lines. Pieces that hold only comments (or nothing) are dropped. In synapse,
// a CREATE/ALTER PROCEDURE, FUNCTION, TRIGGER or VIEW statement runs to the end of its
// batch (its body may hold ';'). A lexical problem is returned as an *Error.
func Split(d Dialect, src string) ([]Statement, error) {
	toks, err := tokenize(d, src, startPos)
	if err != nil {
		return nil, err
	}
	stmts, _ := splitTokens(d, src, startPos.Offset, toks)
	return stmts, nil
}

// splitTokens splits the tokens of src (whose first byte has offset base). batch[i] is
// the synapse batch number of statement i.
func splitTokens(d Dialect, src string, base int, toks []Token) (stmts []Statement, batch []int) {
	all := make([]Token, 0, len(toks)) // non-comment tokens; statements are slices of it
	var cur []Token                    // non-comment tokens of the current statement
	toBatchEnd := false
	batches := d.spec().batches
	nbatch := 0
	flush := func() {
		if len(cur) > 0 && cur[len(cur)-1].Kind == Punct && cur[len(cur)-1].Text == ";" {
			cur = cur[:len(cur)-1]
		}
		if len(cur) > 0 {
			first, last := cur[0], cur[len(cur)-1]
			stmts = append(stmts, Statement{
				SQL:    src[first.Pos.Offset-base : last.Pos.Offset-base+len(last.Text)],
				Pos:    first.Pos,
				Tokens: cur[:len(cur):len(cur)],
			})
			batch = append(batch, nbatch)
		}
		cur = all[len(all):]
		toBatchEnd = false
	}
	for _, t := range toks {
		switch {
		case t.Kind == Comment:
			continue
		case t.Kind == BatchSep:
			flush()
			nbatch++
			continue
		case t.Kind == Punct && t.Text == ";" && !toBatchEnd:
			flush()
			continue
		}
		all = append(all, t)
		cur = all[len(all)-len(cur)-1:]
		if batches && len(cur) <= 4 && !toBatchEnd {
			toBatchEnd = runsToBatchEnd(cur)
		}
	}
	flush()
	return stmts, batch
}

// runsToBatchEnd reports whether a synapse statement starting with toks is a module
// definition whose body runs to the end of the batch.
func runsToBatchEnd(toks []Token) bool {
	i := 0
	word := func(ws ...string) bool {
		if i >= len(toks) || toks[i].Kind != Word {
			return false
		}
		for _, w := range ws {
			if strings.EqualFold(toks[i].Text, w) {
				i++
				return true
			}
		}
		return false
	}
	if !word("CREATE", "ALTER") {
		return false
	}
	if word("OR") && !word("ALTER") {
		return false
	}
	return word("PROCEDURE", "PROC", "FUNCTION", "TRIGGER", "VIEW")
}

// startsBatch reports whether a synapse statement must be the first of its batch.
func startsBatch(toks []Token) bool {
	if runsToBatchEnd(toks) {
		return true
	}
	return len(toks) >= 2 && toks[0].Kind == Word && toks[1].Kind == Word &&
		strings.EqualFold(toks[0].Text, "CREATE") && strings.EqualFold(toks[1].Text, "SCHEMA")
}
