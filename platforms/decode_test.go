package platforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, typ := range []string{"Snowflake", "Redshift", "Azure Synapse Analytics", "Google BigQuery", "Native S3", "Trino"} {
		if p, err := Lookup(typ); err != nil || p.Type != typ {
			t.Errorf("Lookup(%q) = %v, %v", typ, p, err)
		}
	}
	tests := []struct{ in, suggestion string }{
		{"snowflake", "Snowflake"},
		{"Snowflak", "Snowflake"},
		{"redshift", "Redshift"},
		{"synapse", "Azure Synapse Analytics"},
		{"Azure Synapse", ""},
		{"Big Query", "Google BigQuery"},
		{"Native s3", "Native S3"},
		{"trino", "Trino"},
		{"postgres", ""},
	}
	for _, tt := range tests {
		_, err := Lookup(tt.in)
		var ute *UnknownTypeError
		if !errors.As(err, &ute) || !errors.Is(err, ErrUnknownType) {
			t.Fatalf("Lookup(%q): %v", tt.in, err)
		}
		if ute.Suggestion != tt.suggestion {
			t.Errorf("Lookup(%q) suggests %q, want %q", tt.in, ute.Suggestion, tt.suggestion)
		}
		if !strings.Contains(err.Error(), "Native S3") {
			t.Errorf("error does not list the accepted types: %v", err)
		}
	}
}

func TestParseOperation(t *testing.T) {
	for _, op := range Operations {
		if got, err := ParseOperation(string(op)); err != nil || got != op {
			t.Errorf("ParseOperation(%q) = %q, %v", op, got, err)
		}
	}
	_, err := ParseOperation("creat")
	if err == nil || !strings.Contains(err.Error(), `did you mean "create"`) {
		t.Errorf("ParseOperation(creat) = %v", err)
	}
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("not a *ValidationError: %v", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("errors.Is(ErrInvalid) false")
	}
	return strings.Split(ve.Error(), "\n")
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // every problem line, in order
	}{
		{"empty", "", []string{"f:1:1: empty payload"}},
		{"not an object", "[1]", []string{"f:1:1: payload must be an object with type, autoBootstrap and config"}},
		{"bad json", `{"type": "Trino",}`, []string{"f:1:18: invalid JSON: invalid character '}' looking for beginning of object key string"}},
		{"truncated json", `{"type": "Tri`, []string{"f:1:10: invalid JSON: unexpected end of JSON input"}},
		{"trailing json", `{"type": "Trino"} {}`, []string{"f:1:19: invalid JSON: unexpected data after the top-level value"}},
		{"unknown top field", "{\"type\": \"Trino\",\n \"confg\": {}}", []string{`f:2:2: confg: unknown field (did you mean "config"?); accepted: type, autoBootstrap, config`}},
		{"duplicate field", `{"type": "Trino", "type": "Trino"}`, []string{"f:1:19: type: duplicate field"}},
		{"config keys not indented under config", "type: Native S3\nautoBootstrap: false\nconfig:\nname: x\nawsRegion: us-east-1\n", []string{
			"f:3:8: config: is required for Native S3 (are name, awsRegion meant to be indented under config:?)",
			"f:4:1: name: unknown field; accepted: type, autoBootstrap, config",
			"f:5:1: awsRegion: unknown field; accepted: type, autoBootstrap, config",
		}},
		{"one config key not indented under config", "type: Native S3\nautoBootstrap: false\nconfig:\nname: x\n", []string{
			"f:3:8: config: is required for Native S3 (is name meant to be indented under config:?)",
			"f:4:1: name: unknown field; accepted: type, autoBootstrap, config",
		}},
		{"a key indented deeper than the one above", "type: Native S3\nconfig:\n  name: x\n    awsRegion: us-east-1\n", []string{
			"f:4:1: invalid YAML: mapping values are not allowed in this context (is line 4 indented deeper than the key above it? keys of one mapping take the same indentation)",
		}},
		{"missing type", `{}`, []string{"f:1:1: type: is required; accepted: Azure Synapse Analytics, Google BigQuery, Native S3, Redshift, Snowflake, Trino"}},
		{"type not string", `{"type": 5}`, []string{"f:1:10: type: must be a string"}},
		{"unknown type", `{"type": "snowflake"}`, []string{`f:1:10: type: unknown type "snowflake" (did you mean "Snowflake"?); accepted: Azure Synapse Analytics, Google BigQuery, Native S3, Redshift, Snowflake, Trino`}},
		{"trino with config", `{"type": "Trino", "config": {}}`, []string{"f:1:29: config: must be absent: Trino has no config"}},
		{"trino with autoBootstrap", `{"type": "Trino", "autoBootstrap": false}`, []string{"f:1:36: autoBootstrap: must be absent for Trino"}},
		{"autoBootstrap not bool", `{"type": "Native S3", "autoBootstrap": "no", "config": {}}`, []string{
			"f:1:40: autoBootstrap: must be true or false",
			"f:1:56: config.authenticationType: is required",
			"f:1:56: config.awsAccountId: is required",
			"f:1:56: config.awsLocationPath: is required",
			"f:1:56: config.awsLocationRole: is required",
			"f:1:56: config.awsRegion: is required",
			"f:1:56: config.name: is required",
		}},
		{"s3 every problem", "type: Native S3\nautoBootstrap: true\nconfig:\n  name: x\n  awsAccountId: 12x\n  awsRegion: mars\n  nope: 1\n", []string{
			"f:2:16: autoBootstrap: must be false for Native S3",
			"f:4:3: config.authenticationType: is required",
			"f:4:3: config.awsLocationPath: is required",
			"f:4:3: config.awsLocationRole: is required",
			`f:5:17: config.awsAccountId: must be up to 12 digits (got "12x")`,
			`f:6:14: config.awsRegion: must be an AWS region such as us-east-1 (got "mars")`,
			`f:7:3: config.nope: unknown field; accepted: name, awsAccountId, awsRegion, awsLocationRole, awsLocationPath, authenticationType, awsRoleToAssume, awsAccessKeyId, awsSecretAccessKey`,
		}},
		{"s3 rules", "type: Native S3\nautoBootstrap: false\nconfig:\n  name: x\n  awsAccountId: 12x\n  awsRegion: mars\n  awsLocationRole: arn\n  awsLocationPath: /tmp\n  authenticationType: key\n", []string{
			`f:5:17: config.awsAccountId: must be up to 12 digits (got "12x")`,
			`f:6:14: config.awsRegion: must be an AWS region such as us-east-1 (got "mars")`,
			"f:7:20: config.awsLocationRole: must be an IAM role ARN such as arn:aws:iam::123456789012:role/name",
			`f:8:20: config.awsLocationPath: must start with s3:// (got "/tmp")`,
			`f:9:23: config.authenticationType: must be one of auto, accessKey (got "key")`,
		}},
		{"yaml alias", "type: &t Trino\nx: *t\n", []string{"f:1:7: YAML anchors and aliases are not allowed"}},
		{"yaml two docs", "type: Trino\n---\ntype: Trino\n", []string{"f:2:1: only one YAML document is allowed"}},
		{"yaml syntax", "type: [Trino\n", []string{"f:1:1: invalid YAML: did not find expected ',' or ']'"}},
		{"nul", "{\"type\": \"Tri\x00no\"}", []string{"f:1:14: input contains a NUL byte"}},
		{"invalid utf8", "{\"type\": \"Tri\xffno\"}", []string{"f:1:14: input is not valid UTF-8"}},
		{"too deep", strings.Repeat("[", 40) + strings.Repeat("]", 40), []string{"f:1:34: nested too deeply"}},
		{"json number for string", `{"type": "Native S3", "autoBootstrap": false, "config": {"name": 1}}`, []string{
			"f:1:57: config.authenticationType: is required",
			"f:1:57: config.awsAccountId: is required",
			"f:1:57: config.awsLocationPath: is required",
			"f:1:57: config.awsLocationRole: is required",
			"f:1:57: config.awsRegion: is required",
			"f:1:66: config.name: must be a string",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in), "f")
			got := problems(t, err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDecodeTrino(t *testing.T) {
	for _, in := range []string{`{"type":"Trino"}`, "type: Trino\n", `{"type":"Trino","config":null}`} {
		p, err := Decode([]byte(in), "f")
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if p.Platform.Key != "trino" || p.Config != nil || p.AutoBootstrap != nil {
			t.Errorf("%s: %+v", in, p)
		}
	}
}

// TestDecodeYAMLBooleans: every spelling YAML tags as a boolean reads as that boolean
// (True once read as false).
func TestDecodeYAMLBooleans(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false} {
		p, err := Decode([]byte("type: Snowflake\nautoBootstrap: "+in+"\nconfig:\n  host: a.snowflakecomputing.com\n  warehouse: W\n  database: D\n  authenticationType: userPassword\n  username: U\n  password: Abc1234-secret-pw\n  role: ACCOUNTADMIN\n"), "f")
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if p.Auto() != want {
			t.Errorf("autoBootstrap: %s read as %v", in, p.Auto())
		}
	}
}

func TestDecodeYAMLNumbersAsStrings(t *testing.T) {
	in := "type: Native S3\nautoBootstrap: false\nconfig:\n  name: s3\n  awsAccountId: 123456789012\n  awsRegion: us-east-1\n" +
		"  awsLocationRole: arn:aws:iam::123456789012:role/r\n  awsLocationPath: s3://bucket/\n  authenticationType: accessKey\n" +
		"  awsAccessKeyId: AKIA\n  awsSecretAccessKey: secret\n"
	p, err := Decode([]byte(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Config.(*S3)
	if cfg.AWSAccountID != "123456789012" {
		t.Errorf("awsAccountId = %q", cfg.AWSAccountID)
	}
	if got := SecretPaths(cfg); len(got) != 1 || got[0] != "config.awsSecretAccessKey" {
		t.Errorf("SecretPaths = %v", got)
	}
	r := Redact(cfg).(*S3)
	if r.AWSSecretAccessKey != Redacted || cfg.AWSSecretAccessKey != "secret" {
		t.Errorf("Redact: copy %q original %q", r.AWSSecretAccessKey, cfg.AWSSecretAccessKey)
	}
}

func TestBigQueryCredential(t *testing.T) {
	base := `{"type":"Google BigQuery","autoBootstrap":false,"config":{"role":"immuta","datasetSuffix":"_v","dataset":"immuta","location":"US","credential":%s}}`
	ok := `"{\"type\":\"service_account\",\"project_id\":\"p\",\"client_email\":\"e@p.iam\",\"private_key\":\"k\"}"`
	p, err := Decode([]byte(strings.Replace(base, "%s", ok, 1)), "f")
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.UniqueKey() != "p/immuta" {
		t.Errorf("UniqueKey = %q", p.Config.UniqueKey())
	}
	_, err = Decode([]byte(strings.Replace(base, "%s", `"not json secret-value"`, 1)), "f")
	if err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("bad credential: %v (must not echo the secret)", err)
	}
}

func TestValidatorOrder(t *testing.T) {
	v := newValidator(map[string]pos{"": {1, 1}, "config": {3, 1}, "config.b": {5, 3}})
	v.Add("config.b", "second")
	v.Add("config.a", "first")
	v.Add("x", "zeroth")
	got := v.Err("f").Error()
	want := "f:1:1: x: zeroth\nf:3:1: config.a: first\nf:5:3: config.b: second"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// hostileBody is a 1 MiB JSON payload whose config holds 60,000 unknown keys.
func hostileBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"Redshift","autoBootstrap":false,"config":{`)
	for i := 0; b.Len() < 1<<20-64 || i < 60000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%07d":"v"`, i)
	}
	b.WriteString(`}}`)
	return b.Bytes()
}

// BenchmarkDecodeHostileBody: a 1 MiB body of 60,000 keys is refused in well under
// 100 ms (it took minutes when each position was computed by rescanning the body).
// "wide" has fewer keys than the limit per object and stops at the limit of values per
// payload; "json" stops at the limit per object, "yaml" at the limit of lines.
func BenchmarkDecodeHostileBody(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{{"json", hostileBody()}, {"yaml", hostileYAML()}, {"wide", wideBody()}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := DecodeIntegration(c.data); err == nil {
					b.Fatal("a hostile body was accepted")
				}
			}
		})
	}
}

// hostileYAML is hostileBody as YAML.
func hostileYAML() []byte { return yamlKeys(60000) }

// yamlKeys is a YAML payload whose config has n unknown keys.
func yamlKeys(n int) []byte {
	var b bytes.Buffer
	b.WriteString("type: Redshift\nautoBootstrap: false\nconfig:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  k%07d: v\n", i)
	}
	return b.Bytes()
}

// wideBody is about 1 MiB of 60 objects of 999 unknown keys each.
func wideBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"Redshift","autoBootstrap":false,"config":{`)
	for o := 0; o < 60; o++ {
		if o > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"o%02d":{`, o)
		for i := 0; i < 999; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%04d":"v"`, i)
		}
		b.WriteByte('}')
	}
	b.WriteString(`}}`)
	return b.Bytes()
}

// TestHostileBodies: a body past the entry limit is refused with a position, and one
// with thousands of problems lists the first ones and counts the rest.
func TestHostileBodies(t *testing.T) {
	for _, c := range []struct {
		name, want string
		data       []byte
	}{
		{"json keys", "1:", hostileBody()},
		{"yaml keys", "1004:", yamlKeys(1500)},
		{"yaml lines", "4001:", hostileYAML()},
		{"wide", "1:", wideBody()},
	} {
		_, err := DecodeIntegration(c.data)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || (ve.Problems[0].Message != msgTooManyEntries && ve.Problems[0].Message != msgTooManyValues && !strings.Contains(ve.Problems[0].Message, "lines")) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := fmt.Sprintf("%d:", ve.Problems[0].Line); got != c.want {
			t.Errorf("%s: at line %s, want %s", c.name, got, c.want)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"type":"Redshift","autoBootstrap":false,"config":{`)
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, `"k%d":1,`, i)
	}
	b.WriteString(`"host":"h"}}`)
	_, err := DecodeIntegration(b.Bytes())
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != maxProblems+1 {
		t.Fatalf("want %d problems and a count, got %v", maxProblems, err)
	}
	if last := ve.Problems[maxProblems].Message; !strings.HasPrefix(last, "and ") || !strings.Contains(last, "more problems") {
		t.Errorf("last problem %q", last)
	}
}

// TestFormatCharacters: bidi controls and other format characters are refused in every
// value that can reach a script, named by path; secrets are exempt.
func TestFormatCharacters(t *testing.T) {
	for _, c := range []struct {
		name, field, value string
		want               string // the problem's path, "" for none
	}{
		{"rlo in the username", "username", "immuta\u202euser", "config.username"},
		{"zero width in the database", "database", "immu\u200bta", "config.database"},
		{"bom in the host", "host", "\ufefforg.example.com", "config.host"},
		{"secret", "password", "Abc12345\u202e", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := map[string]any{"host": "org.example.com", "database": "immuta", "authenticationType": "userPassword", "username": "immuta", "password": "Abc12345"}
			cfg[c.field] = c.value
			data, _ := json.Marshal(map[string]any{"type": "Redshift", "autoBootstrap": false, "config": cfg})
			_, err := Decode(data, "p.json")
			var ve *ValidationError
			if c.want == "" {
				if errors.As(err, &ve) {
					for _, p := range ve.Problems {
						if strings.Contains(p.Message, "format or bidi") {
							t.Errorf("a secret was refused: %v", err)
						}
					}
				}
				return
			}
			if !errors.As(err, &ve) || ve.Problems[0].Path != c.want || !strings.Contains(ve.Problems[0].Message, "bidi control characters") {
				t.Fatalf("got %v", err)
			}
		})
	}
}
