// Package storetest is the conformance suite of store.Store: every implementation
// (SQLite, PostgreSQL) must pass Run, which checks each guarantee of the package store
// documentation and of the Store interface against a real database, and RunShared,
// which checks that they hold across two Store values on one database, as two
// processes or replicas would have. PostgresURL gives tests a fresh PostgreSQL
// database.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store each time it is
// called, and close it when t ends (t.Cleanup); it is called from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	// These open a store per case: claims take any claimable integration.
	t.Run("Claim", func(t *testing.T) {
		t.Parallel()
		testClaim(t, open)
	})
	t.Run("RenewLease", func(t *testing.T) {
		t.Parallel()
		testRenewLease(t, open)
	})
	t.Run("RenewLeases", func(t *testing.T) {
		t.Parallel()
		testRenewLeases(t, open)
	})
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"IDs", testIDs},
		{"GetNotFound", testGetNotFound},
		{"List", testList},
		{"ListByStatus", testListByStatus},
		{"RoundTrip", testRoundTrip},
		{"InvalidStatus", testInvalidStatus},
		{"Update", testUpdate},
		{"UpdateErrors", testUpdateErrors},
		{"StaleFromSameRead", testStaleFromSameRead},
		{"RacingUpdates", testRacingUpdates},
		{"NoLostUpdates", testNoLostUpdates},
		{"Uniqueness", testUniqueness},
		{"RacingCreates", testRacingCreates},
		{"KeyHolders", testKeyHolders},
		{"LeaseRoundTrip", testLeaseRoundTrip},
		{"RacingClaims", testRacingClaims},
		{"ClaimIdle", testClaimIdle},
		{"RacingClaimIdle", testRacingClaimIdle},
		{"ClaimMigration", testClaimMigration},
		{"RacingClaimMigration", testRacingClaimMigration},
		{"APIKeyCreate", testAPIKeyCreate},
		{"APIKeyAuthenticateWrong", testAPIKeyAuthenticateWrong},
		{"APIKeyList", testAPIKeyList},
		{"APIKeyRevoke", testAPIKeyRevoke},
		{"APIKeyRotate", testAPIKeyRotate},
		{"Version", testVersion},
		{"ListVersions", testListVersions},
		{"Ping", testPing},
		{"CanceledContext", testCanceledContext},
	}
	// Run like RunShared's table: a conformance suite is a table of named checks.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func boolp(b bool) *bool { return &b }

// sample returns a creating integration of type typ holding keys.
func sample(typ string, keys ...string) *store.Integration {
	return &store.Integration{
		Type:              typ,
		AutoBootstrap:     boolp(true),
		Status:            lifecycle.Creating,
		Message:           "creating",
		Config:            json.RawMessage(`{"account":"acme","user":"svc"}`),
		Credentials:       json.RawMessage(`{"password":"hunter2-` + typ + `"}`),
		ValidationResults: json.RawMessage(`[{"name":"connect","ok":true}]`),
		Keys:              keys,
	}
}

func mustCreate(t *testing.T, s store.Store, in *store.Integration) *store.Integration {
	t.Helper()
	if err := s.Create(ctx(t), in); err != nil {
		t.Fatalf("Create(%s): %v", in.Type, err)
	}
	return in
}

func mustGet(t *testing.T, s store.Store, id int64) *store.Integration {
	t.Helper()
	got, err := s.Get(ctx(t), id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return got
}

func mustUpdate(t *testing.T, s store.Store, in *store.Integration) {
	t.Helper()
	if err := s.Update(ctx(t), in); err != nil {
		t.Fatalf("Update(%d): %v", in.ID, err)
	}
}

// setStatus moves integration id to status (and keys) with a fresh read.
func setStatus(t *testing.T, s store.Store, id int64, status lifecycle.Status, keys ...string) *store.Integration {
	t.Helper()
	in := mustGet(t, s, id)
	in.Status = status
	in.Keys = keys
	mustUpdate(t, s, in)
	return in
}

func rawEqual(a, b json.RawMessage) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

// diff lists the fields in which got differs from want.
func diff(got, want *store.Integration) []string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s: got %v, want %v", field, g, w)) }
	showRaw := func(r json.RawMessage) string {
		if r == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", r)
	}
	showBool := func(b *bool) string {
		if b == nil {
			return "nil"
		}
		return fmt.Sprint(*b)
	}
	if got.ID != want.ID {
		add("ID", got.ID, want.ID)
	}
	if got.Type != want.Type {
		add("Type", got.Type, want.Type)
	}
	if (got.AutoBootstrap == nil) != (want.AutoBootstrap == nil) ||
		got.AutoBootstrap != nil && *got.AutoBootstrap != *want.AutoBootstrap {
		add("AutoBootstrap", showBool(got.AutoBootstrap), showBool(want.AutoBootstrap))
	}
	if got.Status != want.Status {
		add("Status", got.Status, want.Status)
	}
	if got.StateBundle != want.StateBundle {
		add("StateBundle", got.StateBundle, want.StateBundle)
	}
	if got.Message != want.Message {
		add("Message", got.Message, want.Message)
	}
	for _, f := range []struct {
		name      string
		got, want json.RawMessage
	}{
		{"Config", got.Config, want.Config},
		{"Pending", got.Pending, want.Pending},
		{"Credentials", got.Credentials, want.Credentials},
		{"AppliedState", got.AppliedState, want.AppliedState},
		{"ValidationResults", got.ValidationResults, want.ValidationResults},
	} {
		if !rawEqual(f.got, f.want) {
			add(f.name, showRaw(f.got), showRaw(f.want))
		}
	}
	if !slices.Equal(got.Keys, want.Keys) {
		add("Keys", got.Keys, want.Keys)
	}
	if got.Version != want.Version {
		add("Version", got.Version, want.Version)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		add("CreatedAt", got.CreatedAt, want.CreatedAt)
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		add("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}
	if got.LeaseOwner != want.LeaseOwner {
		add("LeaseOwner", fmt.Sprintf("%q", got.LeaseOwner), fmt.Sprintf("%q", want.LeaseOwner))
	}
	if !got.LeaseUntil.Equal(want.LeaseUntil) || got.LeaseUntil.IsZero() != want.LeaseUntil.IsZero() {
		add("LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	}
	return d
}

func checkSame(t *testing.T, what string, got, want *store.Integration) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%s differs:\n  %s", what, strings.Join(d, "\n  "))
	}
}

func ids(list []*store.Integration) []int64 {
	out := make([]int64, len(list))
	for i, in := range list {
		out[i] = in.ID
	}
	return out
}

func testIDs(t *testing.T, s store.Store) {
	var last int64
	var created []*store.Integration
	for i := range 5 {
		in := mustCreate(t, s, sample(fmt.Sprintf("t%d", i)))
		if in.ID <= last {
			t.Fatalf("id %d after %d: ids must increase", in.ID, last)
		}
		last = in.ID
		created = append(created, in)
	}
	// Deleting the newest ones must not let their ids come back.
	for _, in := range created[3:] {
		setStatus(t, s, in.ID, lifecycle.Deleted)
	}
	for range 2 {
		in := mustCreate(t, s, sample("after-delete"))
		if in.ID <= last {
			t.Fatalf("id %d after %d (some deleted): ids must never be reused", in.ID, last)
		}
		last = in.ID
	}
	for _, in := range created {
		if got := mustGet(t, s, in.ID); got.ID != in.ID || got.Type != in.Type {
			t.Errorf("Get(%d) = id %d type %s, want type %s", in.ID, got.ID, got.Type, in.Type)
		}
	}
}

func testGetNotFound(t *testing.T, s store.Store) {
	in := mustCreate(t, s, sample("one"))
	for _, id := range []int64{0, -1, in.ID + 1, in.ID + 1000, 1 << 62} {
		got, err := s.Get(ctx(t), id)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%d) = %v, %v; want ErrNotFound", id, got, err)
		}
	}
	// A deleted integration is still there for Get.
	setStatus(t, s, in.ID, lifecycle.Deleted)
	if got := mustGet(t, s, in.ID); got.Status != lifecycle.Deleted {
		t.Errorf("deleted integration has status %s", got.Status)
	}
}

func testList(t *testing.T, s store.Store) {
	list, err := s.List(ctx(t))
	if err != nil || len(list) != 0 {
		t.Fatalf("List of an empty store = %d items, %v", len(list), err)
	}
	a := mustCreate(t, s, sample("a"))
	b := mustCreate(t, s, sample("b"))
	c := mustCreate(t, s, sample("c"))
	d := mustCreate(t, s, sample("d"))
	e := mustCreate(t, s, sample("e"))
	setStatus(t, s, b.ID, lifecycle.Enabled)
	setStatus(t, s, c.ID, lifecycle.Deleted)
	setStatus(t, s, d.ID, lifecycle.Disabled)
	setStatus(t, s, e.ID, lifecycle.Deleting)
	list, err = s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{a.ID, b.ID, d.ID, e.ID}
	if got := ids(list); !slices.Equal(got, want) {
		t.Fatalf("List ids = %v, want %v (ordered by id, deleted left out)", got, want)
	}
	for _, in := range list {
		checkSame(t, fmt.Sprintf("List item %d", in.ID), in, mustGet(t, s, in.ID))
	}
}

func testListByStatus(t *testing.T, s store.Store) {
	byStatus := map[lifecycle.Status][]int64{}
	// Interleave statuses so that ordering by id is tested.
	order := []lifecycle.Status{lifecycle.Enabled, lifecycle.Creating, lifecycle.Enabled, lifecycle.Deleted,
		lifecycle.EditError, lifecycle.Creating, lifecycle.Deleted, lifecycle.Disabled}
	for i, st := range order {
		in := mustCreate(t, s, sample(fmt.Sprintf("t%d", i)))
		if st != lifecycle.Creating {
			setStatus(t, s, in.ID, st)
		}
		byStatus[st] = append(byStatus[st], in.ID)
	}
	merge := func(sts ...lifecycle.Status) []int64 {
		var out []int64
		for _, st := range sts {
			out = append(out, byStatus[st]...)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name     string
		statuses []lifecycle.Status
	}{
		{"none", nil},
		{"one", []lifecycle.Status{lifecycle.Enabled}},
		{"deleted", []lifecycle.Status{lifecycle.Deleted}},
		{"several", []lifecycle.Status{lifecycle.Deleted, lifecycle.Creating, lifecycle.Disabled}},
		{"unused", []lifecycle.Status{lifecycle.Migrating}},
		{"repeated", []lifecycle.Status{lifecycle.EditError, lifecycle.EditError}},
		{"all", lifecycle.Statuses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.ListByStatus(ctx(t), tt.statuses...)
			if err != nil {
				t.Fatal(err)
			}
			want := merge(slices.Compact(slices.Clone(tt.statuses))...)
			if got := ids(list); !slices.Equal(got, want) {
				t.Errorf("ListByStatus(%v) = %v, want %v", tt.statuses, got, want)
			}
			for _, in := range list {
				if !slices.Contains(tt.statuses, in.Status) {
					t.Errorf("ListByStatus(%v) returned status %s", tt.statuses, in.Status)
				}
			}
		})
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	big := `{"blob":"` + strings.Repeat("x", 64<<10) + `"}`
	tests := []struct {
		name string
		in   store.Integration
	}{
		{"all fields", store.Integration{Type: "snowflake", AutoBootstrap: boolp(true), Status: lifecycle.Creating,
			Message: "creating the system account", Config: json.RawMessage(`{"account":"a1","warehouse":"wh"}`),
			Pending: json.RawMessage(`{"account":"a2"}`), Credentials: json.RawMessage(`{"password":"p@ss"}`),
			AppliedState: json.RawMessage(`{"bundleVersion":2,"type":"Snowflake","objects":[]}`), StateBundle: 2,
			ValidationResults: json.RawMessage(`[{"check":"ping","ok":false,"detail":"timeout"}]`),
			Keys:              []string{"snowflake:a1", "snowflake:a1/wh"},
			LeaseOwner:        "replica-1", LeaseUntil: time.UnixMicro(1_900_000_000_123_456).UTC()}},
		{"auto bootstrap false", store.Integration{Type: "redshift", AutoBootstrap: boolp(false),
			Status: lifecycle.Creating, Config: json.RawMessage(`{}`)}},
		{"auto bootstrap nil (trino, no config)", store.Integration{Type: "trino", Status: lifecycle.Creating,
			Credentials: json.RawMessage(`{"apiKey":"k"}`)}},
		{"nil pending and credentials", store.Integration{Type: "synapse", AutoBootstrap: boolp(true),
			Status: lifecycle.Creating, Config: json.RawMessage(`{"server":"s"}`)}},
		{"empty object pending and credentials", store.Integration{Type: "synapse", Status: lifecycle.Creating,
			Config: json.RawMessage(`{"server":"s"}`), Pending: json.RawMessage(`{}`), Credentials: json.RawMessage(`{}`)}},
		{"zero-length non-nil values", store.Integration{Type: "x", Status: lifecycle.Creating,
			Config: json.RawMessage{}, Pending: json.RawMessage{}, Credentials: json.RawMessage{},
			ValidationResults: json.RawMessage{}}},
		{"everything nil", store.Integration{Type: "", Status: lifecycle.Creating}},
		{"unicode and quotes", store.Integration{Type: "snowflake", Status: lifecycle.Creating,
			Message: "échec: «quote» ' \" \\ \x00 end", Config: json.RawMessage(`{"name":"日本語 \u0000 '; DROP TABLE x;--"}`),
			Keys: []string{"k'1", "ключ", "k\"2"}}},
		{"big config", store.Integration{Type: "snowflake", Status: lifecycle.Creating, Config: json.RawMessage(big)}},
		{"created in another status", store.Integration{Type: "snowflake", Status: lifecycle.Enabled,
			Config: json.RawMessage(`{}`), Keys: []string{"live-key"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			before := time.Now().Add(-time.Second)
			mustCreate(t, s, &in)
			after := time.Now().Add(time.Second)
			if in.ID <= 0 || in.Version != 1 {
				t.Errorf("after Create: ID %d Version %d, want ID > 0 and Version 1", in.ID, in.Version)
			}
			if in.CreatedAt.Before(before) || in.CreatedAt.After(after) || !in.UpdatedAt.Equal(in.CreatedAt) {
				t.Errorf("after Create: CreatedAt %v UpdatedAt %v, want both now", in.CreatedAt, in.UpdatedAt)
			}
			if in.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location %v, want UTC", in.CreatedAt.Location())
			}
			want := tt.in
			want.ID, want.Version, want.CreatedAt, want.UpdatedAt = in.ID, 1, in.CreatedAt, in.UpdatedAt
			want.Keys = slices.Sorted(slices.Values(tt.in.Keys))
			checkSame(t, "the integration passed to Create", &in, &want)
			got := mustGet(t, s, in.ID)
			checkSame(t, "Get after Create", got, &want)
			list, err := s.ListByStatus(ctx(t), in.Status)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(list, func(x *store.Integration) bool { return x.ID == in.ID }); i < 0 {
				t.Errorf("ListByStatus misses %d", in.ID)
			} else {
				checkSame(t, "ListByStatus item", list[i], &want)
			}

			// Update round trip: every field changes, nil and non-nil swap.
			got.Type += "-2"
			if got.AutoBootstrap == nil {
				got.AutoBootstrap = boolp(false)
			} else if *got.AutoBootstrap {
				got.AutoBootstrap = nil
			} else {
				got.AutoBootstrap = boolp(true)
			}
			got.Status, got.Message = lifecycle.Editing, got.Message+" (edited)"
			swap := func(r json.RawMessage, v string) json.RawMessage {
				if r == nil {
					return json.RawMessage(v)
				}
				return nil
			}
			got.Config = swap(got.Config, `{"new":1}`)
			got.Pending = swap(got.Pending, `{"pending":true}`)
			got.Credentials = swap(got.Credentials, `{"password":"new"}`)
			got.AppliedState = swap(got.AppliedState, `{"bundleVersion":3}`)
			got.ValidationResults = swap(got.ValidationResults, `[]`)
			if got.LeaseOwner == "" {
				got.LeaseOwner, got.LeaseUntil = "replica-2", time.UnixMicro(1_800_000_000_000_001).UTC()
			} else {
				got.LeaseOwner, got.LeaseUntil = "", time.Time{}
			}
			got.Keys = []string{"z-" + tt.name, "a-" + tt.name}
			want = *got
			want.Keys = []string{"a-" + tt.name, "z-" + tt.name}
			mustUpdate(t, s, got)
			want.Version, want.UpdatedAt = 2, got.UpdatedAt
			if got.UpdatedAt.Before(got.CreatedAt) {
				t.Errorf("UpdatedAt %v before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
			}
			checkSame(t, "Get after Update", mustGet(t, s, in.ID), &want)
		})
	}
}

func testInvalidStatus(t *testing.T, s store.Store) {
	in := sample("bad")
	in.Status = "bogus"
	if err := s.Create(ctx(t), in); err == nil {
		t.Fatal("Create with an invalid status succeeded")
	}
	if list, _ := s.ListByStatus(ctx(t), lifecycle.Statuses...); len(list) != 0 {
		t.Fatalf("a refused Create stored %d integrations", len(list))
	}
	good := mustCreate(t, s, sample("good"))
	good.Status = ""
	if err := s.Update(ctx(t), good); err == nil {
		t.Fatal("Update with an empty status succeeded")
	}
	if got := mustGet(t, s, good.ID); got.Status != lifecycle.Creating || got.Version != 1 {
		t.Fatalf("a refused Update changed the integration: %s v%d", got.Status, got.Version)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	in := mustCreate(t, s, sample("u", "k1"))
	created := in.CreatedAt
	for v := int64(1); v <= 3; v++ {
		cur := mustGet(t, s, in.ID)
		if cur.Version != v {
			t.Fatalf("version %d, want %d", cur.Version, v)
		}
		cur.Message = fmt.Sprintf("step %d", v)
		cur.CreatedAt = time.Unix(0, 0) // must be ignored
		mustUpdate(t, s, cur)
		if cur.Version != v+1 {
			t.Fatalf("after Update in.Version = %d, want %d", cur.Version, v+1)
		}
		got := mustGet(t, s, in.ID)
		if got.Version != v+1 || got.Message != cur.Message || !got.CreatedAt.Equal(created) {
			t.Fatalf("after Update: version %d message %q created %v; want %d %q %v",
				got.Version, got.Message, got.CreatedAt, v+1, cur.Message, created)
		}
		if got.UpdatedAt.Before(got.CreatedAt) || !got.UpdatedAt.Equal(cur.UpdatedAt) {
			t.Fatalf("UpdatedAt %v (in: %v), CreatedAt %v", got.UpdatedAt, cur.UpdatedAt, got.CreatedAt)
		}
		if !slices.Equal(got.Keys, []string{"k1"}) {
			t.Fatalf("keys %v, want [k1]", got.Keys)
		}
	}
}

func testUpdateErrors(t *testing.T, s store.Store) {
	in := mustCreate(t, s, sample("e"))
	setStatus(t, s, in.ID, lifecycle.Enabled) // version 2
	tests := []struct {
		name    string
		id      int64
		version int64
		want    error
	}{
		{"missing id", in.ID + 100, 1, store.ErrNotFound},
		{"zero id", 0, 1, store.ErrNotFound},
		{"older version", in.ID, 1, store.ErrStale},
		{"newer version", in.ID, 3, store.ErrStale},
		{"zero version", in.ID, 0, store.ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := sample("changed")
			x.ID, x.Version, x.Status = tt.id, tt.version, lifecycle.Editing
			if err := s.Update(ctx(t), x); !errors.Is(err, tt.want) {
				t.Fatalf("Update = %v, want %v", err, tt.want)
			}
			if got := mustGet(t, s, in.ID); got.Version != 2 || got.Status != lifecycle.Enabled || got.Type != "e" {
				t.Fatalf("a failed Update changed the integration: v%d %s %s", got.Version, got.Status, got.Type)
			}
		})
	}
}

func testStaleFromSameRead(t *testing.T, s store.Store) {
	in := mustCreate(t, s, sample("s"))
	a, b := mustGet(t, s, in.ID), mustGet(t, s, in.ID)
	a.Status, a.Message = lifecycle.Enabled, "from a"
	b.Status, b.Message = lifecycle.CreateError, "from b"
	mustUpdate(t, s, a)
	if err := s.Update(ctx(t), b); !errors.Is(err, store.ErrStale) {
		t.Fatalf("second Update from the same read = %v, want ErrStale", err)
	}
	if b.Version != 1 {
		t.Errorf("a failed Update changed in.Version to %d", b.Version)
	}
	if got := mustGet(t, s, in.ID); got.Message != "from a" || got.Version != 2 {
		t.Fatalf("got %q v%d, want the first writer's update at v2", got.Message, got.Version)
	}
}

func testRacingUpdates(t *testing.T, s store.Store) {
	const writers, rounds = 8, 4
	in := mustCreate(t, s, sample("race", "race-key"))
	for round := range rounds {
		base := mustGet(t, s, in.ID)
		RaceUpdates(t, round, writers, base, func(int) store.Store { return s }, func(c *store.Integration, g int) {
			c.Credentials = json.RawMessage(fmt.Sprintf(`{"writer":%d}`, g))
		})
		got := mustGet(t, s, in.ID)
		if got.Version != base.Version+1 {
			t.Fatalf("round %d: version %d, want %d", round, got.Version, base.Version+1)
		}
		var cred struct{ Writer int }
		if err := json.Unmarshal(got.Credentials, &cred); err != nil ||
			got.Message != fmt.Sprintf("round %d writer %d", round, cred.Writer) {
			t.Fatalf("round %d: message %q and credentials %s are from different writers", round, got.Message, got.Credentials)
		}
	}
}

// RaceUpdates starts writers updates of base at once, writer g on storeOf(g) with the
// message "round R writer G" and edit's changes, and fails unless exactly one wins
// and every other one gets ErrStale.
func RaceUpdates(t *testing.T, round, writers int, base *store.Integration, storeOf func(g int) store.Store, edit func(c *store.Integration, g int)) {
	t.Helper()
	var wins, stale atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range writers {
		s := storeOf(g)
		c := *base
		c.Message = fmt.Sprintf("round %d writer %d", round, g)
		edit(&c, g)
		wg.Go(func() {
			<-start
			switch err := s.Update(ctx(t), &c); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrStale):
				stale.Add(1)
			default:
				t.Errorf("Update: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || stale.Load() != int32(writers-1) {
		t.Fatalf("round %d: %d wins and %d stale, want 1 and %d", round, wins.Load(), stale.Load(), writers-1)
	}
}

func testNoLostUpdates(t *testing.T, s store.Store) {
	const writers, each = 4, 5
	in := mustCreate(t, s, sample("counter"))
	in.Config = json.RawMessage(`{"n":0}`)
	mustUpdate(t, s, in)
	start := in.Version
	var mu sync.Mutex
	versions := map[int64]bool{}
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for done := 0; done < each; {
				cur, err := s.Get(ctx(t), in.ID)
				if err != nil {
					t.Error(err)
					return
				}
				var c struct{ N int }
				if err := json.Unmarshal(cur.Config, &c); err != nil {
					t.Error(err)
					return
				}
				cur.Config = json.RawMessage(fmt.Sprintf(`{"n":%d}`, c.N+1))
				switch err := s.Update(ctx(t), cur); {
				case err == nil:
					done++
					mu.Lock()
					if versions[cur.Version] {
						t.Errorf("two updates succeeded at version %d", cur.Version)
					}
					versions[cur.Version] = true
					mu.Unlock()
				case !errors.Is(err, store.ErrStale):
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := mustGet(t, s, in.ID)
	if want := start + writers*each; got.Version != want || string(got.Config) != fmt.Sprintf(`{"n":%d}`, writers*each) {
		t.Fatalf("version %d config %s, want version %d and n=%d", got.Version, got.Config, want, writers*each)
	}
}

func wantConflict(t *testing.T, err error, key string, holder int64) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want a *ConflictError", err)
	}
	if ce.Key != key || ce.ExistingID != holder {
		t.Fatalf("conflict on %q held by %d, want %q held by %d", ce.Key, ce.ExistingID, key, holder)
	}
}

func testUniqueness(t *testing.T, s store.Store) {
	t.Run("create conflict stores nothing", func(t *testing.T) {
		a := mustCreate(t, s, sample("a", "c1", "c2"))
		before, _ := s.ListByStatus(ctx(t), lifecycle.Statuses...)
		err := s.Create(ctx(t), sample("b", "c0", "c2", "c3"))
		wantConflict(t, err, "c2", a.ID)
		after, _ := s.ListByStatus(ctx(t), lifecycle.Statuses...)
		if len(after) != len(before) {
			t.Fatalf("a conflicting Create stored an integration (%d -> %d)", len(before), len(after))
		}
		// c0 and c3 were not taken by the failed Create.
		mustCreate(t, s, sample("c", "c0", "c3"))
	})
	t.Run("update conflict changes nothing", func(t *testing.T) {
		a := mustCreate(t, s, sample("a", "u1"))
		b := mustCreate(t, s, sample("b", "u2"))
		cur := mustGet(t, s, b.ID)
		cur.Keys, cur.Message = []string{"u3", "u1"}, "changed"
		wantConflict(t, s.Update(ctx(t), cur), "u1", a.ID)
		got := mustGet(t, s, b.ID)
		if got.Version != 1 || got.Message != b.Message || !slices.Equal(got.Keys, []string{"u2"}) {
			t.Fatalf("after a conflicting Update: v%d %q keys %v", got.Version, got.Message, got.Keys)
		}
		mustCreate(t, s, sample("c", "u3")) // not taken by the failed Update
	})
	t.Run("own keys, duplicates, replaced keys", func(t *testing.T) {
		a := mustCreate(t, s, sample("a", "o2", "o1", "o2"))
		if !slices.Equal(a.Keys, []string{"o1", "o2"}) {
			t.Fatalf("in.Keys after Create = %v, want [o1 o2]", a.Keys)
		}
		cur := setStatus(t, s, a.ID, lifecycle.Enabled, "o1", "o2") // keeping its own keys is no conflict
		cur.Keys = []string{"o3", "o1"}
		mustUpdate(t, s, cur)
		if got := mustGet(t, s, a.ID).Keys; !slices.Equal(got, []string{"o1", "o3"}) {
			t.Fatalf("keys after replace = %v, want [o1 o3]", got)
		}
		mustCreate(t, s, sample("b", "o2")) // dropped by the replace
		wantConflict(t, s.Create(ctx(t), sample("c", "o3")), "o3", a.ID)
	})
	for _, st := range []lifecycle.Status{lifecycle.Deleted, lifecycle.Disabled} {
		t.Run("released when "+string(st), func(t *testing.T) {
			key := "r-" + string(st)
			a := mustCreate(t, s, sample("a", key))
			wantConflict(t, s.Create(ctx(t), sample("b", key)), key, a.ID)
			setStatus(t, s, a.ID, st, key) // keys given with a non-live status are not kept
			if got := mustGet(t, s, a.ID).Keys; len(got) != 0 {
				t.Fatalf("a %s integration holds keys %v", st, got)
			}
			b := mustCreate(t, s, sample("b", key))
			if st == lifecycle.Disabled {
				// Disabled -> deleting makes it live again: its old key is taken now.
				cur := mustGet(t, s, a.ID)
				cur.Status, cur.Keys = lifecycle.Deleting, []string{key}
				wantConflict(t, s.Update(ctx(t), cur), key, b.ID)
				cur.Keys = nil
				mustUpdate(t, s, cur)
			}
		})
	}
	t.Run("non-live create holds no keys", func(t *testing.T) {
		in := sample("a", "n1")
		in.Status = lifecycle.Disabled
		mustCreate(t, s, in)
		if len(in.Keys) != 0 || len(mustGet(t, s, in.ID).Keys) != 0 {
			t.Fatalf("a disabled integration holds keys")
		}
		mustCreate(t, s, sample("b", "n1"))
	})
}

func testRacingCreates(t *testing.T, s store.Store) {
	raceCreates(t, "", "contested", func(int) store.Store { return s }, func(i int) []string { return []string{fmt.Sprintf("own-%d", i)} })
	list, _ := s.List(ctx(t))
	if len(list) != 1 {
		t.Fatalf("%d integrations stored, want 1", len(list))
	}
}

// raceCreates starts eight creates at once, racer i on storeOf(i) holding key and
// own(i), and fails unless exactly one succeeds and every other one gets the
// conflict naming key and the winner; it returns the winner. what prefixes failures.
func raceCreates(t *testing.T, what, key string, storeOf func(i int) store.Store, own func(i int) []string) *store.Integration {
	t.Helper()
	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*store.Integration, n)
	errs := make([]error, n)
	for i := range n {
		s := storeOf(i)
		wg.Go(func() {
			in := sample(fmt.Sprintf("racer%d", i), append([]string{key}, own(i)...)...)
			<-start
			errs[i] = s.Create(ctx(t), in)
			results[i] = in
		})
	}
	close(start)
	wg.Wait()
	var winner *store.Integration
	for i, err := range errs {
		if err == nil {
			if winner != nil {
				t.Fatalf("%stwo creates with the same key succeeded: %d and %d", what, winner.ID, results[i].ID)
			}
			winner = results[i]
		}
	}
	if winner == nil {
		t.Fatalf("%sno create succeeded: %v", what, errs)
	}
	for _, err := range errs {
		if err != nil {
			wantConflict(t, err, key, winner.ID)
		}
	}
	return winner
}

// testVersion: Version is Get's version, moves with every update, covers deleted
// integrations and says ErrNotFound for an unknown id.
func testVersion(t *testing.T, s store.Store) {
	in := mustCreate(t, s, sample("versioned"))
	for range 2 {
		if v, err := s.Version(ctx(t), in.ID); err != nil || v != in.Version || v != mustGet(t, s, in.ID).Version {
			t.Fatalf("Version = %d, %v; want %d", v, err, in.Version)
		}
		in.Message = "moved"
		mustUpdate(t, s, in)
	}
	setStatus(t, s, in.ID, lifecycle.Deleted)
	if v, err := s.Version(ctx(t), in.ID); err != nil || v != mustGet(t, s, in.ID).Version {
		t.Fatalf("Version of a deleted integration = %d, %v", v, err)
	}
	if _, err := s.Version(ctx(t), in.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Version of an unknown id = %v, want ErrNotFound", err)
	}
}

// testListVersions: the live integrations' ids and versions in id order, paged by
// after and limit, deleted ones left out, as List has them.
func testListVersions(t *testing.T, s store.Store) {
	var ids []int64
	for i := range 5 {
		ids = append(ids, mustCreate(t, s, sample(fmt.Sprint("lv", i))).ID)
	}
	moved := mustGet(t, s, ids[1])
	moved.Message = "moved"
	mustUpdate(t, s, moved)
	setStatus(t, s, ids[3], lifecycle.Deleted)
	all, err := s.ListVersions(ctx(t), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(list) || len(all) != 4 {
		t.Fatalf("ListVersions has %d items, List %d, want 4", len(all), len(list))
	}
	for i, v := range all {
		if v.ID != list[i].ID || v.Version != list[i].Version {
			t.Fatalf("item %d: ListVersions %+v, List id %d version %d", i, v, list[i].ID, list[i].Version)
		}
	}
	page, err := s.ListVersions(ctx(t), ids[0], 2)
	if err != nil || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[2] || page[0].Version != moved.Version {
		t.Fatalf("ListVersions(after %d, limit 2) = %+v, %v; want %d (version %d) and %d", ids[0], page, err, ids[1], moved.Version, ids[2])
	}
	rest, err := s.ListVersions(ctx(t), ids[2], 10)
	if err != nil || len(rest) != 1 || rest[0].ID != ids[4] {
		t.Fatalf("ListVersions(after %d, limit 10) = %+v, %v; want only %d (%d is deleted)", ids[2], rest, err, ids[4], ids[3])
	}
	if none, err := s.ListVersions(ctx(t), ids[4], 0); err != nil || len(none) != 0 {
		t.Fatalf("ListVersions after the last = %+v, %v; want none", none, err)
	}
}

var hexKey = regexp.MustCompile(`^[0-9a-f]{64}$`)

func testAPIKeyCreate(t *testing.T, s store.Store) {
	spec := store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin, "OTHER"}}
	k, plain, err := s.CreateAPIKey(ctx(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !hexKey.MatchString(plain) {
		t.Fatalf("generated key %d characters, want 64 lowercase hex", len(plain))
	}
	if k.ID == "" || strings.Contains(plain, k.ID) || k.Name != "admin" || k.IntegrationID != 0 ||
		k.RevokedAt != nil || time.Since(k.CreatedAt) > time.Minute || !k.Has(store.PermissionAdmin) || k.Has("NONE") {
		t.Fatalf("created key %+v", k)
	}
	got, err := s.Authenticate(ctx(t), plain)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if got.ID != k.ID || got.Name != k.Name || !slices.Equal(got.Permissions, spec.Permissions) ||
		!got.CreatedAt.Equal(k.CreatedAt) || got.RevokedAt != nil {
		t.Fatalf("Authenticate = %+v, want %+v", got, k)
	}
	_, plain2, err := s.CreateAPIKey(ctx(t), spec)
	if err != nil || plain2 == plain {
		t.Fatalf("second generated key: %v (same plaintext: %v)", err, plain2 == plain)
	}

	tests := []struct {
		name      string
		plaintext string
		wantErr   error // nil: must succeed; errAny: must fail
	}{
		{"exactly 16 characters", "abcdefghijklmnop", nil},
		{"16 characters not bytes", "ééééééééééééééé1", nil},
		{"long given key", strings.Repeat("Zz9-", 20), nil},
		{"15 characters", "abcdefghijklmno", errAny},
		{"one character", "x", errAny},
		{"already used", "abcdefghijklmnop", store.ErrAPIKeyExists},
		{"generated key given again", plain, store.ErrAPIKeyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.ListAPIKeys(ctx(t))
			k, got, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: tt.name, Plaintext: tt.plaintext,
				Permissions: []string{store.PermissionAdmin}})
			after, _ := s.ListAPIKeys(ctx(t))
			if tt.wantErr != nil {
				if err == nil || tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Fatalf("CreateAPIKey = %v, want %v", err, tt.wantErr)
				}
				if len(tt.plaintext) >= 8 && strings.Contains(err.Error(), tt.plaintext) {
					t.Fatalf("error %q shows the key", err)
				}
				if len(after) != len(before) {
					t.Fatalf("a refused key was stored")
				}
				return
			}
			if err != nil || got != tt.plaintext {
				t.Fatalf("CreateAPIKey = %q, %v", got, err)
			}
			a, err := s.Authenticate(ctx(t), tt.plaintext)
			if err != nil || a.ID != k.ID {
				t.Fatalf("Authenticate(given key) = %v, %v", a, err)
			}
		})
	}
	t.Run("unknown integration", func(t *testing.T) {
		_, _, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "x", IntegrationID: 424242})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CreateAPIKey for a missing integration = %v, want ErrNotFound", err)
		}
	})
	t.Run("integration key", func(t *testing.T) {
		in := mustCreate(t, s, sample("trino"))
		k, plain, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "trino", IntegrationID: in.ID})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Authenticate(ctx(t), plain)
		if err != nil || got.IntegrationID != in.ID || k.IntegrationID != in.ID || len(got.Permissions) != 0 {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
	})
}

// errAny marks a case that must fail with any error.
var errAny = errors.New("any error")

func testAPIKeyAuthenticateWrong(t *testing.T, s store.Store) {
	_, plain, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "x", plain + "x", plain[:63], strings.ToUpper(plain),
		" " + plain, strings.Repeat("0", 64)} {
		if k, err := s.Authenticate(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Authenticate(%d-char wrong key) = %v, %v; want ErrNotFound", len(key), k, err)
		}
	}
}

func testAPIKeyList(t *testing.T, s store.Store) {
	list, err := s.ListAPIKeys(ctx(t))
	if err != nil || len(list) != 0 {
		t.Fatalf("ListAPIKeys of an empty store = %d, %v", len(list), err)
	}
	var want []string
	for i := range 4 {
		k, _, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: fmt.Sprintf("k%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k.ID)
	}
	if err := s.RevokeAPIKey(ctx(t), want[1]); err != nil {
		t.Fatal(err)
	}
	list, err = s.ListAPIKeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, k := range list {
		got = append(got, k.ID)
		if (k.RevokedAt != nil) != (i == 1) {
			t.Errorf("key %d RevokedAt = %v", i, k.RevokedAt)
		}
		if k.Name != fmt.Sprintf("k%d", i) {
			t.Errorf("key %d named %q", i, k.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListAPIKeys ids = %v, want %v (ordered by creation, revoked included)", got, want)
	}
}

func testAPIKeyRevoke(t *testing.T, s store.Store) {
	create := func(name string) (*store.APIKey, string) {
		t.Helper()
		k, plain, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: name, Permissions: []string{store.PermissionAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		return k, plain
	}
	works := func(plain string, want bool) {
		t.Helper()
		_, err := s.Authenticate(ctx(t), plain)
		if want && err != nil || !want && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Authenticate = %v, want working=%v", err, want)
		}
	}
	byID, byIDPlain := create("by-id")
	_, byNamePlain := create("by-name")
	_, otherPlain := create("other")
	dup1, dup1Plain := create("twin")
	_, dup2Plain := create("twin")

	if err := s.RevokeAPIKey(ctx(t), byID.ID); err != nil {
		t.Fatal(err)
	}
	works(byIDPlain, false)
	if err := s.RevokeAPIKey(ctx(t), "by-name"); err != nil {
		t.Fatal(err)
	}
	works(byNamePlain, false)
	works(otherPlain, true)
	for _, id := range []string{byID.ID, "by-name"} {
		if err := s.RevokeAPIKey(ctx(t), id); err != nil {
			t.Errorf("revoking %q again = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "nope", "BY-NAME", byID.ID + "0"} {
		if err := s.RevokeAPIKey(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeAPIKey(%q) = %v, want ErrNotFound", id, err)
		}
	}
	err := s.RevokeAPIKey(ctx(t), "twin")
	if !errors.Is(err, store.ErrAmbiguousName) || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "id") {
		t.Fatalf("RevokeAPIKey(ambiguous name) = %v, want ErrAmbiguousName telling to use the id", err)
	}
	works(dup1Plain, true)
	works(dup2Plain, true)
	if err := s.RevokeAPIKey(ctx(t), dup1.ID); err != nil {
		t.Fatal(err)
	}
	works(dup1Plain, false)
	works(dup2Plain, true)
	if err := s.RevokeAPIKey(ctx(t), "twin"); err != nil { // now only one unrevoked
		t.Fatal(err)
	}
	works(dup2Plain, false)
	list, _ := s.ListAPIKeys(ctx(t))
	for _, k := range list {
		if (k.RevokedAt == nil) != (k.Name == "other") {
			t.Errorf("key %s (%s) RevokedAt %v", k.ID, k.Name, k.RevokedAt)
		}
	}
}

func testAPIKeyRotate(t *testing.T, s store.Store) {
	x := mustCreate(t, s, sample("trino-x"))
	y := mustCreate(t, s, sample("trino-y"))
	_, adminPlain, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	_, x1, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "x", IntegrationID: x.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, x2, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "x-second", IntegrationID: x.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, y1, err := s.CreateAPIKey(ctx(t), store.APIKeySpec{Name: "y", IntegrationID: y.ID})
	if err != nil {
		t.Fatal(err)
	}
	works := func(what, plain string, want bool) {
		t.Helper()
		_, err := s.Authenticate(ctx(t), plain)
		if want && err != nil || !want && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: Authenticate = %v, want working=%v", what, err, want)
		}
	}

	given := "given-trino-key-0123456789"
	k, plain, err := s.RotateIntegrationKey(ctx(t), x.ID, store.APIKeySpec{Name: "x-rotated", Plaintext: given})
	if err != nil {
		t.Fatal(err)
	}
	if plain != given || k.IntegrationID != x.ID || k.Name != "x-rotated" {
		t.Fatalf("rotated key %+v plaintext given=%v", k, plain == given)
	}
	works("old key of x", x1, false)
	works("second old key of x", x2, false)
	works("given new key of x", given, true)
	works("key of y", y1, true)
	works("admin key", adminPlain, true)

	k2, plain2, err := s.RotateIntegrationKey(ctx(t), x.ID, store.APIKeySpec{Name: "x-generated"})
	if err != nil {
		t.Fatal(err)
	}
	if !hexKey.MatchString(plain2) || k2.IntegrationID != x.ID {
		t.Fatalf("generated rotated key %+v", k2)
	}
	works("previous rotated key", given, false)
	works("generated rotated key", plain2, true)

	t.Run("refusals keep the old key", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			id   int64
			spec store.APIKeySpec
			want error
		}{
			{"too short", x.ID, store.APIKeySpec{Plaintext: "short"}, errAny},
			{"plaintext of another key", x.ID, store.APIKeySpec{Plaintext: adminPlain}, store.ErrAPIKeyExists},
			{"missing integration", x.ID + y.ID + 100, store.APIKeySpec{}, store.ErrNotFound},
			{"zero integration", 0, store.APIKeySpec{}, store.ErrNotFound},
		} {
			_, _, err := s.RotateIntegrationKey(ctx(t), tc.id, tc.spec)
			if err == nil || tc.want != errAny && !errors.Is(err, tc.want) {
				t.Errorf("%s: RotateIntegrationKey = %v, want %v", tc.name, err, tc.want)
			}
			works(tc.name+": current key", plain2, true)
			works(tc.name+": admin key", adminPlain, true)
		}
	})

	list, _ := s.ListAPIKeys(ctx(t))
	live := 0
	for _, k := range list {
		if k.IntegrationID == x.ID && k.RevokedAt == nil {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("integration x has %d unrevoked keys, want 1", live)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	in := mustCreate(t, s, sample("c"))
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if _, err := s.Get(c, in.ID); err == nil {
		t.Error("Get with a canceled context succeeded")
	}
	if err := s.Create(c, sample("c2")); err == nil {
		t.Error("Create with a canceled context succeeded")
	}
	cur := mustGet(t, s, in.ID)
	cur.Message = "x"
	if err := s.Update(c, cur); err == nil {
		t.Error("Update with a canceled context succeeded")
	}
	list, _ := s.ListByStatus(ctx(t), lifecycle.Statuses...)
	if len(list) != 1 || list[0].Version != 1 || list[0].Message != in.Message {
		t.Fatalf("canceled writes changed the store: %d integrations", len(list))
	}
}

func testKeyHolders(t *testing.T, s store.Store) {
	a := mustCreate(t, s, sample("a", "h1", "h2"))
	b := mustCreate(t, s, sample("b", "h3"))
	got, err := s.KeyHolders(ctx(t), []string{"h1", "h3", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["h1"] != a.ID || got["h3"] != b.ID {
		t.Fatalf("KeyHolders = %v, want h1:%d h3:%d", got, a.ID, b.ID)
	}
	// A released key has no holder.
	setStatus(t, s, b.ID, lifecycle.Deleted)
	if got, err := s.KeyHolders(ctx(t), []string{"h3"}); err != nil || len(got) != 0 {
		t.Fatalf("after delete: %v %v", got, err)
	}
	if got, err := s.KeyHolders(ctx(t), nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}
