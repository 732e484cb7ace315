package render_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sebdah/goldie/v2"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// goldenRoot is the corpus, relative to this package.
const goldenRoot = "../golden"

// goldenCase is one folder golden/<platform>/<operation>/<case>.
type goldenCase struct {
	dir      string
	platform string
	op       platforms.Operation
	input    string // path of input.yaml or input.json
	from     string // path of from.yaml/from.json (edit)
	wantErr  bool   // expected.err present
	redact   bool   // request.json says {"redact": true}
	// stateBundle (request.json's "stateBundle") renders from.yaml, or input.yaml, with
	// the older bundle golden/previous/N and renders the case from its applied state.
	stateBundle int
}

func (c goldenCase) name() string { return filepath.ToSlash(strings.TrimPrefix(c.dir, goldenRoot+"/")) }

// loadCases discovers the corpus by walking it: adding a case adds files only.
func loadCases(t testing.TB) []goldenCase {
	t.Helper()
	var cases []goldenCase
	err := filepath.WalkDir(goldenRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(goldenRoot, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) == 1 && parts[0] == "previous" {
			return filepath.SkipDir // older bundles, test data of stateBundle cases
		}
		if len(parts) != 3 {
			return nil
		}
		c := goldenCase{dir: path, platform: parts[0], op: platforms.Operation(parts[1])}
		for _, n := range []string{"input.yaml", "input.yml", "input.json"} {
			if _, err := os.Stat(filepath.Join(path, n)); err == nil {
				c.input = filepath.Join(path, n)
			}
		}
		for _, n := range []string{"from.yaml", "from.yml", "from.json"} {
			if _, err := os.Stat(filepath.Join(path, n)); err == nil {
				c.from = filepath.Join(path, n)
			}
		}
		if data, err := os.ReadFile(filepath.Join(path, "request.json")); err == nil {
			// request.json holds the render's options besides the payload.
			var opts struct {
				Redact      bool `json:"redact"`
				StateBundle int  `json:"stateBundle"`
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&opts); err != nil {
				t.Errorf("%s: request.json: %v", path, err)
			}
			c.redact = opts.Redact
			c.stateBundle = opts.StateBundle
		}
		if _, err := os.Stat(filepath.Join(path, "expected.err")); err == nil {
			c.wantErr = true
		}
		if c.input == "" {
			t.Errorf("%s: no input.yaml or input.json", path)
			return nil
		}
		cases = append(cases, c)
		return filepath.SkipDir
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].dir < cases[j].dir })
	return cases
}

func decodeFile(t testing.TB, path string) (*platforms.Payload, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return platforms.Decode(data, filepath.Base(path))
}

// renderCase renders a case; the error is the decode or render error.
func renderCase(t testing.TB, eng *render.Engine, c goldenCase) (*render.Script, error) {
	t.Helper()
	p, err := decodeFile(t, c.input)
	if err != nil {
		return nil, err
	}
	req := render.Request{Operation: c.op, Payload: p, SystemPassword: systemPassword(p), Redact: c.redact}
	if c.from != "" {
		if req.From, err = decodeFile(t, c.from); err != nil {
			return nil, err
		}
	}
	if c.stateBundle != 0 {
		if req.FromState, err = previousState(t, c.stateBundle, req.From, p); err != nil {
			return nil, err
		}
		if c.op == platforms.OpEdit && c.from == "" {
			req.From = nil
		}
	}
	return eng.Render(req)
}

// previousState is the applied state that bundle n (golden/previous/n) records for a
// create of from (nil: of p), after a JSON round trip as the store keeps it.
func previousState(t testing.TB, n int, from, p *platforms.Payload) (*render.State, error) {
	t.Helper()
	old, err := render.New(render.Options{FS: os.DirFS(filepath.Join(goldenRoot, "previous", strconv.Itoa(n))), BundleVersion: n})
	if err != nil {
		t.Fatal(err)
	}
	if from == nil {
		from = p
	}
	st, err := old.StateOf(render.Request{Operation: platforms.OpCreate, Payload: from, SystemPassword: systemPassword(from)})
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back render.State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	return &back, nil
}

// testSystemPassword stands for the password the server generates for the system
// account of an automatic setup, so that those scripts are golden-tested too.
const testSystemPassword = "Generated-Passw0rd-For-Tests"

func systemPassword(p *platforms.Payload) string {
	if p.Auto() {
		return testSystemPassword
	}
	return ""
}

func engine(t testing.TB) *render.Engine {
	t.Helper()
	eng, err := render.Default()
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestGolden compares every case with its expected.sql and expected.json (or
// expected.err). `go test ./render -update` rewrites them (goldie's flag).
func TestGolden(t *testing.T) {
	eng := engine(t)
	for _, c := range loadCases(t) {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			s, err := renderCase(t, eng, c)
			if c.wantErr {
				if err == nil {
					t.Fatalf("want an error, got a script")
				}
				if !errors.Is(err, platforms.ErrInvalid) && !errors.Is(err, render.ErrUnsupported) {
					t.Fatalf("want a validation error, got %v", err)
				}
				g := goldie.New(t, goldie.WithFixtureDir(c.dir), goldie.WithNameSuffix(".err"))
				g.Assert(t, "expected", []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			g := goldie.New(t, goldie.WithFixtureDir(c.dir), goldie.WithNameSuffix(".sql"))
			g.Assert(t, "expected", []byte(s.Script))
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			gj := goldie.New(t, goldie.WithFixtureDir(c.dir), goldie.WithNameSuffix(".json"))
			gj.Assert(t, "expected", b.Bytes())
		})
	}
}

// TestGoldenCoverage fails when a (platform, operation) pair has no successful case, or
// a platform has fewer than three cases or no error case.
func TestGoldenCoverage(t *testing.T) {
	ok := map[string]bool{}
	perPlatform := map[string]int{}
	errCases := map[string]int{}
	for _, c := range loadCases(t) {
		if _, found := platforms.ByKey(c.platform); !found {
			t.Errorf("%s: unknown platform folder %q", c.dir, c.platform)
			continue
		}
		if _, err := platforms.ParseOperation(string(c.op)); err != nil {
			t.Errorf("%s: %v", c.dir, err)
			continue
		}
		if c.op == platforms.OpEdit && c.from == "" && c.stateBundle == 0 && !c.wantErr {
			t.Errorf("%s: an edit case needs from.yaml", c.dir)
		}
		perPlatform[c.platform]++
		if c.wantErr {
			errCases[c.platform]++
		} else {
			ok[c.platform+"/"+string(c.op)] = true
		}
	}
	for _, p := range platforms.All() {
		if !p.HasScripts() {
			continue
		}
		for _, op := range p.ScriptOps {
			if !ok[p.Key+"/"+string(op)] {
				t.Errorf("no golden case for %s %s: add golden/%s/%s/<case>/input.yaml", p.Type, op, p.Key, op)
			}
		}
		if perPlatform[p.Key] < 3 {
			t.Errorf("%s: %d golden cases, want at least 3", p.Type, perPlatform[p.Key])
		}
		if errCases[p.Key] == 0 {
			t.Errorf("%s: no expected-error case", p.Type)
		}
	}
}
