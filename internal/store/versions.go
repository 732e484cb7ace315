package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// Version checks are the one read of a GET served from the server's kept body, so
// under load they are most of what the store does. Concurrent Version calls are
// coalesced: while one query runs, the calls that arrive wait, and the next query
// answers all of them at once (up to maxVersionBatch ids, one IN list). Each call is
// still answered by a query that began after the call did, so a write committed
// before a Version call is seen by it, whichever process or replica made it: the
// same guarantee as one query per call, for a fraction of the per-query cost (on
// SQLite most of it is beginning and ending a read transaction on the WAL index, on
// PostgreSQL a round trip).
//
// There is no goroutine of its own: the first caller to find no query running runs
// it (the leader); when it is done and calls wait, it hands the lead to the first of
// them and returns.

// maxVersionBatch bounds the ids of one version query; batchSizes are the sizes of
// the prepared IN lists (a batch uses the smallest that fits, its last id repeated).
const maxVersionBatch = 32

var batchSizes = []int{2, 4, 8, 16, maxVersionBatch}

// versionCall is one Version call waiting for its answer.
type versionCall struct {
	id      int64
	version int64
	err     error
	// lead: woken to run the next query, not with an answer.
	lead bool
	done chan struct{}
}

// versionBatcher coalesces Version calls (see above).
type versionBatcher struct {
	mu      sync.Mutex
	waiting []*versionCall
	running bool
	// one is the single-id query, batch[i] the IN list of batchSizes[i] ids.
	one   *sql.Stmt
	batch []*sql.Stmt
}

// prepareVersions prepares the version queries on s.r.
func (s *sqlStore) prepareVersions(ctx context.Context) error {
	var err error
	b := &s.versions
	if b.one, err = s.r.PrepareContext(ctx, s.d.rebind(`SELECT version FROM integrations WHERE id = ?`)); err != nil {
		return err
	}
	for _, n := range batchSizes {
		q := `SELECT id, version FROM integrations WHERE id IN (?` + strings.Repeat(", ?", n-1) + `)`
		st, err := s.r.PrepareContext(ctx, s.d.rebind(q))
		if err != nil {
			return err
		}
		b.batch = append(b.batch, st)
	}
	return nil
}

// close closes the prepared version queries.
func (b *versionBatcher) close() []error {
	var errs []error
	for _, st := range append([]*sql.Stmt{b.one}, b.batch...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errs
}

// Version implements Store.
func (s *sqlStore) Version(ctx context.Context, id int64) (int64, error) {
	b := &s.versions
	c := &versionCall{id: id, done: make(chan struct{})}
	b.mu.Lock()
	b.waiting = append(b.waiting, c)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if !lead {
		<-c.done // a query takes microseconds: no ctx here, the leader's ctx bounds it
		if !c.lead {
			return c.version, c.err
		}
	}
	s.leadVersions(context.WithoutCancel(ctx))
	return c.version, c.err
}

// leadVersions runs one version query for the calls waiting (the leader's among
// them), answers them, and hands the lead to the next waiting call if any.
func (s *sqlStore) leadVersions(ctx context.Context) {
	b := &s.versions
	b.mu.Lock()
	n := min(len(b.waiting), maxVersionBatch)
	calls := b.waiting[:n:n]
	b.waiting = b.waiting[n:]
	b.mu.Unlock()

	s.queryVersions(ctx, calls)

	b.mu.Lock()
	var next *versionCall
	if len(b.waiting) > 0 {
		next = b.waiting[0]
		next.lead = true
	} else {
		b.running = false
		b.waiting = nil // let the backing array go
	}
	b.mu.Unlock()
	for _, c := range calls {
		if !c.lead { // a call handed the lead had its done closed then
			close(c.done)
		}
	}
	if next != nil {
		close(next.done)
	}
}

// queryVersions sets the version (or error) of each call in one query.
func (s *sqlStore) queryVersions(ctx context.Context, calls []*versionCall) {
	b := &s.versions
	if len(calls) == 1 {
		c := calls[0]
		c.err = rowErr(b.one.QueryRowContext(ctx, c.id).Scan(&c.version),
			fmt.Sprintf("integration %d", c.id), fmt.Sprintf("version of integration %d", c.id))
		return
	}
	i := 0
	for batchSizes[i] < len(calls) {
		i++
	}
	args := make([]any, batchSizes[i])
	for j := range args {
		args[j] = calls[min(j, len(calls)-1)].id
	}
	found := make(map[int64]int64, len(calls))
	err := func() error {
		rows, err := b.batch[i].QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, v int64
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			found[id] = v
		}
		return rows.Err()
	}()
	for _, c := range calls {
		v, ok := found[c.id]
		switch {
		case err != nil:
			c.err = fmt.Errorf("version of integration %d: %w", c.id, err)
		case !ok:
			c.err = fmt.Errorf("integration %d: %w", c.id, ErrNotFound)
		default:
			c.version = v
		}
	}
}
