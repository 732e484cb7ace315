package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/render"
)

// TestScriptMemo: the same script request again gets the same bytes without a render
// (the test swaps in an engine whose checks fail everything: a kept response is still
// served, a new one fails); ?redact, the media type and the body each make their own
// entry; and no kept entry holds the password in clear.
func TestScriptMemo(t *testing.T) {
	e := newEnv(t, offline)
	body := sfSeed(t, "post_integrations_scripts_create_snowflake")
	if !strings.Contains(body, sfScriptPassword) {
		t.Skip("the seed's script request has no password to look for")
	}
	path := "/integrations/scripts/create"
	asText := []string{"Accept: text/plain"}
	first := map[string]resp{}
	for _, c := range []struct {
		name, path string
		headers    []string
	}{{"json", path, nil}, {"text", path, asText}, {"redacted", path + "?redact=true", nil}} {
		r := e.do(req{method: "POST", path: c.path, body: body, headers: c.headers})
		expect(t, r, http.StatusOK)
		first[c.name] = r
	}
	if string(first["json"].body) == string(first["text"].body) || string(first["json"].body) == string(first["redacted"].body) {
		t.Fatal("the media type or ?redact did not make its own response")
	}
	failing, err := render.New(render.Options{Check: func(string, string) (string, error) { return "", errors.New("refused by the test") }})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.engine = failing
	for name, c := range map[string]req{
		"json":     {method: "POST", path: path, body: body},
		"text":     {method: "POST", path: path, body: body, headers: asText},
		"redacted": {method: "POST", path: path + "?redact=true", body: body},
	} {
		r := e.do(c)
		if r.status != http.StatusOK || string(r.body) != string(first[name].body) || r.header.Get("Content-Type") != first[name].header.Get("Content-Type") {
			t.Errorf("%s again: %d %s, want the kept response", name, r.status, r.header.Get("Content-Type"))
		}
	}
	other := strings.Replace(body, `"IMMUTA_DB"`, `"OTHER_DB"`, 1)
	if r := e.do(req{method: "POST", path: path, body: other}); r.status != http.StatusInternalServerError {
		t.Errorf("a new body with failing checks: %d, want 500 (it must render)", r.status)
	}
	e.srv.scripts.mu.Lock()
	defer e.srv.scripts.mu.Unlock()
	if len(e.srv.scripts.entries) != 3 {
		t.Errorf("%d kept responses, want 3", len(e.srv.scripts.entries))
	}
	for _, en := range e.srv.scripts.entries {
		if strings.Contains(string(en.box), sfScriptPassword) || strings.Contains(string(en.box), "CREATE") {
			t.Error("a kept response is in clear")
		}
	}
}
