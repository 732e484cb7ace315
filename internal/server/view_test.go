package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
)

// countingStore counts the full-row reads (Get) the server makes.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, id int64) (*store.Integration, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, id)
}

// TestGetServesKeptBodyAfterVersionCheck: once a body is kept, GET of the integration
// reads its version only (no full row, nothing unsealed), and a write by someone else
// (another replica; here the test's own store handle) is seen on the next GET.
func TestGetServesKeptBodyAfterVersionCheck(t *testing.T) {
	var cs *countingStore
	e := newEnv(t, func(o *envOpt) {
		o.wrap = func(s store.Store) store.Store { cs = &countingStore{Store: s}; return cs }
	})
	id := e.create(seed(t, "post_integrations_natives3"), lifecycle.Enabled)
	e.waitIdle()
	first := e.get("/integrations/" + id)
	expect(t, first, http.StatusOK)
	before := cs.gets.Load()
	for range 3 {
		r := e.get("/integrations/" + id)
		expect(t, r, http.StatusOK)
		if string(r.body) != string(first.body) {
			t.Fatalf("kept body differs:\n%s\n%s", first.body, r.body)
		}
	}
	if n := cs.gets.Load() - before; n != 0 {
		t.Errorf("%d full-row reads for 3 GETs of a kept body, want 0", n)
	}
	// Another writer moves the version: the next GET shows its write.
	n, _ := strconv.ParseInt(id, 10, 64)
	in, err := e.st.Get(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	in.Message = "written by another replica"
	if err := e.st.Update(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	r := e.get("/integrations/" + id)
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "written by another replica") {
		t.Fatalf("GET after another writer's update serves the old body:\n%s", r.body)
	}
}
