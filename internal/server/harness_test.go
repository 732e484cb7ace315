package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/server/openapi/openapitest"
	"github.com/openintegrations/integrations/internal/store"
)

// checker validates every response the tests see against /openapi.json and records
// which routes and statuses were exercised.
var (
	checker     *openapitest.Checker
	checkerOnce sync.Once
)

// TestMain fails the run when a documented route and status was never exercised (only
// for full runs: -run filters skip the check).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && checker != nil && !filtered() {
		if missing := uncoveredRoutes(checker.Covered()); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: documented routes never exercised by a test:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func filtered() bool {
	f := flag.Lookup("test.run")
	return f != nil && f.Value.String() != ""
}

// testKey is a fixed secret key for test stores.
var testKey = bytes.Repeat([]byte{7}, 32)

// syncBuffer collects logs from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one server on a real SQLite store behind httptest, with an admin key and a
// fake connector (nil when offline).
type env struct {
	t     *testing.T
	dir   string
	db    string
	st    store.Store
	srv   *Server
	hs    *httptest.Server
	fake  *connector.Fake
	admin string
	logs  *syncBuffer
	// clock is the server's Options.Now: tests advance it instead of sleeping.
	clock testClock
	// background is fired by the server's Options.OnBackground: waitStatus and
	// eventually wait on it instead of polling.
	background signal

	revalidate time.Duration
	// requestTimeout is Options.RequestTimeout.
	requestTimeout time.Duration
	// workers and queue are Options.Workers and Options.Queue.
	workers, queue int
	// wrap is envOpt.wrap.
	wrap func(store.Store) store.Store
	// templates and bundle are the server's Options.Templates and BundleVersion (nil
	// and 0: the embedded bundle); a test sets them before a restart to upgrade.
	templates fs.FS
	bundle    int
	// noMigrations is Options.NoMigrations.
	noMigrations bool
}

type envOpt struct {
	offline    bool
	revalidate time.Duration
	dir        string
	fake       *connector.Fake
	// dsn is the store (default: a SQLite file in dir).
	dsn string
	// requestTimeout is Options.RequestTimeout (default: the server's).
	requestTimeout time.Duration
	// workers and queue are Options.Workers and Options.Queue (default: the server's).
	workers, queue int
	// wrap, when set, wraps the store the server is given (the tests' e.st is not).
	wrap func(store.Store) store.Store
}

func newEnv(t *testing.T, opts ...func(*envOpt)) *env {
	t.Helper()
	o := envOpt{}
	for _, f := range opts {
		f(&o)
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	if o.fake == nil && !o.offline {
		o.fake = &connector.Fake{}
	}
	checkerOnce.Do(func() { checker = openapitest.New(t) })
	e := &env{t: t, dir: o.dir, db: filepath.Join(o.dir, "integrations.db"), fake: o.fake, logs: &syncBuffer{}}
	e.revalidate = o.revalidate
	if o.dsn != "" {
		e.db = o.dsn
	}
	e.requestTimeout = o.requestTimeout
	e.workers, e.queue = o.workers, o.queue
	e.wrap = o.wrap
	e.start(o.offline)
	return e
}

func offline(o *envOpt) { o.offline = true }

func (e *env) start(offline bool) {
	t := e.t
	ctx := context.Background()
	st, err := store.Open(ctx, e.db, store.Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 || e.admin == "" {
		_, e.admin, err = st.CreateAPIKey(ctx, store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin}})
		if err != nil {
			t.Fatal(err)
		}
	}
	var served store.Store = st
	if e.wrap != nil {
		served = e.wrap(st)
	}
	opts := Options{Store: served, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), CheckTimeout: 5 * time.Second, WorkTimeout: 20 * time.Second, AuthTTL: 100 * time.Millisecond, Now: e.clock.now, OnBackground: e.background.fire,
		Lease: 300 * time.Millisecond, PollInterval: 50 * time.Millisecond, RevalidateInterval: e.revalidate, RequestTimeout: e.requestTimeout,
		Workers: e.workers, Queue: e.queue, Templates: e.templates, BundleVersion: e.bundle, NoMigrations: e.noMigrations}
	if !offline {
		fake := e.fake
		opts.Connector = func(string) connector.Connector { return fake }
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.hs = httptest.NewServer(srv.Handler())
	t.Cleanup(e.stop)
}

// signal wakes every waiter of next at each fire.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// next returns a channel that closes at the next fire. Take it before looking at
// the state waited for, so that a change in between is not missed.
func (s *signal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// testClock is the real clock plus an offset a test advances.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// advance moves the clock forward by d.
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// stop shuts the server down (idempotent).
func (e *env) stop() {
	if e.hs == nil {
		return
	}
	e.hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = e.srv.Close(ctx)
	_ = e.st.Close()
	e.hs = nil
}

// restart stops the server and starts a new one on the same store file.
func (e *env) restart() {
	e.stop()
	e.start(e.fake == nil)
}

// resp is a response as the tests see it.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (r resp) str(t *testing.T, key string) string {
	t.Helper()
	v, _ := r.json(t)[key].(string)
	return v
}

// req describes a request: headers as "Name: value" strings.
type req struct {
	method, path string
	body         string
	headers      []string
	noAuth       bool
	key          string
	// noCheck skips the OpenAPI check (for routes the document does not have).
	noCheck bool
}

// do sends r and checks the response against the OpenAPI document.
func (e *env) do(r req) resp {
	e.t.Helper()
	httpReq, err := http.NewRequest(r.method, e.hs.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	if r.body != "" {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	if !r.noAuth {
		key := r.key
		if key == "" {
			key = e.admin
		}
		httpReq.Header.Set("Authorization", key)
	}
	for _, h := range r.headers {
		k, v, _ := strings.Cut(h, ":")
		if strings.TrimSpace(v) == "" {
			httpReq.Header.Del(k)
			continue
		}
		httpReq.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := e.hs.Client().Do(httpReq)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, body: body}
	if checker != nil && !r.noCheck {
		checker.Check(e.t, httpReq, []byte(r.body), out.status, out.header, out.body)
	}
	return out
}

func (e *env) get(path string) resp { return e.do(req{method: "GET", path: path}) }
func (e *env) post(path, body string) resp {
	return e.do(req{method: "POST", path: path, body: body})
}
func (e *env) put(path, body string) resp { return e.do(req{method: "PUT", path: path, body: body}) }
func (e *env) del(path, body string) resp {
	return e.do(req{method: "DELETE", path: path, body: body})
}

// expect fails unless r has status want; for errors it also checks the error body.
func expect(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, want, r.body)
	}
	if want >= 400 {
		checkErrorBody(t, r)
	}
}

// expectError checks status and the exact message.
func expectError(t *testing.T, r resp, status int, message string) {
	t.Helper()
	expect(t, r, status)
	if got := r.str(t, "message"); got != message {
		t.Fatalf("message:\n got %q\nwant %q", got, message)
	}
}

func checkErrorBody(t *testing.T, r resp) {
	t.Helper()
	m := r.json(t)
	if sc, _ := m["statusCode"].(float64); int(sc) != r.status {
		t.Errorf("statusCode %v, want %d", m["statusCode"], r.status)
	}
	if m["error"] != http.StatusText(r.status) {
		t.Errorf("error %v, want %q", m["error"], http.StatusText(r.status))
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Errorf("no message: %s", r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
}

// waitStatus waits until the integration reaches want (or fails the test after 10 s):
// it looks at /status after each change the server's background work reports.
func (e *env) waitStatus(id string, want lifecycle.Status) {
	e.t.Helper()
	deadline := time.After(10 * time.Second)
	var last string
	for {
		changed := e.background.next()
		r := e.get("/integrations/" + id + "/status")
		if r.status == http.StatusOK {
			last, _ = r.json(e.t)["status"].(string)
			if last == string(want) {
				return
			}
		}
		select {
		case <-changed:
		case <-deadline:
			e.t.Fatalf("integration %s stayed %s, want %s", id, last, want)
		}
	}
}

// seed returns a request body of the seed document (testdata/seed).
func seed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sfSeed is seed for a Snowflake example that a script is rendered from (the
// create, edit and cleanup scripts, and the server's own automatic setup): the seed
// names the shared database SNOWFLAKE_SAMPLE_DATA and, for manual setups, a
// 7-character password, which every script render refuses (Snowflake's password
// policy). It uses a new database name and, where a script sets it, a password that
// meets the policy; the bootstrap password of an automatic setup is kept.
func sfSeed(t *testing.T, name string) string {
	t.Helper()
	s := strings.ReplaceAll(seed(t, name), `"SNOWFLAKE_SAMPLE_DATA"`, `"IMMUTA_DB"`)
	if strings.Contains(s, `"autoBootstrap": false`) {
		s = strings.ReplaceAll(s, `"abc1234"`, `"`+sfScriptPassword+`"`)
	}
	return s
}

// sfScriptPassword is the password sfSeed puts where a Snowflake script sets it.
const sfScriptPassword = "Abc1234-secret-pw"

// create POSTs body and waits for want; it returns the id.
func (e *env) create(body string, want lifecycle.Status) string {
	e.t.Helper()
	r := e.post("/integrations", body)
	expect(e.t, r, http.StatusOK)
	id := r.str(e.t, "id")
	e.waitStatus(id, want)
	return id
}

// waitIdle waits until every job has given its place in the queue back (an outcome is
// visible a moment before its job's place is free).
func (e *env) waitIdle() {
	e.t.Helper()
	e.eventually("a job's place in the queue was not given back", func() bool {
		e.srv.qmu.Lock()
		defer e.srv.qmu.Unlock()
		return e.srv.active == 0
	})
}

// uncoveredRoutes lists the documented routes of which no response was checked.
func uncoveredRoutes(covered map[string]bool) []string {
	seen := map[string]bool{}
	for k, v := range covered {
		route, _, _ := strings.Cut(k, " (")
		seen[route] = seen[route] || v
	}
	var out []string
	for route, ok := range seen {
		if !ok {
			out = append(out, route)
		}
	}
	sort.Strings(out)
	return out
}
