package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestGuardAnswersJSON: what net/http would answer in plain text or HTML gets the JSON
// error body: oversized header fields, paths that are not clean (no redirect), and
// encoded bodies.
func TestGuardAnswersJSON(t *testing.T) {
	e := newEnv(t)
	body := strings.Replace(seed(t, "put_integrations_123456789_redshift"), `"abc1234"`, `"Abc12345-g"`, 1)
	cases := []struct {
		name   string
		r      req
		status int
		msg    string
	}{
		{"double slash", req{method: "GET", path: "//integrations", noCheck: true}, http.StatusNotFound, "not in its clean form"},
		{"dot segment", req{method: "GET", path: "/integrations/./1", noCheck: true}, http.StatusNotFound, "not in its clean form"},
		{"trailing slash", req{method: "GET", path: "/integrations/", noCheck: true}, http.StatusNotFound, "not in its clean form"},
		{"big header", req{method: "GET", path: "/integrations", headers: []string{"X-Big: " + strings.Repeat("a", MaxHeaderBytes)}, noCheck: true},
			http.StatusRequestHeaderFieldsTooLarge, "larger than the 64 KiB limit"},
		{"gzip body", req{method: "POST", path: "/integrations", body: body, headers: []string{"Content-Encoding: gzip"}, noCheck: true},
			http.StatusUnsupportedMediaType, "Content-Encoding gzip is not supported"},
		{"identity body", req{method: "POST", path: "/integrations?dryRun=true", body: body, headers: []string{"Content-Encoding: identity"}}, http.StatusOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.r)
			expect(t, r, c.status)
			if c.status == http.StatusOK {
				return
			}
			if loc := r.header.Get("Location"); loc != "" {
				t.Errorf("redirect to %s", loc)
			}
			if got := r.str(t, "message"); !strings.Contains(got, c.msg) {
				t.Errorf("message %q does not say %q", got, c.msg)
			}
		})
	}
}
