package openapitest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/openintegrations/integrations/internal/server/openapi"
	"github.com/openintegrations/integrations/internal/server/openapi/openapitest"
)

// recorder is a testing.TB that records Errorf calls, to prove Check can fail.
type recorder struct {
	testing.TB // nil: only the methods below may be called
	mu         sync.Mutex
	errs       []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic("Fatalf")
}

const seedResults = `{
    "status": "passed",
    "validationTests": [
      {"name": "Initial Validation: Basic Connection Test", "status": "passed"},
      {"name": "Initial Validation: Default Warehouse Access Test", "status": "passed", "result": []},
      {"name": "Initial Validation: Validate access to Privileged Role", "status": "passed", "result": []},
      {"name": "Validate Automatic: Database Does Not Exist", "status": "passed"},
      {"name": "Validate Automatic: Impersonation Role Does Not Exist", "status": "skipped"},
      {"name": "Validate Automatic Bootstrap User Grants", "status": "passed"}
    ]}`

// seedIntegration is the seed's GET /integrations/{id} example.
const seedIntegration = `{
  "id": "123456789",
  "status": "enabled",
  "validationResults": {
    "status": "passed",
    "validationTests": [
    {"name": "Initial Validation: Basic Connection Test", "status": "passed"},
    {"name": "Initial Validation: Default Warehouse Access Test", "result": [], "status": "passed"},
    {"name": "Initial Validation: Table Grants Role Prefix is Unique", "status": "passed"},
    {"name": "Initial Validation: Validate access to Privileged Role", "result": [], "status": "passed"},
    {"name": "Validate Automatic: Database Does Not Exist", "status": "passed"},
    {"name": "Validate Automatic: Impersonation Role Does Not Exist", "status": "skipped"},
    {"name": "Validate Automatic Bootstrap User Grants", "status": "passed"}]
  },
  "type": "Snowflake",
  "autoBootstrap": true,
  "config": {
    "host": "organization.us-east-1.snowflakecomputing.com",
    "warehouse": "SAMPLE_WAREHOUSE",
    "database": "SNOWFLAKE_SAMPLE_DATA",
    "port": 443,
    "audit": {"enabled": false},
    "workspaces": {"enabled": false},
    "impersonation": {"enabled": false},
    "lineage": {"enabled": false},
    "authenticationType": "userPassword",
    "username": "<REDACTED>",
    "password": "<REDACTED>",
    "role": "ACCOUNTADMIN"
  }
}`

const seedSnowflakePayload = `{
    "type": "Snowflake",
    "autoBootstrap": true,
    "config": {
      "host": "organization.us-east-1.snowflakecomputing.com",
      "warehouse": "SAMPLE_WAREHOUSE",
      "database": "SNOWFLAKE_SAMPLE_DATA",
      "authenticationType": "userPassword",
      "username": "taylor@snowflake.com",
      "password": "abc1234",
      "role": "ACCOUNTADMIN"
    }
    }`

const seedScriptPayload = `{"type": "Snowflake", "autoBootstrap": false, "config": {
      "host": "organization.us-east-1.snowflakecomputing.com", "warehouse": "SAMPLE_WAREHOUSE",
      "database": "SNOWFLAKE_SAMPLE_DATA", "audit": {"enabled": false}, "workspaces": {"enabled": false},
      "impersonation": {"enabled": false}, "authenticationType": "userPassword",
      "username": "IMMUTA_SYSTEM_ACCOUNT", "password": "abc1234"}}`

const scriptJSON = `{"type": "Snowflake", "operation": "create", "script": "CREATE DATABASE \"X\";\n",
  "phases": [{"name": "create", "connectTo": "account", "runAs": "ACCOUNTADMIN",
    "statements": [{"sql": "CREATE DATABASE \"X\";", "why": "config.database", "undo": "DROP DATABASE \"X\";"}]}]}`

type exchange struct {
	name        string
	method      string
	target      string
	reqCT       string
	reqBody     string
	status      int
	contentType string
	body        string
}

// good are exchanges the document describes; the bodies are the seed's where it shows
// one.
var good = []exchange{
	{"list (seed)", "GET", "/integrations", "", "", 200, "application/json", "[" + seedIntegration + "]"},
	{"list empty", "GET", "/integrations", "", "", 200, "application/json; charset=utf-8", "[]"},
	{"get (seed)", "GET", "/integrations/123456789", "", "", 200, "application/json", seedIntegration},
	{"get trino", "GET", "/integrations/7", "", "", 200, "application/json",
		`{"id": "7", "status": "enabled", "type": "Trino", "validationResults": {"status": "skipped", "validationTests": []},
		  "config": {"apiKey": "k", "configurationSnippet": "immuta.apikey=k\n"}}`},
	{"get createError", "GET", "/integrations/8", "", "", 200, "application/json",
		`{"id": "8", "status": "createError", "type": "Redshift", "autoBootstrap": false, "message": "interrupted; run the cleanup script and create it again",
		  "validationResults": {"status": "failed", "validationTests": [{"name": "Connection", "status": "failed", "message": "cannot connect"}]},
		  "config": {"host": "h", "password": "<REDACTED>"}}`},
	{"get unknown (seed message)", "GET", "/integrations/999", "", "", 404, "application/json",
		`{"statusCode": 404, "error": "Not Found", "message": "No Integration found with ID 999."}`},
	{"get non-decimal id", "GET", "/integrations/abc", "", "", 404, "application/json",
		`{"statusCode": 404, "error": "Not Found", "message": "No Integration found with ID abc."}`},
	{"create (seed: creating)", "POST", "/integrations", "application/json", seedSnowflakePayload, 200, "application/json",
		`{"id": "123456789", "status": "creating", "validationResults": ` + seedResults + `}`},
	{"create yaml", "POST", "/integrations", "application/yaml", "type: Trino\n", 200, "application/json",
		`{"id": "5", "status": "creating", "validationResults": {"status": "passed", "validationTests": []}}`},
	{"create text/yaml", "POST", "/integrations", "text/yaml", "type: Trino\n", 200, "application/json",
		`{"id": "6", "status": "creating", "validationResults": {"status": "passed", "validationTests": []}}`},
	{"create sniffed", "POST", "/integrations", "", `{"type": "Trino"}`, 200, "application/json",
		`{"id": "6", "status": "creating", "validationResults": {"status": "passed", "validationTests": []}}`},
	{"create dryRun", "POST", "/integrations?dryRun=true", "application/json", seedSnowflakePayload, 200, "application/json",
		`{"validationResults": ` + seedResults + `}`},
	{"create conflict (seed)", "POST", "/integrations", "application/json", seedSnowflakePayload, 409, "application/json",
		`{"statusCode": 409, "error": "Conflict", "message": "Snowflake integration already exists on host organization.us-east-1.snowflakecomputing.com (id = 123456789)"}`},
	{"create bad request with details", "POST", "/integrations", "application/json", `{"type":"Snowflake"}`, 400, "application/json",
		`{"statusCode": 400, "error": "Bad Request", "message": "autoBootstrap: is required; config: is required",
		  "details": [{"path": "autoBootstrap", "message": "is required"}, {"path": "config", "message": "is required"}]}`},
	{"create validation failed", "POST", "/integrations", "application/json", seedSnowflakePayload, 422, "application/json",
		`{"statusCode": 422, "error": "Unprocessable Entity", "message": "Validation of prerequisite setup failed. Unable to create integration.",
		  "validationResults": {"status": "failed", "validationTests": [{"name": "Initial Validation: Basic Connection Test", "status": "failed", "message": "no"}]}}`},
	{"create too large", "POST", "/integrations", "application/json", "{}", 413, "application/json",
		`{"statusCode": 413, "error": "Payload Too Large", "message": "body over 1 MiB"}`},
	{"create unauthorized", "POST", "/integrations", "application/json", "{}", 401, "application/json",
		`{"statusCode": 401, "error": "Unauthorized", "message": "missing API key"}`},
	{"create forbidden", "POST", "/integrations", "application/json", "{}", 403, "application/json",
		`{"statusCode": 403, "error": "Forbidden", "message": "APPLICATION_ADMIN required"}`},
	{"create internal", "POST", "/integrations", "application/json", "{}", 500, "application/json",
		`{"statusCode": 500, "error": "Internal Server Error", "message": "internal error"}`},
	{"put (seed: editing)", "PUT", "/integrations/123456789", "application/json", seedSnowflakePayload, 200, "application/json",
		`{"id": "123456789", "status": "editing", "validationResults": ` + seedResults + `}`},
	{"put conflict (seed)", "PUT", "/integrations/123456789", "application/json", seedSnowflakePayload, 409, "application/json",
		`{"statusCode": 409, "error": "Conflict", "message": "Unable to edit integration with ID 123456789 in current state editing."}`},
	{"delete (seed: deleting)", "DELETE", "/integrations/123456789", "application/json",
		`{"authenticationType": "userPassword", "username": "taylor@snowflake.com", "password": "abc1234", "role": "ACCOUNTADMIN"}`,
		200, "application/json", `{"id": "123456789", "status": "deleting", "validationResults": ` + seedResults + `}`},
	{"delete no body forceDisable", "DELETE", "/integrations/1?forceDisable=true", "", "", 200, "application/json",
		`{"id": "1", "status": "disabled", "validationResults": {"status": "skipped", "validationTests": []}}`},
	{"delete unknown (seed message)", "DELETE", "/integrations/1", "", "", 404, "application/json",
		`{"statusCode": 404, "error": "Not Found", "message": "No integration found with ID 1."}`},
	{"status (seed)", "GET", "/integrations/123456789/status", "", "", 200, "application/json", `{"id":123456789,"status":"enabled"}`},
	{"regenerate (seed)", "POST", "/integrations/123456789/regenerate", "", "", 200, "application/json", `{ "newKey": "5bb6cae9******300c21acbb" }`},
	{"regenerate not trino", "POST", "/integrations/1/regenerate", "", "", 400, "application/json",
		`{"statusCode": 400, "error": "Bad Request", "message": "Snowflake integrations have no API key to regenerate; only Trino does."}`},
	{"script json", "POST", "/integrations/scripts/create", "application/json", seedScriptPayload, 200, "application/json", scriptJSON},
	{"script text", "POST", "/integrations/scripts/cleanup?redact=true", "application/json", seedScriptPayload, 200, "text/plain; charset=utf-8", "DROP DATABASE \"X\";\n"},
	{"script sql", "POST", "/integrations/scripts/initial-create", "application/x-yaml", "type: Redshift\nautoBootstrap: false\nconfig: {host: h}\n", 200, "application/sql", "CREATE DATABASE x;\n"},
	{"script post-cleanup", "POST", "/integrations/scripts/post-cleanup", "application/json", seedScriptPayload, 200, "application/json", scriptJSON},
	{"script edit", "POST", "/integrations/3/scripts/edit", "application/json", seedScriptPayload, 200, "application/json", scriptJSON},
	{"script delete", "POST", "/integrations/3/scripts/delete", "", "", 200, "application/json", scriptJSON},
	{"healthz", "GET", "/healthz", "", "", 200, "application/json", `{"status":"ok"}`},
	{"readyz", "GET", "/readyz", "", "", 200, "application/json", `{"status":"ready"}`},
	{"readyz down", "GET", "/readyz", "", "", 503, "application/json", `{"statusCode":503,"error":"Service Unavailable","message":"the store is not reachable"}`},
	{"metrics", "GET", "/metrics", "", "", 200, "text/plain; version=0.0.4; charset=utf-8", "# HELP up 1\nup 1\n"},
	{"openapi", "GET", "/openapi.json", "", "", 200, "application/json", string(openapi.Document())},
}

// bad are exchanges the document does not describe; want is a part of the failure.
var bad = []struct {
	exchange
	want string
}{
	{exchange{"status as a number", "GET", "/integrations/1/status", "", "", 200, "application/json", `{"id": 1, "status": 3}`}, "status"},
	{exchange{"id as a string in status", "GET", "/integrations/1/status", "", "", 200, "application/json", `{"id": "1", "status": "enabled"}`}, "id"},
	{exchange{"unknown status", "GET", "/integrations/1/status", "", "", 200, "application/json", `{"id": 1, "status": "ok"}`}, "status"},
	{exchange{"error without statusCode", "POST", "/integrations", "application/json", "{}", 409, "application/json",
		`{"error": "Conflict", "message": "exists"}`}, "statusCode"},
	{exchange{"error with a stack", "POST", "/integrations", "application/json", "{}", 500, "application/json",
		`{"statusCode": 500, "error": "Internal Server Error", "message": "x", "stack": "main.go:1"}`}, "stack"},
	{exchange{"integration id as a number", "GET", "/integrations/1", "", "", 200, "application/json",
		strings.Replace(seedIntegration, `"id": "123456789"`, `"id": 123456789`, 1)}, "id"},
	{exchange{"integration without validationResults", "GET", "/integrations/1", "", "", 200, "application/json",
		`{"id": "1", "status": "enabled", "type": "Trino", "config": {}}`}, "validationResults"},
	{exchange{"unknown type", "GET", "/integrations/1", "", "", 200, "application/json",
		strings.Replace(seedIntegration, `"type": "Snowflake"`, `"type": "Oracle"`, 1)}, "type"},
	{exchange{"bad test status", "POST", "/integrations", "application/json", seedSnowflakePayload, 200, "application/json",
		`{"id": "1", "status": "creating", "validationResults": {"status": "ok", "validationTests": []}}`}, "status"},
	{exchange{"result without validationResults", "POST", "/integrations?dryRun=true", "application/json", seedSnowflakePayload, 200, "application/json",
		`{"id": "1", "status": "creating"}`}, "validationResults"},
	{exchange{"regenerate without newKey", "POST", "/integrations/1/regenerate", "", "", 200, "application/json", `{"key": "k"}`}, "newKey"},
	{exchange{"undocumented status", "GET", "/integrations", "", "", 418, "application/json",
		`{"statusCode": 418, "error": "I'm a teapot", "message": "x"}`}, "status is not supported"},
	{exchange{"404 on a route without id", "GET", "/integrations", "", "", 404, "application/json",
		`{"statusCode": 404, "error": "Not Found", "message": "x"}`}, "status is not supported"},
	{exchange{"413 on a route without body", "GET", "/integrations/1", "", "", 413, "application/json",
		`{"statusCode": 413, "error": "Payload Too Large", "message": "x"}`}, "status is not supported"},
	{exchange{"error as text", "GET", "/integrations/1", "", "", 404, "text/plain; charset=utf-8", "404 page not found\n"}, "Content-Type has unexpected value"},
	{exchange{"no content type", "GET", "/healthz", "", "", 200, "", `{"status":"ok"}`}, "Content-Type has unexpected value"},
	{exchange{"malformed JSON", "GET", "/healthz", "", "", 200, "application/json", `{"status":"ok"`}, "healthz"},
	{exchange{"script JSON without phases", "POST", "/integrations/scripts/create", "application/json", seedScriptPayload, 200, "application/json",
		`{"type": "Snowflake", "operation": "create", "script": "x"}`}, "phases"},
	{exchange{"script as html", "POST", "/integrations/scripts/create", "application/json", seedScriptPayload, 200, "text/html", "<p>x</p>"}, "Content-Type has unexpected value"},
	{exchange{"undocumented route", "GET", "/nope", "", "", 404, "text/plain", "404 page not found\n"}, "not in the document"},
	{exchange{"undocumented method", "PATCH", "/integrations/1", "", "", 405, "text/plain", "Method Not Allowed\n"}, "not in the document"},
	{exchange{"accepted unknown field", "POST", "/integrations", "application/json", `{"type": "Trino", "extra": 1}`, 200, "application/json",
		`{"id": "1", "status": "creating", "validationResults": {"status": "passed", "validationTests": []}}`}, "accepted a request"},
	{exchange{"accepted bad dryRun", "POST", "/integrations?dryRun=yes", "application/json", `{"type": "Trino"}`, 200, "application/json",
		`{"validationResults": {"status": "passed", "validationTests": []}}`}, "accepted a request"},
}

func (e exchange) request() *http.Request {
	req := httptest.NewRequest(e.method, e.target, strings.NewReader(e.reqBody))
	if e.reqCT != "" {
		req.Header.Set("Content-Type", e.reqCT)
	}
	if strings.HasPrefix(e.target, "/integrations") {
		req.Header.Set("Authorization", "846e9e43c86a4ct1be14290d95127d13f")
	}
	return req
}

func (e exchange) header() http.Header {
	h := http.Header{}
	if e.contentType != "" {
		h.Set("Content-Type", e.contentType)
	}
	return h
}

func TestCheckAcceptsDocumentedExchanges(t *testing.T) {
	c := openapitest.New(t)
	for _, e := range good {
		t.Run(e.name, func(t *testing.T) {
			c.Check(t, e.request(), []byte(e.reqBody), e.status, e.header(), []byte(e.body))
		})
	}
}

func TestCheckFails(t *testing.T) {
	c := openapitest.New(t)
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			rec := &recorder{}
			c.Check(rec, b.request(), []byte(b.reqBody), b.status, b.header(), []byte(b.body))
			if len(rec.errs) == 0 {
				t.Fatalf("Check accepted %s %s -> %d %s", b.method, b.target, b.status, b.body)
			}
			msg := strings.Join(rec.errs, "\n")
			t.Log(msg)
			for _, part := range []string{b.method, b.target, fmt.Sprint(b.status), b.want} {
				if !strings.Contains(msg, part) {
					t.Errorf("failure message lacks %q:\n%s", part, msg)
				}
			}
		})
	}
}

func TestRequestValidationCanBeTurnedOff(t *testing.T) {
	c := openapitest.New(t)
	c.ValidateRequests = false
	e := exchange{"", "POST", "/integrations", "application/json", `{"type": "Trino", "extra": 1}`, 200, "application/json",
		`{"id": "1", "status": "creating", "validationResults": {"status": "passed", "validationTests": []}}`}
	c.Check(t, e.request(), []byte(e.reqBody), e.status, e.header(), []byte(e.body))
}

func TestCovered(t *testing.T) {
	c := openapitest.New(t)
	cov := c.Covered()
	for _, route := range openapi.Routes() {
		if _, ok := cov[route+" (200)"]; !ok {
			t.Errorf("Covered() lacks %q", route+" (200)")
		}
	}
	for _, k := range []string{"DELETE /integrations/{id} (404)", "POST /integrations (413)", "PUT /integrations/{id} (422)", "GET /readyz (503)"} {
		if v, ok := cov[k]; !ok || v {
			t.Errorf("Covered()[%q] = %v, %v; want false, true", k, v, ok)
		}
	}
	if len(c.Uncovered()) != len(cov) {
		t.Errorf("Uncovered() has %d entries, want all %d", len(c.Uncovered()), len(cov))
	}
	e := good[2] // GET /integrations/{id} 200
	c.Check(t, e.request(), nil, e.status, e.header(), []byte(e.body))
	rec := &recorder{}
	c.Check(rec, httptest.NewRequest("GET", "/nope", nil), nil, 404, nil, nil)
	cov = c.Covered()
	if !cov["GET /integrations/{id} (200)"] {
		t.Error("GET /integrations/{id} (200) not covered after a check")
	}
	if cov["GET /integrations/{id} (404)"] {
		t.Error("GET /integrations/{id} (404) covered without a check")
	}
	for k := range cov {
		if strings.Contains(k, "/nope") {
			t.Errorf("undocumented route recorded: %s", k)
		}
	}
	cov["GET /healthz (200)"] = true
	if c.Covered()["GET /healthz (200)"] {
		t.Error("Covered() returned its own map")
	}
}

// Every exchange of good covers every route once; run them all in parallel to let the
// race detector see the shared Checker.
func TestConcurrentChecks(t *testing.T) {
	c := openapitest.New(t)
	var wg sync.WaitGroup
	for range 4 {
		for _, e := range good {
			wg.Go(func() {
				c.Check(t, e.request(), []byte(e.reqBody), e.status, e.header(), []byte(e.body))
			})
		}
	}
	wg.Wait()
	cov := c.Covered()
	for _, route := range openapi.Routes() {
		if !cov[route+" (200)"] {
			t.Errorf("%s (200) not covered by the good exchanges", route)
		}
	}
}

func TestHead(t *testing.T) {
	c := openapitest.New(t)
	h := http.Header{"Content-Type": {"application/json"}}
	c.Check(t, httptest.NewRequest(http.MethodHead, "/openapi.json", nil), nil, 200, h, nil)
	if c.Covered()["GET /openapi.json (200)"] {
		t.Error("HEAD counted as covering GET")
	}
	rec := &recorder{}
	c.Check(rec, httptest.NewRequest(http.MethodHead, "/nope", nil), nil, 404, nil, nil)
	if len(rec.errs) == 0 {
		t.Error("HEAD of an undocumented route accepted")
	}
}
