package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// The redaction placeholder is never taken as a secret: POST refuses it naming the
// field; in a PUT body and an edit-script body it keeps the stored secret (a GET body
// sent back unchanged changes nothing).
func TestRedactedPlaceholder(t *testing.T) {
	e := newEnv(t)
	const password = "Abc12345-kept"
	body := strings.Replace(seed(t, "put_integrations_123456789_redshift"), `"abc1234"`, `"`+password+`"`, 1)
	placeholder := strings.Replace(body, password, "<REDACTED>", 1)
	wantDetails := []string{"config.password: is the placeholder <REDACTED> (from a GET body or a review copy), not a secret: give the real value"}

	for _, path := range []string{"/integrations", "/integrations?dryRun=true"} {
		r := e.post(path, placeholder)
		expect(t, r, http.StatusBadRequest)
		if got := details(t, r); !slices.Equal(got, wantDetails) {
			t.Errorf("POST %s: details %q, want %q", path, got, wantDetails)
		}
	}
	r := e.do(req{method: "POST", path: "/integrations/scripts/create", body: placeholder})
	expect(t, r, http.StatusBadRequest)
	if got := details(t, r); !slices.Equal(got, wantDetails) {
		t.Errorf("scripts/create: details %q, want %q", got, wantDetails)
	}

	id := e.create(body, lifecycle.Enabled)
	got := e.get("/integrations/" + id)
	expect(t, got, http.StatusOK)
	var view struct {
		Type          string          `json:"type"`
		AutoBootstrap bool            `json:"autoBootstrap"`
		Config        json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(got.body, &view); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(view.Config), `"<REDACTED>"`) || strings.Contains(string(got.body), password) {
		t.Fatalf("GET does not redact the password: %s", got.body)
	}
	back, _ := json.Marshal(view)

	// The edit script of the GET body and of the original body is the same: nothing to
	// change, so the placeholder stood for the stored password.
	for _, b := range []string{string(back), body} {
		r := e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/edit", body: b, headers: []string{"Accept: text/plain"}})
		expect(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), "nothing to change") || strings.Contains(string(r.body), "<REDACTED>") {
			t.Errorf("edit script of %s:\n%s", b, r.body)
		}
	}

	expect(t, e.put("/integrations/"+id, string(back)), http.StatusOK)
	e.waitStatus(id, lifecycle.Enabled)
	r = e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/edit", body: body, headers: []string{"Accept: text/plain"}})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "nothing to change") {
		t.Errorf("after a PUT of the GET body, the stored password changed:\n%s", r.body)
	}
	// No undo of a script carries the stored password.
	r = e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/delete", body: ""})
	expect(t, r, http.StatusOK)
	if strings.Contains(string(r.body), password) {
		t.Errorf("the delete script's JSON carries the stored password: %s", r.body)
	}
}
