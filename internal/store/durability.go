package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// Durability of writes. Every write a client is told succeeded (a create, an edit, a
// delete, an API key) is on disk before its call returns: SQLite commits with
// synchronous=FULL, PostgreSQL with its synchronous_commit setting (on by default).
//
// The job bookkeeping the server does in the background (a job's lease renewals,
// the renewal when its work starts, its outcome) may instead be committed with a
// relaxed durability (Relaxed): visible to every reader and replica at once, kept
// through a crash of the process, but lost if the machine loses power or the database
// crashes within a short window after the commit. That window is bounded: on SQLite
// (synchronous=NORMAL for that one transaction) by the next durable commit, which
// syncs the whole write-ahead log, or by a flush this store makes flushDelay after
// the relaxed commit, whichever comes first; on PostgreSQL (synchronous_commit = off
// for that transaction) by its WAL writer, at most three wal_writer_delay (600 ms by
// default; the PostgreSQL manual, "Asynchronous Commit").
//
// Losing such a write is what the lifecycle already handles after a crash of the
// server in the middle of a job: the stored status is still the busy one with a
// lease that lapses, so the job is claimed and resumed (a manual setup) or ended in
// its error status as interrupted (an automatic setup). It saves one disk sync per
// job step: a create then costs one sync, the client's.

// flushDelay bounds how long a relaxed commit on SQLite stays off the disk.
const flushDelay = 100 * time.Millisecond

type relaxedKey struct{}

// Relaxed returns a context whose writes may be committed with the relaxed
// durability above: for job bookkeeping that a restart recovers from, never for a
// write a client is told succeeded.
func Relaxed(ctx context.Context) context.Context {
	return context.WithValue(ctx, relaxedKey{}, true)
}

func isRelaxed(ctx context.Context) bool {
	v, _ := ctx.Value(relaxedKey{}).(bool)
	return v
}

// syncTracker knows whether relaxed commits may still be off the disk (SQLite).
type syncTracker struct {
	// relaxed counts relaxed commits; synced is the count a durable commit that
	// began after them has covered (a sync of the log covers every earlier commit).
	relaxed, synced atomic.Int64
	mu              sync.Mutex
	timer           *time.Timer
	closed          bool
}

// durabilityStmt is the statement that sets the durability ctx asks for.
func (s *sqlStore) durabilityStmt(ctx context.Context) string {
	if isRelaxed(ctx) {
		return s.d.relaxedCommit
	}
	return s.d.strictCommit
}

// setDurabilityInTx sets the durability of tx's commit, first in tx.
func (s *sqlStore) setDurabilityInTx(ctx context.Context, tx *sql.Tx) error {
	if stmt := s.durabilityStmt(ctx); stmt != "" {
		_, err := s.exec(ctx, tx, stmt)
		return err
	}
	return nil
}

// setDurability sets, on conn before its transaction begins (nil: the transaction
// sets it, setDurabilityInTx), the durability of the commit; it returns what to call
// once the commit succeeded.
func (s *sqlStore) setDurability(ctx context.Context, conn *sql.Conn) (committed func(), err error) {
	if conn != nil {
		if stmt := s.durabilityStmt(ctx); stmt != "" {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return nil, err
			}
		}
	}
	if !s.d.syncOnConn {
		return func() {}, nil
	}
	t := &s.syncs
	if isRelaxed(ctx) {
		return func() {
			t.relaxed.Add(1)
			s.scheduleFlush()
		}, nil
	}
	before := t.relaxed.Load() // committed before this transaction: covered by its sync
	return func() {
		for {
			cur := t.synced.Load()
			if before <= cur || t.synced.CompareAndSwap(cur, before) {
				return
			}
		}
	}, nil
}

// scheduleFlush makes sure a flush runs flushDelay from now unless one is due.
func (s *sqlStore) scheduleFlush() {
	t := &s.syncs
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil || t.closed {
		return
	}
	t.timer = time.AfterFunc(flushDelay, func() {
		t.mu.Lock()
		t.timer = nil
		t.mu.Unlock()
		s.flush(context.Background())
	})
}

// flush makes the relaxed commits durable, if some may not be, with a durable
// commit of a write that changes nothing.
func (s *sqlStore) flush(ctx context.Context) {
	t := &s.syncs
	if t.relaxed.Load() <= t.synced.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `UPDATE store_meta SET value = value WHERE name = 'key_check'`)
		return err
	}) // a failed flush leaves the commits to the next durable one
}

// stopFlushes stops the flush timer and flushes now (Close).
func (s *sqlStore) stopFlushes() {
	t := &s.syncs
	t.mu.Lock()
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.mu.Unlock()
	if s.w != nil && s.d.syncOnConn {
		s.flush(context.Background())
	}
}
