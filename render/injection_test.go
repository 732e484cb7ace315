package render_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/sqlcheck"
)

// adversarial are the payloads SCRIPTS.md section 2 names: quotes, backslashes, closing
// brackets, comment openers, dollar quotes, statement ends and GO lines.
var adversarial = []string{
	`'`, `''`, `\'`, `"`, `""`, `]`, `]]`, `\`, `--`, `/*`, `*/`, `//`, `$$`, `$x$`, `;`,
	"\nGO\n", "\r\nGO", "\x00", `' OR '1'='1`, `"; DROP USER "x"; --`, `]; DROP LOGIN [x]; --`,
	`'); DROP TABLE t; --`, `N'`, "\u2028", "\t",
}

const benign = "Aa1benignBb2xyz"

func wrap(v string) string { return "Aa1" + v + "Bb2xyz" }

// slots lists the paths of every string value under config in a payload tree.
func slots(n *yaml.Node, prefix string, out *[]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			slots(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if prefix == "" && k != "config" {
				continue
			}
			slots(v, p, out)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			*out = append(*out, prefix)
		}
	}
}

// withValue returns the payload text with the string at path replaced by val.
func withValue(t testing.TB, data []byte, path, val string) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	for _, key := range strings.Split(path, ".") {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			t.Fatalf("no %s", path)
		}
		n = next
	}
	n.Value, n.Style, n.Tag = val, yaml.DoubleQuotedStyle, "!!str"
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// layout is the token structure of a script: kinds of every non-comment token (and of
// the tokens inside dollar bodies and EXEC strings), plus phase and statement counts.
func layout(t testing.TB, dialect string, s *render.Script) (string, error) {
	d, err := sqlcheck.ParseDialect(dialect)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phases=%d", len(s.Phases))
	for _, ph := range s.Phases {
		fmt.Fprintf(&b, " statements=%d", len(ph.Statements))
	}
	toks, err := sqlcheck.Tokenize(d, s.Script)
	if err != nil {
		return "", err
	}
	if err := tokenLayout(&b, d, toks, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func tokenLayout(b *strings.Builder, d sqlcheck.Dialect, toks []sqlcheck.Token, depth int) error {
	for i, tk := range toks {
		if tk.Kind == sqlcheck.Comment {
			continue
		}
		b.WriteString(" " + tk.Kind.String())
		if tk.Kind == sqlcheck.Word || tk.Kind == sqlcheck.Punct || tk.Kind == sqlcheck.Operator || tk.Kind == sqlcheck.BatchSep {
			b.WriteString(":" + strings.ToUpper(tk.Text))
		}
		if depth > 2 {
			continue
		}
		var inner string
		switch {
		case tk.Kind == sqlcheck.DollarBody:
			inner = dollarInner(tk.Text)
		case tk.Kind == sqlcheck.String && d == sqlcheck.Synapse && i >= 2 &&
			strings.EqualFold(toks[i-2].Text, "EXEC") && toks[i-1].Text == "(":
			inner = synapseUnquote(tk.Text)
		default:
			continue
		}
		sub, err := sqlcheck.Tokenize(d, inner)
		if err != nil {
			return fmt.Errorf("inside %s: %w", tk.Text, err)
		}
		b.WriteString(" {")
		if err := tokenLayout(b, d, sub, depth+1); err != nil {
			return err
		}
		b.WriteString(" }")
	}
	return nil
}

func dollarInner(s string) string {
	i := strings.Index(s[1:], "$")
	if i < 0 {
		return ""
	}
	tag := s[:i+2]
	return strings.TrimSuffix(strings.TrimPrefix(s, tag), tag)
}

func synapseUnquote(s string) string {
	s = strings.TrimPrefix(s, "N")
	s = strings.TrimSuffix(strings.TrimPrefix(s, "'"), "'")
	return strings.ReplaceAll(s, "''", "'")
}

// tryRender decodes and renders a case with the input (and from) replaced.
func tryRender(eng *render.Engine, c goldenCase, input, from []byte) (*render.Script, error) {
	p, err := platforms.Decode(input, "input")
	if err != nil {
		return nil, err
	}
	req := render.Request{Operation: c.op, Payload: p, SystemPassword: systemPassword(p)}
	if from != nil {
		if req.From, err = platforms.Decode(from, "from"); err != nil {
			return nil, err
		}
	}
	return eng.Render(req)
}

func refused(err error) bool {
	return errors.Is(err, platforms.ErrInvalid) || errors.Is(err, render.ErrUnsupported)
}

// injectOne checks one slot and one value: refused, or the same layout as benign.
func injectOne(t testing.TB, eng *render.Engine, c goldenCase, input, from []byte, path, val string) {
	t.Helper()
	replace := func(v string) ([]byte, []byte) {
		in := withValue(t, input, path, v)
		var fr []byte
		if from != nil {
			fr = withValue(t, from, path, v)
		}
		return in, fr
	}
	bIn, bFrom := replace(benign)
	want, err := tryRender(eng, c, bIn, bFrom)
	if err != nil {
		if refused(err) {
			return // a slot with a strict format (host, enum, region): nothing reaches SQL freely
		}
		t.Fatalf("%s %s benign: %v", c.name(), path, err)
	}
	aIn, aFrom := replace(val)
	got, err := tryRender(eng, c, aIn, aFrom)
	if err != nil {
		if refused(err) {
			return
		}
		t.Fatalf("%s %s=%q: not refused but failed: %v", c.name(), path, val, err)
	}
	plat, _ := platforms.ByKey(c.platform)
	wl, err := layout(t, plat.Dialect, want)
	if err != nil {
		t.Fatalf("%s benign layout: %v", c.name(), err)
	}
	gl, err := layout(t, plat.Dialect, got)
	if err != nil {
		t.Fatalf("%s %s=%q: script does not tokenize: %v", c.name(), path, val, err)
	}
	if gl != wl {
		t.Fatalf("%s %s=%q changes the token layout:\n got %s\nwant %s", c.name(), path, val, gl, wl)
	}
}

func caseInputs(t testing.TB, c goldenCase) (input, from []byte, paths []string) {
	t.Helper()
	input, err := os.ReadFile(c.input)
	if err != nil {
		t.Fatal(err)
	}
	if c.from != "" {
		if from, err = os.ReadFile(c.from); err != nil {
			t.Fatal(err)
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(input, &doc); err != nil {
		t.Fatal(err)
	}
	slots(&doc, "", &paths)
	if from != nil {
		// Only slots present in both payloads can be replaced in both.
		var fdoc yaml.Node
		if err := yaml.Unmarshal(from, &fdoc); err != nil {
			t.Fatal(err)
		}
		var fp []string
		slots(&fdoc, "", &fp)
		both := map[string]bool{}
		for _, p := range fp {
			both[p] = true
		}
		kept := paths[:0]
		for _, p := range paths {
			if both[p] {
				kept = append(kept, p)
			}
		}
		paths = kept
	}
	return input, from, paths
}

// TestInjection puts every adversarial value into every string slot of every golden
// case and proves the script's token layout equals the benign render's, or the value is
// refused by validation.
func TestInjection(t *testing.T) {
	eng := engine(t)
	for _, c := range loadCases(t) {
		if c.wantErr {
			continue
		}
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			input, from, paths := caseInputs(t, c)
			if len(paths) == 0 {
				t.Fatal("no value slots")
			}
			for _, path := range paths {
				for _, adv := range adversarial {
					injectOne(t, eng, c, input, from, path, wrap(adv))
					injectOne(t, eng, c, input, from, path, adv)
				}
			}
		})
	}
}

// FuzzInjection runs the same property with fuzzed values in fuzzed slots.
func FuzzInjection(f *testing.F) {
	for _, adv := range adversarial {
		f.Add(uint8(0), uint8(0), adv)
	}
	f.Add(uint8(3), uint8(2), "x'\"]\\;--/*$$")
	eng := engine(f)
	var cases []goldenCase
	for _, c := range loadCases(f) {
		if !c.wantErr {
			cases = append(cases, c)
		}
	}
	f.Fuzz(func(t *testing.T, ci, si uint8, val string) {
		c := cases[int(ci)%len(cases)]
		input, from, paths := caseInputs(t, c)
		if len(paths) == 0 {
			return
		}
		injectOne(t, eng, c, input, from, paths[int(si)%len(paths)], val)
	})
}
