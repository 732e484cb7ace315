package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// DELETE bodies as the seed documents them (API.md section 5): a manual integration
// takes no credentials, and no body, an empty body, {} and null all say "none"; an
// automatic one needs all of its privileged credentials, and a body with only some of
// them gets the same message with the missing fields in details. Each form is sent
// with and without dryRun.
func TestDeleteBodies(t *testing.T) {
	const (
		creds   = `{"authenticationType":"userPassword","username":"taylor@snowflake.com","password":"abc1234","role":"ACCOUNTADMIN"}`
		jsonCT  = "Content-Type: application/json"
		yamlCT  = "Content-Type: application/yaml"
		noCT    = "Content-Type:"
		missing = "is required"
	)
	cases := []struct {
		name   string
		auto   bool
		body   string
		header string // the Content-Type header; empty: the harness's (JSON when there is a body)
		status int
		// message is the error's exact message; details its "path: message" list.
		message string
		details []string
	}{
		{name: "manual: no body", body: "", status: http.StatusOK},
		{name: "manual: empty JSON body", body: "", header: jsonCT, status: http.StatusOK},
		// White space with a JSON Content-Type is accepted too, but is no JSON document the
		// OpenAPI checker could read, so it goes without one.
		{name: "manual: white space", body: " \n\t", header: noCT, status: http.StatusOK},
		{name: "manual: {}", body: "{}", status: http.StatusOK},
		{name: "manual: { } with space", body: "{ \n }", status: http.StatusOK},
		{name: "manual: null", body: "null", status: http.StatusOK},
		{name: "manual: null, no content type", body: "null", header: noCT, status: http.StatusOK},
		{name: "manual: YAML {}", body: "{}\n", header: yamlCT, status: http.StatusOK},
		{name: "manual: YAML ~", body: "~\n", header: yamlCT, status: http.StatusOK},
		{name: "manual: empty YAML document", body: "---\n", header: yamlCT, status: http.StatusOK},
		{name: "manual: all credentials", body: creds, status: http.StatusBadRequest, message: msgNoCredentials},
		{name: "manual: one credential", body: `{"password":"abc1234"}`, status: http.StatusBadRequest, message: msgNoCredentials},
		{name: "manual: YAML credential", body: "username: u\n", header: yamlCT, status: http.StatusBadRequest, message: msgNoCredentials},
		{name: "manual: null credential", body: `{"username":null}`, status: http.StatusBadRequest, message: msgNoCredentials},
		{name: "manual: empty array", body: `[]`, status: http.StatusBadRequest, message: msgNoCredentials},
		{name: "manual: not JSON", body: `{`, status: http.StatusBadRequest, message: msgNoCredentials},

		{name: "auto: no body", auto: true, body: "", status: http.StatusBadRequest, message: msgNeedCredentials},
		{name: "auto: empty JSON body", auto: true, body: "", header: jsonCT, status: http.StatusBadRequest, message: msgNeedCredentials},
		{name: "auto: {}", auto: true, body: "{}", status: http.StatusBadRequest, message: msgNeedCredentials},
		{name: "auto: null", auto: true, body: "null", status: http.StatusBadRequest, message: msgNeedCredentials},
		{name: "auto: YAML null", auto: true, body: "null\n", header: yamlCT, status: http.StatusBadRequest, message: msgNeedCredentials},
		{name: "auto: username only", auto: true, body: `{"username":"taylor@snowflake.com"}`, status: http.StatusBadRequest,
			message: msgNeedCredentials, details: []string{"password: " + missing}},
		{name: "auto: password only", auto: true, body: `{"authenticationType":"userPassword","password":"abc1234"}`, status: http.StatusBadRequest,
			message: msgNeedCredentials, details: []string{"username: " + missing}},
		{name: "auto: role only", auto: true, body: `{"role":"ACCOUNTADMIN"}`, status: http.StatusBadRequest,
			message: msgNeedCredentials, details: []string{"password: " + missing, "username: " + missing}},
		{name: "auto: YAML username only", auto: true, body: "username: taylor@snowflake.com\n", header: yamlCT, status: http.StatusBadRequest,
			message: msgNeedCredentials, details: []string{"password: " + missing}},
		{name: "auto: keyPair without the key", auto: true, body: `{"authenticationType":"keyPair","username":"taylor@snowflake.com"}`, status: http.StatusBadRequest,
			message: msgNeedCredentials, details: []string{"privateKey: " + missing + " for keyPair: {keyName: PRIV_KEY_FILE, userFilename, content}"}},
		{name: "auto: all credentials", auto: true, body: creds, status: http.StatusOK},
		{name: "auto: all credentials, YAML", auto: true, body: "authenticationType: userPassword\nusername: taylor@snowflake.com\npassword: abc1234\n", header: yamlCT, status: http.StatusOK},
	}

	e := newEnv(t)
	// Every integration gets its own host, so that they do not conflict.
	n := 0
	create := func(auto bool) string {
		t.Helper()
		n++
		body := strings.Replace(sfSeed(t, "post_integrations_snowflake"), "organization.", fmt.Sprintf("org%d.", n), 1)
		if !auto {
			body = strings.Replace(body, `"autoBootstrap": true`, `"autoBootstrap": false`, 1)
		}
		return e.create(body, lifecycle.Enabled)
	}
	// Requests that change nothing share one integration of each kind.
	shared := map[bool]string{false: create(false), true: create(true)}

	for _, dry := range []bool{false, true} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s, dryRun=%t", c.name, dry), func(t *testing.T) {
				changes := c.status == http.StatusOK && !dry
				id := shared[c.auto]
				if changes {
					id = create(c.auto)
				}
				path := "/integrations/" + id
				if dry {
					path += "?dryRun=true"
				}
				r := e.do(req{method: "DELETE", path: path, body: c.body, headers: headers(c.header)})
				if c.status != http.StatusOK {
					expectError(t, r, c.status, c.message)
					if got := details(t, r); !slices.Equal(got, c.details) {
						t.Errorf("details %q, want %q", got, c.details)
					}
					if strings.Contains(string(r.body), "abc1234") {
						t.Errorf("the error echoes a password: %s", r.body)
					}
					e.waitStatus(id, lifecycle.Enabled)
					return
				}
				expect(t, r, http.StatusOK)
				m := r.json(t)
				if _, ok := m["validationResults"]; !ok {
					t.Errorf("no validationResults: %s", r.body)
				}
				if dry {
					if _, ok := m["id"]; ok {
						t.Errorf("a dry run answered like a delete: %s", r.body)
					}
					e.waitStatus(id, lifecycle.Enabled)
					return
				}
				if m["status"] != string(lifecycle.Deleting) {
					t.Errorf("status %v, want deleting: %s", m["status"], r.body)
				}
				e.waitStatus(id, lifecycle.Deleted)
			})
		}
	}
}

// headers is the header list of a request with Content-Type line h (none when empty).
func headers(h string) []string {
	if h == "" {
		return nil
	}
	return []string{h}
}

// details lists an error body's details as "path: message".
func details(t *testing.T, r resp) []string {
	t.Helper()
	var body struct {
		Details []struct{ Path, Message string }
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("error body: %v\n%s", err, r.body)
	}
	var out []string
	for _, d := range body.Details {
		out = append(out, d.Path+": "+d.Message)
	}
	return out
}
