package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
)

// jobCount returns the integrations_jobs_total counter of kind and outcome, as
// /metrics shows it.
func (e *env) jobCount(kind, outcome string) int {
	e.t.Helper()
	body := e.do(req{method: "GET", path: "/metrics", noAuth: true}).body
	prefix := fmt.Sprintf("integrations_jobs_total{kind=%q,outcome=%q} ", kind, outcome)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				e.t.Fatalf("metric %s%s: %v", prefix, v, err)
			}
			return n
		}
	}
	return 0
}

// wantJobCounts checks integrations_jobs_total of create jobs (absent counts as 0).
func (e *env) wantJobCounts(want map[string]int) {
	e.t.Helper()
	for _, outcome := range []string{"started", "ok", "failed", "interrupted", "dropped", "lost", "resumed", "released", "rejected"} {
		if got := e.jobCount("create", outcome); got != want[outcome] {
			e.t.Errorf("create jobs %s: %d, want %d", outcome, got, want[outcome])
		}
	}
}

// eventually waits until cond holds, looking after each change the server's
// background work reports, and fails the test after 10 s.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		changed := e.background.next()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			e.t.Fatalf("after 10 s: %s", what)
		}
	}
}

// sfAuto is an automatic Snowflake setup on a host of its own (org<i>...).
func sfAuto(t *testing.T, i int) string {
	return strings.Replace(sfSeed(t, "post_integrations_snowflake"), "organization.us", fmt.Sprintf("org%d.us", i), 1)
}

// s3Manual is a manual S3 setup with a name and path of its own.
func s3Manual(t *testing.T, i int) string {
	return strings.Replace(strings.Replace(seed(t, "post_integrations_natives3"), `"S3 integration"`, fmt.Sprintf(`"s3 %d"`, i), 1), `"s3://"`, fmt.Sprintf(`"s3://b%d/"`, i), 1)
}

// runCounter counts the fake's runs and verifies per integration (unique key).
type runCounter struct {
	mu   sync.Mutex
	runs map[string]int
}

func countRuns(f *connector.Fake) *runCounter {
	c := &runCounter{runs: map[string]int{}}
	f.OnRun = func(call, typ, key string) {
		c.mu.Lock()
		c.runs[typ+" "+key]++
		c.mu.Unlock()
	}
	return c
}

// onceEach fails unless exactly n integrations had platform work, each once.
func (c *runCounter) onceEach(t *testing.T, n int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) != n {
		t.Errorf("platform work on %d integrations, want %d: %v", len(c.runs), n, c.runs)
	}
	for k, v := range c.runs {
		if v != 1 {
			t.Errorf("%s: platform work started %d times, want once", k, v)
		}
	}
}

// With every place of the queue taken, a POST, PUT or DELETE that would start a job is
// a JSON 503 with Retry-After, and nothing is written: the same request succeeds once
// a place is free (a create is not a 409 of itself).
func TestQueueFull(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.workers, o.queue = 1, 1 })
	target := e.create(seed(t, "post_integrations_natives3"), lifecycle.Enabled)
	e.waitIdle()
	gate := make(chan struct{})
	e.fake.Set(func(f *connector.Fake) { f.Gate = gate })
	var accepted []string
	for i := 1; i <= 2; i++ { // one runs, one waits
		r := e.post("/integrations", sfAuto(t, i))
		expect(t, r, http.StatusOK)
		accepted = append(accepted, r.str(t, "id"))
	}
	before := string(e.get("/integrations").body)
	tests := []struct {
		name string
		req  req
		want lifecycle.Status // what a retry with a free place gives
	}{
		{"create", req{method: "POST", path: "/integrations", body: sfAuto(t, 3)}, lifecycle.Creating},
		{"edit", req{method: "PUT", path: "/integrations/" + target, body: seed(t, "put_integrations_123456789_natives3")}, lifecycle.Editing},
		{"delete", req{method: "DELETE", path: "/integrations/" + target}, lifecycle.Deleting},
	}
	for _, tt := range tests {
		t.Run(tt.name+" refused", func(t *testing.T) {
			r := e.do(tt.req)
			expect(t, r, http.StatusServiceUnavailable)
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			if msg := r.str(t, "message"); !strings.Contains(msg, "job queue is full") || !strings.Contains(msg, "nothing was written") {
				t.Errorf("message %q", msg)
			}
			if after := string(e.get("/integrations").body); after != before {
				t.Errorf("a refused request changed the integrations:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	for _, kind := range []string{"create", "edit", "delete"} {
		if got := e.jobCount(kind, "rejected"); got != 1 {
			t.Errorf("%s jobs rejected: %d, want 1", kind, got)
		}
	}
	e.fake.Set(func(f *connector.Fake) { f.Gate = nil })
	close(gate)
	for _, id := range accepted {
		e.waitStatus(id, lifecycle.Enabled)
	}
	// With places free the same requests are accepted (the edit's job ends before the
	// delete is sent).
	for _, tt := range tests {
		r := e.do(tt.req)
		expect(t, r, http.StatusOK)
		if got := r.str(t, "status"); got != string(tt.want) {
			t.Fatalf("%s: status %s, want %s", tt.name, got, tt.want)
		}
		want := lifecycle.Enabled
		if tt.want == lifecycle.Deleting {
			want = lifecycle.Deleted
		}
		e.waitStatus(r.str(t, "id"), want)
	}
}

// A job that waits for a worker keeps its lease (renewed, never claimed by the poller):
// no job of a live server is "interrupted", and each starts once.
func TestWaitingJobsKeepTheirLease(t *testing.T) {
	fake := &connector.Fake{}
	runs := countRuns(fake)
	gate := make(chan struct{})
	fake.Gate = gate
	e := newEnv(t, func(o *envOpt) { o.workers, o.fake = 1, fake })
	const n = 4
	var ids []string
	for i := range n {
		r := e.post("/integrations", sfAuto(t, i))
		expect(t, r, http.StatusOK)
		ids = append(ids, r.str(t, "id"))
	}
	// The last job waits behind the gated first one: its lease is renewed past three
	// leases (the poller, every 50 ms, would claim it the moment it lapsed).
	last := mustAtoi(t, ids[n-1])
	first, err := e.st.Get(context.Background(), int64(last))
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("the waiting job's lease was not renewed", func() bool {
		in, err := e.st.Get(context.Background(), int64(last))
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != lifecycle.Creating || in.Version != first.Version {
			// A claim bumps the version, a renewal does not.
			t.Fatalf("a waiting job became %s at version %d (accepted at %d): %s", in.Status, in.Version, first.Version, in.Message)
		}
		return in.LeaseUntil.After(first.LeaseUntil.Add(3 * 300 * time.Millisecond))
	})
	fake.Set(func(f *connector.Fake) { f.Gate = nil })
	close(gate)
	for _, id := range ids {
		e.waitStatus(id, lifecycle.Enabled)
	}
	runs.onceEach(t, n)
	e.wantJobCounts(map[string]int{"started": n, "ok": n})
}

// Close lets the held jobs, waiting ones too, finish within its deadline; afterwards
// new jobs are refused with 503.
func TestCloseFinishesWaitingJobs(t *testing.T) {
	fake := &connector.Fake{Latency: 30 * time.Millisecond}
	runs := countRuns(fake)
	e := newEnv(t, func(o *envOpt) { o.workers, o.fake = 1, fake })
	const n = 4
	var ids []int64
	for i := range n {
		r := e.post("/integrations", sfAuto(t, i))
		expect(t, r, http.StatusOK)
		ids = append(ids, int64(mustAtoi(t, r.str(t, "id"))))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, id := range ids {
		in, err := e.st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != lifecycle.Enabled || in.LeaseOwner != "" {
			t.Errorf("integration %d after Close: %s (lease of %q) %s", id, in.Status, in.LeaseOwner, in.Message)
		}
	}
	runs.onceEach(t, n)
	e.wantJobCounts(map[string]int{"started": n, "ok": n})
	r := e.post("/integrations", sfAuto(t, n))
	expect(t, r, http.StatusServiceUnavailable)
	if msg := r.str(t, "message"); !strings.Contains(msg, "shutting down") || r.header.Get("Retry-After") == "" {
		t.Errorf("after Close: %q, Retry-After %q", msg, r.header.Get("Retry-After"))
	}
}

// At Close's deadline the running job is cancelled, the waiting ones are not started,
// and every lease is released: the next start takes them over at once.
func TestCloseDeadlineReleasesLeases(t *testing.T) {
	fake := &connector.Fake{}
	gate := make(chan struct{})
	fake.Gate = gate
	e := newEnv(t, func(o *envOpt) { o.workers, o.fake = 1, fake })
	const n = 3
	var ids []int64
	for i := range n {
		r := e.post("/integrations", s3Manual(t, i))
		expect(t, r, http.StatusOK)
		ids = append(ids, int64(mustAtoi(t, r.str(t, "id"))))
	}
	e.eventually("the first job did not start", func() bool { return e.jobCount("create", "started") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.srv.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want the deadline", err)
	}
	for _, id := range ids {
		in, err := e.st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if in.Status != lifecycle.Creating || in.LeaseUntil.After(time.Now()) {
			t.Errorf("integration %d after Close: %s, lease of %q until %v; want creating, released", id, in.Status, in.LeaseOwner, in.LeaseUntil)
		}
	}
	e.wantJobCounts(map[string]int{"started": 1, "released": n})
	fake.Set(func(f *connector.Fake) { f.Gate = nil })
	close(gate)
	e.restart()
	for _, id := range ids {
		e.waitStatus(strconv.FormatInt(id, 10), lifecycle.Enabled)
	}
	e.wantJobCounts(map[string]int{"resumed": n, "started": n, "ok": n})
}

// blockingClaims is a store whose Claim, once armed, waits until released: the
// poller holds its probe place for as long as the test wants.
type blockingClaims struct {
	store.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (b *blockingClaims) Claim(ctx context.Context, owner string, now, until time.Time, statuses ...lifecycle.Status) (*store.Integration, error) {
	if b.armed.CompareAndSwap(true, false) {
		b.entered <- struct{}{}
		<-b.release
	}
	return b.Store.Claim(ctx, owner, now, until, statuses...)
}

// While the poller looks for lapsed jobs (its claim in flight) every place of the
// queue is still the requests': with Workers+Queue free places, that many requests
// are accepted (CI once saw the second of two refused because a poll was under way).
func TestPollDoesNotTakeARequestsPlace(t *testing.T) {
	bc := &blockingClaims{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, func(o *envOpt) {
		o.workers, o.queue = 1, 1
		o.wrap = func(s store.Store) store.Store { bc.Store = s; return bc }
	})
	release := sync.OnceFunc(func() { close(bc.release) })
	t.Cleanup(release) // a failed check must not leave the poll blocked
	gate := make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(open)
	e.fake.Set(func(f *connector.Fake) { f.Gate = gate })
	bc.armed.Store(true)
	<-bc.entered // a poll holds its place, its claim not answered yet
	var ids []string
	for i := 1; i <= 2; i++ {
		r := e.post("/integrations", sfAuto(t, i))
		expect(t, r, http.StatusOK)
		ids = append(ids, r.str(t, "id"))
	}
	// The places are the requests' now: a third is refused.
	expect(t, e.post("/integrations", sfAuto(t, 3)), http.StatusServiceUnavailable)
	release()
	e.fake.Set(func(f *connector.Fake) { f.Gate = nil })
	open()
	for _, id := range ids {
		e.waitStatus(id, lifecycle.Enabled)
	}
}
