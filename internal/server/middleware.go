package server

// The import block is like queue.go's: both are server plumbing around requests and
// jobs; a list of dependencies shares no logic.
import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openintegrations/integrations/internal/store"
)

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxAPIKey
)

// recorder captures the status and size of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// validRequestID accepts a client's X-Request-Id only when it is short and plain, so it
// can be logged and echoed safely.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// requestIDs makes request ids: a random per-process prefix and a counter, unique
// without a system call per request.
var requestIDs = struct {
	prefix string
	n      atomic.Uint64
}{prefix: func() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()}

func newRequestID() string {
	return requestIDs.prefix + "-" + strconv.FormatUint(requestIDs.n.Add(1), 10)
}

// observe is the outermost middleware: request id, panic recovery (a 500 with the error
// body, never a crash), one structured log line per request and the HTTP metrics. Logs
// carry method, path, route, status, size and duration: never headers, bodies or query
// values that could hold a key or a secret.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), ctxRequestID, id)
		r = r.WithContext(ctx)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, r, errors.New("panic"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			// LogAttrs writes the same line as InfoContext with key-value pairs, without
			// boxing each value: this line is written for every request.
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("route", route), slog.Int("status", code),
				slog.Int64("bytes", int64(rec.bytes)), slog.Float64("duration_ms", float64(d.Microseconds())/1000))
		}()
		next.ServeHTTP(rec, r)
	})
}

// apiKey extracts the key of the Authorization header: the raw key (as the seed sends
// it) or "Bearer <key>".
func apiKey(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return h
}

// auth guards the /integrations routes: 401 without a known key, 403 without the
// APPLICATION_ADMIN permission.
func (s *Server) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := apiKey(r)
		if key == "" {
			s.writeError(w, r, errorf(http.StatusUnauthorized, "an API key is required in the Authorization header"))
			return
		}
		k, h, ok := s.auths.get(key)
		if !ok {
			var err error
			k, err = s.store.Authenticate(r.Context(), key)
			if errors.Is(err, store.ErrNotFound) {
				s.writeError(w, r, errorf(http.StatusUnauthorized, "the API key in the Authorization header is not valid"))
				return
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			s.auths.put(h, k)
		}
		if !k.Has(store.PermissionAdmin) {
			s.writeError(w, r, errorf(http.StatusForbidden, "this API key does not have the %s permission that integrations need", store.PermissionAdmin))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxAPIKey, k.ID)))
	})
}
