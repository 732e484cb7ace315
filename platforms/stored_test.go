package platforms

import (
	"encoding/json"
	"strings"
	"testing"
)

const autoSF = `{"type":"Snowflake","autoBootstrap":true,"config":{"host":"h.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"boot","password":"bootpw","role":"ACCOUNTADMIN"}}`

func TestStripBootstrapAndRestore(t *testing.T) {
	p, err := Decode([]byte(autoSF), "")
	if err != nil {
		t.Fatal(err)
	}
	stripped := StripBootstrap(p.Config)
	raw, _ := json.Marshal(stripped)
	if strings.Contains(string(raw), "bootpw") || strings.Contains(string(raw), `"boot"`) || !strings.Contains(string(raw), `"role":"ACCOUNTADMIN"`) {
		t.Fatalf("stored config %s", raw)
	}
	if p.Config.(*Snowflake).Password != "bootpw" {
		t.Fatal("StripBootstrap changed its input")
	}
	auto := true
	back, err := Restore("Snowflake", &auto, raw)
	if err != nil || back.Config.(*Snowflake).Username != Redacted || back.Config.(*Snowflake).Port != 443 {
		t.Fatalf("restore: %v %+v", err, back)
	}
	if _, err := Restore("Snowflake", &auto, []byte(`{"bogus":1}`)); err == nil {
		t.Error("Restore accepted an unknown field")
	}
	if got := strings.Join(BootstrapFields(p.Config), ","); got != "oAuthClientConfig,password,privateKey,privateKeyPassword,username" {
		t.Errorf("bootstrap fields %s", got)
	}
}

func TestMergeCredentials(t *testing.T) {
	p, err := Decode([]byte(autoSF), "")
	if err != nil {
		t.Fatal(err)
	}
	auto := true
	raw, _ := json.Marshal(StripBootstrap(p.Config))
	stored, err := Restore("Snowflake", &auto, raw)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, body string
		wantErr    []string
	}{
		{"seed body", `{"authenticationType":"userPassword","username":"taylor@snowflake.com","password":"abc1234","role":"ACCOUNTADMIN"}`, nil},
		{"yaml", "authenticationType: userPassword\nusername: u\npassword: p\n", nil},
		{"unknown field", `{"username":"u","pasword":"x"}`, []string{`pasword: unknown field (did you mean "password"?)`}},
		{"config field", `{"username":"u","password":"p","warehouse":"X"}`, []string{"warehouse: unknown field"}},
		{"missing password", `{"authenticationType":"userPassword","username":"u"}`, []string{"password: is required"}},
		{"not an object", `[1]`, []string{"credentials must be an object"}},
		{"malformed", `{"username":`, []string{"1:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MergeCredentials(stored, []byte(c.body))
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got.Config.(*Snowflake).Warehouse != "W" || got.Config.(*Snowflake).Username == Redacted {
					t.Errorf("merged %+v", got.Config)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "abc1234") {
				t.Error("error echoes a password")
			}
		})
	}
}

// DecodeIntegration skips the password policies of script-created accounts (the
// seed's Redshift PUT uses abc1234); Decode, for scripts, keeps them.
func TestDecodeIntegrationPasswords(t *testing.T) {
	for _, doc := range []string{
		`{"type":"Redshift","autoBootstrap":false,"config":{"host":"h","database":"d","authenticationType":"userPassword","username":"u","password":"abc1234"}}`,
		`{"type":"Azure Synapse Analytics","autoBootstrap":false,"config":{"host":"h","schema":"s","database":"d","authenticationType":"userPassword","username":"u","password":"abc1234"}}`,
	} {
		if _, err := DecodeIntegration([]byte(doc)); err != nil {
			t.Errorf("DecodeIntegration: %v", err)
		}
		if _, err := Decode([]byte(doc), ""); err == nil || !strings.Contains(err.Error(), "config.password") {
			t.Errorf("Decode: %v", err)
		}
		bad := strings.Replace(doc, "abc1234", `abc\n1234`, 1)
		if _, err := DecodeIntegration([]byte(bad)); err == nil {
			t.Error("DecodeIntegration accepted a control character")
		}
	}
}

// The seed's BigQuery credential, sent with curl, has raw line breaks in its
// private_key: they are read as their escapes.
func TestBigQueryCredentialLineBreaks(t *testing.T) {
	c := &BigQuery{Credential: "{\"type\":\"service_account\",\"project_id\":\"p\",\"client_email\":\"e\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n\"}"}
	sa, err := c.account()
	if err != nil || sa.ProjectID != "p" || !strings.Contains(sa.PrivateKey, "\nX\n") {
		t.Fatalf("%v %+v", err, sa)
	}
	if got := string(escapeControlInStrings("{\n\"a\": \"x\ty\"}")); got != "{\n\"a\": \"x\\ty\"}" {
		t.Errorf("got %q", got)
	}
}
