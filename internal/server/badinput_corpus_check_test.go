package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
)

func checkBadSet(t *testing.T, cases []badCase, min int) {
	t.Helper()
	if len(cases) < min {
		t.Errorf("%d cases, want at least %d", len(cases), min)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if strings.TrimSpace(c.Name) == "" {
			t.Errorf("case with an empty name")
		}
		if seen[c.Name] {
			t.Errorf("duplicate name %q", c.Name)
		}
		seen[c.Name] = true
		switch {
		case len(c.Body) > badMaxBody && c.Status != 413:
			t.Errorf("%s: %d bytes, status %d, want 413", c.Name, len(c.Body), c.Status)
		case len(c.Body) <= badMaxBody && c.Status != 400:
			t.Errorf("%s: %d bytes, status %d, want 400", c.Name, len(c.Body), c.Status)
		}
	}
}

func TestBadInputCases(t *testing.T) {
	cases := badCorpus()
	checkBadSet(t, cases, 150)
	t.Logf("%d cases", len(cases))
	var over, atLimit, nested, alias bool
	for _, c := range cases {
		if len(c.Body) > badMaxBody {
			over = true
		}
		if len(c.Body) == badMaxBody {
			atLimit = true
		}
		if bytes.Contains(c.Body, []byte(strings.Repeat("[", 10000))) {
			nested = true
		}
		if strings.Contains(c.Name, "billion laughs") {
			alias = true
		}
	}
	if !over || !atLimit || !nested || !alias {
		t.Errorf("missing a case: over 1 MiB %v, exactly 1 MiB %v, 10k nesting %v, alias bomb %v", over, atLimit, nested, alias)
	}
	// Fresh slices on every call: a test may modify a body.
	a, b := badCorpus(), badCorpus()
	a[0].Body[0] ^= 0xff
	if bytes.Equal(a[0].Body, b[0].Body) {
		t.Error("Corpus() shares bodies between calls")
	}
}

func TestBadInputDeleteBodies(t *testing.T) {
	cases := badDeleteBodies()
	checkBadSet(t, cases, 20)
	big := false
	for _, c := range cases {
		big = big || len(c.Body) > badMaxBody
	}
	if !big {
		t.Error("no body over 1 MiB")
	}
}

// TestBadInputRefusedByDecoder runs each payload case through the payload decoder the
// server uses: every case the decoder sees as the server would (JSON or YAML, sniffed)
// must be refused, so a case never passes for a reason other than the one it names.
func TestBadInputRefusedByDecoder(t *testing.T) {
	for _, c := range badCorpus() {
		if c.Status != 400 {
			continue
		}
		switch c.ContentType {
		case badJSON, badYAML, "application/x-yaml", "text/yaml", "":
		default:
			continue // refused by its content type, which the decoder does not see
		}
		if c.Name == "content type: YAML body labelled application/json" {
			continue // likewise
		}
		if _, err := platforms.Decode(c.Body, "body"); err == nil {
			t.Errorf("%s: the decoder accepts it", c.Name)
		}
	}
}

// TestBadInputBasesAreValid checks the base payloads the wrong-type cases mutate: each case has
// exactly the one fault it names.
func TestBadInputBasesAreValid(t *testing.T) {
	for _, p := range badPlatforms() {
		for name, b := range p.bases {
			if _, err := platforms.Decode(badMarshal(b), p.short+"/"+name); err != nil {
				t.Errorf("%s base %q is invalid: %v", p.short, name, err)
			}
			if _, err := platforms.Decode([]byte(badToYAML(b)), p.short+"/"+name+".yaml"); err != nil {
				t.Errorf("%s base %q as YAML is invalid: %v\n%s", p.short, name, err, badToYAML(b))
			}
		}
		// Every config field of the type is mutated.
		cfg := map[string]bool{}
		for _, b := range p.bases {
			for k := range b["config"].(badObj) {
				cfg[k] = true
			}
		}
		for _, f := range p.fields {
			delete(cfg, strings.Split(f.path, ".")[0])
		}
		for k := range cfg {
			t.Errorf("%s: config field %s has no wrong-type cases", p.short, k)
		}
	}
}

// TestBadInputEveryConfigFieldCovered ties the field table to the config structs' JSON fields.
func TestBadInputEveryConfigFieldCovered(t *testing.T) {
	for _, p := range badPlatforms() {
		plat, err := platforms.Lookup(p.typ)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(plat.NewConfig())
		if err != nil {
			t.Fatal(err)
		}
		var zero map[string]any
		if err := json.Unmarshal(b, &zero); err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, f := range p.fields {
			have[f.path] = true
		}
		for k := range zero {
			if !have[k] {
				t.Errorf("%s: config field %s has no wrong-type cases", p.short, k)
			}
		}
	}
}
