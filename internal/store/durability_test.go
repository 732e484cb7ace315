package store

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// openTestSQLite opens a SQLite store on a new file.
func openTestSQLite(t *testing.T) *sqlStore {
	t.Helper()
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	st, err := Open(t.Context(), filepath.Join(t.TempDir(), "d.db"), Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*sqlStore)
}

// writerSync is PRAGMA synchronous of the write connection: 1 NORMAL, 2 FULL.
func writerSync(t *testing.T, s *sqlStore) int {
	t.Helper()
	var v int
	if err := s.w.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A relaxed write commits with synchronous=NORMAL and counts as not yet on the disk;
// the next durable write commits with FULL and covers it, and so does a flush when no
// durable write comes.
func TestRelaxedCommits(t *testing.T) {
	s := openTestSQLite(t)
	ctx := t.Context()
	in := &Integration{Type: "t", AutoBootstrap: new(bool), Status: lifecycle.Creating, Config: []byte(`{}`), LeaseOwner: "w1"}
	in.LeaseUntil = nowUTC().Add(time.Hour)
	if err := s.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	pending := func() int64 { return s.syncs.relaxed.Load() - s.syncs.synced.Load() }
	tests := []struct {
		name        string
		write       func(ctx context.Context) error
		wantSync    int
		wantPending int64
	}{
		{"relaxed renewal", func(ctx context.Context) error {
			return s.RenewLease(Relaxed(ctx), in.ID, "w1", in.LeaseUntil)
		}, 1, 1},
		{"another relaxed renewal", func(ctx context.Context) error {
			return s.RenewLease(Relaxed(ctx), in.ID, "w1", in.LeaseUntil)
		}, 1, 2},
		{"a durable write covers them", func(ctx context.Context) error {
			return s.RenewLease(ctx, in.ID, "w1", in.LeaseUntil)
		}, 2, 0},
		{"relaxed again", func(ctx context.Context) error {
			return s.RenewLease(Relaxed(ctx), in.ID, "w1", in.LeaseUntil)
		}, 1, 1},
		{"the flush covers it", func(ctx context.Context) error {
			s.flush(ctx)
			return nil
		}, 2, 0},
	}
	for _, tt := range tests { // in order: each step builds on the one before
		if err := tt.write(ctx); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := writerSync(t, s); got != tt.wantSync {
			t.Errorf("%s: the write connection's synchronous is %d, want %d", tt.name, got, tt.wantSync)
		}
		if got := pending(); got != tt.wantPending {
			t.Errorf("%s: %d relaxed commits not covered, want %d", tt.name, got, tt.wantPending)
		}
	}
}

// Statements run in a transaction are prepared once it ends and reused after.
func TestWriteStatementsArePrepared(t *testing.T) {
	s := openTestSQLite(t)
	ctx := t.Context()
	create := func(name string) {
		in := &Integration{Type: "t", AutoBootstrap: new(bool), Status: lifecycle.Creating, Config: []byte(`{}`), Keys: []string{name}}
		if err := s.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	create("a")
	s.wstmts.mu.Lock()
	n := len(s.wstmts.m)
	s.wstmts.mu.Unlock()
	if n == 0 {
		t.Fatal("no statement of a create was kept prepared")
	}
	create("b")
	s.wstmts.mu.Lock()
	defer s.wstmts.mu.Unlock()
	if len(s.wstmts.m) != n || len(s.wstmts.wanted) != 0 {
		t.Errorf("a second create prepared again: %d kept (was %d), %d wanted", len(s.wstmts.m), n, len(s.wstmts.wanted))
	}
}
