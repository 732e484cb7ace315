// Package server is the Integrations API over HTTP (API.md): the thirteen routes of the
// seed under /integrations, the operational routes (/healthz, /readyz, /metrics,
// /openapi.json), the lifecycle of API.md section 5 and the background work that drives
// it. It is thin: payloads are decoded and validated by package platforms, scripts come
// from package render, statuses move only as package lifecycle allows, persistence is a
// store.Store and platforms are reached through connector.Connector.
//
// It owns the HTTP contract: routes.go is the one routing table, errors.go the one error
// adapter (apierr.Classify for everything without its own status), queue.go and
// worker.go the job queue with leases. It must never import internal/cli, and nothing
// of the engine imports it.
package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/render"
)

// Options configures a Server.
type Options struct {
	// Store is required.
	Store store.Store
	// Connector returns the connector of an integration type. Nil means offline
	// (API.md section 6): platform tests are skipped, manual setups are enabled after
	// the static checks and automatic setup is refused with 422.
	Connector func(typ string) connector.Connector
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Registerer receives the Prometheus metrics (default: a new registry).
	Registry *prometheus.Registry
	// CheckTimeout bounds each validation test (default 30s).
	CheckTimeout time.Duration
	// WorkTimeout bounds each background job (default 10m).
	WorkTimeout time.Duration
	// RequestTimeout bounds each request's own work (default DefaultRequestTimeout):
	// its context ends then, or when the client disconnects, and the work it drives
	// (validation tests, store calls) stops with it.
	RequestTimeout time.Duration
	// Workers is the number of background jobs run at once (default 4).
	Workers int
	// Queue is how many more accepted jobs may wait for a worker (default
	// DefaultQueue). When Workers+Queue jobs are accepted and not finished, a request
	// that would start one more gets 503 with Retry-After and nothing is written.
	Queue int
	// Lease is how long a replica's claim on a job lasts unless renewed (default
	// DefaultLease); a job whose replica stopped is taken over after it.
	Lease time.Duration
	// PollInterval is how often the job queue is polled for lapsed leases (default
	// DefaultPollInterval).
	PollInterval time.Duration
	// RevalidateInterval is the period of the recurring validation of enabled
	// integrations (0: off; the CLI's default is DefaultRevalidateInterval). It needs
	// connectors: an offline server never revalidates.
	RevalidateInterval time.Duration
	// PublicURL is the base URL clients reach the server at: Trino's
	// configurationSnippet names it (never a request's Host or X-Forwarded-* headers,
	// which any caller chooses). Empty: http://localhost.
	PublicURL string
	// AuthTTL is how long a successful API key lookup is reused (default
	// DefaultAuthTTL; negative: never).
	AuthTTL time.Duration
	// Now is the clock of the auth cache's expiry and of which integrations are due
	// for revalidation (default time.Now). Tests move it forward instead of sleeping;
	// leases and timeouts keep the real clock.
	Now func() time.Time
	// OnBackground, when set, is called after background work changed what the store
	// holds: a job started, the leases were renewed, an outcome was written or
	// dropped, a revalidation ended; and when a place in the job queue was given back
	// unused (a poll that claimed nothing). Tests wait on it instead of polling.
	OnBackground func()
	// NoMigrations: the server never migrates on its own (migrate.go); an integration
	// an older bundle made stays enabled until a PUT migrates it.
	NoMigrations bool
	// Templates and BundleVersion are the bundle the engine renders (render.Options):
	// nil and 0 are the embedded templates and templates.BundleVersion. Tests give an
	// older or a newer bundle kept as test data, to make states that need a migration
	// and to migrate them.
	Templates     fs.FS
	BundleVersion int
}

// Server serves the API. Create it with New, call Start to resume work left by a
// previous run and start the workers, serve Handler, and call Close when done.
type Server struct {
	// requestTimeout is Options.RequestTimeout.
	requestTimeout time.Duration
	// publicURL is the base URL of Trino's configurationSnippet (Options.PublicURL).
	publicURL string
	store     store.Store
	conn      func(string) connector.Connector
	engine    *render.Engine
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *metrics
	handler   http.Handler

	checkTimeout, workTimeout time.Duration

	auths authCache
	views viewCache
	// scripts is the memo of script responses (scriptOp).
	scripts *scriptMemo

	replica      string
	lease        time.Duration
	pollInterval time.Duration
	revalidate   time.Duration
	// now is Options.Now.
	now func() time.Time
	// onBackground is Options.OnBackground (never nil).
	onBackground func()
	sem          chan struct{}

	// qmu guards the queue's state: held, active, closing.
	qmu sync.Mutex
	// held are the jobs whose lease this replica holds, waiting or running.
	held map[int64]*heldJob
	// active is the number of places taken (jobs accepted and not finished, and
	// requests about to write one); capacity is Workers+Queue. probes is how many of
	// the active places are the poller's probe (takePlace): 0 or 1.
	active, capacity, probes int
	// closing: Close was called; drained is closed once no place is taken after it.
	closing bool
	drained chan struct{}

	jobs     chan job
	workers  int
	wg       sync.WaitGroup
	jobCtx   context.Context
	stop     context.CancelFunc
	quit     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	started  bool
	// migrateAfter is when the poll next looks for integrations to migrate (after a
	// look that found none); only the poll, which runs one at a time, reads and
	// writes it.
	migrateAfter time.Time
	// noMigrations is Options.NoMigrations.
	noMigrations bool
}

// New builds a server from opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	memo := &checkMemo{}
	eng, err := render.New(render.Options{Check: memo.check, FS: opts.Templates, BundleVersion: opts.BundleVersion})
	if err != nil {
		return nil, err
	}
	scripts, err := newScriptMemo()
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:        opts.Store,
		scripts:      scripts,
		conn:         opts.Connector,
		engine:       eng,
		log:          opts.Logger,
		reg:          opts.Registry,
		checkTimeout: opts.CheckTimeout,
		workTimeout:  opts.WorkTimeout,
		workers:      opts.Workers,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	if s.checkTimeout <= 0 {
		s.checkTimeout = 30 * time.Second
	}
	if s.workTimeout <= 0 {
		s.workTimeout = 10 * time.Minute
	}
	if s.workers <= 0 {
		s.workers = 4
	}
	s.replica, s.lease, s.pollInterval = newReplicaID(), opts.Lease, opts.PollInterval
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.pollInterval <= 0 {
		s.pollInterval = DefaultPollInterval
	}
	s.held = map[int64]*heldJob{}
	queue := opts.Queue
	if queue <= 0 {
		queue = DefaultQueue
	}
	s.capacity = s.workers + queue
	s.drained = make(chan struct{})
	s.revalidate = opts.RevalidateInterval
	s.noMigrations = opts.NoMigrations
	s.publicURL = opts.PublicURL
	s.requestTimeout = opts.RequestTimeout
	if s.requestTimeout <= 0 {
		s.requestTimeout = DefaultRequestTimeout
	}
	if s.publicURL == "" {
		s.publicURL = "http://localhost"
	}
	s.sem = make(chan struct{}, s.workers)
	s.auths.ttl = opts.AuthTTL
	if s.auths.ttl == 0 {
		s.auths.ttl = DefaultAuthTTL
	}
	s.now = opts.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.auths.now = s.now
	s.onBackground = opts.OnBackground
	if s.onBackground == nil {
		s.onBackground = func() {}
	}
	s.metrics = newMetrics(s.reg)
	s.jobs = make(chan job, s.capacity+1) // +1: a probe's claim (takePlace)
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Offline reports whether the server runs without platform connectors.
func (s *Server) Offline() bool { return s.conn == nil }

func (s *Server) connectorFor(typ string) connector.Connector {
	if s.conn == nil {
		return nil
	}
	return s.conn(typ)
}

// GCPercent is the garbage collector target `integrations serve` runs with (Go's
// default is 100). The server's live heap is small and most of its allocations are
// per-request garbage, so a higher target trades a little memory for markedly less GC
// CPU (measured by BenchmarkServer: scripts/create throughput +30%).
const GCPercent = 200

// TuneGC applies GCPercent unless the GOGC environment variable chooses otherwise.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
