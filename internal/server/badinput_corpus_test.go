package server

// This file is the bad-input corpus: bad request bodies for the integrations API: malformed
// JSON and YAML, a value of the wrong type in every field of every type's payload,
// unknown fields at every level, oversized and deeply nested bodies, YAML alias bombs,
// invalid UTF-8, NUL and control characters, numbers too big for int, duplicate keys and
// wrong content types.
//
// Every case is a body the server must refuse with badCase.Status (400, or 413 for bodies
// over 1 MiB), never with a 500, a crash or a success. TestBadInputCorpus sends each
// case and checks the status and the error body.

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// badMaxBody is the largest body the API accepts (API.md: bodies over 1 MiB are a 413).
const badMaxBody = 1 << 20

// Content types of the cases.
const (
	// badJSON is the content type of the JSON cases.
	badJSON = "application/json"
	// badYAML is the content type of most YAML cases (a few use application/x-yaml or
	// text/yaml).
	badYAML = "application/yaml"
)

// badCase is one bad request body.
type badCase struct {
	// Name says what is wrong; it is unique in its corpus.
	Name string
	// ContentType is the Content-Type header to send; empty: send none (the server
	// sniffs the body).
	ContentType string
	// Body is the request body.
	Body []byte
	// Status is the status the server must answer: 400 (Bad Request), or 413 (Payload
	// Too Large) for bodies over badMaxBody.
	Status int
}

type badSet struct {
	cases []badCase
	names map[string]bool
}

func (c *badSet) add(name, contentType string, body []byte, status int) {
	if c.names[name] {
		panic("badinput: duplicate case name " + name)
	}
	c.names[name] = true
	c.cases = append(c.cases, badCase{Name: name, ContentType: contentType, Body: body, Status: status})
}

func (c *badSet) bad(name, contentType string, body []byte) { c.add(name, contentType, body, 400) }
func (c *badSet) json(name, body string)                    { c.bad(name, badJSON, []byte(body)) }
func (c *badSet) yaml(name, body string)                    { c.bad(name, badYAML, []byte(body)) }

// badObj is a JSON object under construction.
type badObj = map[string]any

func badMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("badinput: " + err.Error())
	}
	return b
}

// badToYAML renders a payload as block-style YAML: mappings in block style with sorted
// keys, every scalar and sequence as its JSON text (a valid YAML flow value), so that a
// case differs from its valid base only by the fault it names.
func badToYAML(v badObj) string {
	var b strings.Builder
	badWriteYAML(&b, v, 0)
	return b.String()
}

func badWriteYAML(b *strings.Builder, m badObj, indent int) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(strings.Repeat("  ", indent))
		b.Write(badMarshal(k))
		b.WriteString(":")
		if sub, ok := m[k].(badObj); ok && len(sub) > 0 {
			b.WriteString("\n")
			badWriteYAML(b, sub, indent+1)
			continue
		}
		b.WriteString(" ")
		if raw, ok := m[k].(json.RawMessage); ok {
			b.Write(raw) // written as given, even when it is not JSON (.inf)
		} else {
			b.Write(badMarshal(m[k]))
		}
		b.WriteString("\n")
	}
}

// badClone deep-copies a payload.
func badClone(v any) any {
	switch x := v.(type) {
	case badObj:
		out := make(badObj, len(x))
		for k, e := range x {
			out[k] = badClone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = badClone(e)
		}
		return out
	default:
		return v
	}
}

// badWith returns a copy of base with the dotted path set to v (the parent objects must
// exist).
func badWith(base badObj, path string, v any) badObj {
	out := badClone(base).(badObj)
	m := out
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(badObj)
	}
	m[parts[len(parts)-1]] = v
	return out
}

// badWithout returns a copy of base with the dotted path removed.
func badWithout(base badObj, path string) badObj {
	out := badClone(base).(badObj)
	m := out
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(badObj)
	}
	delete(m, parts[len(parts)-1])
	return out
}

// The kinds of config fields, for badWrongValues.
const (
	badKindString = iota
	badKindInt
	badKindBool
	badKindObject
)

type badField struct {
	path string // under "config."
	kind int
	base string // the variant of the type's base payload that uses the field
}

type badPlatform struct {
	typ    string
	short  string
	bases  map[string]badObj
	fields []badField
}

// badPrivateKeyPEM is an unencrypted 2048-bit PKCS#8 RSA key (the smallest Snowflake
// accepts), generated once per process so that no key is stored in the source.
var badPrivateKeyPEM = sync.OnceValue(func() string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("badinput: " + err.Error())
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("badinput: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
})

// A service-account key JSON as BigQuery's credential (a string holding JSON).
const badBigQueryCredential = `{"type":"service_account","project_id":"innate-conquest-123456",` +
	`"private_key":"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",` +
	`"client_email":"sa@innate-conquest-123456.iam.gserviceaccount.com"}`

func badPlatforms() []badPlatform {
	sfCommon := func(auth string) badObj {
		return badObj{"type": "Snowflake", "autoBootstrap": false, "config": badObj{
			"host": "organization.us-east-1.snowflakecomputing.com", "port": 443,
			"warehouse": "SAMPLE_WAREHOUSE", "database": "IMMUTA_DB", "role": "ACCOUNTADMIN",
			"authenticationType": auth, "username": "IMMUTA_SYSTEM_ACCOUNT",
			"audit": badObj{"enabled": false}, "workspaces": badObj{"enabled": false},
			"impersonation": badObj{"enabled": true, "role": "IMMUTA_IMPERSONATION"},
			"lineage":       badObj{"enabled": true, "ingestBatchSize": 100, "tableFilter": "^DB\\.", "tagFilter": "^pii"},
		}}
	}
	sfPassword := sfCommon("userPassword")
	sfPassword["config"].(badObj)["password"] = "Abc1234-secret-pw" // a script sets it: Snowflake's password policy applies
	sfKey := sfCommon("keyPair")
	sfKey["config"].(badObj)["privateKey"] = badObj{"keyName": "PRIV_KEY_FILE", "userFilename": "rsa_key.p8",
		"content": badPrivateKeyPEM()}
	sfOAuth := sfCommon("oAuthClientCredentials")
	delete(sfOAuth["config"].(badObj), "username")
	sfOAuth["config"].(badObj)["oAuthClientConfig"] = badObj{"provider": "Okta", "clientId": "client",
		"clientSecret": "secret", "authorityUrl": "https://example.okta.com/oauth2/default/v1/token",
		"scope": "session:role:IMMUTA", "useCertificate": false, "publicCertificateThumbprint": "AB12",
		"resource": "https://example.com"}

	rsCommon := func(auth string) badObj {
		return badObj{"type": "Redshift", "autoBootstrap": false, "config": badObj{
			"host": "organization.aws.amazon.com", "port": 5439, "database": "immuta",
			"initialDatabase": "dev", "impersonation": badObj{"enabled": true, "role": "immuta_impersonation"},
			"authenticationType": auth, "username": "immuta_system",
		}}
	}
	rsPassword := rsCommon("userPassword")
	rsPassword["config"].(badObj)["password"] = "Abc12345"
	rsKey := rsCommon("accessKey")
	for k, v := range (badObj{"awsAccessKeyId": "AKIAIOSFODNN7EXAMPLE",
		"awsSecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "awsRegion": "us-east-1"}) {
		rsKey["config"].(badObj)[k] = v
	}

	synCommon := func(auth string) badObj {
		return badObj{"type": "Azure Synapse Analytics", "autoBootstrap": false, "config": badObj{
			"host": "organization.sql.azuresynapse.net", "port": 1433, "schema": "sample_schema",
			"database": "immuta", "authenticationType": auth,
			"metadataDelimiters": badObj{"hashDelimiter": "|", "hashKeyDelimiter": "-", "arrayDelimiter": ","},
			"impersonation":      badObj{"enabled": true, "role": "IMMUTA_IMPERSONATION"},
		}}
	}
	synPassword := synCommon("userPassword")
	synPassword["config"].(badObj)["username"] = "immuta_system"
	synPassword["config"].(badObj)["password"] = "Abc12345!"
	synOAuth := synCommon("oAuthClientSecret")
	synOAuth["config"].(badObj)["oAuthClientConfig"] = badObj{"clientId": "6f1c2b9e-8a4d-4c3b-9e2f-1a2b3c4d5e6f",
		"displayName": "immuta-app", "clientSecret": "secret", "authorityUrl": "https://login.microsoftonline.com/tenant", "resource": "https://database.windows.net/"}

	bq := badObj{"type": "Google BigQuery", "autoBootstrap": false, "config": badObj{
		"role": "immuta", "datasetSuffix": "_secureView", "dataset": "immuta", "location": "us-east1",
		"credential": badBigQueryCredential,
	}}

	s3Common := func(auth string) badObj {
		return badObj{"type": "Native S3", "autoBootstrap": false, "config": badObj{
			"name": "S3 integration", "awsAccountId": "123456789012", "awsRegion": "us-east-1",
			"awsLocationRole": "arn:aws:iam::123456789012:role/access-grants-instance-role",
			"awsLocationPath": "s3://bucket/prefix/", "authenticationType": auth,
		}}
	}
	s3Auto := s3Common("auto")
	s3Auto["config"].(badObj)["awsRoleToAssume"] = "arn:aws:iam::123456789012:role/immuta"
	s3Key := s3Common("accessKey")
	s3Key["config"].(badObj)["awsAccessKeyId"] = "AKIAIOSFODNN7EXAMPLE"
	s3Key["config"].(badObj)["awsSecretAccessKey"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

	return []badPlatform{
		{"Snowflake", "snowflake", map[string]badObj{"": sfPassword, "keyPair": sfKey, "oauth": sfOAuth}, []badField{
			{"host", badKindString, ""}, {"port", badKindInt, ""}, {"warehouse", badKindString, ""}, {"database", badKindString, ""},
			{"role", badKindString, ""}, {"authenticationType", badKindString, ""}, {"username", badKindString, ""}, {"password", badKindString, ""},
			{"audit", badKindObject, ""}, {"audit.enabled", badKindBool, ""},
			{"workspaces", badKindObject, ""}, {"workspaces.enabled", badKindBool, ""},
			{"impersonation", badKindObject, ""}, {"impersonation.enabled", badKindBool, ""}, {"impersonation.role", badKindString, ""},
			{"lineage", badKindObject, ""}, {"lineage.enabled", badKindBool, ""}, {"lineage.ingestBatchSize", badKindInt, ""},
			{"lineage.tableFilter", badKindString, ""}, {"lineage.tagFilter", badKindString, ""},
			{"privateKey", badKindObject, "keyPair"}, {"privateKey.keyName", badKindString, "keyPair"},
			{"privateKey.userFilename", badKindString, "keyPair"}, {"privateKey.content", badKindString, "keyPair"},
			{"privateKeyPassword", badKindString, "keyPair"},
			{"oAuthClientConfig", badKindObject, "oauth"}, {"oAuthClientConfig.provider", badKindString, "oauth"},
			{"oAuthClientConfig.clientId", badKindString, "oauth"}, {"oAuthClientConfig.clientSecret", badKindString, "oauth"},
			{"oAuthClientConfig.authorityUrl", badKindString, "oauth"}, {"oAuthClientConfig.scope", badKindString, "oauth"},
			{"oAuthClientConfig.useCertificate", badKindBool, "oauth"},
			{"oAuthClientConfig.publicCertificateThumbprint", badKindString, "oauth"},
			{"oAuthClientConfig.resource", badKindString, "oauth"},
		}},
		{"Redshift", "redshift", map[string]badObj{"": rsPassword, "accessKey": rsKey}, []badField{
			{"host", badKindString, ""}, {"port", badKindInt, ""}, {"database", badKindString, ""}, {"initialDatabase", badKindString, ""},
			{"impersonation", badKindObject, ""}, {"impersonation.enabled", badKindBool, ""}, {"impersonation.role", badKindString, ""},
			{"authenticationType", badKindString, ""}, {"username", badKindString, ""}, {"password", badKindString, ""},
			{"awsAccessKeyId", badKindString, "accessKey"}, {"awsSecretAccessKey", badKindString, "accessKey"},
			{"awsRegion", badKindString, "accessKey"},
		}},
		{"Azure Synapse Analytics", "synapse", map[string]badObj{"": synPassword, "oauth": synOAuth}, []badField{
			{"host", badKindString, ""}, {"port", badKindInt, ""}, {"schema", badKindString, ""}, {"database", badKindString, ""},
			{"metadataDelimiters", badKindObject, ""}, {"metadataDelimiters.hashDelimiter", badKindString, ""},
			{"metadataDelimiters.hashKeyDelimiter", badKindString, ""}, {"metadataDelimiters.arrayDelimiter", badKindString, ""},
			{"authenticationType", badKindString, ""}, {"username", badKindString, ""}, {"password", badKindString, ""},
			{"impersonation", badKindObject, ""}, {"impersonation.enabled", badKindBool, ""}, {"impersonation.role", badKindString, ""},
			{"oAuthClientConfig", badKindObject, "oauth"}, {"oAuthClientConfig.clientId", badKindString, "oauth"},
			{"oAuthClientConfig.displayName", badKindString, "oauth"},
			{"oAuthClientConfig.clientSecret", badKindString, "oauth"}, {"oAuthClientConfig.authorityUrl", badKindString, "oauth"},
			{"oAuthClientConfig.resource", badKindString, "oauth"},
		}},
		{"Google BigQuery", "bigquery", map[string]badObj{"": bq}, []badField{
			{"role", badKindString, ""}, {"datasetSuffix", badKindString, ""}, {"dataset", badKindString, ""}, {"location", badKindString, ""},
			{"credential", badKindString, ""},
		}},
		{"Native S3", "s3", map[string]badObj{"": s3Auto, "accessKey": s3Key}, []badField{
			{"name", badKindString, ""}, {"awsAccountId", badKindString, ""}, {"awsRegion", badKindString, ""}, {"awsLocationRole", badKindString, ""},
			{"awsLocationPath", badKindString, ""}, {"authenticationType", badKindString, ""}, {"awsRoleToAssume", badKindString, ""},
			{"awsAccessKeyId", badKindString, "accessKey"}, {"awsSecretAccessKey", badKindString, "accessKey"},
		}},
	}
}

// badWrongValues returns values of the wrong type for a field of kind k, with a name for
// each.
func badWrongValues(k int, path string) []struct {
	name string
	v    any
} {
	type nv = struct {
		name string
		v    any
	}
	switch k {
	case badKindString:
		out := []nv{{"number", 42}, {"boolean", true}, {"object", badObj{"value": "x"}}, {"array", []any{"x"}}}
		if path == "credential" {
			// The realistic mistake: the key file's JSON inlined instead of as a string.
			var cred badObj
			if err := json.Unmarshal([]byte(badBigQueryCredential), &cred); err != nil {
				panic(err)
			}
			out = append(out, nv{"object (the key JSON itself)", cred})
		}
		if path == "awsAccountId" {
			out = append(out, nv{"number (digits)", 123456789012})
		}
		return out
	case badKindInt:
		return []nv{{"string", "443"}, {"fraction", 443.5}, {"boolean", true}, {"object", badObj{"value": 443}},
			{"array", []any{443}}, {"1e400", json.RawMessage("1e400")},
			{"99999999999999999999", json.RawMessage("99999999999999999999")},
			{"-99999999999999999999", json.RawMessage("-99999999999999999999")}}
	case badKindBool:
		return []nv{{"string", "true"}, {"number", 1}, {"object", badObj{"value": true}}, {"array", []any{true}}}
	default:
		return []nv{{"string", "enabled"}, {"number", 1}, {"boolean", true}, {"array", []any{badObj{}}}}
	}
}

// badCorpus returns the bad-input corpus for payload bodies (POST /integrations, PUT
// /integrations/{id} and the script routes). Every call builds fresh slices.
func badCorpus() []badCase {
	c := &badSet{names: map[string]bool{}}
	plats := badPlatforms()
	base := plats[0].bases[""] // a valid Snowflake payload
	baseJSON := badMarshal(base)

	badMalformedJSON(c, baseJSON)
	badMalformedYAML(c)
	badTopLevel(c, plats)
	for _, p := range plats {
		badConfigFields(c, p)
	}
	badUnknownFields(c, plats)
	badSizes(c)
	badNesting(c)
	badYAMLFeatures(c)
	badEncodings(c, baseJSON)
	badNumbers(c, plats)
	badDuplicates(c)
	badContentTypes(c)
	return c.cases
}

func badMalformedJSON(c *badSet, valid []byte) {
	s := string(valid)
	c.json("json: truncated in the middle", s[:len(s)/2])
	c.json("json: truncated before the last brace", s[:len(s)-1])
	c.json("json: truncated after a key", `{"type":`)
	c.json("json: only an opening brace", `{`)
	c.json("json: trailing garbage", s+" x")
	c.json("json: trailing comma garbage", s+",")
	c.json("json: two objects", s+s)
	c.json("json: object then array", s+"[]")
	c.json("json: unbalanced, extra closing brace", s+"}")
	c.json("json: unbalanced, array closed by brace", `{"type":"Snowflake","autoBootstrap":false,"config":[}`)
	c.json("json: unbalanced, object closed by bracket", `{"type":"Trino"]`)
	c.json("json: single-quoted strings", `{'type':'Trino'}`)
	c.json("json: unquoted keys", `{type:"Trino"}`)
	c.json("json: unquoted value", `{"type":Trino}`)
	c.json("json: line comment", "// a comment\n"+s)
	c.json("json: block comment", "/* a comment */"+s)
	c.json("json: comment inside", `{"type":"Trino" /* c */}`)
	c.json("json: trailing comma in object", `{"type":"Trino",}`)
	c.json("json: trailing comma in config", `{"type":"Native S3","autoBootstrap":false,"config":{"name":"n",}}`)
	c.json("json: missing colon", `{"type" "Trino"}`)
	c.json("json: missing comma", `{"type":"Snowflake" "autoBootstrap":false}`)
	c.json("json: unterminated string", `{"type":"Trino}`)
	c.json("json: invalid escape", `{"type":"Tr\qino"}`)
	c.json("json: short unicode escape", `{"type":"Tr\u12"}`)
	c.json("json: raw newline in string", "{\"type\":\"Tri\nno\"}")
	c.json("json: NaN", `{"type":"Snowflake","autoBootstrap":false,"config":{"port":NaN}}`)
	c.json("json: Infinity", `{"type":"Snowflake","autoBootstrap":false,"config":{"port":Infinity}}`)
	c.json("json: hex number", `{"type":"Snowflake","autoBootstrap":false,"config":{"port":0x1BB}}`)
	c.json("json: leading plus", `{"type":"Snowflake","autoBootstrap":false,"config":{"port":+443}}`)
	c.json("json: leading zero", `{"type":"Snowflake","autoBootstrap":false,"config":{"port":0443}}`)
	c.json("json: True capitalised", `{"type":"Snowflake","autoBootstrap":False}`)
	c.json("json: empty key", `{"":"Trino"}`)
	c.bad("json: truncated, no content type", "", []byte(s[:len(s)/3]))
}

func badMalformedYAML(c *badSet) {
	c.yaml("yaml: bad indentation", "type: Snowflake\nautoBootstrap: false\nconfig:\n    host: h.example.com\n  warehouse: w\n")
	c.yaml("yaml: tab indentation", "type: Snowflake\nautoBootstrap: false\nconfig:\n\thost: h.example.com\n\twarehouse: w\n")
	c.yaml("yaml: unclosed double quote", "type: \"Snowflake\nautoBootstrap: false\n")
	c.yaml("yaml: unclosed single quote", "type: 'Trino\n")
	c.yaml("yaml: unclosed flow mapping", "type: Snowflake\nautoBootstrap: false\nconfig: {host: h.example.com, warehouse: w\n")
	c.yaml("yaml: unclosed flow sequence", "type: [Snowflake\n")
	c.yaml("yaml: mapping value in plain scalar", "type: Snow: flake\n")
	c.yaml("yaml: key without value then garbage", "type: Trino\n: x\n")
	c.yaml("yaml: sequence at top level", "- type: Trino\n")
	c.yaml("yaml: scalar at top level", "Trino\n")
	c.yaml("yaml: document end only", "...\n")
	c.yaml("yaml: comment only", "# nothing here\n")
	c.yaml("yaml: undefined alias", "type: *missing\n")
	c.yaml("yaml: unknown tag", "type: !custom Trino\n")
	c.yaml("yaml: binary tag", "type: !!binary VHJpbm8=\n")
	c.yaml("yaml: python object tag", "type: !!python/object:os.system Trino\n")
	c.yaml("yaml: complex key", "? [type]\n: Trino\n")
	c.bad("yaml: bad indentation, no content type", "", []byte("type: Snowflake\nconfig:\n    host: h\n  warehouse: w\n"))
	c.bad("yaml: bad indentation, application/x-yaml", "application/x-yaml", []byte("type: Trino\n  x: 1\n"))
	c.bad("yaml: unclosed quote, text/yaml", "text/yaml", []byte("type: \"Trino\n"))
}

func badTopLevel(c *badSet, plats []badPlatform) {
	snow := plats[0].bases[""]
	for _, v := range []struct {
		name string
		v    any
	}{
		{"number", 42}, {"array", []any{"Snowflake"}}, {"object", badObj{"name": "Snowflake"}}, {"null", nil},
		{"boolean", true}, {"empty string", ""}, {"lower case", "snowflake"}, {"upper case", "SNOWFLAKE"},
		{"trailing space", "Snowflake "}, {"leading space", " Snowflake"}, {"unknown", "Oracle"},
		{"partial name", "Azure Synapse"}, {"short key", "synapse"}, {"trailing newline", "Native S3\n"},
		{"zero-width space", "Snow\u200bflake"},
	} {
		c.json("type: "+v.name, string(badMarshal(badWith(snow, "type", v.v))))
	}
	c.json("type: missing", string(badMarshal(badWithout(snow, "type"))))
	c.yaml("type: number (yaml)", "type: 42\nautoBootstrap: false\n")
	c.yaml("type: sequence (yaml)", "type: [Trino]\n")

	for _, p := range plats {
		b := p.bases[""]
		for _, v := range []struct {
			name string
			v    any
		}{
			{"string true", "true"}, {"string false", "false"}, {"number 1", 1}, {"number 0", 0},
			{"array", []any{false}}, {"object", badObj{"value": false}},
		} {
			c.json(p.short+": autoBootstrap as "+v.name, string(badMarshal(badWith(b, "autoBootstrap", v.v))))
		}
		c.json(p.short+": autoBootstrap missing", string(badMarshal(badWithout(b, "autoBootstrap"))))
		c.json(p.short+": autoBootstrap null", string(badMarshal(badWith(b, "autoBootstrap", nil))))
		for _, v := range []struct {
			name string
			v    any
		}{
			{"string", "host=h"}, {"array", []any{b["config"]}}, {"number", 1}, {"boolean", true},
			{"null", nil}, {"empty object", badObj{}},
		} {
			c.json(p.short+": config as "+v.name, string(badMarshal(badWith(b, "config", v.v))))
		}
		c.json(p.short+": config missing", string(badMarshal(badWithout(b, "config"))))
		c.yaml(p.short+": autoBootstrap as quoted string (yaml)", badToYAML(badWith(b, "autoBootstrap", "false")))
	}
	for _, t := range []string{"Redshift", "Google BigQuery", "Native S3"} {
		for _, p := range plats {
			if p.typ == t {
				c.json(p.short+": autoBootstrap true (must be false)", string(badMarshal(badWith(p.bases[""], "autoBootstrap", true))))
			}
		}
	}
	c.json("trino: autoBootstrap false (must be absent)", `{"type":"Trino","autoBootstrap":false}`)
	c.json("trino: autoBootstrap true (must be absent)", `{"type":"Trino","autoBootstrap":true}`)
	c.json("trino: autoBootstrap as string", `{"type":"Trino","autoBootstrap":"false"}`)
	c.json("trino: config empty object (must be absent)", `{"type":"Trino","config":{}}`)
	c.json("trino: config as string", `{"type":"Trino","config":"x"}`)
	c.json("trino: config with apiKey", `{"type":"Trino","config":{"apiKey":"k"}}`)

	for _, body := range []struct{ name, body string }{
		{"empty", ""}, {"whitespace only", " \n\t\r\n "}, {"null", "null"}, {"true", "true"},
		{"number", "42"}, {"string", `"Snowflake"`}, {"empty array", "[]"}, {"empty object", "{}"},
		{"array of payloads", "[" + string(badMarshal(snow)) + "]"},
	} {
		c.json("body: "+body.name, body.body)
	}
	c.bad("body: empty, no content type", "", nil)
	c.bad("body: null, no content type", "", []byte("null"))
	c.yaml("body: empty yaml", "")
	c.yaml("body: yaml null", "~\n")
}

func badConfigFields(c *badSet, p badPlatform) {
	for _, f := range p.fields {
		b := p.bases[f.base]
		for _, w := range badWrongValues(f.kind, f.path) {
			c.json(fmt.Sprintf("%s: config.%s as %s", p.short, f.path, w.name),
				string(badMarshal(badWith(b, "config."+f.path, w.v))))
		}
	}
	// A few of the same mistakes in YAML.
	b := p.bases[""]
	first := p.fields[0].path
	c.yaml(fmt.Sprintf("%s: config.%s as sequence (yaml)", p.short, first),
		badToYAML(badWith(b, "config."+first, []any{"a", "b"})))
	c.yaml(fmt.Sprintf("%s: config.%s as mapping (yaml)", p.short, first),
		badToYAML(badWith(b, "config."+first, badObj{"a": "b"})))
	c.yaml(fmt.Sprintf("%s: config as sequence (yaml)", p.short),
		badToYAML(badWith(b, "config", []any{b["config"]})))
	for _, f := range p.fields {
		switch {
		case f.kind == badKindInt && !strings.Contains(f.path, "."):
			c.yaml(fmt.Sprintf("%s: config.%s as quoted string (yaml)", p.short, f.path),
				badToYAML(badWith(b, "config."+f.path, "443")))
		case f.kind == badKindBool:
			c.yaml(fmt.Sprintf("%s: config.%s as quoted string (yaml)", p.short, f.path),
				badToYAML(badWith(p.bases[f.base], "config."+f.path, "true")))
		}
	}
}

func badUnknownFields(c *badSet, plats []badPlatform) {
	for _, p := range plats {
		b := p.bases[""]
		c.json(p.short+": unknown top-level field", string(badMarshal(badWith(b, "extra", true))))
		c.json(p.short+": unknown config field", string(badMarshal(badWith(b, "config.extra", "x"))))
		cfg := b["config"].(badObj)
		first := slices.Sorted(maps.Keys(cfg))[0]
		renamed := badWithout(b, "config."+first)
		renamed["config"].(badObj)[strings.ToUpper(first[:1])+first[1:]] = cfg[first]
		c.json(p.short+": config field with wrong case ("+first+")", string(badMarshal(renamed)))
		c.yaml(p.short+": unknown config field (yaml)", badToYAML(badWith(b, "config.extra", "x")))
		c.yaml(p.short+": unknown top-level field (yaml)", badToYAML(badWith(b, "extra", "x")))
		// Every nested object gets an unknown field too.
		seen := map[string]bool{}
		for _, f := range p.fields {
			if f.kind != badKindObject || seen[f.path] {
				continue
			}
			seen[f.path] = true
			c.json(fmt.Sprintf("%s: unknown field in config.%s", p.short, f.path),
				string(badMarshal(badWith(p.bases[f.base], "config."+f.path+".extra", 1))))
		}
	}
	snow := plats[0].bases[""]
	c.json("unknown field: Type instead of type", string(badMarshal(badWith(badWithout(snow, "type"), "Type", "Snowflake"))))
	c.json("unknown field: autoBootStrap typo", string(badMarshal(badWith(badWithout(snow, "autoBootstrap"), "autoBootStrap", false))))
	c.json("unknown field: configuration instead of config", string(badMarshal(badWith(badWithout(snow, "config"), "configuration", snow["config"]))))
	c.json("unknown field: id in payload", string(badMarshal(badWith(snow, "id", "1"))))
	c.json("unknown field: status in payload", string(badMarshal(badWith(snow, "status", "enabled"))))
	c.json("unknown field: trino extra", `{"type":"Trino","extra":1}`)
	c.json("unknown field: __proto__", `{"type":"Trino","__proto__":{"admin":true}}`)
}

// badSized returns a JSON payload of exactly n bytes: a Trino payload with an unknown
// field (so it is a 400 whatever the size), padded with whitespace between tokens.
func badSized(n int) []byte {
	head, tail := `{"type":"Trino",`, `"unknownField":true}`
	pad := n - len(head) - len(tail)
	var b bytes.Buffer
	b.Grow(n)
	b.WriteString(head)
	for i := 0; i < pad; i++ {
		if i%80 == 79 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString(tail)
	return b.Bytes()
}

// badLongValue returns a Snowflake payload of exactly n bytes whose host is long.
func badLongValue(n int) []byte {
	head := `{"type":"Snowflake","autoBootstrap":false,"config":{"warehouse":"w","database":"d","authenticationType":"userPassword","username":"u","password":"p","host":"`
	tail := `"}}`
	return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
}

func badSizes(c *badSet) {
	c.add("size: 1 MiB + 1 byte (whitespace JSON)", badJSON, badSized(badMaxBody+1), 413)
	c.add("size: 4 MiB value", badJSON, badLongValue(4*badMaxBody), 413)
	c.add("size: 2 MiB, no content type", "", badSized(2*badMaxBody), 413)
	c.add("size: 2 MiB yaml", badYAML, []byte("type: Trino\nextra: \""+strings.Repeat("x", 2*badMaxBody)+"\"\n"), 413)
	c.bad("size: exactly 1 MiB of whitespace-heavy JSON (unknown field: 400, not 413)", badJSON, badSized(badMaxBody))
	c.bad("size: 1 MiB - 1 byte of whitespace-heavy JSON (unknown field: 400, not 413)", badJSON, badSized(badMaxBody-1))
	c.bad("size: just under 1 MiB host value (400, not 413)", badJSON, badLongValue(badMaxBody-16))
}

func badNesting(c *badSet) {
	const depth = 10000
	c.json("nesting: 10k arrays at top level", strings.Repeat("[", depth)+strings.Repeat("]", depth))
	c.json("nesting: 10k objects at top level", strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth))
	c.json("nesting: 10k arrays as config", `{"type":"Snowflake","autoBootstrap":false,"config":`+
		strings.Repeat("[", depth)+strings.Repeat("]", depth)+`}`)
	c.json("nesting: 10k objects as config.audit", `{"type":"Snowflake","autoBootstrap":false,"config":{"audit":`+
		strings.Repeat(`{"enabled":`, depth)+"true"+strings.Repeat("}", depth)+`}}`)
	c.json("nesting: 10k unclosed arrays", strings.Repeat("[", depth))
	c.yaml("nesting: 10k flow sequences (yaml)", "type: Trino\nextra: "+strings.Repeat("[", depth)+strings.Repeat("]", depth)+"\n")
	c.yaml("nesting: 10k flow mappings (yaml)", "type: Trino\nextra: "+strings.Repeat("{a: ", depth)+"1"+strings.Repeat("}", depth)+"\n")
	var b strings.Builder
	b.WriteString("type: Trino\nextra:\n")
	for i := 1; i <= 500; i++ {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("a:\n")
	}
	c.yaml("nesting: 500 block mappings (yaml)", b.String())
}

func badYAMLFeatures(c *badSet) {
	// Billion laughs: nine levels of nine aliases; expanded, 9^9 strings.
	var b strings.Builder
	b.WriteString("type: Trino\n")
	b.WriteString(`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	c.yaml("yaml: billion laughs (alias bomb)", b.String())
	c.bad("yaml: billion laughs, no content type", "", []byte(b.String()))
	var q strings.Builder
	q.WriteString("type: Snowflake\nautoBootstrap: false\nconfig:\n  lol0: &l0 lol\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&q, "  lol%d: &l%d [*l%d, *l%d]\n", i, i, i-1, i-1)
	}
	c.yaml("yaml: quadratic alias blowup in config", q.String())
	c.yaml("yaml: anchor and alias for a toggle",
		"type: Snowflake\nautoBootstrap: false\nconfig:\n  host: h.snowflakecomputing.com\n  warehouse: w\n  database: d\n"+
			"  authenticationType: userPassword\n  username: u\n  password: p\n  audit: &off {enabled: false}\n  workspaces: *off\n")
	c.yaml("yaml: merge key",
		"type: Snowflake\nautoBootstrap: false\nconfig:\n  <<: {host: h.snowflakecomputing.com, warehouse: w, database: d}\n"+
			"  authenticationType: userPassword\n  username: u\n  password: p\n")
	c.yaml("yaml: merge key with alias",
		"type: Snowflake\nautoBootstrap: false\nconfig:\n  impersonation: &imp {enabled: true, role: R}\n  audit:\n    <<: *imp\n")
	c.yaml("yaml: anchored type", "type: &t Trino\n")
	c.yaml("yaml: recursive alias", "type: Trino\nextra: &x [*x]\n")
	c.yaml("yaml: multi-document, two payloads", "type: Trino\n---\ntype: Trino\n")
	c.yaml("yaml: multi-document, empty first", "---\n---\ntype: Trino\n")
	c.yaml("yaml: multi-document, garbage second", "type: Trino\n---\n: : :\n")
	c.yaml("yaml: duplicate key", "type: Trino\ntype: Trino\n")
	c.yaml("yaml: duplicate config key", "type: Native S3\nautoBootstrap: false\nconfig:\n  name: a\n  name: b\n")
}

func badEncodings(c *badSet, valid []byte) {
	c.json("utf8: invalid byte in a key", "{\"ty\xffpe\":\"Trino\"}")
	c.json("utf8: invalid byte in type", "{\"type\":\"Trino\xff\"}")
	c.json("utf8: invalid byte in config.host", "{\"type\":\"Snowflake\",\"autoBootstrap\":false,\"config\":{\"host\":\"h\xc3\x28.example.com\"}}")
	c.json("utf8: overlong encoding of /", "{\"type\":\"Snowflake\",\"autoBootstrap\":false,\"config\":{\"host\":\"h\xc0\xaf\"}}")
	c.json("utf8: encoded surrogate half", "{\"type\":\"Trino\xed\xa0\x80\"}")
	c.json("utf8: truncated sequence at the end", "{\"type\":\"Trino\"}\xe2\x82")
	c.json("utf8: escaped lone surrogate in host", `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"h\ud800.example.com","warehouse":"w","database":"d","authenticationType":"userPassword","username":"u","password":"p"}}`)
	c.yaml("utf8: invalid byte in a yaml key", "ty\xfepe: Trino\n")
	c.yaml("utf8: invalid byte in a yaml value", "type: Snowflake\nautoBootstrap: false\nconfig:\n  host: \"h\xff\"\n")
	c.bad("utf8: UTF-16LE with BOM", badJSON, badUTF16LE(`{"type":"Trino"}`))
	c.bad("utf8: UTF-16BE with BOM", badJSON, badUTF16BE(`{"type":"Trino"}`))
	c.json("utf8: Latin-1 byte in password", "{\"type\":\"Snowflake\",\"autoBootstrap\":false,\"config\":{\"password\":\"caf\xe9\"}}")

	c.json("nul: raw NUL in type", "{\"type\":\"Tri\x00no\"}")
	c.json("nul: raw NUL between tokens", "{\"type\":\x00\"Trino\"}")
	c.json("nul: raw NUL after the body", "{\"type\":\"Trino\"}\x00")
	c.json("nul: raw NUL before the body", "\x00{\"type\":\"Trino\"}")
	c.json("nul: escaped NUL in type", `{"type":"Trino\u0000"}`)
	c.json("nul: escaped NUL in config.host", badSfHost(`h\u0000.example.com`))
	c.json("nul: escaped NUL in a key", `{"type\u0000":"Trino"}`)
	c.yaml("nul: raw NUL in yaml", "type: Tri\x00no\n")
	c.yaml("nul: escaped NUL in yaml", "type: \"Trino\\0\"\n")

	for _, cc := range []struct{ name, val string }{
		{"newline", `h\n.example.com`}, {"carriage return", `h\r.example.com`}, {"tab", `h\t.example.com`},
		{"escape", `h\u001b[31m.example.com`}, {"DEL", `h\u007f.example.com`}, {"C1 NEL", `h\u0085.example.com`},
		{"bell", `h\u0007.example.com`}, {"line separator", `h\u2028.example.com`},
		{"bidi right-to-left override", `h\u202emoc.example.com`}, {"bidi isolate", `h\u2066x\u2069.example.com`},
		{"zero-width joiner", `h\u200d.example.com`}, {"BOM inside", `h\ufeff.example.com`},
	} {
		c.json("control: "+cc.name+" in config.host", badSfHost(cc.val))
	}
	c.json("control: newline in config.database", badSfField("database", `IMMUTA\n;DROP DATABASE X`))
	c.json("control: newline in config.warehouse", badSfField("warehouse", `W\nGO`))
	c.json("control: escape in config.username", badSfField("username", `u\u001b[2J`))
	c.json("control: bidi override in type", `{"type":"Snow\u202eflake"}`)
	c.json("control: bidi override in a key", `{"type":"Trino","\u202eepyt":"x"}`)
	c.json("control: newline in type", `{"type":"Trino\n"}`)

	c.json("bom: BOM only", "\ufeff")
	c.json("bom: BOM then null", "\ufeffnull")
	c.json("bom: two BOMs then payload with unknown field", "\ufeff\ufeff{\"type\":\"Trino\",\"x\":1}")
	c.json("bom: BOM inside a key", "{\"ty\ufeffpe\":\"Trino\"}")
	c.json("bom: BOM after the body", string(valid)+"\ufeff")
	c.yaml("bom: BOM then yaml with unknown field", "\ufefftype: Trino\nx: 1\n")
}

// badSfHost returns a Snowflake payload (JSON text) whose host is the JSON string body
// val (escapes allowed).
func badSfHost(val string) string { return badSfField("host", val) }

func badSfField(name, val string) string {
	fields := map[string]string{"host": "h.snowflakecomputing.com", "warehouse": "W", "database": "D", "username": "U"}
	fields[name] = val
	return fmt.Sprintf(`{"type":"Snowflake","autoBootstrap":false,"config":{"host":"%s","warehouse":"%s","database":"%s",`+
		`"authenticationType":"userPassword","username":"%s","password":"p"}}`,
		fields["host"], fields["warehouse"], fields["database"], fields["username"])
}

func badUTF16LE(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

func badUTF16BE(s string) []byte {
	out := []byte{0xfe, 0xff}
	for _, r := range s {
		out = append(out, byte(r>>8), byte(r))
	}
	return out
}

func badNumbers(c *badSet, plats []badPlatform) {
	for _, p := range plats[:3] {
		b := p.bases[""]
		for _, v := range []struct{ name, raw string }{
			{"-1", "-1"}, {"65536", "65536"}, {"2^31", "2147483648"}, {"2^63", "9223372036854775808"},
			{"-0", "-0.0"}, {"1e-400", "1e-400"},
		} {
			c.json(fmt.Sprintf("%s: config.port %s", p.short, v.name),
				string(badMarshal(badWith(b, "config.port", json.RawMessage(v.raw)))))
		}
	}
	snow := plats[0].bases[""]
	for _, raw := range []string{"0", "1001", "-5", "1e400", "2147483648"} {
		c.json("snowflake: config.lineage.ingestBatchSize "+raw,
			string(badMarshal(badWith(snow, "config.lineage.ingestBatchSize", json.RawMessage(raw)))))
	}
	for _, raw := range []string{"1e400", "99999999999999999999", ".inf", ".nan", "0x1BB0000000000000000", "443.5"} {
		c.yaml("snowflake: config.port "+raw+" (yaml)", badToYAML(badWith(snow, "config.port", json.RawMessage(raw))))
	}
}

func badDuplicates(c *badSet) {
	c.json("duplicate: type twice, same value", `{"type":"Trino","type":"Trino"}`)
	c.json("duplicate: type twice, different values", `{"type":"Snowflake","type":"Trino"}`)
	c.json("duplicate: autoBootstrap twice", `{"type":"Redshift","autoBootstrap":true,"autoBootstrap":false,"config":{}}`)
	c.json("duplicate: config twice", `{"type":"Native S3","autoBootstrap":false,"config":{},"config":{"name":"n"}}`)
	c.json("duplicate: config.host twice", `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"a.snowflakecomputing.com","host":"b.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"U","password":"p"}}`)
	c.json("duplicate: nested key twice", `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"a.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"U","password":"p","audit":{"enabled":false,"enabled":true}}}`)
	c.json("duplicate: keys equal after unescaping", `{"type":"Trino","typ\u0065":"Trino"}`)
}

func badContentTypes(c *badSet) {
	c.bad("content type: text/html with an HTML body", "text/html", []byte("<!doctype html><html><body><p>type: Trino</p></body></html>"))
	c.bad("content type: application/xml with an XML body", "application/xml",
		[]byte(`<?xml version="1.0"?><integration><type>Trino</type></integration>`))
	c.bad("content type: text/xml with an XML body", "text/xml",
		[]byte(`<integration type="Snowflake"><config><host>h</host></config></integration>`))
	c.bad("content type: form-urlencoded", "application/x-www-form-urlencoded", []byte("type=Trino"))
	c.bad("content type: multipart without boundary", "multipart/form-data", []byte("--x\r\n\r\ntype=Trino\r\n--x--\r\n"))
	c.bad("content type: YAML body labelled application/json", badJSON, []byte("type: Trino\n"))
	c.bad("content type: octet-stream garbage", "application/octet-stream", []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a})
	c.bad("content type: gzip bytes as JSON", badJSON, []byte{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff})
	c.bad("no content type: HTML body", "", []byte("<html><body>hi</body></html>"))
	c.bad("no content type: XML body", "", []byte(`<?xml version="1.0"?><integration/>`))
}

// badDeleteBodies returns bad bodies for DELETE /integrations/{id} (the optional
// privileged-credentials object). Each must be refused with Status whatever the
// integration, before any credential rule applies.
func badDeleteBodies() []badCase {
	c := &badSet{names: map[string]bool{}}
	valid := badObj{"authenticationType": "userPassword", "username": "taylor@snowflake.com",
		"password": "abc1234", "role": "ACCOUNTADMIN"}
	s := string(badMarshal(valid))
	c.json("delete json: truncated", s[:len(s)/2])
	c.json("delete json: trailing garbage", s+"x")
	c.json("delete json: single quotes", `{'username':'u'}`)
	c.json("delete json: comment", "/* c */"+s)
	c.json("delete body: array", "["+s+"]")
	c.json("delete body: string", `"abc1234"`)
	c.json("delete body: number", "42")
	c.yaml("delete yaml: bad indentation", "username: u\n  password: p\n")
	c.yaml("delete yaml: alias bomb", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n")
	for _, f := range []struct {
		path string
		kind int
	}{
		{"authenticationType", badKindString}, {"username", badKindString}, {"password", badKindString}, {"role", badKindString},
		{"privateKeyPassword", badKindString}, {"privateKey", badKindObject}, {"oAuthClientConfig", badKindObject},
	} {
		for _, w := range badWrongValues(f.kind, f.path) {
			c.json(fmt.Sprintf("delete: %s as %s", f.path, w.name), string(badMarshal(badWith(valid, f.path, w.v))))
		}
	}
	c.json("delete: privateKey.content as number", string(badMarshal(badWith(valid, "privateKey", badObj{"keyName": "PRIV_KEY_FILE", "content": 1}))))
	c.json("delete: unknown field", string(badMarshal(badWith(valid, "extra", true))))
	c.json("delete: unknown field in privateKey", string(badMarshal(badWith(valid, "privateKey", badObj{"extra": 1}))))
	c.json("delete: config wrapper", string(badMarshal(badObj{"config": valid})))
	c.json("delete: invalid UTF-8", "{\"username\":\"u\xff\"}")
	c.json("delete: NUL byte", "{\"username\":\"u\x00\"}")
	c.json("delete: 10k nested arrays", strings.Repeat("[", 10000)+strings.Repeat("]", 10000))
	c.bad("delete content type: XML", "application/xml", []byte(`<credentials><username>u</username></credentials>`))
	c.add("delete size: 1 MiB + 1 byte", badJSON, []byte(`{"password":"`+strings.Repeat("p", badMaxBody+1-len(`{"password":""}`))+`"}`), 413)
	return c.cases
}
