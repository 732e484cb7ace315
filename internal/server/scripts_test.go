package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

func TestScriptEndpoints(t *testing.T) {
	e := newEnv(t)
	sf := sfSeed(t, "post_integrations_scripts_create_snowflake")
	cases := []struct {
		name, path, body string
		headers          []string
		status           int
		contentType      string
		contains         []string
		absent           []string
	}{
		{name: "create json", path: "/integrations/scripts/create", body: sf, status: 200, contentType: "application/json",
			contains: []string{`"operation":"create"`, `"phases":[`, `"undo":`, sfScriptPassword}},
		{name: "create text", path: "/integrations/scripts/create", body: sf, headers: []string{"Accept: text/plain"}, status: 200,
			contentType: "text/plain", contains: []string{`CREATE DATABASE "`}},
		{name: "create sql", path: "/integrations/scripts/create", body: sf, headers: []string{"Accept: application/sql"}, status: 200,
			contentType: "application/sql", contains: []string{`CREATE DATABASE "`}},
		{name: "json preferred by q", path: "/integrations/scripts/create", body: sf, headers: []string{"Accept: text/plain;q=0.5, application/json"}, status: 200,
			contentType: "application/json"},
		{name: "redact", path: "/integrations/scripts/create?redact=true", body: sf, headers: []string{"Accept: text/plain"}, status: 200,
			contentType: "text/plain", contains: []string{"<REDACTED>"}, absent: []string{sfScriptPassword}},
		{name: "bad redact", path: "/integrations/scripts/create?redact=maybe", body: sf, status: 400},
		{name: "cleanup", path: "/integrations/scripts/cleanup", body: sfSeed(t, "post_integrations_scripts_cleanup_snowflake"), status: 200,
			contentType: "application/json", contains: []string{"DROP DATABASE IF EXISTS"}},
		{name: "synapse initial-create", path: "/integrations/scripts/initial-create",
			body:   strings.ReplaceAll(seed(t, "post_integrations_scripts_initial-create_azuresynapseanalytics"), "abc1234", "Str0ng-Passw0rd!"),
			status: 200, contentType: "application/json", contains: []string{"CREATE LOGIN"}},
		{name: "synapse post-cleanup", path: "/integrations/scripts/post-cleanup",
			body:   strings.ReplaceAll(seed(t, "post_integrations_scripts_post-cleanup_azuresynapseanalytics"), "abc1234", "Str0ng-Passw0rd!"),
			status: 200, contentType: "application/json", contains: []string{"DROP LOGIN"}},
		// Teardown scripts set no password (only the JSON undo of a drop, which is the
		// create statement, shows it): the seed's examples work as given.
		{name: "seed synapse post-cleanup", path: "/integrations/scripts/post-cleanup", body: seed(t, "post_integrations_scripts_post-cleanup_azuresynapseanalytics"),
			headers: []string{"Accept: text/plain"}, status: 200, contentType: "text/plain", contains: []string{"DROP LOGIN"}, absent: []string{"abc1234"}},
		{name: "seed synapse initial-create", path: "/integrations/scripts/initial-create", body: seed(t, "post_integrations_scripts_initial-create_azuresynapseanalytics"),
			status: 400, contains: []string{"Azure SQL password policy"}},
		// The seed's Snowflake example names the shared sample database and a password
		// that Snowflake's policy refuses: a script render refuses both, naming them.
		{name: "seed snowflake create", path: "/integrations/scripts/create", body: seed(t, "post_integrations_scripts_create_snowflake"), status: 400,
			contains: []string{`"path":"config.database"`, `"path":"config.password"`, "SNOWFLAKE_SAMPLE_DATA"}, absent: []string{"abc1234"}},
		// The seed's own password is refused where a script would set it.
		{name: "seed redshift password", path: "/integrations/scripts/create", body: seed(t, "post_integrations_scripts_create_redshift"), status: 400,
			contains: []string{`"path":"config.password"`}, absent: []string{"abc1234"}},
		{name: "snowflake has no initial-create", path: "/integrations/scripts/initial-create", body: sf, status: 400,
			contains: []string{"Snowflake has no initial-create script"}},
		{name: "no scripts for bigquery", path: "/integrations/scripts/create", body: seed(t, "post_integrations_googlebigquery"), status: 400,
			contains: []string{"Google BigQuery has no scripts"}},
		{name: "autoBootstrap true", path: "/integrations/scripts/create", body: sfSeed(t, "post_integrations_snowflake"), status: 400,
			contains: []string{`"path":"autoBootstrap"`}},
		{name: "every problem listed", path: "/integrations/scripts/create", body: `{"type":"Snowflake","autoBootstrap":false,"config":{"port":70000,"warehous":"x"}}`, status: 400,
			contains: []string{`"path":"config.host"`, `"path":"config.port"`, `"path":"config.warehous"`, `"path":"config.warehouse"`, `did you mean \"warehouse\"`}},
		{name: "unknown type", path: "/integrations/scripts/create", body: `{"type":"snowflake","autoBootstrap":false,"config":{}}`, status: 400,
			contains: []string{`did you mean \"Snowflake\"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: c.path, body: c.body, headers: c.headers})
			expect(t, r, c.status)
			if c.contentType != "" && !strings.HasPrefix(r.header.Get("Content-Type"), c.contentType) {
				t.Errorf("content type %q, want %s", r.header.Get("Content-Type"), c.contentType)
			}
			for _, s := range c.contains {
				if !strings.Contains(string(r.body), s) {
					t.Errorf("body lacks %q:\n%.2000s", s, r.body)
				}
			}
			for _, s := range c.absent {
				if strings.Contains(string(r.body), s) {
					t.Errorf("body has %q", s)
				}
			}
		})
	}
}

func TestStoredScripts(t *testing.T) {
	e := newEnv(t)
	manual := sfSeed(t, "post_integrations_scripts_create_snowflake")
	id := e.create(manual, lifecycle.Enabled)
	// edit: the stored config against the body (audit on).
	r := e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/edit", body: sfSeed(t, "post_integrations_1_scripts_edit_snowflake"), headers: []string{"Accept: text/plain"}})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "IMPORTED PRIVILEGES") || strings.Contains(string(r.body), `CREATE DATABASE "`) {
		t.Errorf("edit script:\n%s", r.body)
	}
	// A field that cannot change is named.
	r = e.post("/integrations/"+id+"/scripts/edit", strings.Replace(manual, "IMMUTA_DB", "OTHER", 1))
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), `"path":"config.database"`) {
		t.Errorf("body %s", r.body)
	}
	// delete: from the stored config, no body.
	r = e.post("/integrations/"+id+"/scripts/delete", "")
	expect(t, r, http.StatusOK)
	var s struct {
		Operation string `json:"operation"`
		Script    string `json:"script"`
	}
	if err := json.Unmarshal(r.body, &s); err != nil || s.Operation != "delete" || !strings.Contains(s.Script, "DROP DATABASE IF EXISTS") {
		t.Errorf("delete script %v %s", err, r.body)
	}
	expect(t, e.post("/integrations/"+id+"/scripts/delete", `{"type":"Snowflake"}`), http.StatusBadRequest)
	// An automatic setup: the delete script never shows the generated password.
	auto := e.create(seed(t, "post_integrations_azuresynapseanalytics"), lifecycle.Enabled)
	r = e.do(req{method: "POST", path: "/integrations/" + auto + "/scripts/delete", headers: []string{"Accept: text/plain"}})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "DROP USER") {
		t.Errorf("delete script:\n%s", r.body)
	}
	expect(t, e.post("/integrations/"+auto+"/scripts/edit", seed(t, "post_integrations_azuresynapseanalytics")), http.StatusBadRequest)
	// Types without scripts.
	bq := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	expect(t, e.post("/integrations/"+bq+"/scripts/delete", ""), http.StatusBadRequest)
}
