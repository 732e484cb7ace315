package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
)

// The seed's POST examples of every type create integrations that end enabled; GET
// shows them with secrets redacted; the seed's PUT examples edit them; DELETE removes
// them (with the privileged credentials for automatic setups).
func TestSeedLifecycleEveryType(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, post, put string
		deleteBody      string
		secrets         []string
	}{
		{"snowflake", "post_integrations_snowflake", "put_integrations_123456789_snowflake", seed(t, "delete_integrations_123456789_creds"), []string{"abc1234"}},
		{"synapse", "post_integrations_azuresynapseanalytics", "put_integrations_123456789_azuresynapseanalytics", `{"authenticationType":"userPassword","username":"taylor@synapse.com","password":"abc1234"}`, []string{"abc1234"}},
		{"bigquery", "post_integrations_googlebigquery", "put_integrations_id_googlebigquery", "", []string{"BEGIN PRIVATE KEY"}},
		{"s3", "post_integrations_natives3", "put_integrations_123456789_natives3", "", []string{`"awsSecretAccessKey":"123456789"`}},
		{"redshift", "", "put_integrations_123456789_redshift", "", []string{"abc1234"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			post := ""
			if c.post != "" && c.name == "snowflake" {
				post = sfSeed(t, c.post)
			} else if c.post != "" {
				post = seed(t, c.post)
			} else {
				// The seed has no POST for Redshift: its PUT body without impersonation.
				post = strings.Replace(seed(t, c.put), `"enabled": true`, `"enabled": false`, 1)
			}
			r := e.post("/integrations", post)
			expect(t, r, http.StatusOK)
			m := r.json(t)
			if m["status"] != "creating" {
				t.Fatalf("status %v, want creating", m["status"])
			}
			id := m["id"].(string)
			e.waitStatus(id, lifecycle.Enabled)
			got := e.get("/integrations/" + id)
			expect(t, got, http.StatusOK)
			for _, sec := range c.secrets {
				if strings.Contains(string(got.body), sec) {
					t.Errorf("GET shows a secret %q:\n%s", sec, got.body)
				}
			}
			if !strings.Contains(string(got.body), platforms.Redacted) {
				t.Errorf("GET shows no %s:\n%s", platforms.Redacted, got.body)
			}
			put := seed(t, c.put)
			if c.name == "snowflake" {
				put = sfSeed(t, c.put)
			}
			r = e.put("/integrations/"+id, put)
			expect(t, r, http.StatusOK)
			if s := r.str(t, "status"); s != "editing" {
				t.Fatalf("PUT status %q", s)
			}
			e.waitStatus(id, lifecycle.Enabled)
			r = e.del("/integrations/"+id, c.deleteBody)
			expect(t, r, http.StatusOK)
			if s := r.str(t, "status"); s != "deleting" {
				t.Fatalf("DELETE status %q", s)
			}
			e.waitStatus(id, lifecycle.Deleted)
			// Deleted integrations stay readable but leave the list.
			expect(t, e.get("/integrations/"+id), http.StatusOK)
			if strings.Contains(string(e.get("/integrations").body), `"id":"`+id+`"`) {
				t.Errorf("deleted integration %s is listed", id)
			}
		})
	}
	if logs := e.logs.String(); strings.Contains(logs, "abc1234") || strings.Contains(logs, e.admin) {
		t.Errorf("a secret or the API key reached the logs")
	}
}

// The seed's GET shape for an automatic Snowflake setup: bootstrap username and
// password shown as <REDACTED>, role and defaults filled in, the six named tests.
func TestSeedSnowflakeGetShape(t *testing.T) {
	e := newEnv(t)
	id := e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	m := e.get("/integrations/" + id).json(t)
	cfg := m["config"].(map[string]any)
	want := map[string]any{
		"host": "organization.us-east-1.snowflakecomputing.com", "warehouse": "SAMPLE_WAREHOUSE",
		"database": "IMMUTA_DB", "port": float64(443), "authenticationType": "userPassword",
		"username": "<REDACTED>", "password": "<REDACTED>", "role": "ACCOUNTADMIN",
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("config.%s = %v, want %v", k, cfg[k], v)
		}
	}
	for _, k := range []string{"audit", "workspaces", "impersonation", "lineage"} {
		if o, _ := cfg[k].(map[string]any); o == nil || o["enabled"] != false {
			t.Errorf("config.%s = %v, want {enabled:false}", k, cfg[k])
		}
	}
	if m["type"] != "Snowflake" || m["autoBootstrap"] != true || m["status"] != "enabled" {
		t.Errorf("type/autoBootstrap/status = %v/%v/%v", m["type"], m["autoBootstrap"], m["status"])
	}
	vr := m["validationResults"].(map[string]any)
	tests := vr["validationTests"].([]any)
	names := []string{
		"Initial Validation: Basic Connection Test", "Initial Validation: Default Warehouse Access Test",
		"Initial Validation: Table Grants Role Prefix is Unique",
		"Initial Validation: Validate access to Privileged Role", "Validate Automatic: Database Does Not Exist",
		"Validate Automatic: Impersonation Role Does Not Exist", "Validate Automatic Bootstrap User Grants",
	}
	if len(tests) != len(names) || vr["status"] != "passed" {
		t.Fatalf("validationResults %v", vr)
	}
	for i, n := range names {
		tt := tests[i].(map[string]any)
		wantStatus := "passed"
		if i == 5 {
			wantStatus = "skipped" // impersonation is off
		}
		if tt["name"] != n || tt["status"] != wantStatus {
			t.Errorf("test %d = %v, want %s %s", i, tt, n, wantStatus)
		}
	}
	// /status: id is a number there.
	st := e.get("/integrations/" + id + "/status")
	expect(t, st, http.StatusOK)
	if string(st.body) != `{"id":`+id+`,"status":"enabled"}`+"\n" {
		t.Errorf("status body %s", st.body)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	_, weak, err := e.st.CreateAPIKey(t.Context(), store.APIKeySpec{Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	routes := []req{
		{method: "GET", path: "/integrations"},
		{method: "POST", path: "/integrations", body: `{"type":"Trino"}`},
		{method: "GET", path: "/integrations/1"},
		{method: "PUT", path: "/integrations/1", body: `{"type":"Trino"}`},
		{method: "DELETE", path: "/integrations/1"},
		{method: "GET", path: "/integrations/1/status"},
		{method: "POST", path: "/integrations/1/regenerate"},
		{method: "POST", path: "/integrations/scripts/create", body: sfSeed(t, "post_integrations_scripts_create_snowflake")},
		{method: "POST", path: "/integrations/scripts/initial-create", body: "{}"},
		{method: "POST", path: "/integrations/scripts/cleanup", body: "{}"},
		{method: "POST", path: "/integrations/scripts/post-cleanup", body: "{}"},
		{method: "POST", path: "/integrations/1/scripts/edit", body: "{}"},
		{method: "POST", path: "/integrations/1/scripts/delete"},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			none := r
			none.noAuth = true
			expect(t, e.do(none), http.StatusUnauthorized)
			bad := r
			bad.key = "not-a-key-0123456789"
			expect(t, e.do(bad), http.StatusUnauthorized)
			low := r
			low.key = weak
			expect(t, e.do(low), http.StatusForbidden)
			bearer := r
			bearer.key = "Bearer " + e.admin
			if got := e.do(bearer); got.status == http.StatusUnauthorized || got.status == http.StatusForbidden {
				t.Errorf("Bearer key refused: %d %s", got.status, got.body)
			}
		})
	}
	// Operational routes need no key.
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
		r := e.do(req{method: "GET", path: p, noAuth: true})
		expect(t, r, http.StatusOK)
	}
	if logs := e.logs.String(); strings.Contains(logs, e.admin) || strings.Contains(logs, weak) {
		t.Error("an API key reached the logs")
	}
	// A key revoked by another process (the CLI) stops working within the auth TTL.
	k, plain, err := e.st.CreateAPIKey(t.Context(), store.APIKeySpec{Name: "temp", Permissions: []string{store.PermissionAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, e.do(req{method: "GET", path: "/integrations", key: plain}), http.StatusOK)
	if err := e.st.RevokeAPIKey(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	// Still cached within the TTL (100 ms here); refused once the TTL has passed.
	expect(t, e.do(req{method: "GET", path: "/integrations", key: plain}), http.StatusOK)
	e.clock.advance(150 * time.Millisecond)
	expect(t, e.do(req{method: "GET", path: "/integrations", key: plain}), http.StatusUnauthorized)
}

func TestNotFoundWording(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		r   req
		msg string
	}{
		{req{method: "GET", path: "/integrations/999"}, "No Integration found with ID 999."},
		{req{method: "GET", path: "/integrations/999/status"}, "No Integration found with ID 999."},
		{req{method: "DELETE", path: "/integrations/999"}, "No integration found with ID 999."},
		{req{method: "PUT", path: "/integrations/999", body: `{"type":"Trino"}`}, "No Integration found with ID 999."},
		{req{method: "POST", path: "/integrations/999/regenerate"}, "No Integration found with ID 999."},
		{req{method: "POST", path: "/integrations/999/scripts/delete"}, "No Integration found with ID 999."},
		{req{method: "POST", path: "/integrations/999/scripts/edit", body: "{}"}, "No Integration found with ID 999."},
		{req{method: "GET", path: "/integrations/abc"}, "No Integration found with ID abc."},
		{req{method: "GET", path: "/integrations/-1"}, "No Integration found with ID -1."},
		{req{method: "GET", path: "/integrations/0"}, "No Integration found with ID 0."},
		{req{method: "GET", path: "/integrations/99999999999999999999999"}, "No Integration found with ID 99999999999999999999999."},
		{req{method: "DELETE", path: "/integrations/x1"}, "No integration found with ID x1."},
	} {
		expectError(t, e.do(c.r), http.StatusNotFound, c.msg)
	}
	expect(t, e.do(req{method: "GET", path: "/nope", noCheck: true}), http.StatusNotFound)
	r := e.do(req{method: "PATCH", path: "/integrations/1", noCheck: true})
	expect(t, r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "DELETE, GET, PUT" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
}

func TestConflicts(t *testing.T) {
	e := newEnv(t)
	body := sfSeed(t, "post_integrations_snowflake")
	id := e.create(body, lifecycle.Enabled)
	expectError(t, e.post("/integrations", body), http.StatusConflict,
		"Snowflake integration already exists on host organization.us-east-1.snowflakecomputing.com (id = "+id+")")
	// Host names are case-insensitive; dryRun reports the conflict too.
	upper := strings.Replace(body, "organization.us-east-1", "ORGANIZATION.us-east-1", 1)
	expect(t, e.post("/integrations?dryRun=true", upper), http.StatusConflict)

	// An edit in flight: PUT and DELETE get 409 with the exact wording.
	e.fake.Set(func(f *connector.Fake) { f.Gate = make(chan struct{}) })
	expect(t, e.put("/integrations/"+id, sfSeed(t, "put_integrations_123456789_snowflake")), http.StatusOK)
	expectError(t, e.put("/integrations/"+id, sfSeed(t, "put_integrations_123456789_snowflake")), http.StatusConflict,
		"Unable to edit integration with ID "+id+" in current state editing.")
	expectError(t, e.del("/integrations/"+id, seed(t, "delete_integrations_123456789_creds")), http.StatusConflict,
		"Unable to delete integration with ID "+id+" in current state editing.")
	e.fake.Set(func(f *connector.Fake) { close(f.Gate); f.Gate = nil })
	e.waitStatus(id, lifecycle.Enabled)

	// S3: the name and the location path are both unique.
	s3 := seed(t, "post_integrations_natives3")
	s3id := e.create(s3, lifecycle.Enabled)
	expectError(t, e.post("/integrations", s3), http.StatusConflict,
		`Native S3 integration already exists with name "S3 integration" (id = `+s3id+`)`)
	other := strings.Replace(s3, `"S3 integration"`, `"other"`, 1)
	expectError(t, e.post("/integrations", other), http.StatusConflict,
		"Native S3 integration already exists for location s3:// (id = "+s3id+")")
	// A PUT may not take another integration's key either.
	otherPath := strings.Replace(other, `"s3://"`, `"s3://other/"`, 1)
	oid := e.create(otherPath, lifecycle.Enabled)
	expect(t, e.put("/integrations/"+oid, strings.Replace(otherPath, `"other"`, `"S3 integration"`, 1)), http.StatusConflict)
	// Once deleted, the key is free again.
	expect(t, e.del("/integrations/"+s3id, ""), http.StatusOK)
	e.waitStatus(s3id, lifecycle.Deleted)
	e.create(s3, lifecycle.Enabled)
}

func TestValidationFailureStoresNothing(t *testing.T) {
	e := newEnv(t)
	e.fake.Set(func(f *connector.Fake) {
		f.Fail = map[string]string{"Initial Validation: Default Warehouse Access Test": "the bootstrap role cannot use warehouse SAMPLE_WAREHOUSE: GRANT USAGE ON WAREHOUSE SAMPLE_WAREHOUSE TO ROLE ACCOUNTADMIN"}
	})
	r := e.post("/integrations", sfSeed(t, "post_integrations_snowflake"))
	expectError(t, r, http.StatusUnprocessableEntity, "Validation of prerequisite setup failed. Unable to create integration.")
	vr := r.json(t)["validationResults"].(map[string]any)
	if vr["status"] != "failed" {
		t.Fatalf("validationResults %v", vr)
	}
	if body := e.get("/integrations").body; string(body) != "[]\n" {
		t.Fatalf("something was stored: %s", body)
	}
	// A warning does not block.
	e.fake.Set(func(f *connector.Fake) {
		f.Fail = nil
		f.Warn = map[string]string{"Initial Validation: Basic Connection Test": "slow connection"}
	})
	r = e.post("/integrations?dryRun=true", sfSeed(t, "post_integrations_snowflake"))
	expect(t, r, http.StatusOK)
	if got := r.json(t)["validationResults"].(map[string]any)["status"]; got != "warning" {
		t.Errorf("overall %v, want warning", got)
	}
	if _, ok := r.json(t)["id"]; ok {
		t.Error("dryRun returned an id")
	}
	if body := e.get("/integrations").body; string(body) != "[]\n" {
		t.Fatalf("dryRun stored something: %s", body)
	}
}

func TestBackgroundFailures(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("SQL access control error: insufficient privileges; password abc1234")
	e.fake.Set(func(f *connector.Fake) { f.RunErr = map[platforms.Operation]error{platforms.OpCreate: boom} })
	id := e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.CreateError)
	m := e.get("/integrations/" + id).json(t)
	msg, _ := m["message"].(string)
	if !strings.Contains(msg, "insufficient privileges") || strings.Contains(msg, "abc1234") || !strings.Contains(msg, "cleanup") {
		t.Errorf("createError message %q", msg)
	}
	calls := strings.Join(e.fake.Calls(), ",")
	if !strings.Contains(calls, "run:create") || !strings.Contains(calls, "run:cleanup") {
		t.Errorf("calls %s: want the create then the cleanup", calls)
	}
	// An automatic Synapse setup runs every phase: the login in master, then the
	// database; its cleanup after a failure runs both teardown phases.
	e.fake.Set(func(f *connector.Fake) { f.RunErr = map[platforms.Operation]error{platforms.OpCreate: boom} })
	e.create(seed(t, "post_integrations_azuresynapseanalytics"), lifecycle.CreateError)
	calls = strings.Join(e.fake.Calls(), ",")
	if !strings.Contains(calls, "run:create(initial-check@immuta,initial-create@master,create@immuta)") ||
		!strings.Contains(calls, "run:cleanup(cleanup@immuta,post-cleanup@master)") {
		t.Errorf("synapse automatic setup calls: %s", calls)
	}
	// createError: a DELETE is allowed.
	expect(t, e.del("/integrations/"+id, seed(t, "delete_integrations_123456789_creds")), http.StatusOK)
	e.waitStatus(id, lifecycle.Deleted)

	// editError keeps the previous config.
	e.fake.Set(func(f *connector.Fake) {
		f.RunErr = map[platforms.Operation]error{platforms.OpEdit: errors.New("edit refused")}
	})
	id = e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	expect(t, e.put("/integrations/"+id, sfSeed(t, "put_integrations_123456789_snowflake")), http.StatusOK)
	e.waitStatus(id, lifecycle.EditError)
	cfg := e.get("/integrations/" + id).json(t)["config"].(map[string]any)
	if cfg["audit"].(map[string]any)["enabled"] != false {
		t.Errorf("editError applied the new config: %v", cfg["audit"])
	}
	// From editError a PUT is allowed again and succeeds.
	e.fake.Set(func(f *connector.Fake) { f.RunErr = nil })
	expect(t, e.put("/integrations/"+id, sfSeed(t, "put_integrations_123456789_snowflake")), http.StatusOK)
	e.waitStatus(id, lifecycle.Enabled)
	cfg = e.get("/integrations/" + id).json(t)["config"].(map[string]any)
	if cfg["audit"].(map[string]any)["enabled"] != true {
		t.Errorf("edit not applied: %v", cfg["audit"])
	}

	// deleteError keeps the integration.
	e.fake.Set(func(f *connector.Fake) {
		f.RunErr = map[platforms.Operation]error{platforms.OpDelete: errors.New("drop refused")}
	})
	expect(t, e.del("/integrations/"+id, seed(t, "delete_integrations_123456789_creds")), http.StatusOK)
	e.waitStatus(id, lifecycle.DeleteError)

	// A manual setup whose objects are missing ends in createError.
	e.fake.Set(func(f *connector.Fake) {
		f.VerifyErr = map[platforms.Operation]error{platforms.OpCreate: errors.New("database IMMUTA does not exist")}
	})
	id = e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.CreateError)
	if msg := e.get("/integrations/"+id).str(t, "message"); !strings.Contains(msg, "does not exist") {
		t.Errorf("message %q", msg)
	}
}

func TestDeleteCredentialRules(t *testing.T) {
	e := newEnv(t)
	auto := e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	manual := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	expectError(t, e.del("/integrations/"+auto, ""), http.StatusBadRequest,
		"Integrations that are automatically configured require privileged credentials to disable. Please provide them in your payload.")
	expectError(t, e.del("/integrations/"+manual, seed(t, "delete_integrations_123456789_creds")), http.StatusBadRequest,
		"Credentials are not required for disable unless the integration was configured automatically. If you need to update your integration credentials, use PUT to update the integration before disabling.")
	// Unknown and missing credential fields are named.
	r := e.del("/integrations/"+auto, `{"authenticationType":"userPassword","username":"u","pasword":"x"}`)
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "pasword") || !strings.Contains(string(r.body), `did you mean \"password\"`) {
		t.Errorf("body %s", r.body)
	}
	r = e.del("/integrations/"+auto, `{"authenticationType":"userPassword","username":"u"}`)
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), `"path":"password"`) {
		t.Errorf("body %s", r.body)
	}
	// dryRun changes nothing.
	expect(t, e.del("/integrations/"+auto+"?dryRun=true", seed(t, "delete_integrations_123456789_creds")), http.StatusOK)
	e.waitStatus(auto, lifecycle.Enabled)
	// forceDisable needs no credentials and skips the platform.
	before := len(e.fake.Calls())
	r = e.del("/integrations/"+auto+"?forceDisable=true", "")
	expect(t, r, http.StatusOK)
	if r.str(t, "status") != "disabled" {
		t.Fatalf("forceDisable: %s", r.body)
	}
	if len(e.fake.Calls()) != before {
		t.Errorf("forceDisable reached the platform: %v", e.fake.Calls()[before:])
	}
	// Disabled integrations leave uniqueness: the host can be used again.
	e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	// Bad query booleans are 400.
	expect(t, e.del("/integrations/"+manual+"?forceDisable=yes", ""), http.StatusBadRequest)
	expect(t, e.post("/integrations?dryRun=1", seed(t, "post_integrations_trino")), http.StatusBadRequest)
	// A forceDisable while deleting is refused.
	e.fake.Set(func(f *connector.Fake) { f.Gate = make(chan struct{}) })
	expect(t, e.del("/integrations/"+manual, ""), http.StatusOK)
	expectError(t, e.del("/integrations/"+manual+"?forceDisable=true", ""), http.StatusConflict,
		"Unable to delete integration with ID "+manual+" in current state deleting.")
	e.fake.Set(func(f *connector.Fake) { close(f.Gate); f.Gate = nil })
	e.waitStatus(manual, lifecycle.Deleted)
}

func TestPutRules(t *testing.T) {
	e := newEnv(t)
	id := e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	body := sfSeed(t, "put_integrations_123456789_snowflake")
	r := e.put("/integrations/"+id, strings.Replace(body, "IMMUTA_DB", "OTHER_DB", 1))
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), `"path":"config.database"`) {
		t.Errorf("body %s", r.body)
	}
	r = e.put("/integrations/"+id, strings.Replace(body, `"autoBootstrap": true`, `"autoBootstrap": false`, 1))
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "autoBootstrap") {
		t.Errorf("body %s", r.body)
	}
	expect(t, e.put("/integrations/"+id, `{"type":"Trino"}`), http.StatusBadRequest)
	// dryRun PUT changes nothing.
	expect(t, e.put("/integrations/"+id+"?dryRun=true", body), http.StatusOK)
	if st := e.get("/integrations/" + id + "/status").json(t)["status"]; st != "enabled" {
		t.Errorf("dryRun PUT moved the status to %v", st)
	}
	// YAML bodies work like JSON.
	yaml := "type: Snowflake\nautoBootstrap: true\nconfig:\n  host: organization.us-east-1.snowflakecomputing.com\n  warehouse: W2\n  database: IMMUTA_DB\n  authenticationType: userPassword\n  username: admin\n  password: pw\n  role: ACCOUNTADMIN\n"
	r = e.do(req{method: "PUT", path: "/integrations/" + id, body: yaml, headers: []string{"Content-Type: application/yaml"}})
	expect(t, r, http.StatusOK)
	e.waitStatus(id, lifecycle.Enabled)
	if wh := e.get("/integrations/" + id).json(t)["config"].(map[string]any)["warehouse"]; wh != "W2" {
		t.Errorf("warehouse %v", wh)
	}
}

func TestTrinoKeys(t *testing.T) {
	e := newEnv(t)
	id := e.create(seed(t, "post_integrations_trino"), lifecycle.Enabled)
	m := e.get("/integrations/" + id).json(t)
	cfg := m["config"].(map[string]any)
	key, _ := cfg["apiKey"].(string)
	snippet, _ := cfg["configurationSnippet"].(string)
	if len(key) < 32 || !strings.Contains(snippet, "immuta.apikey="+key) || !strings.Contains(snippet, "immuta.base-url=http://") {
		t.Fatalf("trino config %v", cfg)
	}
	if _, ok := m["autoBootstrap"]; ok {
		t.Error("Trino shows autoBootstrap")
	}
	// The cluster key is a known key without the admin permission.
	expect(t, e.do(req{method: "GET", path: "/integrations", key: key}), http.StatusForbidden)
	r := e.post("/integrations/"+id+"/regenerate", "")
	expect(t, r, http.StatusOK)
	newKey := r.str(t, "newKey")
	if newKey == "" || newKey == key {
		t.Fatalf("newKey %q", newKey)
	}
	// The old key stops working at once; the new one is known.
	expect(t, e.do(req{method: "GET", path: "/integrations", key: key}), http.StatusUnauthorized)
	expect(t, e.do(req{method: "GET", path: "/integrations", key: newKey}), http.StatusForbidden)
	if got := e.get("/integrations/" + id).json(t)["config"].(map[string]any)["apiKey"]; got != newKey {
		t.Errorf("GET shows %v after regenerate", got)
	}
	// Only one Trino integration; regenerate is Trino-only.
	expect(t, e.post("/integrations", seed(t, "post_integrations_trino")), http.StatusConflict)
	sf := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	r = e.post("/integrations/"+sf+"/regenerate", "")
	expect(t, r, http.StatusBadRequest)
	if !strings.Contains(r.str(t, "message"), "Google BigQuery") {
		t.Errorf("message %q", r.str(t, "message"))
	}
}

func TestOffline(t *testing.T) {
	e := newEnv(t, offline)
	r := e.post("/integrations", sfSeed(t, "post_integrations_snowflake"))
	expect(t, r, http.StatusUnprocessableEntity)
	id := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	vr := e.get("/integrations/" + id).json(t)["validationResults"].(map[string]any)
	if vr["status"] != "skipped" {
		t.Errorf("offline results %v", vr)
	}
	for _, tt := range vr["validationTests"].([]any) {
		if msg, _ := tt.(map[string]any)["message"].(string); msg != connector.OfflineMessage {
			t.Errorf("test message %q", msg)
		}
	}
	expect(t, e.del("/integrations/"+id, ""), http.StatusOK)
	e.waitStatus(id, lifecycle.Deleted)
}

func TestListOrderAndShape(t *testing.T) {
	e := newEnv(t)
	a := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	b := e.create(seed(t, "post_integrations_trino"), lifecycle.Enabled)
	var list []map[string]any
	if err := json.Unmarshal(e.get("/integrations").body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["id"] != a || list[1]["id"] != b {
		t.Fatalf("list %v", list)
	}
}

// TestTrinoKeyRetired: deleting or force-disabling a Trino integration revokes its
// cluster key at once, and GET of it shows no key.
func TestTrinoKeyRetired(t *testing.T) {
	for _, path := range []string{"", "?forceDisable=true"} {
		t.Run("delete"+path, func(t *testing.T) {
			e := newEnv(t)
			id := e.create(seed(t, "post_integrations_trino"), lifecycle.Enabled)
			key, _ := e.get("/integrations/" + id).json(t)["config"].(map[string]any)["apiKey"].(string)
			expect(t, e.do(req{method: "GET", path: "/integrations", key: key}), http.StatusForbidden)
			expect(t, e.del("/integrations/"+id+path, ""), http.StatusOK)
			want := lifecycle.Deleted
			if path != "" {
				want = lifecycle.Disabled
			}
			e.waitStatus(id, want)
			expect(t, e.do(req{method: "GET", path: "/integrations", key: key}), http.StatusUnauthorized)
			g := e.get("/integrations/" + id)
			expect(t, g, http.StatusOK)
			if strings.Contains(string(g.body), key) || strings.Contains(string(g.body), "apiKey") {
				t.Errorf("GET of a %s Trino integration shows its key: %s", want, g.body)
			}
		})
	}
}

// TestTrinoSnippetBaseURL: the snippet's base URL is the server's setting, whatever
// Host or X-Forwarded-Proto a caller sends.
func TestTrinoSnippetBaseURL(t *testing.T) {
	e := newEnv(t)
	id := e.create(seed(t, "post_integrations_trino"), lifecycle.Enabled)
	r := e.do(req{method: "GET", path: "/integrations/" + id, headers: []string{"X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example"}})
	expect(t, r, http.StatusOK)
	snippet, _ := r.json(t)["config"].(map[string]any)["configurationSnippet"].(string)
	if !strings.Contains(snippet, "immuta.base-url=http://localhost\n") {
		t.Errorf("snippet %q", snippet)
	}
}

// TestSeedSnowflakeExamplePostUnchanged: POST /integrations stores the seed's manual
// Snowflake example as given (shared sample database, short password): no script is
// rendered from it, so the scripts' stricter rules do not apply.
func TestSeedSnowflakeExamplePostUnchanged(t *testing.T) {
	e := newEnv(t)
	id := e.create(seed(t, "post_integrations_scripts_create_snowflake"), lifecycle.Enabled)
	if db := e.get("/integrations/" + id).json(t)["config"].(map[string]any)["database"]; db != "SNOWFLAKE_SAMPLE_DATA" {
		t.Errorf("database %v, want the seed's SNOWFLAKE_SAMPLE_DATA", db)
	}
}

// TestAutomaticScriptRules: an automatic setup whose scripts the engine would refuse is
// a 400 naming the field before anything is stored (the seed's automatic Snowflake
// example names the shared SNOWFLAKE_SAMPLE_DATA database), not a createError later.
func TestAutomaticScriptRules(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/integrations", "/integrations?dryRun=true"} {
		r := e.post(path, seed(t, "post_integrations_snowflake"))
		expect(t, r, http.StatusBadRequest)
		if got := details(t, r); len(got) != 1 || !strings.HasPrefix(got[0], "config.database: must not be SNOWFLAKE_SAMPLE_DATA") {
			t.Errorf("POST %s: details %q", path, got)
		}
	}
	list := e.get("/integrations")
	expect(t, list, http.StatusOK)
	if strings.TrimSpace(string(list.body)) != "[]" {
		t.Errorf("a refused automatic setup was stored: %s", list.body)
	}
	e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
}
