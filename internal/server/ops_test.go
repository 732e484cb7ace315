package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/server/openapi"
)

func TestOperationalRoutes(t *testing.T) {
	e := newEnv(t)
	e.create(seed(t, "post_integrations_trino"), lifecycle.Enabled)
	expect(t, e.get("/integrations/77"), http.StatusNotFound)
	m := e.do(req{method: "GET", path: "/metrics", noAuth: true})
	expect(t, m, http.StatusOK)
	for _, want := range []string{
		`integrations_http_requests_total{code="200",route="POST /integrations"} 1`,
		`integrations_http_requests_total{code="404",route="GET /integrations/{id}"} 1`,
		`integrations_jobs_total{kind="create",outcome="ok"} 1`,
		`integrations_http_request_duration_seconds_bucket{route="GET /integrations/{id}/status"`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	doc := e.do(req{method: "GET", path: "/openapi.json", noAuth: true})
	expect(t, doc, http.StatusOK)
	if string(doc.body) != string(openapi.Document()) {
		t.Error("/openapi.json is not the embedded document")
	}
	// Every route of the mux is in the document and the other way round.
	got := map[string]bool{}
	for _, p := range e.srv.RoutePatterns() {
		got[p] = true
	}
	for _, p := range openapi.Routes() {
		if !got[p] {
			t.Errorf("documented route %s is not served", p)
		}
		delete(got, p)
	}
	for p := range got {
		t.Errorf("served route %s is not documented", p)
	}
	// A request id is echoed, or made.
	r := e.do(req{method: "GET", path: "/healthz", noAuth: true, headers: []string{"X-Request-Id: abc-123"}})
	if r.header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("request id %q", r.header.Get("X-Request-Id"))
	}
	r = e.do(req{method: "GET", path: "/healthz", noAuth: true, headers: []string{"X-Request-Id: bad id\u00e9"}})
	if id := r.header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("request id %q", id)
	}
	// readyz fails when the store is gone; healthz does not.
	_ = e.st.Close()
	expect(t, e.do(req{method: "GET", path: "/readyz", noAuth: true}), http.StatusServiceUnavailable)
	expect(t, e.do(req{method: "GET", path: "/healthz", noAuth: true}), http.StatusOK)
}
