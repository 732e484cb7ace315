package store

import (
	"context"
	"database/sql"
	"sync"
)

// Every statement of this package is compiled once per connection and kept: on
// SQLite compiling a statement costs more than running a point write (a sequential
// create spent a sixth of its CPU in sqlite3_prepare). PostgreSQL needs none of this:
// pgx's stdlib driver keeps its own cache of prepared statements per connection.
//
// A statement run on a pool is prepared on the pool at once. One run in a transaction
// cannot be: preparing on the writer pool needs its one connection, which the
// transaction holds. So it runs unprepared and is marked wanted, and the write that
// ran it prepares what is wanted once its transaction has ended (fillWanted); from
// then on transactions use the prepared statement (Tx.StmtContext reuses it on the
// connection it was prepared on).

// maxStmts bounds the kept statements of a pool: the package has a fixed set of
// statement texts, far fewer than this.
const maxStmts = 256

// stmtCache keeps the prepared statements of one pool by their text.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// wanted are the texts run in a transaction before they were prepared.
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// lookup returns the prepared statement of query, or nil (marking it wanted).
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[query]
	if st == nil && len(c.m)+len(c.wanted) < maxStmts {
		c.wanted[query] = true
	}
	return st
}

// prepared returns the prepared statement of query, preparing it now if need be; nil
// when it cannot be prepared (the caller runs it unprepared and sees the error).
// Never called while the caller holds a connection of c.db.
func (c *stmtCache) prepared(ctx context.Context, query string) *sql.Stmt {
	if st := c.lookup(query); st != nil {
		return st
	}
	c.fillWanted(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// fillWanted prepares the wanted statements. Never called while the caller holds a
// connection of c.db.
func (c *stmtCache) fillWanted(ctx context.Context) {
	c.mu.Lock()
	if len(c.wanted) == 0 {
		c.mu.Unlock()
		return
	}
	var todo []string
	for q := range c.wanted {
		todo = append(todo, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range todo {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // run unprepared, where its error is reported
		}
		c.mu.Lock()
		if c.m[q] == nil {
			c.m[q], st = st, nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

// close closes the kept statements.
func (c *stmtCache) close() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	clear(c.m)
	return errs
}
