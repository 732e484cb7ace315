package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// Every body of the bad-input corpus gets its 4xx with the error body on every route
// that takes a payload, never a 5xx, and the server stays up and keeps its data.
func TestBadInputCorpus(t *testing.T) {
	e := newEnv(t)
	id := e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	manual := e.create(seed(t, "post_integrations_natives3"), lifecycle.Enabled)
	before := string(e.get("/integrations").body)
	routes := []struct{ method, path string }{
		{"POST", "/integrations"},
		{"PUT", "/integrations/" + manual},
		{"POST", "/integrations/scripts/create"},
		{"POST", "/integrations/" + id + "/scripts/edit"},
	}
	for _, c := range badCorpus() {
		for _, rt := range routes {
			var hdr []string
			if c.ContentType != "" {
				hdr = []string{"Content-Type: " + c.ContentType}
			} else {
				hdr = []string{"Content-Type:"}
			}
			r := e.do(req{method: rt.method, path: rt.path, body: string(c.Body), headers: hdr})
			if r.status != c.Status {
				t.Errorf("%s %s, %s: status %d, want %d: %.300s", rt.method, rt.path, c.Name, r.status, c.Status, r.body)
				continue
			}
			checkErrorBody(t, r)
		}
	}
	for _, c := range badDeleteBodies() {
		hdr := []string{"Content-Type: " + c.ContentType}
		if c.ContentType == "" {
			hdr = []string{"Content-Type:"}
		}
		r := e.do(req{method: "DELETE", path: "/integrations/" + id, body: string(c.Body), headers: hdr})
		if r.status != c.Status {
			t.Errorf("DELETE, %s: status %d, want %d: %.300s", c.Name, r.status, c.Status, r.body)
			continue
		}
		checkErrorBody(t, r)
		if strings.Contains(string(r.body), "abc1234") {
			t.Errorf("DELETE, %s: the error echoes a password: %s", c.Name, r.body)
		}
	}
	expect(t, e.do(req{method: "GET", path: "/healthz", noAuth: true}), http.StatusOK)
	if after := string(e.get("/integrations").body); after != before {
		t.Errorf("bad input changed stored data:\nbefore %s\nafter  %s", before, after)
	}
}
