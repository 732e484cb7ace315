package server

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/apierr"
	"github.com/openintegrations/integrations/internal/connector"
)

// TestRetryAfter: every 503 says when to retry. The queue's (Retry-After 1) has its own
// test, TestQueueFull; the store outage's routes are in TestStoreOutage (PostgreSQL).
func TestRetryAfter(t *testing.T) {
	store := strconv.Itoa(apierr.RetryAfterSeconds)
	tests := []struct {
		name string
		do   func(t *testing.T) resp
		want string
	}{
		{"readyz, the store unreachable", func(t *testing.T) resp {
			e := newEnv(t)
			_ = e.st.Close()
			return e.do(req{method: "GET", path: "/readyz", noAuth: true})
		}, store},
		{"validation tests that did not finish", func(t *testing.T) resp {
			gate := make(chan struct{}) // the tests wait for the request's deadline
			e := newEnv(t, func(o *envOpt) { o.fake = &connector.Fake{CheckGate: gate}; o.requestTimeout = 100 * time.Millisecond })
			t.Cleanup(func() { close(gate) })
			return e.post("/integrations", seed(t, "post_integrations_googlebigquery"))
		}, store},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do(t)
			expect(t, r, http.StatusServiceUnavailable)
			if got := r.header.Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After %q, want %q", got, tt.want)
			}
		})
	}
}
