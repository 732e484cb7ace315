package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/internal/store/storetest"
)

// benchIntegration is the i-th integration of the Get fixtures.
func benchIntegration(i int) *store.Integration {
	return &store.Integration{Type: "snowflake", AutoBootstrap: new(bool), Status: lifecycle.Enabled,
		Message:           "",
		Config:            json.RawMessage(fmt.Sprintf(`{"account":"acct%d","warehouse":"WH","role":"SYSADMIN","user":"svc"}`, i)),
		Credentials:       json.RawMessage(`{"password":"0123456789abcdef0123456789abcdef"}`),
		ValidationResults: json.RawMessage(`[{"name":"connect","ok":true}]`),
		Keys:              []string{fmt.Sprintf("snowflake:acct%d", i)}}
}

// benchGet measures s.Get over ids, visiting them out of order.
func benchGet(b *testing.B, s store.Store, ids []int64) {
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i += 7919 // a prime: visit the ids out of order
	}
}

// sqliteFixture returns a store on a new SQLite file holding n integrations, and
// their ids.
func sqliteFixture(b *testing.B, n int) (store.Store, []int64) {
	s := openAt(b, tempDB(b), newKey(b))
	load := store.Relaxed(b.Context()) // load fast: durability does not matter here
	ids := make([]int64, n)
	for i := range n {
		in := benchIntegration(i)
		if err := s.Create(load, in); err != nil {
			b.Fatal(err)
		}
		ids[i] = in.ID
	}
	return s, ids
}

// BenchmarkGet measures GET-by-id (a primary-key lookup and one AES-GCM open per sealed
// field) with 10 and with 10000 stored integrations.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s, ids := sqliteFixture(b, n)
			benchGet(b, s, ids)
		})
	}
}

// BenchmarkGetPostgres is BenchmarkGet on PostgreSQL (skipped when no PostgreSQL
// server is reachable, see storetest.PostgresURL): a network round trip to a prepared
// primary-key lookup. "parallel" runs Gets from GOMAXPROCS goroutines at once.
func BenchmarkGetPostgres(b *testing.B) {
	small, smallIDs := postgresFixture(b, 10)
	big, bigIDs := postgresFixture(b, 10000)
	b.Run("n=10", func(b *testing.B) { benchGet(b, small, smallIDs) })
	b.Run("n=10000", func(b *testing.B) { benchGet(b, big, bigIDs) })
	b.Run("n=10000/parallel", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := big.Get(ctx, bigIDs[i%len(bigIDs)]); err != nil {
					b.Error(err)
					return
				}
				i += 7919
			}
		})
	})
}

// postgresFixture returns a store on a fresh PostgreSQL database holding n
// integrations, and their ids.
func postgresFixture(b *testing.B, n int) (store.Store, []int64) {
	u := storetest.PostgresURL(b)
	key := newKey(b)
	// Load fast, through a store whose commits do not wait for the disk.
	fast, err := url.Parse(u)
	if err != nil {
		b.Fatal(err)
	}
	q := fast.Query()
	q.Set("synchronous_commit", "off")
	fast.RawQuery = q.Encode()
	loader := openAt(b, fast.String(), key)
	ids := make([]int64, n)
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				in := benchIntegration(i)
				if err := loader.Create(b.Context(), in); err != nil {
					b.Error(err)
					return
				}
				ids[i] = in.ID
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	loader.Close()
	// Settle the fresh tables (statistics, visibility map) so that autovacuum does not
	// run during the measurement.
	conn, err := pgx.Connect(b.Context(), u)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(b.Context(), `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return openAt(b, u, key), ids
}

// BenchmarkVersion measures the version check of a GET served from the kept body
// (SQLite, 10000 stored), from one goroutine and from GOMAXPROCS at once.
func BenchmarkVersion(b *testing.B) {
	const n = 10000
	s, ids := sqliteFixture(b, n)
	ctx := b.Context()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Version(ctx, ids[i%n]); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.Version(ctx, ids[i%n]); err != nil {
					b.Error(err)
					return
				}
				i += 7919
			}
		})
	})
}
