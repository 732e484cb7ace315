package platforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/sebdah/goldie/v2"
	"gopkg.in/yaml.v3"
)

// compileSchema compiles Schema(typ) with a 2020-12 validator (which also checks the
// document against the draft's meta-schema).
func compileSchema(t *testing.T, typ string) *jsonschema.Schema {
	t.Helper()
	b, err := Schema(typ)
	if err != nil {
		t.Fatalf("Schema(%q): %v", typ, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Schema(%q) is not JSON: %v", typ, err)
	}
	id := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile Schema(%q): %v", typ, err)
	}
	return sch
}

// schemas are the compiled schema of every type ("") and of each type.
type schemas map[string]*jsonschema.Schema

func compileAll(t *testing.T) schemas {
	t.Helper()
	s := schemas{"": compileSchema(t, "")}
	for _, p := range registry {
		s[p.Type] = compileSchema(t, p.Type)
	}
	return s
}

// validate validates v against the schema of every type and, when v's type is known,
// that type's own; both must agree.
func (s schemas) validate(t *testing.T, v any) error {
	t.Helper()
	err := s[""].Validate(v)
	m, _ := v.(map[string]any)
	typ, _ := m["type"].(string)
	if own, ok := s[typ]; ok && typ != "" {
		if ownErr := own.Validate(v); (ownErr == nil) != (err == nil) {
			t.Errorf("the schema of every type says %v, the %s schema %v", err, typ, ownErr)
		}
	}
	return err
}

// instance reads a payload file as a schema validator sees it. JSON is read as JSON.
// YAML is read by the decoder's own parser (parseTree) and converted with the decoder's
// rules: a scalar tagged !!int or !!float becomes a JSON number (a string field takes it
// as its text, so the schema lets string fields be numbers), !!bool true exactly when
// the decoder reads true, !!null null, anything else its text.
func instance(data []byte) (any, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return jsonschema.UnmarshalJSON(bytes.NewReader(data))
	}
	root, _, perr := parseTree(data)
	if perr != nil {
		return nil, errors.New(perr.Message)
	}
	return nodeValue(root), nil
}

func nodeValue(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, nodeValue(c))
		}
		return l
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		return n.Value == "true" // decoder.boolean
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

// mirrored reports whether the schema states the rule behind a problem of the decoder,
// so that a payload with that problem must fail the schema too: unknown fields, the
// JSON types it states exactly, autoBootstrap and config of each type, the type, the
// enumerations and the fields a type always requires.
func mirrored(p Problem, typ string) bool {
	switch m := p.Message; {
	case strings.HasPrefix(m, "unknown field"), m == "must be true or false", m == "must be an object":
		return true
	case p.Path == "type", p.Path == "autoBootstrap":
		return true
	case p.Path == "config" && (strings.HasPrefix(m, msgRequired) || strings.HasPrefix(m, "must be absent")):
		return true
	case strings.HasPrefix(p.Path, "config."):
		plat, err := Lookup(typ)
		if err != nil || !plat.HasConfig() {
			return false
		}
		rules := plat.NewConfig().(schemaRuled).schema()
		field := strings.TrimPrefix(p.Path, "config.")
		if _, ok := rules.Enums[field]; ok && strings.HasPrefix(m, "must be one of") {
			return true
		}
		return m == msgRequired && contains(rules.Required, field)
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decodeProblems decodes data as the least strict entry point does (DecodeExisting:
// no password policy), returning its problems (nil: accepted).
func decodeProblems(t *testing.T, data []byte) []Problem {
	t.Helper()
	_, err := DecodeExisting(data, "f")
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("decode: not a *ValidationError: %v", err)
	}
	return ve.Problems
}

// checkAgainstDecoder fails when the schema refuses a payload the decoder accepts, or
// accepts one the decoder refuses for a reason the schema states.
func checkAgainstDecoder(t *testing.T, s schemas, name string, data []byte, v any) (accepted bool) {
	t.Helper()
	probs := decodeProblems(t, data)
	err := s.validate(t, v)
	m, _ := v.(map[string]any)
	typ, _ := m["type"].(string)
	if probs == nil {
		if err != nil {
			t.Errorf("%s: the decoder accepts it, the schema refuses it: %v", name, err)
		}
		return true
	}
	for _, p := range probs {
		if mirrored(p, typ) && err == nil {
			t.Errorf("%s: the decoder refuses it (%s: %s), the schema accepts it", name, p.Path, p.Message)
			break
		}
	}
	return false
}

// goldenInputs returns every payload file of the golden cases (input.* and from.*),
// and whether its case expects an error.
func goldenInputs(t *testing.T) (files []string, wantErr map[string]bool) {
	t.Helper()
	wantErr = map[string]bool{}
	err := filepath.WalkDir("../golden", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch d.Name() {
		case "input.yaml", "input.json", "from.yaml", "from.json":
			files = append(files, path)
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), "expected.err")); err == nil {
				wantErr[path] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, wantErr
}

// TestSchemaAcceptsWhatDecodeAccepts validates every golden input (input.* and from.*):
// one that decodes must validate; one of an error case (expected.err) need not decode,
// and must fail the schema when the decoder refuses it for a rule the schema states.
func TestSchemaAcceptsWhatDecodeAccepts(t *testing.T) {
	s := compileAll(t)
	files, wantErr := goldenInputs(t)
	if len(files) < 100 {
		t.Fatalf("found %d golden inputs, want the whole corpus (over 100)", len(files))
	}
	accepted := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := instance(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if checkAgainstDecoder(t, s, f, data, v) {
			accepted++
		} else if !wantErr[f] {
			t.Errorf("%s: refused by the decoder, but its case expects no error", f)
		}
	}
	t.Logf("%d golden inputs, %d accepted by the decoder", len(files), accepted)
}

// TestSchemaNeverStricterThanDecode mutates every golden input the decoder accepts
// (each field in turn removed, set to null, set to "" or 0) and holds the schema to the
// decoder on each mutant: accepted by the decoder, it must validate; refused for a rule
// the schema states (a required field), it must not.
func TestSchemaNeverStricterThanDecode(t *testing.T) {
	s := compileAll(t)
	files, _ := goldenInputs(t)
	mutants := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := instance(data)
		if err != nil || decodeProblems(t, data) != nil {
			continue
		}
		for _, m := range mutate(v, "") {
			b, err := json.Marshal(m.value)
			if err != nil {
				t.Fatal(err)
			}
			mutants++
			checkAgainstDecoder(t, s, f+" with "+m.what, b, m.value)
		}
	}
	if mutants < 1000 {
		t.Fatalf("only %d mutants", mutants)
	}
	t.Logf("%d mutants", mutants)
}

type mutant struct {
	what  string
	value any
}

// mutate returns copies of v with one field changed each: removed, null, and "" for a
// string or 0 for a number.
func mutate(v any, path string) []mutant {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var out []mutant
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	with := func(k string, val any, remove bool) map[string]any {
		c := make(map[string]any, len(m))
		for k2, v2 := range m {
			c[k2] = v2
		}
		if remove {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	for _, k := range keys {
		p := join(path, k)
		out = append(out, mutant{p + " removed", with(k, nil, true)}, mutant{p + " null", with(k, nil, false)})
		switch m[k].(type) {
		case string:
			out = append(out, mutant{p + ` ""`, with(k, "", false)})
		case json.Number:
			out = append(out, mutant{p + " 0", with(k, json.Number("0"), false)})
		}
		for _, sub := range mutate(m[k], p) {
			out = append(out, mutant{sub.what, with(k, sub.value, false)})
		}
	}
	return out
}

const (
	okSnowflake  = "type: Snowflake\nautoBootstrap: false\nconfig: {host: a.example.com, warehouse: W, database: D, authenticationType: userPassword, username: U, password: Passw0rd-12345"
	okBigQuery   = `{"type": "Google BigQuery", "autoBootstrap": false, "config": {"role": "r", "datasetSuffix": "_s", "dataset": "d", "location": "US", "credential": "{\"type\": \"service_account\", \"project_id\": \"p\", \"client_email\": \"e@p.iam.gserviceaccount.com\", \"private_key\": \"k\"}"}}`
	okS3YAML     = "type: Native S3\nautoBootstrap: false\nconfig:\n  name: lake\n  awsAccountId: 123456789\n  awsRegion: us-east-1\n  awsLocationRole: arn:aws:iam::123456789:role/loc\n  awsLocationPath: s3://bucket/prefix\n  authenticationType: auto\n  awsRoleToAssume: arn:aws:iam::123456789:role/assume\n"
	okS3KeysJSON = `{"type": "Native S3", "autoBootstrap": false, "config": {"name": "lake", "awsAccountId": "123456789012", "awsRegion": "us-east-1", "awsLocationRole": "arn:aws:iam::123456789012:role/loc", "awsLocationPath": "s3://b", "authenticationType": "accessKey", "awsAccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "awsSecretAccessKey": "s"}}`
)

// TestSchemaCases holds the schema to the decoder on payloads of every type, among them
// what the schema must refuse (unknown fields, wrong types, unknown types, missing
// required fields) and what it leaves to validation.
func TestSchemaCases(t *testing.T) {
	s := compileAll(t)
	tests := []struct {
		name     string
		in       string
		decodeOK bool
		schemaOK bool
	}{
		{"snowflake", okSnowflake + "}", true, true},
		{"snowflake, null and absent optional fields", okSnowflake + ", role: null, port: ~, impersonation: null, lineage: {enabled: true, ingestBatchSize: null}}", true, true},
		{"snowflake JSON", `{"type": "Snowflake", "autoBootstrap": true, "config": {"host": "a.b", "warehouse": "W", "database": "D", "authenticationType": "keyPair", "username": "U", "privateKey": {"content": "<REDACTED>"}}}`, true, true},
		{"bigquery", okBigQuery, true, true},
		{"s3, unquoted YAML account id", okS3YAML, true, true},
		{"s3 access key", okS3KeysJSON, true, true},
		{"trino", "type: Trino\n", true, true},
		{"trino, null autoBootstrap and config", "type: Trino\nautoBootstrap: null\nconfig: ~\n", true, true},

		{"unknown config field", okSnowflake + ", passwrod: x}", false, false},
		{"unknown top-level field", okSnowflake + "}\nextra: 1\n", false, false},
		{"unknown nested field", okSnowflake + ", audit: {enabled: true, level: 2}}", false, false},
		{"wrong type: a string for an integer", okSnowflake + `, port: "443"}`, false, false},
		{"wrong type: a string for a boolean", "type: Snowflake\nautoBootstrap: \"false\"\nconfig: {host: a.b, warehouse: W, database: D, authenticationType: userPassword, username: U, password: P}", false, false},
		{"wrong type: a boolean for an object", okSnowflake + ", audit: true}", false, false},
		{"wrong type: an object for a string", okSnowflake + ", role: {name: R}}", false, false},
		{"unknown type", "type: Snowflak\nautoBootstrap: false\nconfig: {host: a.b}\n", false, false},
		{"no type", "autoBootstrap: false\nconfig: {host: a.b}\n", false, false},
		{"missing required field", "type: Snowflake\nautoBootstrap: false\nconfig: {warehouse: W, database: D, authenticationType: userPassword, username: U, password: P}", false, false},
		{"empty required field", "type: Snowflake\nautoBootstrap: false\nconfig: {host: '', warehouse: W, database: D, authenticationType: userPassword, username: U, password: P}", false, false},
		{"missing autoBootstrap", "type: Snowflake\nconfig: {host: a.b, warehouse: W, database: D, authenticationType: userPassword, username: U, password: P}", false, false},
		{"missing config", "type: Snowflake\nautoBootstrap: false\n", false, false},
		{"missing field of the authenticationType", "type: Snowflake\nautoBootstrap: false\nconfig: {host: a.b, warehouse: W, database: D, authenticationType: userPassword, username: U}", false, false},
		{"missing nested field of the authenticationType", "type: Snowflake\nautoBootstrap: false\nconfig: {host: a.b, warehouse: W, database: D, authenticationType: keyPair, username: U, privateKey: {keyName: PRIV_KEY_FILE}}", false, false},
		{"unknown authenticationType", "type: Snowflake\nautoBootstrap: false\nconfig: {host: a.b, warehouse: W, database: D, authenticationType: password, username: U, password: P}", false, false},
		{"oAuth with autoBootstrap", "type: Snowflake\nautoBootstrap: true\nconfig: {host: a.b, warehouse: W, database: D, authenticationType: oAuthClientCredentials, oAuthClientConfig: {clientId: c, clientSecret: s, authorityUrl: 'https://login.example.com/t'}}", false, false},
		{"redshift with autoBootstrap true", "type: Redshift\nautoBootstrap: true\nconfig: {host: a.b, database: d, authenticationType: userPassword, username: u, password: Passw0rd}", false, false},
		{"bigquery without credential", strings.Replace(okBigQuery, `, "credential"`, `, "x_credential"`, 1), false, false},
		{"s3 access key without the secret", strings.Replace(okS3KeysJSON, `, "awsSecretAccessKey": "s"`, "", 1), false, false},
		{"trino with a config", "type: Trino\nconfig: {}\n", false, false},
		{"trino with autoBootstrap", "type: Trino\nautoBootstrap: false\n", false, false},

		// Looser than validation, by design.
		{"left to validation: a host name", "type: Snowflake\nautoBootstrap: false\nconfig: {host: 'bad host', warehouse: W, database: D, authenticationType: userPassword, username: U, password: P}", false, true},
		{"left to validation: a field that must be absent", "type: Redshift\nautoBootstrap: false\nconfig: {host: a.b, database: d, authenticationType: accessKey, username: u, password: P, awsAccessKeyId: AKIAAAAAAAAAAAAAAAAA, awsSecretAccessKey: s, awsRegion: us-east-1}", false, true},
		{"left to validation: a JSON number for a string", strings.Replace(okS3KeysJSON, `"123456789012"`, `123456789012`, 1), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			v, err := instance(data)
			if err != nil {
				t.Fatal(err)
			}
			probs := decodeProblems(t, data)
			if (probs == nil) != tt.decodeOK {
				t.Fatalf("decoder: %v, want accepted=%v", probs, tt.decodeOK)
			}
			err = s.validate(t, v)
			if (err == nil) != tt.schemaOK {
				t.Fatalf("schema: %v, want valid=%v", err, tt.schemaOK)
			}
			checkAgainstDecoder(t, s, tt.name, data, v)
		})
	}
}

// TestSchemaGolden: the schema of every type is testdata/schema.golden.json (rewritten
// by `go test ./platforms -run TestSchemaGolden -update`), and the schema of each type is
// its $defs entry with its own $schema, $id and title.
func TestSchemaGolden(t *testing.T) {
	b, err := Schema("")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) {
		t.Errorf("no final newline")
	}
	again, _ := Schema("")
	if !bytes.Equal(b, again) {
		t.Errorf("two runs differ")
	}
	goldie.New(t, goldie.WithFixtureDir("testdata"), goldie.WithNameSuffix(".golden.json")).Assert(t, "schema", b)

	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	defs := all["$defs"].(map[string]any)
	if len(defs) != len(registry) {
		t.Errorf("%d $defs, want one per platform (%d)", len(defs), len(registry))
	}
	for _, p := range registry {
		one, err := Schema(p.Type)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(one, &doc); err != nil {
			t.Fatal(err)
		}
		if doc["$schema"] != SchemaDraft || doc["$id"] == all["$id"] || doc["title"] == nil {
			t.Errorf("%s: $schema %v, $id %v, title %v", p.Type, doc["$schema"], doc["$id"], doc["title"])
		}
		delete(doc, "$schema")
		delete(doc, "$id")
		delete(doc, "title")
		if !reflect.DeepEqual(doc, defs[p.Key]) {
			t.Errorf("Schema(%q) differs from $defs/%s of Schema(\"\")", p.Type, p.Key)
		}
	}
}

func TestSchemaUnknownType(t *testing.T) {
	_, err := Schema("Snowflak")
	var ute *UnknownTypeError
	if !errors.As(err, &ute) || ute.Suggestion != "Snowflake" {
		t.Errorf("Schema(Snowflak) = %v, want an *UnknownTypeError suggesting Snowflake", err)
	}
}

// Every rule of a schema method names a field of its config: a misspelt one fails.
func TestSchemaRulesNameFields(t *testing.T) {
	p := &Platform{Type: "Test", Key: "test", newConfig: func() Config { return &Snowflake{} }}
	for _, rules := range []schemaRules{
		{Required: []string{"hots"}},
		{Enums: map[string][]string{"authType": {"a"}}},
		{When: []schemaWhen{{Field: "authenticationType", Equals: "x", Required: []string{"privateKey.contents"}}}},
		{When: []schemaWhen{{Field: "authType", Equals: "x"}}},
	} {
		g := newSchemaGen(p, rules)
		if _, err := g.configSchema(reflect.TypeOf(Snowflake{})); err == nil {
			t.Errorf("%+v: no error", rules)
		}
	}
}
