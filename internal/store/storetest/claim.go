package storetest

// The import block is like shared.go's: both race store calls from goroutines; a list
// of dependencies shares no logic.
import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
)

// busy are the statuses the server's background work claims.
var busy = []lifecycle.Status{lifecycle.Creating, lifecycle.Editing, lifecycle.Deleting, lifecycle.Migrating}

// t0 is the "now" of the lease tests: Claim compares leases with the time it is given,
// not with the clock.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mustClaim(t *testing.T, s store.Store, owner string, now, until time.Time, statuses ...lifecycle.Status) *store.Integration {
	t.Helper()
	in, err := s.Claim(ctx(t), owner, now, until, statuses...)
	if err != nil {
		t.Fatalf("Claim(%s, now %v): %v", owner, now, err)
	}
	if in.LeaseOwner != owner || !in.LeaseUntil.Equal(until) || in.LeaseUntil.Location() != time.UTC {
		t.Fatalf("Claim(%s) returned lease %q until %v, want %q until %v (UTC)", owner, in.LeaseOwner, in.LeaseUntil, owner, until)
	}
	return in
}

func wantNoClaim(t *testing.T, s store.Store, owner string, now time.Time, statuses ...lifecycle.Status) {
	t.Helper()
	in, err := s.Claim(ctx(t), owner, now, now.Add(time.Minute), statuses...)
	if !errors.Is(err, store.ErrNotFound) {
		if err == nil {
			t.Fatalf("Claim(%s, now %v, %v) took integration %d (%s, lease of %q); want ErrNotFound",
				owner, now, statuses, in.ID, in.Status, in.LeaseOwner)
		}
		t.Fatalf("Claim(%s, now %v, %v) = %v; want ErrNotFound", owner, now, statuses, err)
	}
}

// created creates an integration of type typ in status (through an update when not
// creating) and returns it as stored.
func created(t *testing.T, s store.Store, typ string, status lifecycle.Status, keys ...string) *store.Integration {
	t.Helper()
	in := mustCreate(t, s, sample(typ, keys...))
	if status != lifecycle.Creating {
		return setStatus(t, s, in.ID, status, keys...)
	}
	return mustGet(t, s, in.ID)
}

func testClaim(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"in id order, then none", func(t *testing.T, s store.Store) {
			var want []int64
			for i := range 3 {
				want = append(want, created(t, s, fmt.Sprint("t", i), lifecycle.Creating, fmt.Sprint("k", i)).ID)
			}
			var got []int64
			for range 3 {
				in := mustClaim(t, s, "w1", at(0), at(time.Minute), busy...)
				got = append(got, in.ID)
				if in.Version != 2 || in.UpdatedAt.Before(in.CreatedAt) {
					t.Errorf("claimed %d: version %d, updated %v (created %v); want version 2", in.ID, in.Version, in.UpdatedAt, in.CreatedAt)
				}
				checkSame(t, "Claim result vs Get", in, mustGet(t, s, in.ID))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("claimed %v, want %v (lowest id first)", got, want)
			}
			wantNoClaim(t, s, "w2", at(0), busy...)
		}},
		{"held lease is not claimable", func(t *testing.T, s store.Store) {
			in := created(t, s, "a", lifecycle.Creating)
			mustClaim(t, s, "w1", at(0), at(time.Minute), busy...)
			wantNoClaim(t, s, "w2", at(30*time.Second), busy...)
			wantNoClaim(t, s, "w1", at(30*time.Second), busy...) // not even by its owner
			wantNoClaim(t, s, "w2", at(time.Minute), busy...)    // lapses only after until
			if got := mustGet(t, s, in.ID); got.LeaseOwner != "w1" || got.Version != 2 {
				t.Fatalf("after refused claims: lease of %q, version %d; want w1 and 2", got.LeaseOwner, got.Version)
			}
		}},
		{"lapsed lease is claimable and bumps the version", func(t *testing.T, s store.Store) {
			in := created(t, s, "a", lifecycle.Editing)
			first := mustClaim(t, s, "w1", at(0), at(time.Minute), busy...)
			second := mustClaim(t, s, "w2", at(time.Minute+time.Microsecond), at(3*time.Minute), busy...)
			if first.ID != in.ID || second.ID != in.ID {
				t.Fatalf("claimed %d then %d, want %d twice", first.ID, second.ID, in.ID)
			}
			if first.Version != in.Version+1 || second.Version != in.Version+2 {
				t.Fatalf("versions %d then %d, want %d and %d", first.Version, second.Version, in.Version+1, in.Version+2)
			}
			checkSame(t, "Get after the second claim", mustGet(t, s, in.ID), second)
			// The first owner's stale copy cannot be written back.
			first.Status = lifecycle.Enabled
			if err := s.Update(ctx(t), first); !errors.Is(err, store.ErrStale) {
				t.Fatalf("Update by the replica that lost the lease = %v, want ErrStale", err)
			}
		}},
		{"oldest lapsed lease first", func(t *testing.T, s store.Store) {
			a := created(t, s, "a", lifecycle.Creating)
			b := created(t, s, "b", lifecycle.Creating)
			c := created(t, s, "c", lifecycle.Creating)
			mustClaim(t, s, "w1", at(0), at(3*time.Minute), busy...) // a
			mustClaim(t, s, "w1", at(0), at(1*time.Minute), busy...) // b
			mustClaim(t, s, "w1", at(0), at(2*time.Minute), busy...) // c
			now := at(150 * time.Second)                             // b and c have lapsed, a has not
			var got []int64
			for range 2 {
				got = append(got, mustClaim(t, s, "w2", now, at(time.Hour), busy...).ID)
			}
			if want := []int64{b.ID, c.ID}; !slices.Equal(got, want) {
				t.Fatalf("claimed %v, want %v", got, want)
			}
			wantNoClaim(t, s, "w2", now, busy...)
			if got := mustClaim(t, s, "w3", at(4*time.Minute), at(time.Hour), busy...); got.ID != a.ID {
				t.Fatalf("claimed %d, want %d", got.ID, a.ID)
			}
		}},
		{"statuses filter", func(t *testing.T, s store.Store) {
			e := created(t, s, "e", lifecycle.Enabled)
			c := created(t, s, "c", lifecycle.Creating)
			d := created(t, s, "d", lifecycle.Deleting)
			x := created(t, s, "x", lifecycle.Disabled)
			gone := created(t, s, "gone", lifecycle.Deleted)
			wantNoClaim(t, s, "w", at(0))
			wantNoClaim(t, s, "w", at(0), lifecycle.Editing, lifecycle.Migrating)
			for _, step := range []struct {
				statuses []lifecycle.Status
				want     int64
			}{
				{[]lifecycle.Status{lifecycle.Deleting, lifecycle.Editing}, d.ID},
				{[]lifecycle.Status{lifecycle.Creating, lifecycle.Creating}, c.ID},
				{[]lifecycle.Status{lifecycle.Disabled, lifecycle.Enabled}, e.ID},
				{lifecycle.Statuses, x.ID},
				{lifecycle.Statuses, gone.ID}, // the store claims what it is asked to
			} {
				got := mustClaim(t, s, "w", at(0), at(time.Minute), step.statuses...)
				if got.ID != step.want || !slices.Contains(step.statuses, got.Status) {
					t.Fatalf("Claim(%v) took %d (%s), want %d", step.statuses, got.ID, got.Status, step.want)
				}
			}
			wantNoClaim(t, s, "w", at(0), lifecycle.Statuses...)
		}},
		{"update keeps or clears the lease", func(t *testing.T, s store.Store) {
			created(t, s, "a", lifecycle.Creating, "ka")
			in := mustClaim(t, s, "w1", at(0), at(time.Hour), busy...)
			// The worker writes progress: the lease stays.
			in.Message = "half way"
			mustUpdate(t, s, in)
			if got := mustGet(t, s, in.ID); got.LeaseOwner != "w1" || !got.LeaseUntil.Equal(at(time.Hour)) {
				t.Fatalf("after a progress update: lease of %q until %v", got.LeaseOwner, got.LeaseUntil)
			}
			wantNoClaim(t, s, "w2", at(time.Minute), busy...)
			// The work ends: the lease is cleared with the status change.
			in.Status, in.LeaseOwner, in.LeaseUntil = lifecycle.Enabled, "", time.Time{}
			mustUpdate(t, s, in)
			got := mustGet(t, s, in.ID)
			if got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
				t.Fatalf("after clearing: lease of %q until %v, want none", got.LeaseOwner, got.LeaseUntil)
			}
			// A new job on it (an edit) is claimable at once by anyone.
			got.Status = lifecycle.Editing
			mustUpdate(t, s, got)
			if c := mustClaim(t, s, "w2", at(time.Minute), at(time.Hour), busy...); c.ID != in.ID {
				t.Fatalf("claimed %d, want %d", c.ID, in.ID)
			}
		}},
		{"owner set without until is lapsed", func(t *testing.T, s store.Store) {
			in := sample("a")
			in.LeaseOwner = "w1"
			mustCreate(t, s, in)
			if got := mustClaim(t, s, "w2", at(0), at(time.Minute), busy...); got.ID != in.ID {
				t.Fatalf("claimed %d, want %d", got.ID, in.ID)
			}
		}},
		{"empty owner refused", func(t *testing.T, s store.Store) {
			in := created(t, s, "a", lifecycle.Creating)
			if got, err := s.Claim(ctx(t), "", at(0), at(time.Minute), busy...); err == nil || errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Claim with an empty owner = %v, %v; want an error other than ErrNotFound", got, err)
			}
			if got := mustGet(t, s, in.ID); got.Version != in.Version || got.LeaseOwner != "" {
				t.Fatalf("a refused claim changed the integration: v%d lease of %q", got.Version, got.LeaseOwner)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func testRenewLease(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, in *store.Integration)
	}{
		{"by the owner, without a version bump", func(t *testing.T, s store.Store, in *store.Integration) {
			if err := s.RenewLease(ctx(t), in.ID, "w1", at(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if owner, until, err := s.Lease(ctx(t), in.ID); err != nil || owner != "w1" || !until.Equal(at(5*time.Minute)) {
				t.Fatalf("Lease after renewal = %q until %v, %v; want w1 until %v", owner, until, err, at(5*time.Minute))
			}
			got := mustGet(t, s, in.ID)
			if got.Version != in.Version || !got.UpdatedAt.Equal(in.UpdatedAt) || got.LeaseOwner != "w1" ||
				!got.LeaseUntil.Equal(at(5*time.Minute)) {
				t.Fatalf("after renewal: v%d lease of %q until %v; want v%d w1 until %v",
					got.Version, got.LeaseOwner, got.LeaseUntil, in.Version, at(5*time.Minute))
			}
			wantNoClaim(t, s, "w2", at(2*time.Minute), busy...) // the old until has passed, the new one not
			mustUpdate(t, s, in)                                // the worker's copy is still current
		}},
		{"by another owner", func(t *testing.T, s store.Store, in *store.Integration) {
			for _, owner := range []string{"w2", "", "W1", "w1 "} {
				if err := s.RenewLease(ctx(t), in.ID, owner, at(time.Hour)); !errors.Is(err, store.ErrStale) {
					t.Fatalf("RenewLease by %q = %v, want ErrStale", owner, err)
				}
			}
			if got := mustGet(t, s, in.ID); !got.LeaseUntil.Equal(at(time.Minute)) || got.LeaseOwner != "w1" {
				t.Fatalf("refused renewals moved the lease: %q until %v", got.LeaseOwner, got.LeaseUntil)
			}
		}},
		{"unknown id", func(t *testing.T, s store.Store, in *store.Integration) {
			for _, id := range []int64{in.ID + 1000, 0, -1} {
				if err := s.RenewLease(ctx(t), id, "w1", at(time.Hour)); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("RenewLease(%d) = %v, want ErrNotFound", id, err)
				}
				if _, _, err := s.Lease(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("Lease(%d) = %v, want ErrNotFound", id, err)
				}
			}
		}},
		{"no lease once released", func(t *testing.T, s store.Store, in *store.Integration) {
			if owner, until, err := s.Lease(ctx(t), in.ID); err != nil || owner != "w1" || !until.Equal(at(time.Minute)) {
				t.Fatalf("Lease = %q until %v, %v; want w1 until %v", owner, until, err, at(time.Minute))
			}
			in.LeaseOwner, in.LeaseUntil = "", time.Time{}
			mustUpdate(t, s, in)
			if owner, until, err := s.Lease(ctx(t), in.ID); err != nil || owner != "" || !until.IsZero() {
				t.Fatalf("Lease after release = %q until %v, %v; want none", owner, until, err)
			}
		}},
		{"after another replica claimed the lapsed lease", func(t *testing.T, s store.Store, in *store.Integration) {
			mustClaim(t, s, "w2", at(2*time.Minute), at(time.Hour), busy...)
			if err := s.RenewLease(ctx(t), in.ID, "w1", at(3*time.Minute)); !errors.Is(err, store.ErrStale) {
				t.Fatalf("RenewLease by the replica that lost the lease = %v, want ErrStale", err)
			}
			if err := s.RenewLease(ctx(t), in.ID, "w2", at(2*time.Hour)); err != nil {
				t.Fatalf("RenewLease by the new owner: %v", err)
			}
		}},
		{"after the work ended", func(t *testing.T, s store.Store, in *store.Integration) {
			in.Status, in.LeaseOwner, in.LeaseUntil = lifecycle.Enabled, "", time.Time{}
			mustUpdate(t, s, in)
			if err := s.RenewLease(ctx(t), in.ID, "w1", at(time.Hour)); !errors.Is(err, store.ErrStale) {
				t.Fatalf("RenewLease after the lease was cleared = %v, want ErrStale", err)
			}
			if err := s.RenewLease(ctx(t), in.ID, "", at(time.Hour)); !errors.Is(err, store.ErrStale) {
				t.Fatalf("RenewLease with an empty owner of an unleased integration = %v, want ErrStale", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			created(t, s, "a", lifecycle.Creating)
			tt.fn(t, s, mustClaim(t, s, "w1", at(0), at(time.Minute), busy...))
		})
	}
}

func testLeaseRoundTrip(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	until := time.Date(2031, 5, 6, 7, 8, 9, 123456789, zone)
	want := time.Date(2031, 5, 6, 7, 8, 9, 123456000, zone).UTC()

	in := sample("leased")
	in.LeaseOwner, in.LeaseUntil = "replica-a", until
	mustCreate(t, s, in)
	if !in.LeaseUntil.Equal(want) || in.LeaseUntil.Location() != time.UTC {
		t.Errorf("after Create in.LeaseUntil = %v, want %v (UTC, microseconds)", in.LeaseUntil, want)
	}
	got := mustGet(t, s, in.ID)
	if got.LeaseOwner != "replica-a" || !got.LeaseUntil.Equal(want) || got.LeaseUntil.Location() != time.UTC {
		t.Fatalf("Get: lease of %q until %v, want replica-a until %v (UTC, microseconds)", got.LeaseOwner, got.LeaseUntil, want)
	}
	plain := mustCreate(t, s, sample("plain"))
	if got := mustGet(t, s, plain.ID); got.LeaseOwner != "" || !got.LeaseUntil.IsZero() {
		t.Fatalf("an integration created without a lease has lease of %q until %v", got.LeaseOwner, got.LeaseUntil)
	}

	got.LeaseOwner, got.LeaseUntil = "replica-b", until.Add(time.Hour)
	mustUpdate(t, s, got)
	if g := mustGet(t, s, in.ID); g.LeaseOwner != "replica-b" || !g.LeaseUntil.Equal(want.Add(time.Hour)) {
		t.Fatalf("after Update: lease of %q until %v", g.LeaseOwner, g.LeaseUntil)
	}
	list, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		checkSame(t, fmt.Sprintf("List item %d", x.ID), x, mustGet(t, s, x.ID))
	}
	got.LeaseOwner, got.LeaseUntil = "", time.Time{}
	mustUpdate(t, s, got)
	if g := mustGet(t, s, in.ID); g.LeaseOwner != "" || !g.LeaseUntil.IsZero() {
		t.Fatalf("after clearing: lease of %q until %v", g.LeaseOwner, g.LeaseUntil)
	}
}

// claimAll has workers claim through stores (round robin) until none is left, and
// returns how often each id was claimed and by which owner.
func claimAll(t *testing.T, stores []store.Store, workers int) (counts map[int64]int, owners map[int64]string) {
	t.Helper()
	var mu sync.Mutex
	counts, owners = map[int64]int{}, map[int64]string{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		s := stores[w%len(stores)]
		owner := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			<-start
			for {
				in, err := s.Claim(ctx(t), owner, at(0), at(time.Hour), busy...)
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if in.LeaseOwner != owner {
					t.Errorf("Claim by %s returned lease of %q", owner, in.LeaseOwner)
				}
				mu.Lock()
				counts[in.ID]++
				owners[in.ID] = owner
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return counts, owners
}

// checkClaimedOnce checks that each of ids was claimed exactly once, and that the
// store agrees on the owner.
func checkClaimedOnce(t *testing.T, s store.Store, ids []int64, counts map[int64]int, owners map[int64]string) {
	t.Helper()
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("integration %d claimed %d times, want once", id, counts[id])
			continue
		}
		got := mustGet(t, s, id)
		if got.LeaseOwner != owners[id] || got.Version != 2 {
			t.Errorf("integration %d: lease of %q at version %d; want %q at version 2 (one claim)", id, got.LeaseOwner, got.Version, owners[id])
		}
	}
	if len(counts) != len(ids) {
		t.Errorf("%d integrations claimed, want %d", len(counts), len(ids))
	}
}

func testRacingClaims(t *testing.T, s store.Store) {
	const n, workers = 24, 8
	var ids []int64
	for i := range n {
		ids = append(ids, mustCreate(t, s, sample(fmt.Sprint("job", i))).ID)
	}
	created(t, s, "idle", lifecycle.Enabled) // not a job
	counts, owners := claimAll(t, []store.Store{s}, workers)
	checkClaimedOnce(t, s, ids, counts, owners)
}

// testClaimIdle: ClaimIdle takes unleased integrations of the statuses not written since
// idleSince, longest idle first, and marks them written.
func testClaimIdle(t *testing.T, s store.Store) {
	statuses := []lifecycle.Status{lifecycle.Enabled, lifecycle.RecurringValidationError}
	a := created(t, s, "idle-a", lifecycle.Enabled)
	b := created(t, s, "idle-b", lifecycle.RecurringValidationError)
	created(t, s, "idle-c", lifecycle.EditError) // another status
	d := created(t, s, "idle-d", lifecycle.Enabled)
	d.LeaseOwner, d.LeaseUntil = "replica-x", time.Now().Add(time.Hour).UTC()
	if err := s.Update(ctx(t), d); err != nil { // a leased one is never idle
		t.Fatal(err)
	}
	// Nothing is idle since a time before every write.
	if _, err := s.ClaimIdle(ctx(t), time.Now(), a.UpdatedAt.Add(-time.Hour), statuses...); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ClaimIdle before any write: %v, want ErrNotFound", err)
	}
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	var got []int64
	for {
		in, err := s.ClaimIdle(ctx(t), later, later.Add(-time.Minute), statuses...)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !in.UpdatedAt.Equal(later) {
			t.Fatalf("claimed %d: UpdatedAt %v, want %v", in.ID, in.UpdatedAt, later)
		}
		if cur := mustGet(t, s, in.ID); cur.Version != in.Version || in.Version < 2 {
			t.Fatalf("claimed %d: version %d (stored %d), want bumped", in.ID, in.Version, cur.Version)
		}
		got = append(got, in.ID)
		if len(got) > 4 {
			t.Fatalf("ClaimIdle keeps returning integrations: %v", got)
		}
	}
	if !slices.Equal(got, []int64{a.ID, b.ID}) {
		t.Fatalf("ClaimIdle took %v, want [%d %d] (longest idle first; leased and other statuses never)", got, a.ID, b.ID)
	}
	if _, err := s.ClaimIdle(ctx(t), later, later.Add(-time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ClaimIdle with no statuses: %v", err)
	}
}

// testRacingClaimIdle: claimers racing on one store take each idle integration once.
func testRacingClaimIdle(t *testing.T, s store.Store) {
	const n = 12
	for i := 0; i < n; i++ {
		created(t, s, fmt.Sprintf("race-idle-%d", i), lifecycle.Enabled)
	}
	later := time.Now().Add(time.Hour).UTC()
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				in, err := s.ClaimIdle(ctx(t), later, later.Add(-time.Minute), lifecycle.Enabled)
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[in.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d integrations, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("integration %d claimed %d times", id, c)
		}
	}
}

// leaseFixture is what testRenewLeases starts from: a and b leased by w1 until at(1m),
// c by w2, d busy without a lease, e whose work (leased by w1) ended.
type leaseFixture struct {
	a, b, c, d, e *store.Integration
}

func newLeaseFixture(t *testing.T, s store.Store) leaseFixture {
	t.Helper()
	var f leaseFixture
	f.a = created(t, s, "a", lifecycle.Creating)
	f.b = created(t, s, "b", lifecycle.Editing)
	f.c = created(t, s, "c", lifecycle.Deleting)
	f.a = mustClaim(t, s, "w1", at(0), at(time.Minute), busy...)
	f.b = mustClaim(t, s, "w1", at(0), at(time.Minute), busy...)
	f.c = mustClaim(t, s, "w2", at(0), at(time.Minute), busy...)
	f.e = created(t, s, "e", lifecycle.Creating)
	f.e = mustClaim(t, s, "w1", at(0), at(time.Minute), busy...)
	f.e.Status, f.e.LeaseOwner, f.e.LeaseUntil = lifecycle.Enabled, "", time.Time{}
	mustUpdate(t, s, f.e)
	f.d = created(t, s, "d", lifecycle.Creating)
	return f
}

func testRenewLeases(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name    string
		owner   string
		ids     func(f leaseFixture) []int64
		want    func(f leaseFixture) []int64 // the ids renewed, ascending
		wantErr bool
	}{
		{"only those the owner holds", "w1",
			func(f leaseFixture) []int64 { return []int64{f.e.ID, f.c.ID, f.b.ID, f.d.ID, f.a.ID, f.e.ID + 1000} },
			func(f leaseFixture) []int64 { return []int64{f.a.ID, f.b.ID} }, false},
		{"another owner's", "w2",
			func(f leaseFixture) []int64 { return []int64{f.a.ID, f.b.ID, f.c.ID} },
			func(f leaseFixture) []int64 { return []int64{f.c.ID} }, false},
		{"an owner holding none of them", "w3",
			func(f leaseFixture) []int64 { return []int64{f.a.ID, f.c.ID, f.d.ID} },
			func(f leaseFixture) []int64 { return nil }, false},
		{"no ids", "w1",
			func(f leaseFixture) []int64 { return nil },
			func(f leaseFixture) []int64 { return nil }, false},
		{"empty owner (d has none) refused", "",
			func(f leaseFixture) []int64 { return []int64{f.d.ID, f.e.ID} },
			func(f leaseFixture) []int64 { return nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := newLeaseFixture(t, s)
			got, err := s.RenewLeases(ctx(t), tt.owner, at(5*time.Minute), tt.ids(f))
			if (err != nil) != tt.wantErr {
				t.Fatalf("RenewLeases(%q) error %v, want error %v", tt.owner, err, tt.wantErr)
			}
			want := tt.want(f)
			if !slices.Equal(got, want) {
				t.Fatalf("RenewLeases(%q) renewed %v, want %v", tt.owner, got, want)
			}
			// Renewed leases moved (version and UpdatedAt kept); every other one did not.
			for _, before := range []*store.Integration{f.a, f.b, f.c, f.d, f.e} {
				after := mustGet(t, s, before.ID)
				wantUntil := before.LeaseUntil
				if slices.Contains(want, before.ID) {
					wantUntil = at(5 * time.Minute)
				}
				if after.LeaseOwner != before.LeaseOwner || !after.LeaseUntil.Equal(wantUntil) ||
					after.Version != before.Version || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("integration %d: lease of %q until %v at v%d; want %q until %v at v%d",
						before.ID, after.LeaseOwner, after.LeaseUntil, after.Version, before.LeaseOwner, wantUntil, before.Version)
				}
			}
			// At 2 minutes only the renewed leases still hold.
			var claimed []int64
			for {
				in, err := s.Claim(ctx(t), "w9", at(2*time.Minute), at(time.Hour), busy...)
				if errors.Is(err, store.ErrNotFound) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				claimed = append(claimed, in.ID)
			}
			for _, id := range claimed {
				if slices.Contains(want, id) {
					t.Errorf("integration %d was claimed at 2 minutes although its lease was renewed to 5", id)
				}
			}
			if len(claimed)+len(want) != 4 { // a, b, c and d are busy
				t.Errorf("claimed %v at 2 minutes with %v renewed; want the other busy ones", claimed, want)
			}
		})
	}
}

// withBundle sets the state bundle (and a state) of integration id.
func withBundle(t *testing.T, s store.Store, id int64, bundle int) *store.Integration {
	t.Helper()
	in := mustGet(t, s, id)
	in.AppliedState, in.StateBundle = json.RawMessage(fmt.Sprintf(`{"bundleVersion":%d}`, bundle)), bundle
	mustUpdate(t, s, in)
	return mustGet(t, s, id)
}

// testClaimMigration: ClaimMigration takes the unleased integrations in the from status
// whose state an older bundle made, lowest id first, moving each to the to status
// under the claimer's lease; never a current, a stateless, a leased or another
// status's one.
func testClaimMigration(t *testing.T, s store.Store) {
	old1 := withBundle(t, s, created(t, s, "mig-a", lifecycle.Enabled).ID, 1)
	withBundle(t, s, created(t, s, "mig-current", lifecycle.Enabled).ID, 3)
	created(t, s, "mig-stateless", lifecycle.Enabled)
	withBundle(t, s, created(t, s, "mig-error", lifecycle.EditError).ID, 1)
	leased := withBundle(t, s, created(t, s, "mig-leased", lifecycle.Enabled).ID, 2)
	leased.LeaseOwner, leased.LeaseUntil = "replica-x", at(time.Hour)
	mustUpdate(t, s, leased)
	old2 := withBundle(t, s, created(t, s, "mig-b", lifecycle.Enabled).ID, 2)
	var got []int64
	for {
		in, err := s.ClaimMigration(ctx(t), "replica-m", at(0), at(time.Minute), 3, lifecycle.Enabled, lifecycle.Migrating)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != lifecycle.Migrating || in.LeaseOwner != "replica-m" || !in.LeaseUntil.Equal(at(time.Minute)) {
			t.Fatalf("claimed %d: %s, lease of %q until %v; want migrating, replica-m until %v", in.ID, in.Status, in.LeaseOwner, in.LeaseUntil, at(time.Minute))
		}
		if cur := mustGet(t, s, in.ID); cur.Version != in.Version || cur.Status != lifecycle.Migrating || in.StateBundle == 0 {
			t.Fatalf("claimed %d: returned version %d, bundle %d; stored %d, %s", in.ID, in.Version, in.StateBundle, cur.Version, cur.Status)
		}
		got = append(got, in.ID)
		if len(got) > 4 {
			t.Fatalf("ClaimMigration keeps returning integrations: %v", got)
		}
	}
	if !slices.Equal(got, []int64{old1.ID, old2.ID}) {
		t.Fatalf("ClaimMigration took %v, want [%d %d]", got, old1.ID, old2.ID)
	}
	// Once the lease lapses, the leased one is claimable.
	in, err := s.ClaimMigration(ctx(t), "replica-m", at(2*time.Hour), at(3*time.Hour), 3, lifecycle.Enabled, lifecycle.Migrating)
	if err != nil || in.ID != leased.ID {
		t.Fatalf("ClaimMigration after the lease lapsed: %v, %v; want integration %d", in, err, leased.ID)
	}
	if _, err := s.ClaimMigration(ctx(t), "", at(0), at(time.Minute), 3, lifecycle.Enabled, lifecycle.Migrating); err == nil {
		t.Fatal("ClaimMigration with no owner succeeded")
	}
}

// testRacingClaimMigration: claimers racing on one store take each outdated
// integration once.
func testRacingClaimMigration(t *testing.T, s store.Store) {
	const n, workers = 16, 6
	want := map[int64]bool{}
	for i := range n {
		want[withBundle(t, s, created(t, s, fmt.Sprint("race-mig", i), lifecycle.Enabled).ID, 1).ID] = true
	}
	var mu sync.Mutex
	counts := map[int64]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			<-start
			for {
				in, err := s.ClaimMigration(ctx(t), owner, at(0), at(time.Hour), 2, lifecycle.Enabled, lifecycle.Migrating)
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("ClaimMigration: %v", err)
					return
				}
				mu.Lock()
				counts[in.ID]++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	for id := range want {
		if counts[id] != 1 {
			t.Errorf("integration %d claimed %d times, want once", id, counts[id])
		}
	}
	if len(counts) != len(want) {
		t.Errorf("%d integrations claimed, want %d", len(counts), len(want))
	}
}
