package storetest

// The import block is like claim.go's: both race store calls from goroutines; a list of
// dependencies shares no logic.
import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
)

// RunShared runs the cross-instance suite: the guarantees that must hold between
// replicas. open must return two independent Store values (separate Opens, as two
// processes or replicas would have) on one new, empty database each time it is called,
// and close them when t ends; it is called from parallel subtests.
func RunShared(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"Visibility", testSharedVisibility},
		{"RacingVersions", testSharedRacingVersions},
		{"IDs", testSharedIDs},
		{"RacingCreates", testSharedRacingCreates},
		{"RacingUpdates", testSharedRacingUpdates},
		{"RacingClaims", testSharedRacingClaims},
		{"Leases", testSharedLeases},
		{"Keys", testSharedKeys},
		{"APIKeys", testSharedAPIKeys},
	}
	// Run like Run's table: a conformance suite is a table of named checks.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tt.fn(t, a, b)
		})
	}
}

func testSharedVisibility(t *testing.T, a, b store.Store) {
	in := mustCreate(t, a, sample("seen", "vk"))
	checkSame(t, "Get through b of what a created", mustGet(t, b, in.ID), mustGet(t, a, in.ID))
	cur := mustGet(t, b, in.ID)
	cur.Status, cur.Message = lifecycle.Enabled, "from b"
	if v, err := a.Version(ctx(t), in.ID); err != nil || v != in.Version {
		t.Fatalf("Version through a before b's update = %d, %v; want %d", v, err, in.Version)
	}
	mustUpdate(t, b, cur)
	if v, err := a.Version(ctx(t), in.ID); err != nil || v != cur.Version || v == in.Version {
		t.Fatalf("Version through a after b's update = %d, %v; want %d: a replica must see another's write at once", v, err, cur.Version)
	}
	checkSame(t, "Get through a of what b updated", mustGet(t, a, in.ID), cur)
	list, err := a.List(ctx(t))
	if err != nil || len(list) != 1 || list[0].Message != "from b" {
		t.Fatalf("List through a = %d items, %v", len(list), err)
	}
}

// testSharedRacingVersions: Version calls at once through a (which may coalesce them)
// while b updates: each call sees at least the version b had committed before the
// call began, and an unknown id is ErrNotFound, whatever else the calls around it ask.
func testSharedRacingVersions(t *testing.T, a, b store.Store) {
	const ids, readers, updates = 3, 8, 20
	var ins []*store.Integration
	committed := make([]atomic.Int64, ids)
	for i := range ids {
		in := mustCreate(t, b, sample(fmt.Sprint("rv", i)))
		ins = append(ins, in)
		committed[i].Store(in.Version)
	}
	done := make(chan struct{})
	var writers, wg sync.WaitGroup
	for i, in := range ins {
		writers.Go(func() {
			for range updates {
				in.Message = fmt.Sprint("update of ", in.Version)
				if err := b.Update(ctx(t), in); err != nil {
					t.Errorf("Update(%d): %v", in.ID, err)
					return
				}
				committed[i].Store(in.Version)
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				i := (r + n) % (ids + 1)
				if i == ids { // an id no integration has
					if _, err := a.Version(ctx(t), ins[ids-1].ID+1000); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("Version of an unknown id: %v, want ErrNotFound", err)
						return
					}
					continue
				}
				before := committed[i].Load()
				v, err := a.Version(ctx(t), ins[i].ID)
				if err != nil || v < before {
					t.Errorf("Version(%d) = %d, %v; version %d was committed before the call", ins[i].ID, v, err, before)
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	wg.Wait()
}

func testSharedIDs(t *testing.T, a, b store.Store) {
	var last int64
	for i := range 6 {
		s := []store.Store{a, b}[i%2]
		in := mustCreate(t, s, sample(fmt.Sprint("t", i)))
		if in.ID <= last {
			t.Fatalf("id %d after %d (alternating stores): ids must increase", in.ID, last)
		}
		last = in.ID
		if i%3 == 0 {
			setStatus(t, s, in.ID, lifecycle.Deleted)
		}
	}
	// At once from both: all distinct, all newer than the ones before.
	const n = 16
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := []store.Store{a, b}[i%2]
		wg.Go(func() {
			<-start
			in := sample(fmt.Sprint("racer", i))
			if err := s.Create(ctx(t), in); err != nil {
				t.Errorf("Create: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[in.ID] || in.ID <= last {
				t.Errorf("id %d given twice or not above %d", in.ID, last)
			}
			seen[in.ID] = true
		})
	}
	close(start)
	wg.Wait()
	for id := range seen {
		other := mustGet(t, a, id)
		if got := mustGet(t, b, id); got.Type != other.Type {
			t.Errorf("id %d is %s through a and %s through b", id, other.Type, got.Type)
		}
	}
}

func testSharedRacingCreates(t *testing.T, a, b store.Store) {
	for round := range 3 {
		key := fmt.Sprint("contested-", round)
		winner := raceCreates(t, fmt.Sprintf("round %d: ", round), key, func(i int) store.Store { return []store.Store{a, b}[i%2] },
			func(i int) []string { return []string{fmt.Sprintf("own-%d-%d", round, i)} })
		for _, s := range []store.Store{a, b} {
			if h, err := s.KeyHolders(ctx(t), []string{key}); err != nil || h[key] != winner.ID {
				t.Fatalf("round %d: KeyHolders = %v, %v; want %d", round, h, err, winner.ID)
			}
		}
	}
	list, _ := b.List(ctx(t))
	if len(list) != 3 {
		t.Fatalf("%d integrations stored, want 3", len(list))
	}
}

func testSharedRacingUpdates(t *testing.T, a, b store.Store) {
	const writers = 8
	in := mustCreate(t, a, sample("race", "race-key"))
	for round := range 4 {
		base := mustGet(t, []store.Store{a, b}[round%2], in.ID)
		RaceUpdates(t, round, writers, base, func(g int) store.Store { return []store.Store{a, b}[g%2] }, func(c *store.Integration, g int) {
			c.Keys = []string{"race-key", fmt.Sprintf("writer-%d", g)}
		})
		got := mustGet(t, a, in.ID)
		var g int
		if _, err := fmt.Sscanf(got.Message, fmt.Sprintf("round %d writer %%d", round), &g); err != nil ||
			!slices.Equal(got.Keys, []string{"race-key", fmt.Sprintf("writer-%d", g)}) || got.Version != base.Version+1 {
			t.Fatalf("round %d: message %q keys %v version %d: not one writer's update", round, got.Message, got.Keys, got.Version)
		}
	}
}

func testSharedRacingClaims(t *testing.T, a, b store.Store) {
	const n, workers = 24, 8
	var ids []int64
	for i := range n {
		ids = append(ids, mustCreate(t, []store.Store{a, b}[i%2], sample(fmt.Sprint("job", i))).ID)
	}
	counts, owners := claimAll(t, []store.Store{a, b}, workers)
	checkClaimedOnce(t, b, ids, counts, owners)
}

func testSharedLeases(t *testing.T, a, b store.Store) {
	in := mustCreate(t, a, sample("job"))
	mustClaim(t, a, "replica-a", at(0), at(time.Minute), busy...)
	wantNoClaim(t, b, "replica-b", at(30*time.Second), busy...)
	if err := b.RenewLease(ctx(t), in.ID, "replica-b", at(time.Hour)); !errors.Is(err, store.ErrStale) {
		t.Fatalf("RenewLease through b by another owner = %v, want ErrStale", err)
	}
	if err := b.RenewLease(ctx(t), in.ID, "replica-a", at(2*time.Minute)); err != nil {
		t.Fatalf("RenewLease through b by the owner: %v", err)
	}
	wantNoClaim(t, b, "replica-b", at(90*time.Second), busy...)
	// replica-a stops renewing: after the lease lapses b takes the work over.
	got := mustClaim(t, b, "replica-b", at(3*time.Minute), at(time.Hour), busy...)
	if got.ID != in.ID {
		t.Fatalf("b claimed %d, want %d", got.ID, in.ID)
	}
	if err := a.RenewLease(ctx(t), in.ID, "replica-a", at(4*time.Minute)); !errors.Is(err, store.ErrStale) {
		t.Fatalf("RenewLease by the replica that lost the lease = %v, want ErrStale", err)
	}
}

func testSharedKeys(t *testing.T, a, b store.Store) {
	x := mustCreate(t, a, sample("x", "shared-key"))
	wantConflict(t, b.Create(ctx(t), sample("y", "shared-key")), "shared-key", x.ID)
	setStatus(t, a, x.ID, lifecycle.Deleted)
	y := mustCreate(t, b, sample("y", "shared-key"))
	wantConflict(t, a.Create(ctx(t), sample("z", "shared-key")), "shared-key", y.ID)
}

func testSharedAPIKeys(t *testing.T, a, b store.Store) {
	k, plain, err := a.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Authenticate(ctx(t), plain); err != nil || got.ID != k.ID {
		t.Fatalf("Authenticate through b = %v, %v", got, err)
	}
	if _, _, err := b.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "again", Plaintext: plain}); !errors.Is(err, store.ErrAPIKeyExists) {
		t.Fatalf("CreateAPIKey through b with a's plaintext = %v, want ErrAPIKeyExists", err)
	}
	if err := b.RevokeAPIKey(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx(t), plain); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Authenticate through a after b revoked = %v, want ErrNotFound", err)
	}
	// Rotations of one integration from both at once leave exactly one key working.
	in := mustCreate(t, a, sample("trino"))
	var wg sync.WaitGroup
	plains := make([]string, 6)
	for i := range plains {
		s := []store.Store{a, b}[i%2]
		wg.Go(func() {
			_, p, err := s.RotateIntegrationKey(ctx(t), in.ID, store.APIKeySpec{Name: fmt.Sprint("rot", i)})
			if err != nil {
				t.Errorf("RotateIntegrationKey: %v", err)
			}
			plains[i] = p
		})
	}
	wg.Wait()
	working := 0
	for _, p := range plains {
		if _, err := a.Authenticate(ctx(t), p); err == nil {
			working++
		}
	}
	if working != 1 {
		t.Fatalf("after racing rotations %d keys of the integration work, want 1", working)
	}
}
