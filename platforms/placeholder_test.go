package platforms

import (
	"errors"
	"slices"
	"testing"
)

// TestPlaceholders: the redaction placeholder is found in secret fields only, an edit
// keeps the old secret where the new one is the placeholder, and what nothing can stand
// in for is refused by path.
func TestPlaceholders(t *testing.T) {
	cases := []struct {
		name        string
		old, new    Config
		paths       []string // RedactedPaths(new)
		kept        []string // SecretValues(KeepSecrets(old, new))
		refusedKept []string // RefusePlaceholders(KeepSecrets(old, new)) paths
	}{
		{name: "no placeholder",
			old: &Redshift{Password: "Old12345"}, new: &Redshift{Password: "New12345"},
			kept: []string{"New12345"}},
		{name: "kept",
			old: &Redshift{Password: "Old12345"}, new: &Redshift{Password: Redacted},
			paths: []string{"config.password"}, kept: []string{"Old12345"}},
		{name: "nested secret kept",
			old:   &Synapse{Password: "P", OAuthClientConfig: &SynapseOAuth{ClientID: "c", ClientSecret: "old-secret"}},
			new:   &Synapse{Password: Redacted, OAuthClientConfig: &SynapseOAuth{ClientID: "c", ClientSecret: Redacted}},
			paths: []string{"config.password", "config.oAuthClientConfig.clientSecret"}, kept: []string{"P", "old-secret"}},
		{name: "old has none",
			old: &Synapse{}, new: &Synapse{OAuthClientConfig: &SynapseOAuth{ClientSecret: Redacted}},
			paths: []string{"config.oAuthClientConfig.clientSecret"}, kept: []string{Redacted},
			refusedKept: []string{"config.oAuthClientConfig.clientSecret"}},
		{name: "old is a placeholder too",
			old: &Redshift{Password: Redacted}, new: &Redshift{Password: Redacted},
			paths: []string{"config.password"}, kept: []string{Redacted}, refusedKept: []string{"config.password"}},
		{name: "types differ",
			old: &Snowflake{Password: "Old12345"}, new: &Redshift{Password: Redacted},
			paths: []string{"config.password"}, kept: []string{Redacted}, refusedKept: []string{"config.password"}},
		{name: "placeholder in a field that is not secret",
			old: &Redshift{}, new: &Redshift{Username: Redacted}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := RedactedPaths(c.new); !slices.Equal(got, c.paths) {
				t.Errorf("RedactedPaths = %q, want %q", got, c.paths)
			}
			kept := KeepSecrets(c.old, c.new)
			if got := SecretValues(kept); !slices.Equal(got, c.kept) {
				t.Errorf("after KeepSecrets, secrets %q, want %q", got, c.kept)
			}
			if got := RedactedPaths(c.new); !slices.Equal(got, c.paths) {
				t.Errorf("KeepSecrets changed its input: placeholders now %q", got)
			}
			err := RefusePlaceholders(kept, "")
			var ve *ValidationError
			if len(c.refusedKept) == 0 {
				if err != nil {
					t.Errorf("RefusePlaceholders: %v", err)
				}
				return
			}
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("RefusePlaceholders = %v, want a validation error", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Path)
			}
			if !slices.Equal(got, c.refusedKept) {
				t.Errorf("refused %q, want %q", got, c.refusedKept)
			}
		})
	}
}

// TestDecodeLeavesPlaceholders: decoding does not judge a placeholder secret by the
// password policy (the operation decides), and still judges every other field.
func TestDecodeLeavesPlaceholders(t *testing.T) {
	p, err := Decode([]byte(`{"type":"Redshift","autoBootstrap":false,"config":{"host":"h.example.com","database":"d","authenticationType":"userPassword","username":"u","password":"<REDACTED>"}}`), "p.json")
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got := RedactedPaths(p.Config); !slices.Equal(got, []string{"config.password"}) {
		t.Errorf("RedactedPaths = %q", got)
	}
	_, err = Decode([]byte(`{"type":"Redshift","autoBootstrap":false,"config":{"host":"h.example.com","database":"d","authenticationType":"userPassword","username":"","password":"<REDACTED>"}}`), "p.json")
	if err == nil {
		t.Fatal("an empty username passed because the password is a placeholder")
	}
}
