package server

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render/sqlcheck"
	"github.com/openintegrations/integrations/templates"
)

// platformPieces are the places, besides its registry entry, that adding a platform
// touches (the checklist of platforms.Platform), as missingPieces reads them: the
// module's own in TestEveryPlatformHasEveryPiece, fakes in TestMissingPiecesReported.
type platformPieces struct {
	// templates holds <key>/*.sql.tmpl (templates.FS).
	templates fs.FS
	// golden holds <key>/<operation>/<case>/input.yaml (the repository's golden/).
	golden fs.FS
	// registered is connector.Registered.
	registered func(typ string) (connector.Registration, bool)
	// badInput lists the types the bad-input corpus has wrong-type cases for.
	badInput []string
	// oracle is the text of internal/oracle/check.js, whose PLATFORMS maps each scripted
	// platform's key to an oracle dialect.
	oracle string
	// allowlist is the text of internal/oracle/allowlist.txt.
	allowlist string
	// openapi is the text of internal/server/openapi/openapi.json.
	openapi string
	// simulate holds render/simulate's <key>.go.
	simulate fs.FS
}

// modulePieces reads the pieces of this module.
func modulePieces(t *testing.T) platformPieces {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var bad []string
	for _, p := range badPlatforms() {
		bad = append(bad, p.typ)
	}
	return platformPieces{
		templates:  templates.FS,
		golden:     os.DirFS("../../golden"),
		registered: connector.Registered,
		badInput:   bad,
		oracle:     read("../oracle/check.js"),
		allowlist:  read("../oracle/allowlist.txt"),
		openapi:    read("openapi/openapi.json"),
		simulate:   os.DirFS("../../render/simulate"),
	}
}

var (
	// oraclePlatformsRE finds check.js's `const PLATFORMS = { key: 'dialect', ... };`.
	registryOraclePlatformsRE = regexp.MustCompile(`const PLATFORMS = \{([^}]*)\}`)
	// oracleEntryRE is one `key: 'dialect'` of it.
	registryOracleEntryRE = regexp.MustCompile(`(\w+):\s*'(\w+)'`)
	// defineRE finds the names of the templates a file defines.
	registryDefineRE = regexp.MustCompile(`\{\{-?\s*define\s+"([^"]+)"`)
)

// missingPieces lists, one line each, what platform p lacks of the checklist of
// platforms.Platform, as found in pc.
func missingPieces(p *platforms.Platform, pc platformPieces) []string {
	var out []string
	miss := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	// Step: a connector file registering the catalogue and the live connector.
	if r, ok := pc.registered(p.Type); !ok {
		miss("connector: internal/connector registers no connector for %q (register it in the init of internal/connector/%s.go)", p.Type, p.Key)
	} else if p.HasConfig() && (r.New == nil || len(r.Tests) == 0) {
		miss("connector: the registration of %q has no live connector or no test catalogue", p.Type)
	}
	// Step: the bad-input corpus's wrong-type cases for every config field.
	if p.HasConfig() && !slices.Contains(pc.badInput, p.Type) {
		miss("bad input: internal/server/badinput_corpus_test.go (badPlatforms) has no entry for %q", p.Type)
	}
	// Step: the API document names the type.
	if !strings.Contains(pc.openapi, p.Type) {
		miss("openapi: internal/server/openapi/openapi.json does not name %q", p.Type)
	}
	if !p.HasScripts() {
		if p.Dialect != "" || p.BatchSeparator != "" {
			miss("registry: %q has no scripts but a dialect or a batch separator", p.Type)
		}
		return out
	}

	// Step: the sqlcheck dialect and its closed grammar.
	if d, err := sqlcheck.ParseDialect(p.Dialect); err != nil || string(d) != p.Dialect {
		miss("sqlcheck: no dialect %q in render/sqlcheck's dialect table (dialect.go)", p.Dialect)
	} else if len(sqlcheck.ShapeNames(d)) == 0 {
		miss("sqlcheck: dialect %q has no shapes (render/sqlcheck/shapes_%s.go)", p.Dialect, p.Dialect)
	}

	// Step: the platform model the engine's guarantees are tested on.
	if _, err := fs.Stat(pc.simulate, p.Key+".go"); err != nil {
		miss("simulate: no render/simulate/%s.go (the model of the platform's rules)", p.Key)
	}

	// Step: the templates, one per kind and statement the model needs.
	defined := map[string]bool{}
	files, _ := fs.Glob(pc.templates, p.Key+"/*.sql.tmpl")
	if len(files) == 0 {
		miss("templates: no templates/%s/*.sql.tmpl", p.Key)
	}
	for _, f := range files {
		b, err := fs.ReadFile(pc.templates, f)
		if err != nil {
			miss("templates: %v", err)
			continue
		}
		for _, m := range registryDefineRE.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
	}

	// Step: golden cases for every operation; the first valid create input gives the
	// model whose kinds the templates must cover.
	var model *platforms.Model
	for _, op := range p.ScriptOps {
		dir := path.Join(p.Key, string(op))
		cases, _ := fs.ReadDir(pc.golden, dir)
		n := 0
		for _, c := range cases {
			data, err := fs.ReadFile(pc.golden, path.Join(dir, c.Name(), "input.yaml"))
			if err != nil {
				continue
			}
			n++
			if op != platforms.OpCreate || model != nil {
				continue
			}
			pl, err := platforms.DecodeFor(op, data, "input.yaml")
			if err != nil {
				continue
			}
			if s, ok := pl.Config.(platforms.Scripted); ok {
				model, _ = s.Model(platforms.ModelOptions{AutoBootstrap: pl.Auto()})
			}
		}
		if n == 0 {
			miss("golden: no case (golden/%s/<case>/input.yaml) for %s %s", dir, p.Type, op)
		}
	}
	if model == nil {
		miss("templates: no valid golden create input of %q to build a model from", p.Type)
	} else {
		kinds := make([]platforms.Kind, 0, len(model.Needs))
		for k := range model.Needs {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			for _, st := range []string{"create", "alter", "drop"} {
				if len(model.Needs[k].For(st)) > 0 && !defined[k.Template(st)] {
					miss("templates: templates/%s defines no %q (the model needs it)", p.Key, k.Template(st))
				}
			}
		}
	}

	// Step: the parser oracles map the platform to one of their dialects, and the
	// allow-list's entries name only dialects the oracles know.
	oracleDialect := ""
	known := map[string]bool{}
	if m := registryOraclePlatformsRE.FindStringSubmatch(pc.oracle); m != nil {
		for _, e := range registryOracleEntryRE.FindAllStringSubmatch(m[1], -1) {
			known[e[2]] = true
			if e[1] == p.Key {
				oracleDialect = e[2]
			}
		}
	}
	if oracleDialect == "" {
		miss("oracle: internal/oracle/check.js PLATFORMS has no dialect for %s", p.Key)
	}
	for i, line := range strings.Split(pc.allowlist, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if !known[f[1]] {
			miss("oracle: internal/oracle/allowlist.txt:%d: dialect %q is no oracle dialect of check.js PLATFORMS", i+1, f[1])
		}
	}
	return out
}

// TestEveryPlatformHasEveryPiece walks the registry: every platform has each piece of
// the checklist of platforms.Platform.
func TestEveryPlatformHasEveryPiece(t *testing.T) {
	pc := modulePieces(t)
	for _, p := range platforms.All() {
		for _, m := range missingPieces(p, pc) {
			t.Errorf("%s: %s", p.Type, m)
		}
	}
	// And nothing is registered for a type the registry does not know.
	for _, typ := range pc.badInput {
		if _, err := platforms.Lookup(typ); err != nil {
			t.Errorf("bad input: entry for unknown type %q", typ)
		}
	}
}

// TestMissingPiecesReported proves the check can fail: a platform with none of its
// pieces is reported once per piece.
func TestMissingPiecesReported(t *testing.T) {
	fake := &platforms.Platform{Type: "Fake Warehouse", Key: "fakewh", Dialect: "fakesql",
		ScriptOps: []platforms.Operation{platforms.OpCreate, platforms.OpDelete}}
	pc := platformPieces{
		templates:  fstest.MapFS{},
		golden:     fstest.MapFS{"fakewh/create/basic/input.yaml": {Data: []byte("type: Fake Warehouse\n")}},
		registered: func(string) (connector.Registration, bool) { return connector.Registration{}, false },
		oracle:     `const PLATFORMS = { snowflake: 'snowflake' };`,
		allowlist:  "sqlfluff fakesql ^DROP  # reason\n",
		openapi:    `{"info": "Snowflake"}`,
		simulate:   fstest.MapFS{},
	}
	got := strings.Join(missingPieces(fake, pc), "\n")
	for _, want := range []string{
		"connector: internal/connector registers no connector",
		"openapi: ",
		"sqlcheck: no dialect \"fakesql\"",
		"simulate: no render/simulate/fakewh.go",
		"templates: no templates/fakewh/*.sql.tmpl",
		"golden: no case (golden/fakewh/delete/<case>/input.yaml)",
		"templates: no valid golden create input",
		"oracle: internal/oracle/check.js PLATFORMS has no dialect for fakewh",
		"oracle: internal/oracle/allowlist.txt:1: dialect \"fakesql\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing piece not reported: %q\ngot:\n%s", want, got)
		}
	}

	// A platform with a config needs a bad-input entry, and a live connector and tests
	// in its registration; one without scripts needs no dialect.
	s3, _ := platforms.Lookup("Native S3")
	pc.registered = func(string) (connector.Registration, bool) { return connector.Registration{Type: s3.Type}, true }
	got = strings.Join(missingPieces(s3, pc), "\n")
	for _, want := range []string{"bad input: ", "connector: the registration of \"Native S3\" has no live connector", "openapi: "} {
		if !strings.Contains(got, want) {
			t.Errorf("missing piece not reported: %q\ngot:\n%s", want, got)
		}
	}

	// A model kind whose template is missing is reported.
	sf, _ := platforms.ByKey("snowflake")
	pc = modulePieces(t)
	files := fstest.MapFS{}
	src, err := fs.ReadFile(templates.FS, "snowflake/user.sql.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	files["snowflake/user.sql.tmpl"] = &fstest.MapFile{Data: src}
	pc.templates = files
	got = strings.Join(missingPieces(sf, pc), "\n")
	if !strings.Contains(got, `templates: templates/snowflake defines no "role.create"`) {
		t.Errorf("a missing kind template is not reported; got:\n%s", got)
	}
	if strings.Contains(got, `"user.create"`) {
		t.Errorf("a defined template is reported missing; got:\n%s", got)
	}
}
