package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
)

// TestRequestDeadline: a request whose validation tests outlive its deadline ends with a
// JSON 503 that says so, instead of waiting for them or reporting their failure as the
// platform's, and nothing is written.
func TestRequestDeadline(t *testing.T) {
	gate := make(chan struct{}) // never closed: the tests wait for the deadline
	fake := &connector.Fake{CheckGate: gate}
	e := newEnv(t, func(o *envOpt) { o.fake = fake; o.requestTimeout = 200 * time.Millisecond })
	r := e.post("/integrations", seed(t, "post_integrations_googlebigquery"))
	expect(t, r, http.StatusServiceUnavailable)
	if msg := r.str(t, "message"); !strings.Contains(msg, "longer than the 200ms request limit") || !strings.Contains(msg, "nothing was written") {
		t.Errorf("message %q", msg)
	}
	close(gate)
	list := e.get("/integrations")
	expect(t, list, http.StatusOK)
	if strings.TrimSpace(string(list.body)) != "[]" {
		t.Errorf("a request past its deadline wrote an integration: %s", list.body)
	}
}
