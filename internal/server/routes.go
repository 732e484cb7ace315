package server

import (
	"context"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openintegrations/integrations/internal/server/openapi"
)

// route is one entry of the routing table.
type route struct {
	pattern string
	handler http.Handler
}

// routeTable is every route the server answers, in the seed's order: the one place
// that maps a method and path to a handler.
func (s *Server) routeTable() []route {
	// a authenticates, then refuses a query string with a parameter the route does not
	// take (params), a malformed pair or a repeated one with different values.
	a := func(h handler, params ...string) http.Handler {
		return s.auth(s.handle(func(w http.ResponseWriter, r *http.Request) error {
			if err := strictQuery(r, params); err != nil {
				return err
			}
			return h(w, r)
		}))
	}
	return []route{
		{"GET /integrations", a(s.listIntegrations, "limit", "after")},
		{"POST /integrations", a(s.createIntegration, "dryRun")},
		{"DELETE /integrations/{id}", a(s.deleteIntegration, "dryRun", "forceDisable")},
		{"GET /integrations/{id}", a(s.getIntegration)},
		{"PUT /integrations/{id}", a(s.updateIntegration, "dryRun")},
		{"POST /integrations/{id}/regenerate", a(s.regenerate)},
		{"GET /integrations/{id}/status", a(s.getStatus)},
		{"POST /integrations/scripts/cleanup", a(s.scriptOp("cleanup"), "redact")},
		{"POST /integrations/scripts/create", a(s.scriptOp("create"), "redact")},
		{"POST /integrations/{id}/scripts/delete", a(s.scriptDelete, "redact")},
		{"POST /integrations/{id}/scripts/edit", a(s.scriptEdit, "redact")},
		{"POST /integrations/scripts/initial-create", a(s.scriptOp("initial-create"), "redact")},
		{"POST /integrations/scripts/post-cleanup", a(s.scriptOp("post-cleanup"), "redact")},

		{"GET /healthz", http.HandlerFunc(s.healthz)},
		{"GET /readyz", http.HandlerFunc(s.readyz)},
		{"GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})},
		{"GET /openapi.json", openapi.Handler()},
	}
}

// handler is an API handler: it writes its response, or returns the error that
// writeError (the one error adapter) turns into the error body.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The request's work ends at its deadline, or when the client disconnects.
		ctx, cancel := context.WithTimeout(r.Context(), s.requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// RoutePatterns lists the method and path of every route ("GET /integrations", ...).
func (s *Server) RoutePatterns() []string {
	var out []string
	for _, r := range s.routeTable() {
		out = append(out, r.pattern)
	}
	return out
}

// routes builds the mux. Paths answered with a method they do not have get 405 with the
// error body and an Allow header; unknown paths get 404 with the error body.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, r := range s.routeTable() {
		mux.Handle(r.pattern, r.handler)
		method, path, _ := strings.Cut(r.pattern, " ")
		methods[path] = append(methods[path], method)
	}
	for path, ms := range methods {
		sort.Strings(ms)
		allow := strings.Join(ms, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s; allowed: %s", r.Method, path, allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "no route %s %s; the API's routes are listed at /openapi.json", r.Method, r.URL.Path))
	})
	return s.observe(s.guard(mux))
}

// MaxHeaderBytes is the limit of a request's header fields; beyond it the answer is a
// JSON 431. The http.Server's own limit (which answers in plain text) must be higher.
const MaxHeaderBytes = 64 << 10

// guard answers, with the JSON error body, what net/http would otherwise answer in
// plain text or HTML: header fields over MaxHeaderBytes (431), a path that is not clean
// such as //integrations (404, where ServeMux would redirect), and a body with a
// Content-Encoding (415: bodies are read as sent).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := 0
		for k, vs := range r.Header {
			for _, v := range vs {
				size += len(k) + len(v) + 4
			}
		}
		switch p := r.URL.Path; {
		case size > MaxHeaderBytes:
			w.Header().Set("Connection", "close")
			s.writeError(w, r, errorf(http.StatusRequestHeaderFieldsTooLarge, "request header fields are larger than the %d KiB limit", MaxHeaderBytes>>10))
		case p == "" || p[0] != '/' || path.Clean(p) != p:
			s.writeError(w, r, errorf(http.StatusNotFound, "no route %s %s: the path is not in its clean form; the API's routes are listed at /openapi.json", r.Method, p))
		case r.Header.Get("Content-Encoding") != "" && !strings.EqualFold(r.Header.Get("Content-Encoding"), "identity"):
			s.writeError(w, r, errorf(http.StatusUnsupportedMediaType, "Content-Encoding %s is not supported: send the body unencoded", r.Header.Get("Content-Encoding")))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// DefaultRequestTimeout bounds a request's work: longer than the validation tests of
// one request take (each is bounded by Options.CheckTimeout), shorter than the
// http.Server's WriteTimeout.
const DefaultRequestTimeout = 4 * time.Minute

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "store not reachable", "err", err)
		s.writeError(w, r, errorf(http.StatusServiceUnavailable, "the store is not reachable"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
