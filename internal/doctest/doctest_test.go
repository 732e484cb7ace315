//go:build unix

package doctest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/cli"
)

// documents are the files TestDocs runs, relative to the repository root, each under
// the rules of the package comment (doc.go). Adding a document is one line here.
var documents = []string{
	"README.md",
	"docs/api.md",
}

// copied are the repository's folders each document's script finds in its work dir.
var copied = []string{"examples"}

// compareCommand is the name under which the test binary compares a console command's
// output with the document's (compareMain).
const compareCommand = "doctest-compare"

// TestMain makes the test binary the documents' integrations command, and the checker
// of console output, when it is run under those names (links in the runner's bin dir).
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "integrations":
		// The same program as cmd/integrations.
		os.Exit(cli.Main())
	case compareCommand:
		os.Exit(compareMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	if _, ok := clients[filepath.Base(os.Args[0])]; ok {
		os.Exit(clientMain(filepath.Base(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestDocs runs the commands of every document in documents.
func TestDocs(t *testing.T) {
	needTools(t, "bash", "curl")
	r := newRunner(t)
	for _, doc := range documents {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join(r.root, doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.run(t.Context(), t.TempDir(), doc, src); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// needTools skips the test when a tool is missing, except under CI, where it fails.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (CI is set, so the document tests must run): %v", tool, err)
			}
			t.Skipf("%s is not installed: the document tests need it (install it; under CI=true this fails)", tool)
		}
	}
}

// runner runs documents.
type runner struct {
	root    string        // the repository: where copied folders and *_test.go files are
	bin     string        // first on the script's PATH: integrations and compareCommand
	timeout time.Duration // of one document's run

	testsOnce sync.Once
	tests     map[string]bool // the functions of the repository's *_test.go files
	testsErr  error
}

// newRunner makes the bin dir whose links are the test binary under the names TestMain
// knows.
func newRunner(t *testing.T) *runner {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root %s has no go.mod: %v", root, err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	names := []string{"integrations", compareCommand}
	for name := range clients {
		names = append(names, name)
	}
	for _, name := range names {
		if err := os.Symlink(exe, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	return &runner{root: root, bin: bin, timeout: 2 * time.Minute}
}

// blockKind is what the runner does with a block.
type blockKind int

const (
	ignored blockKind = iota
	shell             // sh: run
	console           // console: run each command, compare its output
	covered           // sh test=Name: not run, Name must exist
)

// block is one fenced code block.
type block struct {
	kind  blockKind
	line  int      // of the opening fence, from 1
	lines []string // the content, without the fence's indentation
	test  string   // covered: the test that covers it
}

var fenceRE = regexp.MustCompile("^( *)(`{3,}|~{3,})(.*)$")

// parse reads the fenced code blocks of a document.
func parse(name string, src []byte) ([]block, error) {
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	var blocks []block
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, fence, info := len(m[1]), m[2], strings.TrimSpace(m[3])
		if fence[0] == '`' && strings.Contains(info, "`") {
			continue // inline code that starts a line, not a fence
		}
		b := block{line: i + 1}
		closed := false
		for i++; i < len(lines); i++ {
			if c := fenceRE.FindStringSubmatch(lines[i]); c != nil && c[2][0] == fence[0] && len(c[2]) >= len(fence) && strings.TrimSpace(c[3]) == "" {
				closed = true
				break
			}
			l := lines[i]
			for n := 0; n < indent && strings.HasPrefix(l, " "); n++ {
				l = l[1:]
			}
			b.lines = append(b.lines, l)
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: the code block is not closed", name, b.line)
		}
		if err := classify(&b, info); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, b.line, err)
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

var testNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// classify sets b's kind from its info string.
func classify(b *block, info string) error {
	f := strings.Fields(info)
	if len(f) == 0 {
		return errors.New("the code block has no info string: say what it holds (sh to run it, console to run and compare it, text, yaml, ...)")
	}
	switch f[0] {
	case "sh":
		b.kind = shell
		for _, attr := range f[1:] {
			name, ok := strings.CutPrefix(attr, "test=")
			if !ok || !testNameRE.MatchString(name) || b.test != "" {
				return fmt.Errorf("sh block: unknown attribute %q (the one attribute is test=TestName)", attr)
			}
			b.kind, b.test = covered, name
		}
	case "console":
		b.kind = console
		if len(f) > 1 {
			return fmt.Errorf("console block: unexpected %q after console", strings.Join(f[1:], " "))
		}
	case "bash", "shell", "zsh", "shell-session", "sh-session":
		return fmt.Errorf("a %s block is not run: use sh (run it), console (run it and compare its output) or sh test=TestName (covered by that test)", f[0])
	}
	return nil
}

// command is one console command and what it must print.
type command struct {
	line   int      // of the "$ " line
	lines  []string // the command (continuation lines included), without "$ "
	want   []string // the expected output lines
	status int      // the expected exit status
}

var exitRE = regexp.MustCompile(`^\[exit (\d+)\]$`)

// commands splits a console block into its commands.
func commands(name string, b block) ([]command, error) {
	var cmds []command
	cont := false
	for i, l := range b.lines {
		line := b.line + 1 + i
		switch {
		case cont:
			c := &cmds[len(cmds)-1]
			c.lines = append(c.lines, l)
			cont = strings.HasSuffix(l, `\`)
		case l == "$" || strings.HasPrefix(l, "$ "):
			text := strings.TrimSpace(strings.TrimPrefix(l, "$"))
			if text == "" {
				return nil, fmt.Errorf("%s:%d: a $ line without a command", name, line)
			}
			cmds = append(cmds, command{line: line, lines: []string{text}})
			cont = strings.HasSuffix(text, `\`)
		case len(cmds) == 0:
			return nil, fmt.Errorf("%s:%d: a console block starts with a $ command line (got %q)", name, line, l)
		default:
			c := &cmds[len(cmds)-1]
			c.want = append(c.want, l)
		}
	}
	if cont {
		return nil, fmt.Errorf("%s:%d: the block ends in a continued command line", name, b.line+len(b.lines))
	}
	for i := range cmds {
		c := &cmds[i]
		if n := len(c.want); n > 0 {
			if m := exitRE.FindStringSubmatch(c.want[n-1]); m != nil {
				c.status, _ = strconv.Atoi(m[1])
				c.want = c.want[:n-1]
			}
		}
	}
	return cmds, nil
}

// The rewrites of the package comment.
var (
	goRunRE   = regexp.MustCompile(`\bgo run \./cmd/integrations/?(\s|$)`)
	buildRE   = regexp.MustCompile(`^\s*go (build|install)((?:\s+[^\s;&|<>()$` + "`" + `'"\\#]+)*?)\s+\./cmd/integrations/?\s*(#.*)?$`)
	ciRE      = regexp.MustCompile(`^\s*bash\s+\.ci/run\s*(#.*)?$`)
	serveRE   = regexp.MustCompile(`^\s*integrations\s+serve(\s.*)?$`)
	local8080 = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):8080\b`)
)

// rewrite applies the line rewrites to one command line (the first line of a command:
// continuation lines are kept as they are). serve reports a server line, which the
// caller handles.
func rewrite(l string) (out string, serve bool, err error) {
	l = goRunRE.ReplaceAllString(l, "integrations$1")
	switch {
	case ciRE.MatchString(l):
		return ": doctest: skipped bash .ci/run, the command that runs this test", false, nil
	case buildRE.MatchString(l):
		m := buildRE.FindStringSubmatch(l)
		if m[1] == "install" {
			return ": doctest: skipped go install, the test binary is integrations on PATH", false, nil
		}
		target, err := buildOutput(strings.Fields(m[2]))
		if err != nil {
			return "", false, fmt.Errorf("%q: %v", strings.TrimSpace(l), err)
		}
		return fmt.Sprintf(`mkdir -p %s && ln -sf "$DOCTEST_BIN/integrations" %s  # doctest: for %s`,
			shq(filepath.Dir(target)), shq(target), shq(strings.TrimSpace(l))), false, nil
	case serveRE.MatchString(l):
		return l, true, nil
	}
	return l, false, nil
}

// buildOutput is the file a go build with flags writes: its -o, else ./integrations.
func buildOutput(flags []string) (string, error) {
	out := "integrations"
	for i, f := range flags {
		switch {
		case f == "-o" || f == "--o":
			if i+1 == len(flags) {
				return "", errors.New("-o without a path")
			}
			out = flags[i+1]
		case strings.HasPrefix(f, "-o="), strings.HasPrefix(f, "--o="):
			_, out, _ = strings.Cut(f, "=")
		}
	}
	if strings.HasSuffix(out, "/") {
		out += "integrations"
	}
	out = filepath.Clean(out)
	if filepath.IsAbs(out) || out == ".." || strings.HasPrefix(out, "../") || filepath.Base(out) != "integrations" {
		return "", fmt.Errorf("the runner stands in for the build with a link at its output, which must be a relative path inside the work dir ending in integrations (got %s)", out)
	}
	return out, nil
}

// serveArgs returns the flags of a server line, without the default --addr.
func serveArgs(l string) ([]string, error) {
	rest := serveRE.FindStringSubmatch(l)[1]
	var args []string
	f := strings.Fields(rest)
	for i := 0; i < len(f); i++ {
		a := f[i]
		if strings.HasPrefix(a, "#") {
			break
		}
		if strings.ContainsAny(a, "'\"$`&|;<>()\\*?") {
			return nil, fmt.Errorf("%q: the runner starts the server itself, without a shell, in the background: give plain flags only, in the foreground", a)
		}
		if a == "--addr" || a == "-addr" {
			if i+1 == len(f) {
				return nil, errors.New("--addr without a value")
			}
			i++
			a += "=" + f[i]
		}
		if v, ok := cutFlag(a, "addr"); ok {
			if v != "127.0.0.1:8080" && v != "localhost:8080" {
				return nil, fmt.Errorf("--addr %s: the runner chooses the address; start the server on the default 127.0.0.1:8080 and write that address in the commands", v)
			}
			continue
		}
		args = append(args, a)
	}
	return args, nil
}

// cutFlag returns the value of a=-name=v or --name=v.
func cutFlag(a, name string) (string, bool) {
	for _, p := range []string{"-" + name + "=", "--" + name + "="} {
		if v, ok := strings.CutPrefix(a, p); ok {
			return v, true
		}
	}
	return "", false
}

// shq quotes s for bash.
func shq(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// expectation is what compareMain checks one console command against.
type expectation struct {
	Where  string   `json:"where"`
	Want   []string `json:"want"`
	Status int      `json:"status"`
}

// failure is a document's failed run.
type failure struct {
	where     string // FILE:LINE of the failed block or command, or the document
	reason    string
	output    string // the script's output from the failed block's marker on
	serverLog string
}

func (f *failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", f.where, f.reason)
	if f.output != "" {
		fmt.Fprintf(&b, "\n--- the output of the block:\n%s", indent(f.output))
	}
	if f.serverLog != "" {
		fmt.Fprintf(&b, "\n--- the server's output:\n%s", indent(f.serverLog))
	}
	return b.String()
}

func indent(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// markerPrefix starts the line the script prints before each block and console command.
const markerPrefix = "--- doctest: "

// serverLine is where a document starts its server.
type serverLine struct {
	where string
	block int // index in blocks
	index int // line index in the block
	args  []string
}

// run runs the document name (its text src) in dir, which it fills (work, server and
// script directories). It returns a *failure, or an error for a document the rules
// refuse.
func (r *runner) run(ctx context.Context, dir, name string, src []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	blocks, err := parse(name, src)
	if err != nil {
		return err
	}

	// Check the document before running anything: covered tests exist, at most one
	// server, no 8080 without it.
	var srv *serverLine
	consoles := map[int][]command{} // the commands of each console block
	uses8080 := false
	runnable := 0
	for bi, b := range blocks {
		where := fmt.Sprintf("%s:%d", name, b.line)
		switch b.kind {
		case covered:
			ok, err := r.testExists(b.test)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s: sh test=%s: no func %s( in the repository's *_test.go files: name the test that runs these commands", where, b.test, b.test)
			}
			continue
		case ignored:
			continue
		}
		runnable++
		for _, l := range b.lines {
			uses8080 = uses8080 || local8080.MatchString(l)
		}
		if b.kind == console {
			cmds, err := commands(name, b)
			if err != nil {
				return err
			}
			for _, c := range cmds {
				if _, serve, err := rewrite(c.lines[0]); err != nil {
					return fmt.Errorf("%s:%d: %v", name, c.line, err)
				} else if serve {
					return fmt.Errorf("%s:%d: start the server in an sh block, not in a console block", name, c.line)
				}
			}
			consoles[bi] = cmds
			continue
		}
		cont := false
		for i, l := range b.lines {
			if cont {
				cont = strings.HasSuffix(l, `\`)
				continue
			}
			cont = strings.HasSuffix(l, `\`)
			l, serve, err := rewrite(l)
			if err != nil {
				return fmt.Errorf("%s:%d: %v", name, b.line+1+i, err)
			}
			if !serve {
				continue
			}
			lw := fmt.Sprintf("%s:%d", name, b.line+1+i)
			if srv != nil {
				return fmt.Errorf("%s: a second integrations serve (the first is at %s): a document starts at most one server", lw, srv.where)
			}
			if cont || strings.HasSuffix(strings.TrimSpace(stripComment(l)), "&") {
				return fmt.Errorf("%s: write integrations serve on one line, in the foreground, as a reader types it: the runner runs it in the background", lw)
			}
			args, err := serveArgs(l)
			if err != nil {
				return fmt.Errorf("%s: %v", lw, err)
			}
			srv = &serverLine{where: lw, block: bi, index: i, args: args}
		}
	}
	if runnable == 0 {
		return fmt.Errorf("%s: no sh or console block: nothing to run", name)
	}
	if uses8080 && srv == nil {
		return fmt.Errorf("%s: the commands name 127.0.0.1:8080 or localhost:8080, but no sh block starts integrations serve", name)
	}

	work, sdir, tmp := filepath.Join(dir, "work"), filepath.Join(dir, "server"), filepath.Join(dir, "doctest")
	for _, d := range []string{work, sdir, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, c := range copied {
		if err := os.CopyFS(filepath.Join(work, c), os.DirFS(filepath.Join(r.root, c))); err != nil {
			return fmt.Errorf("copy %s: %v", c, err)
		}
	}
	env := r.env(tmp)

	addr, key := "", ""
	var server *process
	if srv != nil {
		server, err = startServer(ctx, filepath.Join(r.bin, "integrations"), sdir, env, srv.args)
		if err != nil {
			return &failure{where: srv.where, reason: err.Error(), serverLog: logOf(server)}
		}
		defer func() {
			if serr := server.stop(); serr != nil && err == nil {
				err = &failure{where: srv.where, reason: serr.Error(), serverLog: server.log.String()}
			}
		}()
		addr, key = server.addr, server.key
	}
	addrs := func(s string) string {
		if addr == "" {
			return s
		}
		return local8080.ReplaceAllString(s, addr)
	}

	// The script.
	var sb strings.Builder
	sb.WriteString("set -euo pipefail\n")
	marker := func(where, what string) {
		fmt.Fprintf(&sb, "printf '%%s\\n' %s\n", shq(markerPrefix+where+" "+what))
	}
	nexp := 0
	for bi, b := range blocks {
		where := fmt.Sprintf("%s:%d", name, b.line)
		switch b.kind {
		case shell:
			marker(where, "(sh)")
			cont := false
			for i, l := range b.lines {
				if !cont {
					var err error
					if l, _, err = rewrite(l); err != nil {
						return err // checked above
					}
					if srv != nil && srv.block == bi && srv.index == i {
						fmt.Fprintf(&sb, "export KEY=%s\n", shq(key))
						l = fmt.Sprintf("printf '%%s\\n' %s", shq("doctest: the runner started "+strings.Join(append([]string{"integrations", "serve"}, srv.args...), " ")+" at http://"+addr+"; its admin key is in $KEY"))
					}
				}
				cont = strings.HasSuffix(l, `\`)
				sb.WriteString(addrs(l) + "\n")
			}
		case console:
			for _, c := range consoles[bi] {
				cwhere := fmt.Sprintf("%s:%d", name, c.line)
				first, _, err := rewrite(c.lines[0])
				if err != nil {
					return err // checked above
				}
				lines := append([]string{first}, c.lines[1:]...)
				want := make([]string, len(c.want))
				for i, w := range c.want {
					want[i] = addrs(w)
				}
				nexp++
				exp := filepath.Join(tmp, fmt.Sprintf("expect-%d.json", nexp))
				data, err := json.Marshal(expectation{Where: cwhere, Want: want, Status: c.status})
				if err != nil {
					return err
				}
				if err := os.WriteFile(exp, data, 0o644); err != nil {
					return err
				}
				marker(cwhere, "$ "+c.lines[0])
				sb.WriteString("set +e\n{\n")
				for _, l := range lines {
					sb.WriteString(addrs(l) + "\n")
				}
				fmt.Fprintf(&sb, "} >\"$DOCTEST_DIR/out\" 2>&1 </dev/null\ndoctest_status=$?\nset -e\n%s %s \"$DOCTEST_DIR/out\" \"$doctest_status\"\n", compareCommand, shq(exp))
			}
		}
	}
	script := filepath.Join(tmp, "script.sh")
	if err := os.WriteFile(script, []byte(sb.String()), 0o644); err != nil {
		return err
	}

	out, runErr := runScript(ctx, work, env, script)
	if runErr == nil {
		return nil
	}
	f := &failure{where: name, reason: runErr.Error(), output: out}
	if i := strings.LastIndex(out, "\n"+markerPrefix); i >= 0 || strings.HasPrefix(out, markerPrefix) {
		f.output = out[i+1:]
		rest := strings.TrimPrefix(f.output, markerPrefix)
		f.where, _, _ = strings.Cut(rest, " ")
	}
	if server != nil {
		f.serverLog = server.log.String()
	}
	return f
}

// stripComment removes a trailing # comment (a # after a space) from a line.
func stripComment(l string) string {
	if i := strings.Index(l, " #"); i >= 0 {
		return l[:i]
	}
	return l
}

// env is the environment of a document's script and server: the test's, without the
// variables that would change what the commands do, the bin dir first on PATH.
func (r *runner) env(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "INTEGRATIONS_") || slices.Contains([]string{"KEY", "BASH_ENV", "ENV", "CDPATH", "PATH", "LC_ALL", "GORACE", "DOCTEST_BIN", "DOCTEST_DIR"}, k) {
			continue
		}
		env = append(env, kv)
	}
	// A binary built with -race waits a second at exit for late race reports
	// (atexit_sleep_ms); for a test binary run as a command many times that is most of
	// the run. A race is still reported, and fails the command.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return append(env, "PATH="+r.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DOCTEST_BIN="+r.bin, "DOCTEST_DIR="+tmp, "LC_ALL=C", "GORACE="+gorace)
}

// runScript runs the script with bash in dir and returns its output (stdout and stderr
// in one file, in order). Every process the script leaves behind (its process group)
// is killed when it ends.
func runScript(ctx context.Context, dir string, env []string, script string) (string, error) {
	outPath := script + ".out"
	out, err := os.Create(outPath)
	if err != nil {
		return "", err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", script)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	runErr := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what the script left running
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		return "", err
	}
	if runErr != nil && ctx.Err() != nil {
		runErr = fmt.Errorf("the document did not finish: %v", context.Cause(ctx))
	} else if runErr != nil {
		runErr = fmt.Errorf("the script failed (%v)", runErr)
	}
	return string(data), runErr
}

// testExists reports whether a func name( is in the repository's *_test.go files.
func (r *runner) testExists(name string) (bool, error) {
	r.testsOnce.Do(func() {
		r.tests = map[string]bool{}
		funcRE := regexp.MustCompile(`(?m)^func ([A-Za-z_][A-Za-z0-9_]*)\(`)
		r.testsErr = filepath.WalkDir(r.root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if n := d.Name(); path != r.root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata" || n == "vendor") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range funcRE.FindAllStringSubmatch(string(data), -1) {
				r.tests[m[1]] = true
			}
			return nil
		})
	})
	return r.tests[name], r.testsErr
}

// process is a running integrations serve.
type process struct {
	cmd       *exec.Cmd
	log       *serverLog
	done      chan struct{} // closed when the process has exited
	waitErr   error         // set before done is closed
	addr, key string
}

// logOf is the output of p, "" for none.
func logOf(p *process) string {
	if p == nil {
		return ""
	}
	return p.log.String()
}

// keyPrefix starts the line where a new store's admin key is printed (internal/cli).
const keyPrefix = "integrations: new store: admin API key (shown once, keep it): "

// serverLog keeps a server's output and the address and key it prints.
type serverLog struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	partial   []byte
	addr, key string
}

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if k, ok := strings.CutPrefix(line, keyPrefix); ok {
			l.key = strings.TrimSpace(k)
		}
		var rec struct{ Msg, Addr string }
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
			l.addr = strings.TrimPrefix(rec.Addr, "http://")
		}
	}
	return len(p), nil
}

func (l *serverLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *serverLog) found() (addr, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr, l.key
}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9+/=_-]+$`)

// startServer starts `integrations serve args --addr 127.0.0.1:0` in dir and waits
// until it is ready: it has printed its address and admin key and GET /readyz answers
// 200. It gives up after 60 s or when the server exits.
func startServer(ctx context.Context, exe, dir string, env, args []string) (*process, error) {
	p := &process{log: &serverLog{}, done: make(chan struct{})}
	p.cmd = exec.Command(exe, append(append([]string{"serve"}, args...), "--addr", "127.0.0.1:0")...)
	p.cmd.Dir, p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = dir, env, p.log, p.log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	fail := func(format string, args ...any) (*process, error) {
		_ = p.stop()
		return p, fmt.Errorf(format, args...)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		select {
		case <-p.done:
			return p, fmt.Errorf("integrations serve exited before it was ready (%v)", p.waitErr)
		default:
		}
		if addr, key := p.log.found(); addr != "" {
			if key == "" || !keyRE.MatchString(key) {
				return fail("integrations serve listens at %s but printed no admin key (a line %q)", addr, keyPrefix+"KEY")
			}
			if ready(ctx, client, addr) {
				p.addr, p.key = addr, key
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			return fail("integrations serve was not ready within 60 s (its address, its admin key and a 200 from GET /readyz)")
		}
		select {
		case <-ctx.Done():
			return fail("integrations serve was not ready: %v", context.Cause(ctx))
		case <-p.done:
		case <-time.After(wait):
		}
	}
}

// ready reports whether GET /readyz at addr answers 200.
func ready(ctx context.Context, client *http.Client, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends the server SIGTERM and waits for it (30 s, then it is killed). A server
// that does not exit 0 is an error.
func (p *process) stop() error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			return errors.New("integrations serve did not stop within 30 s of SIGTERM; killed")
		}
	}
	if p.waitErr != nil {
		return fmt.Errorf("integrations serve did not exit cleanly: %v", p.waitErr)
	}
	return nil
}

// compareMain is the test binary as compareCommand EXPECT.json OUTPUT STATUS: it
// prints the output and compares it and the status with the expectation.
func compareMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 3 {
		fmt.Fprintf(stderr, "usage: %s EXPECT.json OUTPUT STATUS\n", compareCommand)
		return 2
	}
	var exp expectation
	data, err := os.ReadFile(args[0])
	if err == nil {
		err = json.Unmarshal(data, &exp)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", compareCommand, err)
		return 2
	}
	out, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", compareCommand, err)
		return 2
	}
	status, err := strconv.Atoi(args[2])
	if err != nil {
		fmt.Fprintf(stderr, "%s: status %q: %v\n", compareCommand, args[2], err)
		return 2
	}
	_, _ = stdout.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	got := splitLines(string(out))
	if status == exp.Status && match(exp.Want, got) {
		return 0
	}
	bw := bufio.NewWriter(stderr)
	defer bw.Flush()
	fmt.Fprintf(bw, "doctest: %s: the output or the exit status is not the document's\n", exp.Where)
	fmt.Fprintf(bw, "want (exit %d):\n%s\n", exp.Status, indent(strings.Join(exp.Want, "\n")))
	fmt.Fprintf(bw, "got (exit %d):\n%s\n", status, indent(strings.Join(got, "\n")))
	if i := firstMismatch(exp.Want, got); i >= 0 {
		fmt.Fprintf(bw, "first difference at output line %d\n", i+1)
	}
	return 1
}

// splitLines splits output into lines; a last line without a newline counts.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// match reports whether got matches want: lines equal, except that a want line "..."
// matches any number of lines (none too) and a want line ending in "..." matches a
// line that starts with the rest.
func match(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if match(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && lineMatches(want[0], got[0]) && match(want[1:], got[1:])
}

func lineMatches(want, got string) bool {
	if p, ok := strings.CutSuffix(want, "..."); ok {
		return strings.HasPrefix(got, p)
	}
	return want == got
}

// firstMismatch is the index of the first output line that differs before any "..."
// of want, -1 when there is none to point at.
func firstMismatch(want, got []string) int {
	for i := range max(len(want), len(got)) {
		if i < len(want) && want[i] == "..." {
			return -1
		}
		if i >= len(want) || i >= len(got) || !lineMatches(want[i], got[i]) {
			return i
		}
	}
	return -1
}

// TestRunnerPasses runs small documents that must pass: the rules of the package
// comment, one by one.
func TestRunnerPasses(t *testing.T) {
	needTools(t, "bash", "curl")
	r := newRunner(t)
	cases := map[string]string{
		"variables carry from block to block, console matching": `
Some prose.

~~~sh
greeting=hello
~~~

~~~console
$ echo "$greeting world"; echo two; echo three
hello world
...
$ printf 'abc-def\n'; false
abc...
[exit 1]
$ echo a \
  b
a b
$ true
~~~

~~~yaml
this: is not run
~~~

~~~text
$ not run either
~~~
`,
		"rewrites, examples, covered blocks": "```sh\n" + `go build -o bin/integrations ./cmd/integrations
go install ./cmd/integrations
bash .ci/run   # would run this very test
test -f examples/snowflake.yaml
` + "```\n\n```console\n" + `$ bin/integrations version
integrations ...
$ go run ./cmd/integrations version
integrations ...
$ integrations render --operation create -f examples/snowflake.yaml | grep -c '^CREATE USER'
1
` + "```\n\n```sh test=TestDocs\npsql -h db.internal -c 'select 1'\n```\n",
		"the client stand-ins, each phase on its own connection": "```sh\n" + `integrations render --operation create -f examples/snowflake.yaml -o run/sf/
snowsql -a ACCOUNT -u ADMIN -r ACCOUNTADMIN -o exit_on_error=true -f run/sf/1-create.sql
integrations render --operation initial-create -f examples/redshift.yaml -o run/rs/
psql "host=h port=5439 dbname=dev user=admin sslmode=require" -X -v ON_ERROR_STOP=1 -f run/rs/1-initial-create.sql
integrations render --operation initial-create -f examples/synapse.yaml -o run/syn/
sqlcmd -S h -d immuta -U admin -b -I -x -i run/syn/1-initial-check.sql
sqlcmd -S h -d master -U admin -b -I -x -i run/syn/2-initial-create.sql
` + "```\n",
		"a server": `
~~~sh
go run ./cmd/integrations serve --sandbox   # in another terminal
~~~

~~~sh
test -n "$KEY"
curl -sS --fail-with-body -H "Authorization: $KEY" http://localhost:8080/integrations
~~~

~~~console
$ curl -sS http://127.0.0.1:8080/healthz
{"status":"ok"}
$ curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8080/integrations
401
~~~
`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := r.run(t.Context(), t.TempDir(), "inline.md", []byte(doc)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// rsInit renders examples/redshift.yaml's initial-create into run/, one file a phase.
const rsInit = "~~~sh\nintegrations render --operation initial-create -f examples/redshift.yaml -o run/\n~~~\n"

// TestRunnerFails runs small documents that must fail, and checks where and why.
func TestRunnerFails(t *testing.T) {
	needTools(t, "bash")
	r := newRunner(t)
	cases := []struct {
		name, doc string
		where     string // the failure's FILE:LINE, "" when the document is refused
		reason    string // a part of the error's text
	}{
		{"failing command", "~~~sh\ntrue\n~~~\n\n~~~sh\necho before\nfalse\necho after\n~~~\n", "inline.md:5", "exit status 1"},
		{"wrong output", "~~~console\n$ echo hi\nhi\n$ echo bye\nhello\n~~~\n", "inline.md:4", "the output or the exit status is not the document's"},
		{"wrong exit status", "~~~console\n$ echo hi; false\nhi\n~~~\n", "inline.md:2", "got (exit 1)"},
		{"output beyond the expected", "~~~console\n$ printf 'a\\nb\\n'\na\n~~~\n", "inline.md:2", "first difference at output line 2"},
		{"a variable of no block", "~~~sh\necho \"$UNSET_IN_THE_DOC\"\n~~~\n", "inline.md:1", "unbound variable"},
		{"a failing command inside a pipe", "~~~sh\nfalse | cat\n~~~\n", "inline.md:1", "exit status 1"},
		{"no such test", "~~~sh test=TestNoSuchTestAnywhere\necho hi\n~~~\n~~~sh\ntrue\n~~~\n", "", "no func TestNoSuchTestAnywhere("},
		{"unclosed block", "~~~sh\ntrue\n", "", "inline.md:1: the code block is not closed"},
		{"a bash block", "~~~bash\ntrue\n~~~\n", "", "a bash block is not run"},
		{"a block without info", "~~~\ntrue\n~~~\n", "", "no info string"},
		{"8080 without a server", "~~~sh\ncurl http://127.0.0.1:8080/healthz\n~~~\n", "", "no sh block starts integrations serve"},
		{"two servers", "~~~sh\nintegrations serve --sandbox\nintegrations serve --offline\n~~~\n", "", "inline.md:3: a second integrations serve"},
		{"a server in the background", "~~~sh\nintegrations serve --sandbox &\n~~~\n", "", "in the foreground"},
		{"another address", "~~~sh\nintegrations serve --addr 0.0.0.0:9000\n~~~\n", "", "the runner chooses the address"},
		{"a server that does not start", "~~~sh\nintegrations serve --no-such-flag\n~~~\n", "inline.md:2", "exited before it was ready"},
		{"text before a command", "~~~console\nhello\n$ echo hello\n~~~\n", "", "starts with a $ command line"},
		{"a build elsewhere", "~~~sh\ngo build -o /usr/local/bin/integrations ./cmd/integrations\n~~~\n", "", "a relative path inside the work dir"},
		{"nothing to run", "~~~yaml\na: b\n~~~\n", "", "nothing to run"},
		// The client stand-ins (clients_test.go).
		{"psql without ON_ERROR_STOP", rsInit + "~~~sh\npsql \"host=h dbname=dev\" -X -f run/1-initial-create.sql\n~~~\n", "inline.md:4", "-v ON_ERROR_STOP=1 is missing"},
		{"psql at the wrong database", rsInit + "~~~sh\npsql \"host=h dbname=immuta\" -X -v ON_ERROR_STOP=1 -f run/1-initial-create.sql\n~~~\n", "inline.md:4", "its phase line says connect to dev"},
		{"psql in one transaction", rsInit + "~~~sh\npsql \"host=h dbname=dev\" -X -1 -v ON_ERROR_STOP=1 -f run/1-initial-create.sql\n~~~\n", "inline.md:4", "run it with autocommit"},
		{"a file of two phases", "~~~sh\nintegrations render --operation initial-create -f examples/synapse.yaml > all.sql\nsqlcmd -S h -d immuta -b -I -x -i all.sql\n~~~\n", "inline.md:1", "holds 2 phases"},
		{"sqlcmd without -x", "~~~sh\nintegrations render --operation create -f examples/synapse.yaml -o run/\nsqlcmd -S h -d immuta -b -I -i run/1-create.sql\n~~~\n", "inline.md:1", "-x is missing"},
		{"snowsql on a review copy", "~~~sh\nintegrations render --operation create -f examples/snowflake.yaml --redact -o review/\nsnowsql -a A -u U -o exit_on_error=true -f review/1-create.sql\n~~~\n", "inline.md:1", "this is a review copy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := r.run(t.Context(), t.TempDir(), "inline.md", []byte(c.doc))
			if err == nil {
				t.Fatalf("the document passed:\n%s", c.doc)
			}
			var f *failure
			switch {
			case c.where == "" && errors.As(err, &f):
				t.Errorf("want the document refused, got a failed run: %v", err)
			case c.where != "" && !errors.As(err, &f):
				t.Errorf("want a failed run at %s, got: %v", c.where, err)
			case c.where != "" && f.where != c.where:
				t.Errorf("failed at %s, want %s: %v", f.where, c.where, err)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("the error does not say %q:\n%v", c.reason, err)
			}
		})
	}
	t.Run("the server's output is shown", func(t *testing.T) {
		t.Parallel()
		err := r.run(t.Context(), t.TempDir(), "inline.md", []byte("~~~sh\nintegrations serve --no-such-flag\n~~~\n"))
		var f *failure
		if !errors.As(err, &f) || !strings.Contains(f.serverLog, "no-such-flag") {
			t.Errorf("want a failure with the server's output naming the flag, got %#v", err)
		}
	})
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"", "", true},
		{"a", "a", true},
		{"a", "b", false},
		{"a", "", false},
		{"", "a", false},
		{"...", "", true},
		{"...", "a\nb", true},
		{"a\n...", "a", true},
		{"a\n...\nd", "a\nb\nc\nd", true},
		{"a\n...\nd", "a\nb\nc", false},
		{"ab...", "abc", true},
		{"ab...", "ab", true},
		{"ab...", "a", false},
		{"ab...\nc", "abz\nc", true},
		{"...\nx...\n...", "a\nxyz\nb", true},
	} {
		if got := match(splitLines(c.want), splitLines(c.got)); got != c.ok {
			t.Errorf("match(%q, %q) = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
}

func TestParse(t *testing.T) {
	doc := strings.ReplaceAll(`# Title

'''sh
echo one
'''

  ''''console
  $ echo two
  two
  ''''

'''sh test=TestDocs
not run
'''

'''go
fmt.Println("ignored")
'''
A line with 'inline' code: '''not a fence'''.
`, "'", "`")
	blocks, err := parse("x.md", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		kind  blockKind
		line  int
		lines string
		test  string
	}
	var gots []got
	for _, b := range blocks {
		gots = append(gots, got{b.kind, b.line, strings.Join(b.lines, "|"), b.test})
	}
	want := []got{
		{shell, 3, "echo one", ""},
		{console, 7, "$ echo two|two", ""},
		{covered, 12, "not run", "TestDocs"},
		{ignored, 16, `fmt.Println("ignored")`, ""},
	}
	if !slices.Equal(gots, want) {
		t.Errorf("parse:\n got %+v\nwant %+v", gots, want)
	}
}

func TestRewrite(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"go run ./cmd/integrations render -f x.yaml", "integrations render -f x.yaml"},
		{"echo $(go run ./cmd/integrations/ version)", "echo $(integrations version)"},
		{"go install ./cmd/integrations", ": doctest: skipped go install, the test binary is integrations on PATH"},
		{"bash .ci/run   # all checks", ": doctest: skipped bash .ci/run, the command that runs this test"},
		{"go build -o bin/ ./cmd/integrations", `mkdir -p 'bin' && ln -sf "$DOCTEST_BIN/integrations" 'bin/integrations'  # doctest: for 'go build -o bin/ ./cmd/integrations'`},
		{"go build ./cmd/integrations", `mkdir -p '.' && ln -sf "$DOCTEST_BIN/integrations" 'integrations'  # doctest: for 'go build ./cmd/integrations'`},
		{"go build ./cmd/integrations && bin/integrations version", "go build ./cmd/integrations && bin/integrations version"},
		{"go build ./...", "go build ./..."},
	} {
		out, serve, err := rewrite(c.in)
		if err != nil || serve || out != c.out {
			t.Errorf("rewrite(%q) = %q, %v, %v; want %q", c.in, out, serve, err, c.out)
		}
	}
	args, err := serveArgs("integrations serve --sandbox --addr 127.0.0.1:8080 --queue 5 # comment")
	if err != nil || !slices.Equal(args, []string{"--sandbox", "--queue", "5"}) {
		t.Errorf("serveArgs = %q, %v", args, err)
	}
}
