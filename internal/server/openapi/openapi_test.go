package openapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/openintegrations/integrations/internal/apierr"
	"github.com/openintegrations/integrations/internal/server/openapi"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestDocumentValidates(t *testing.T) {
	doc := load(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if !json.Valid(openapi.Document()) {
		t.Error("Document() is not valid JSON")
	}
}

func TestDocumentIsACopy(t *testing.T) {
	d := openapi.Document()
	d[0] = 'x'
	if openapi.Document()[0] != '{' {
		t.Error("changing the result of Document() changed the document")
	}
}

var wantRoutes = []string{
	"GET /integrations",
	"POST /integrations",
	"GET /integrations/{id}",
	"PUT /integrations/{id}",
	"DELETE /integrations/{id}",
	"GET /integrations/{id}/status",
	"POST /integrations/{id}/regenerate",
	"POST /integrations/scripts/create",
	"POST /integrations/scripts/initial-create",
	"POST /integrations/scripts/cleanup",
	"POST /integrations/scripts/post-cleanup",
	"POST /integrations/{id}/scripts/edit",
	"POST /integrations/{id}/scripts/delete",
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /openapi.json",
}

func TestRoutes(t *testing.T) {
	got := openapi.Routes()
	if len(got) != 17 {
		t.Errorf("Routes() has %d routes, want 17: %q", len(got), got)
	}
	want := slices.Clone(wantRoutes)
	sort.Strings(want)
	sorted := slices.Clone(got)
	sort.Strings(sorted)
	if !slices.Equal(sorted, want) {
		t.Errorf("Routes() = %q\nwant (any order) %q", got, want)
	}
	// Every route is a valid ServeMux pattern, and no two conflict.
	mux := http.NewServeMux()
	for _, r := range got {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("mux.Handle(%q): %v", r, p)
				}
			}()
			mux.Handle(r, http.NotFoundHandler())
		}()
	}
	got[0] = "changed"
	if openapi.Routes()[0] == "changed" {
		t.Error("changing the result of Routes() changed it")
	}
}

// TestOperations checks what every operation declares: operationIds, security, the
// error responses of the contract, parameters and request bodies.
func TestOperations(t *testing.T) {
	doc := load(t)
	ids := map[string]string{}
	for _, route := range openapi.Routes() {
		method, path, _ := strings.Cut(route, " ")
		op := doc.Paths.Value(path).GetOperation(method)
		if op == nil {
			t.Fatalf("%s: no operation", route)
		}
		if op.OperationID == "" {
			t.Errorf("%s: no operationId", route)
		} else if prev, dup := ids[op.OperationID]; dup {
			t.Errorf("%s: operationId %q also used by %s", route, op.OperationID, prev)
		}
		ids[op.OperationID] = route
		if op.Responses.Status(200) == nil {
			t.Errorf("%s: no 200 response", route)
		}
		integ := strings.HasPrefix(path, "/integrations")
		secured := op.Security != nil && len(*op.Security) == 1 && (*op.Security)[0]["apiKey"] != nil
		if integ != secured {
			t.Errorf("%s: secured = %v, want %v", route, secured, integ)
		}
		if !integ {
			continue
		}
		hasID := strings.Contains(path, "{id}")
		hasBody := op.RequestBody != nil
		want := []int{400, 401, 403, 500}
		if hasID {
			want = append(want, 404)
		}
		if hasBody {
			want = append(want, 413)
		}
		mutating := method != http.MethodGet
		if mutating && (path == "/integrations" || path == "/integrations/{id}") {
			want = append(want, 409, 422)
		}
		for _, code := range want {
			r := op.Responses.Status(code)
			if r == nil {
				t.Errorf("%s: no %d response", route, code)
				continue
			}
			mt := r.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil {
				t.Errorf("%s %d: no application/json schema", route, code)
				continue
			}
			name := "Error"
			if code == 422 {
				name = "ValidationFailure"
			}
			if mt.Schema.Ref != "#/components/schemas/"+name {
				t.Errorf("%s %d: schema %q, want %s", route, code, mt.Schema.Ref, name)
			}
		}
		if hasBody {
			for _, ct := range []string{"application/json", "application/yaml", "application/x-yaml", "text/yaml"} {
				if op.RequestBody.Value.Content.Get(ct) == nil {
					t.Errorf("%s: request body has no %s", route, ct)
				}
			}
		}
		params := map[string]bool{}
		for _, p := range append(doc.Paths.Value(path).Parameters, op.Parameters...) {
			params[p.Value.In+":"+p.Value.Name] = true
		}
		if hasID != params["path:id"] {
			t.Errorf("%s: path parameter id declared = %v", route, params["path:id"])
		}
		if mutating && !strings.Contains(path, "scripts") && path != "/integrations/{id}/regenerate" && !params["query:dryRun"] {
			t.Errorf("%s: no dryRun", route)
		}
		if strings.Contains(path, "/scripts/") && !params["query:redact"] {
			t.Errorf("%s: no redact", route)
		}
		if route == "DELETE /integrations/{id}" && !params["query:forceDisable"] {
			t.Errorf("%s: no forceDisable", route)
		}
	}
	// Script routes answer JSON, text/plain and application/sql.
	for _, path := range []string{"/integrations/scripts/create", "/integrations/{id}/scripts/delete"} {
		ok := doc.Paths.Value(path).Post.Responses.Status(200).Value.Content
		for _, ct := range []string{"application/json", "text/plain", "application/sql"} {
			if ok.Get(ct) == nil {
				t.Errorf("POST %s 200: no %s", path, ct)
			}
		}
	}
}

func TestHandler(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		openapi.Handler().ServeHTTP(rec, httptest.NewRequest(method, "/openapi.json", nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", method, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", method, ct)
		}
		want := string(openapi.Document())
		if method == http.MethodHead {
			want = ""
		}
		if rec.Body.String() != want {
			t.Errorf("%s: body is not the document (%d bytes)", method, rec.Body.Len())
		}
	}
}

// jsonFields returns the JSON names of a struct type's fields (json:"-" excluded).
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestSchemasMatchCode ties the named schemas to the Go types that produce or consume
// the JSON: a field added to a config struct must be documented.
func TestSchemasMatchCode(t *testing.T) {
	doc := load(t)
	for name, v := range map[string]any{
		"SnowflakeConfig":            platforms.Snowflake{},
		"RedshiftConfig":             platforms.Redshift{},
		"SynapseConfig":              platforms.Synapse{},
		"BigQueryConfig":             platforms.BigQuery{},
		"S3Config":                   platforms.S3{},
		"Toggle":                     platforms.Toggle{},
		"Impersonation":              platforms.Impersonation{},
		"Lineage":                    platforms.Lineage{},
		"PrivateKey":                 platforms.PrivateKey{},
		"SnowflakeOAuthClientConfig": platforms.OAuthClientConfig{},
		"SynapseOAuthClientConfig":   platforms.SynapseOAuth{},
		"MetadataDelimiters":         platforms.SynapseDelimiters{},
		"Problem":                    platforms.Problem{},
		"Error":                      apierr.Body{},
		"Script":                     render.Script{},
		"ScriptPhase":                render.Phase{},
		"ScriptStatement":            render.Statement{},
	} {
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Errorf("no schema %s", name)
			continue
		}
		var props []string
		for p := range s.Value.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if want := jsonFields(reflect.TypeOf(v)); !slices.Equal(props, want) {
			t.Errorf("schema %s has properties %q; %T has JSON fields %q", name, props, v, want)
		}
		if s.Value.AdditionalProperties.Has == nil || *s.Value.AdditionalProperties.Has {
			t.Errorf("schema %s allows additional properties", name)
		}
	}
	var types []any
	for _, n := range platforms.TypeNames() {
		types = append(types, n)
	}
	if got := doc.Components.Schemas["IntegrationType"].Value.Enum; !sameSet(got, types) {
		t.Errorf("IntegrationType enum %v, platforms.TypeNames() %v", got, types)
	}
	wantStatuses := []any{"creating", "createError", "enabled", "editing", "editError", "deleting",
		"deleteError", "deleted", "disabled", "migrating", "migrateError", "recurringValidationError"}
	if got := doc.Components.Schemas["IntegrationStatus"].Value.Enum; !sameSet(got, wantStatuses) {
		t.Errorf("IntegrationStatus enum %v, want the 12 statuses of API.md %v", got, wantStatuses)
	}
	var ops []any
	for _, op := range platforms.Operations {
		ops = append(ops, string(op))
	}
	if got := doc.Components.Schemas["Script"].Value.Properties["operation"].Value.Enum; !sameSet(got, ops) {
		t.Errorf("Script.operation enum %v, platforms.Operations %v", got, ops)
	}
}

func sameSet(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Seed request payloads: each config must be valid under its type's named schema, and
// each payload under Payload.
var seedPayloads = map[string]string{
	"s3 create": `{"type": "Native S3", "autoBootstrap": false, "config": {
      "name": "S3 integration", "awsAccountId": "123456789", "awsRegion": "us-east-1",
      "awsLocationRole": "arn:aws:iam::123456789:role/access-grants-instance-role",
      "awsLocationPath": "s3://", "authenticationType": "accessKey",
      "awsAccessKeyId": "123456789", "awsSecretAccessKey": "123456789"}}`,
	"synapse create": `{"type": "Azure Synapse Analytics", "autoBootstrap": true, "config": {
      "host": "organization.azure.com", "schema": "sample_schema", "database": "immuta",
      "metadataDelimiters": {"hashDelimiter": "|", "hashKeyDelimiter": "-", "arrayDelimiter": ","},
      "username": "taylor@synapse.com", "password": "abc1234", "authenticationType": "userPassword"}}`,
	"synapse put": `{"type": "Azure Synapse Analytics", "autoBootstrap": true, "config": {
      "host": "organization.azure.com", "schema": "sample_schema", "database": "immuta",
      "impersonation": {"enabled": true, "role": "IMMUTA_IMPERSONATION"},
      "metadataDelimiters": {"hashDelimiter": "|", "hashKeyDelimiter": "-", "arrayDelimiter": ","},
      "username": "taylor@synapse.com", "password": "abc1234", "authenticationType": "userPassword"}}`,
	"bigquery create": `{"type": "Google BigQuery", "autoBootstrap": false, "config": {
      "role": "immuta", "datasetSuffix": "_secureView", "dataset": "immuta", "location": "us-east-1",
      "credential": "{\"type\":\"service_account\",\"project_id\":\"innate-conquest-123456\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nX\\n-----END PRIVATE KEY-----\\n\",\"client_email\":\"sa@innate-conquest-123456.iam.gserviceaccount.com\"}"}}`,
	"redshift script": `{"type": "Redshift", "autoBootstrap": false, "config": {
      "host": "organization.aws.amazon.com", "database": "immuta", "impersonation": {"enabled": false},
      "authenticationType": "userPassword", "username": "taylor@redshift.com", "password": "abc1234"}}`,
	"redshift put": `{"type": "Redshift", "autoBootstrap": false, "config": {
      "host": "organization.aws.amazon.com", "database": "immuta",
      "impersonation": {"enabled": true, "role": "immuta_impersonation"},
      "authenticationType": "userPassword", "username": "taylor@redshift.com", "password": "abc1234"}}`,
	"snowflake create": `{"type": "Snowflake", "autoBootstrap": true, "config": {
      "host": "organization.us-east-1.snowflakecomputing.com", "warehouse": "SAMPLE_WAREHOUSE",
      "database": "SNOWFLAKE_SAMPLE_DATA", "authenticationType": "userPassword",
      "username": "taylor@snowflake.com", "password": "abc1234", "role": "ACCOUNTADMIN"}}`,
	"snowflake script": `{"type": "Snowflake", "autoBootstrap": false, "config": {
      "host": "organization.us-east-1.snowflakecomputing.com", "warehouse": "SAMPLE_WAREHOUSE",
      "database": "SNOWFLAKE_SAMPLE_DATA", "audit": {"enabled": true}, "workspaces": {"enabled": false},
      "impersonation": {"enabled": false}, "authenticationType": "userPassword",
      "username": "IMMUTA_SYSTEM_ACCOUNT", "password": "abc1234"}}`,
	"snowflake get config": `{"type": "Snowflake", "autoBootstrap": true, "config": {
      "host": "organization.us-east-1.snowflakecomputing.com", "warehouse": "SAMPLE_WAREHOUSE",
      "database": "SNOWFLAKE_SAMPLE_DATA", "port": 443, "audit": {"enabled": false},
      "workspaces": {"enabled": false}, "impersonation": {"enabled": false}, "lineage": {"enabled": false},
      "authenticationType": "userPassword", "username": "<REDACTED>", "password": "<REDACTED>", "role": "ACCOUNTADMIN"}}`,
	"trino create": `{"type": "Trino"}`,
}

var configSchema = map[string]string{
	"Snowflake": "SnowflakeConfig", "Redshift": "RedshiftConfig", "Azure Synapse Analytics": "SynapseConfig",
	"Google BigQuery": "BigQueryConfig", "Native S3": "S3Config",
}

func TestSeedPayloads(t *testing.T) {
	doc := load(t)
	payload := doc.Components.Schemas["Payload"].Value
	for name, body := range seedPayloads {
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := payload.VisitJSON(v); err != nil {
			t.Errorf("%s: not a valid Payload: %v", name, err)
		}
		typ := v["type"].(string)
		cfg, ok := v["config"]
		if typ == "Trino" {
			if ok {
				t.Errorf("%s: Trino payload with config", name)
			}
			continue
		}
		if err := doc.Components.Schemas[configSchema[typ]].Value.VisitJSON(cfg); err != nil {
			t.Errorf("%s: config not valid under %s: %v", name, configSchema[typ], err)
		}
	}
	// The named schemas refuse what the server refuses.
	bad := map[string]string{
		"SnowflakeConfig": `{"host": "h", "warehouse": "w", "database": "d", "authenticationType": "userPassword", "port": "443"}`,
		"RedshiftConfig":  `{"host": "h", "database": "d", "authenticationType": "userPassword", "extra": 1}`,
		"SynapseConfig":   `{"host": "h", "database": "d", "authenticationType": "userPassword"}`,
		"S3Config":        `{"name": "n", "awsAccountId": 123456789, "awsRegion": "r", "awsLocationRole": "x", "awsLocationPath": "s3://", "authenticationType": "auto"}`,
		"BigQueryConfig":  `{"role": "r", "datasetSuffix": "_s", "dataset": "d", "location": "l", "credential": {"type": "service_account"}}`,
		"TrinoConfig":     `{"apiKey": "k"}`,
	}
	for name, body := range bad {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if err := doc.Components.Schemas[name].Value.VisitJSON(v); err == nil {
			t.Errorf("%s accepts %s", name, body)
		}
	}
	if err := payload.VisitJSON(map[string]any{"type": "Trino", "unknown": true}); err == nil {
		t.Error("Payload accepts an unknown field")
	}
	if err := payload.VisitJSON(map[string]any{"type": "Oracle"}); err == nil {
		t.Error("Payload accepts an unknown type")
	}
}

// A validation test's message is optional: the seed's skipped tests have none, and the
// server's skipped tests (which say why they were skipped) have one.
func TestValidationTestMessageOptional(t *testing.T) {
	doc := load(t)
	s := doc.Components.Schemas["ValidationTest"].Value
	if slices.Contains(s.Required, "message") {
		t.Error("ValidationTest requires message")
	}
	if s.Properties["message"] == nil || !strings.HasPrefix(s.Properties["message"].Value.Description, "Optional.") {
		t.Error("ValidationTest.message is not described as optional")
	}
	for _, body := range []string{
		`{"name": "Validate Automatic: Impersonation Role Does Not Exist", "status": "skipped"}`,
		`{"name": "Validate Automatic Bootstrap User Grants", "status": "skipped", "message": "skipped: applies to automatic setup only"}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if err := s.VisitJSON(v); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// A DELETE body of {} or null (no credentials) is one the document describes; an
// unknown field is not.
func TestDeleteCredentialsNone(t *testing.T) {
	doc := load(t)
	s := doc.Components.Schemas["DeleteCredentials"].Value
	for _, body := range []string{`{}`, `null`, `{"username": "u"}`} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if err := s.VisitJSON(v); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	if err := s.VisitJSON(map[string]any{"config": map[string]any{}}); err == nil {
		t.Error("DeleteCredentials accepts an unknown field")
	}
}
