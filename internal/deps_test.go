// Package internal_test holds the test of the module's dependency rules: which of the
// module's packages each package may import, and the standard packages the engine must
// never reach, even through a dependency. The rules are the README's layout table; a
// change to the table and a change to the imports go together.
package internal_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/openintegrations/integrations"

// allowed lists, per package of the module, the module's packages it may import
// directly. A package missing from the table fails the test: a new package states its
// rules here.
var allowed = map[string][]string{
	// The engine: the public library. It knows no HTTP, no storage and no process.
	"platforms":       {},
	"templates":       {},
	"render/sqlcheck": {},
	"render/simulate": {"render/sqlcheck"},
	"render":          {"platforms", "render/sqlcheck", "templates"},

	// Below internal/: the server, its store, the connectors and the CLI.
	"internal":                            {}, // this test
	"internal/lifecycle":                  {},
	"internal/egress":                     {},
	"internal/bench/bare":                 {},
	"internal/connector/recorddriver":     {},
	"internal/store":                      {"internal/lifecycle"},
	"internal/store/storetest":            {"internal/lifecycle", "internal/store"},
	"internal/apierr":                     {"internal/store", "platforms", "render"},
	"internal/connector":                  {"internal/egress", "platforms", "render"},
	"internal/server/openapi":             {},
	"internal/server/openapi/openapitest": {"internal/server/openapi"},
	"internal/server":                     {"internal/apierr", "internal/connector", "internal/lifecycle", "internal/server/openapi", "internal/store", "platforms", "render"},
	"internal/cli":                        {"internal/apierr", "internal/connector", "internal/egress", "internal/server", "internal/store", "platforms", "render", "render/sqlcheck"},
	"internal/e2e":                        {},
	"internal/doctest":                    {}, // a test only; the test runs internal/cli as the documents' integrations command
	"cmd/integrations":                    {"internal/cli"},
}

// engine are the packages whose whole dependency graph must stay free of the
// standard packages in forbidden.
var engine = []string{"platforms", "templates", "render", "render/sqlcheck", "render/simulate"}

// forbidden are what the engine must never reach: HTTP, SQL drivers' interface,
// processes and the network's dialers (package net itself comes in through
// crypto/x509 and is not listed).
var forbidden = []string{"net/http", "database/sql", "os/exec", "net/rpc", "net/smtp"}

// golist runs go list over the module and returns, per package (module-relative),
// the imports the format prints.
func golist(t *testing.T, format string, args ...string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-f", format}, args...)...)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	got := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		got[rel(f[0])] = f[1:]
	}
	return got
}

func rel(p string) string {
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

func TestModuleImportsFollowTheLayout(t *testing.T) {
	pkgs := golist(t, `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	for pkg, imports := range pkgs {
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("%s: not in the dependency table of internal/deps_test.go; add it with the packages it may import", pkg)
			continue
		}
		for _, imp := range imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if r := rel(imp); !slices.Contains(rules, r) {
				t.Errorf("%s imports %s, which the layout does not allow (allowed: %v)", pkg, r, rules)
			}
		}
	}
	for pkg := range allowed {
		if _, ok := pkgs[pkg]; !ok {
			t.Errorf("%s: in the dependency table but not in the module", pkg)
		}
	}
}

func TestEngineReachesNoHTTPStorageOrProcess(t *testing.T) {
	args := []string{"-deps"}
	for _, p := range engine {
		args = append(args, "./"+p)
	}
	deps := golist(t, `{{.ImportPath}} {{join .Imports " "}}`, args...)
	for pkg, imports := range deps {
		for _, imp := range imports {
			if slices.Contains(forbidden, imp) {
				t.Errorf("%s imports %s: the engine (%v) must not reach it", pkg, imp, engine)
			}
		}
	}
	if len(deps) < len(engine) {
		t.Fatalf("go list -deps listed %d packages, fewer than the engine's %d", len(deps), len(engine))
	}
}
