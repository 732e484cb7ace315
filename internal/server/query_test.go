package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestStrictQuery: a query string that could mean something else than it seems is a 400
// that names the parameter, and nothing is written.
func TestStrictQuery(t *testing.T) {
	e := newEnv(t)
	body := strings.Replace(seed(t, "put_integrations_123456789_redshift"), `"abc1234"`, `"Abc12345-q"`, 1)
	cases := []struct {
		method, path string
		status       int
		message      string // a part of the error message
	}{
		{"POST", "/integrations?dryRun=true;", http.StatusBadRequest, "malformed query string"},
		{"POST", "/integrations?DryRun=true", http.StatusBadRequest, `unknown query parameter "DryRun" (did you mean "dryRun"?); this route accepts: dryRun`},
		{"POST", "/integrations?dryrun=true", http.StatusBadRequest, `(did you mean "dryRun"?)`},
		{"POST", "/integrations?dryRun=true&dryRun=false", http.StatusBadRequest, "given twice with different values"},
		{"POST", "/integrations?dryRun=yes", http.StatusBadRequest, `must be true or false (got "yes")`},
		{"POST", "/integrations?dryRun=%zz", http.StatusBadRequest, "malformed query string"},
		{"POST", "/integrations?dryRun=true&dryRun=true", http.StatusOK, ""},
		{"GET", "/integrations/1/status?limit=5", http.StatusBadRequest, `unknown query parameter "limit"; this route accepts: none`},
		{"GET", "/integrations?limt=5", http.StatusBadRequest, `(did you mean "limit"?); this route accepts: limit, after`},
		{"DELETE", "/integrations/1?forceDisabled=true", http.StatusBadRequest, `(did you mean "forceDisable"?)`},
		{"POST", "/integrations/scripts/create?redacted=true", http.StatusBadRequest, `(did you mean "redact"?)`},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(req{method: c.method, path: c.path, body: body})
			if c.status != http.StatusOK {
				expect(t, r, c.status)
				checkErrorBody(t, r)
				if got := r.str(t, "message"); !strings.Contains(got, c.message) {
					t.Errorf("message %q does not say %q", got, c.message)
				}
				return
			}
			expect(t, r, c.status)
		})
	}
	list := e.get("/integrations")
	expect(t, list, http.StatusOK)
	if strings.TrimSpace(string(list.body)) != "[]" {
		t.Errorf("a refused or dry-run request wrote an integration: %s", list.body)
	}
}
