// Package cli implements the `integrations` command: render, check, platforms, schema,
// serve and keys (SCRIPTS.md section 7). It is a thin front end over packages platforms,
// render and sqlcheck; Run is the whole program, so tests drive it without building the
// binary.
// It owns the command line only: flags, usage, exit codes (through apierr.Classify, as
// the server) and output files. It must never be imported by the engine or the server;
// it reads the environment only through the Env it is given.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/openintegrations/integrations/internal/apierr"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Exit codes of SCRIPTS.md section 7; apierr.Classify gives an error's code.
const (
	ExitOK = apierr.ExitOK
	// ExitChanges is render --detailed-exitcode's answer for an edit that changes
	// something (CLI only: the API has no such outcome).
	ExitChanges  = 4
	ExitInvalid  = apierr.ExitInvalid
	ExitUsage    = apierr.ExitUsage
	ExitInternal = apierr.ExitInternal
)

// Env looks up an environment variable, as os.LookupEnv does. Run reads the process
// environment only through it, so tests give their own.
type Env func(name string) (string, bool)

// usage is the help text; the --dialect values come from sqlcheck's dialect table.
var usage = strings.ReplaceAll(usageText, "DIALECTS", dialectNames("|"))

const usageText = `usage: integrations <command> [flags]

commands:
  render     --operation OP [-f FILE|-] [--from OLD] [--format sql|json] [--redact] [-o OUT]
             render a script from a payload file (JSON or YAML, the API's payload)
  check      --dialect DIALECTS FILE.sql|-
             run the engine's syntax checks on a script of the engine's statement forms
  platforms  list the integration types, their script operations and phases
  schema     [TYPE]
             print the JSON Schema (2020-12) of payload files, of every type or of TYPE
  serve      [--addr 127.0.0.1:8080] [--db FILE|sqlite:FILE|postgres://...] [--offline|--sandbox]
             [--revalidate-interval 1h] [--migrate=true] [--lease 15s] [--queue 100] [--shutdown-timeout 30s]
             [--egress-allow CIDR,...] [--public-url URL] [--table-grants-role-prefix IMMUTA]
             the API server (env INTEGRATIONS_ADDR, INTEGRATIONS_DB, INTEGRATIONS_ADMIN_KEY,
             INTEGRATIONS_SECRET_KEY)
  keys       create --name NAME --permission APPLICATION_ADMIN [--db URL] | list | revoke ID|NAME
             manage API keys
  version    print the generator version

run 'integrations help COMMAND' (or COMMAND --help) for a command's flags

` + exitCodes

// exitCodes is the one description of the exit codes (apierr.Classify decides them).
const exitCodes = `exit codes: 0 ok, 1 invalid input or a failed check, 2 usage error, 3 internal error;
render --detailed-exitcode: 0 an edit with nothing to change, 4 one that changes something
`

// Run runs the command line args (without the program name) and returns the exit code.
// Cancelling ctx stops a running server as SIGTERM does in the program (main turns
// SIGINT and SIGTERM into a cancel); env gives the environment (nil: none set).
func Run(ctx context.Context, args []string, env Env, stdin io.Reader, stdout, stderr io.Writer) int {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "render":
		return runRender(args[1:], stdin, stdout, stderr)
	case "check":
		return runCheck(args[1:], stdin, stdout, stderr)
	case "platforms":
		if len(args) == 2 && isHelp(args[1]) {
			fmt.Fprintf(stdout, "usage: integrations platforms\n  list the integration types, their script operations and phases\n\n%s", exitCodes)
			return ExitOK
		}
		if len(args) > 1 {
			fmt.Fprintf(stderr, "integrations platforms: takes no arguments\n")
			return ExitUsage
		}
		return runPlatforms(stdout)
	case "version", "--version":
		if len(args) == 2 && isHelp(args[1]) {
			fmt.Fprintf(stdout, "usage: integrations version\n  print the generator version\n\n%s", exitCodes)
			return ExitOK
		}
		fmt.Fprintf(stdout, "integrations %s\n", render.Version)
		return ExitOK
	case "help", "-h", "--help":
		if len(args) == 2 && args[0] == "help" && args[1] != "help" {
			// integrations help CMD: CMD's own --help.
			return Run(ctx, []string{args[1], "--help"}, env, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return ExitOK
	case "schema":
		return runSchema(args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], env, stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], env, stdout, stderr)
	}
	fmt.Fprintf(stderr, "integrations: unknown command %q%s\n\n%s", args[0], didYouMean(args[0], []string{"render", "check", "platforms", "schema", "serve", "keys", "version", "help"}), usage)
	return ExitUsage
}

// isHelp says arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

func didYouMean(s string, cands []string) string {
	if c := platforms.Closest(s, cands); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// readInput reads FILE or stdin ("-").
// errTerminal: stdin is a terminal, so reading it would wait for typing.
var errTerminal = errors.New("no input: stdin is a terminal; give a file (-f FILE for render), or pipe the input in")

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return nil, errTerminal
		}
		return io.ReadAll(io.LimitReader(stdin, 16<<20))
	}
	return os.ReadFile(name)
}

func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("render", "--operation OP [-f FILE|-] [--from OLD] [--from-state STATE.json] [--format sql|json|state] [--redact] [-o OUT]\n  render a script from a payload file (JSON or YAML, the API's payload)")
	op := fs.String("operation", "", "operation: "+opNames())
	file := fs.String("f", "-", "payload file (JSON or YAML), - for stdin")
	from := fs.String("from", "", "old payload file, for --operation edit")
	fromState := fs.String("from-state", "", "applied state file (JSON, as --format state prints it), for --operation edit (the migration from it, or with --from an edit from it), delete, cleanup and post-cleanup (what it made)")
	format := fs.String("format", "sql", "output format: sql, json, or state (the applied state a successful create or edit records)")
	redact := fs.Bool("redact", false, "replace secrets with a placeholder (review copies)")
	detailed := fs.Bool("detailed-exitcode", false, "for --operation edit: exit 0 when there is nothing to change, 4 when the script changes something (as terraform plan -detailed-exitcode)")
	out := fs.String("o", "", "write the output to this file instead of stdout; a folder (ending in /, or existing) gets one file per phase, N-PHASE.sql, each with the script's header")
	if code, done := fs.parse(args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "integrations render: unexpected argument %q (give the payload with -f)\n", fs.Arg(0))
		return ExitUsage
	}
	if *op == "" {
		fmt.Fprintf(stderr, "integrations render: --operation is required (%s)\n", opNames())
		return ExitUsage
	}
	operation, err := platforms.ParseOperation(*op)
	if err != nil {
		fmt.Fprintf(stderr, "integrations render: %v\n", err)
		return ExitUsage
	}
	if *format != "sql" && *format != "json" && *format != "state" {
		fmt.Fprintf(stderr, "integrations render: --format must be sql or json, or state (got %q)\n", *format)
		return ExitUsage
	}
	if *format == "state" && (operation != platforms.OpCreate && operation != platforms.OpInitialCreate && operation != platforms.OpEdit || *redact) {
		fmt.Fprintf(stderr, "integrations render: --format state is for --operation create, initial-create or edit, without --redact\n")
		return ExitUsage
	}
	if *from != "" && operation != platforms.OpEdit || operation == platforms.OpEdit && *from == "" && *fromState == "" {
		fmt.Fprintf(stderr, "integrations render: --from OLD is required with --operation edit (or --from-state STATE.json), and only with it\n")
		return ExitUsage
	}
	if *fromState != "" && (operation == platforms.OpCreate || operation == platforms.OpInitialCreate) {
		fmt.Fprintf(stderr, "integrations render: --from-state is for --operation edit, delete, cleanup and post-cleanup\n")
		return ExitUsage
	}
	if n := btoi(*from == "-") + btoi(*file == "-") + btoi(*fromState == "-"); n > 1 {
		fmt.Fprintf(stderr, "integrations render: only one of -f, --from and --from-state can read stdin\n")
		return ExitUsage
	}
	fail := func(err error) int {
		c := apierr.Classify(err)
		code := c.Exit()
		if *format == "json" {
			writeJSON(stderr, c.Body)
		} else if code == ExitInternal {
			fmt.Fprintf(stderr, "integrations render: internal error: %v\n", err)
		} else {
			fmt.Fprintln(stderr, err)
		}
		return code
	}
	load := func(name string, op platforms.Operation) (*platforms.Payload, int) {
		data, err := readInput(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "integrations render: %v\n", err)
			if errors.Is(err, errTerminal) {
				return nil, ExitUsage
			}
			return nil, ExitInvalid
		}
		display := name
		if name == "-" {
			display = "<stdin>"
		}
		p, err := platforms.DecodeFor(op, data, display)
		if err != nil {
			return nil, fail(err)
		}
		return p, ExitOK
	}
	payload, code := load(*file, operation)
	if code != ExitOK {
		return code
	}
	req := render.Request{Operation: operation, Payload: payload, Redact: *redact}
	if operation == platforms.OpEdit && *from != "" {
		// The old payload's passwords are not set by the edit: no policy applies.
		if req.From, code = load(*from, platforms.OpDelete); code != ExitOK {
			return code
		}
	}
	if *fromState != "" {
		data, err := readInput(*fromState, stdin)
		if err == nil {
			req.FromState = new(render.State)
			if err = json.Unmarshal(data, req.FromState); err != nil {
				err = fmt.Errorf("%s: not an applied state: %v", *fromState, err)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "integrations render: %v\n", err)
			if errors.Is(err, errTerminal) {
				return ExitUsage
			}
			return ExitInvalid
		}
	}
	eng, err := render.Default()
	if err != nil {
		return fail(err)
	}
	script, err := eng.Render(req)
	if err != nil {
		return fail(err)
	}
	code = ExitOK
	if *detailed && operation == platforms.OpEdit {
		for _, ph := range script.Phases {
			if len(ph.Statements) > 0 {
				code = ExitChanges
			}
		}
	}
	var buf bytes.Buffer
	switch *format {
	case "state":
		// Only a script that renders has a state (it was checked above).
		st, err := eng.StateOf(req)
		if err != nil {
			return fail(err)
		}
		writeJSON(&buf, st)
	case "json":
		writeJSON(&buf, script)
	default:
		buf.WriteString(script.Script)
	}
	if *out != "" && isDir(*out) {
		if *format != "sql" {
			fmt.Fprintln(stderr, "integrations render: -o FOLDER/ writes SQL files, one per phase: drop --format json")
			return ExitUsage
		}
		if err := writePhases(*out, script.Script, *redact); err != nil {
			fmt.Fprintf(stderr, "integrations render: %v\n", err)
			return ExitInvalid
		}
		return code
	}
	if *out != "" {
		if err := writeOutput(*out, buf.Bytes(), *redact); err != nil {
			// The path is the caller's input (a missing folder, no permission): exit 1.
			fmt.Fprintf(stderr, "integrations render: %v\n", err)
			return ExitInvalid
		}
		return code
	}
	_, _ = stdout.Write(buf.Bytes())
	return code
}

// isDir says -o names a folder: it ends in a separator, or is an existing folder.
func isDir(path string) bool {
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(os.PathSeparator)) {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// writePhases writes script, split at its phase markers, into folder dir (made if
// missing): N-PHASE.sql per phase, each the script's header followed by that phase's
// part, so that each file names where it connects and can be run on its own
// connection (Redshift and Synapse phases connect to different databases). A script
// with no phase is written whole as 0-nothing.sql.
func writePhases(dir, script string, redacted bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	parts := strings.Split(script, "\n"+render.PhaseMarker)
	header := parts[0] + "\n"
	if len(parts) == 1 {
		return writeOutput(filepath.Join(dir, "0-nothing.sql"), []byte(script), redacted)
	}
	for i, part := range parts[1:] {
		// "1 of 2: cleanup (connect to ...) ====\n..."
		var n, total int
		var name string
		if _, err := fmt.Sscanf(part, "%d of %d: %s", &n, &total, &name); err != nil || n != i+1 {
			return fmt.Errorf("split the script into phases: phase %d: unexpected marker %q", i+1, firstLine(part))
		}
		body := header + render.PhaseMarker + part
		if !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		if err := writeOutput(filepath.Join(dir, fmt.Sprintf("%d-%s.sql", n, name)), []byte(body), redacted); err != nil {
			return err
		}
	}
	return nil
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// writeOutput writes a rendered script to path. A script not redacted holds the
// passwords it sets, so its file is readable by its owner only (0600, also when the
// file existed with a wider mode); a redacted review copy is 0644.
func writeOutput(path string, b []byte, redacted bool) error {
	mode := os.FileMode(0o600)
	if redacted {
		mode = 0o644
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func opNames() string {
	s := make([]string, len(platforms.Operations))
	for i, o := range platforms.Operations {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

// dialectNames joins the names of sqlcheck's dialects with sep, the last two with
// last when given: "snowflake|redshift|synapse", "snowflake, redshift or synapse".
func dialectNames(sep string, last ...string) string {
	ds := sqlcheck.Dialects()
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d)
	}
	if len(last) == 0 || len(names) < 2 {
		return strings.Join(names, sep)
	}
	return strings.Join(names[:len(names)-1], sep) + last[0] + names[len(names)-1]
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("check", "--dialect "+dialectNames("|")+" FILE.sql|-\n  run the engine's syntax checks on a script of the engine's statement forms")
	dialect := fs.String("dialect", "", dialectNames(", ", " or "))
	if code, done := fs.parse(args, stdout, stderr); done {
		return code
	}
	if *dialect == "" || fs.NArg() != 1 {
		fmt.Fprintf(stderr, "usage: integrations check --dialect %s FILE.sql|-\n", dialectNames("|"))
		return ExitUsage
	}
	d, err := sqlcheck.ParseDialect(*dialect)
	if err != nil {
		fmt.Fprintf(stderr, "integrations check: %v\n", err)
		return ExitUsage
	}
	name := fs.Arg(0)
	src, err := readInput(name, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "integrations check: %v\n", err)
		if errors.Is(err, errTerminal) {
			return ExitUsage
		}
		return ExitInvalid
	}
	if name == "-" {
		name = "<stdin>"
	}
	problems := sqlcheck.CheckScript(d, string(src))
	for _, p := range problems {
		fmt.Fprintf(stderr, "%s:%d:%d: %s\n", name, p.Pos.Line, p.Pos.Col, p.Msg)
	}
	if len(problems) > 0 {
		return ExitInvalid
	}
	fmt.Fprintf(stdout, "%s: ok\n", name)
	return ExitOK
}

func runPlatforms(stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tKEY\tAUTOBOOTSTRAP\tSCRIPT OPERATIONS\tPHASES")
	for _, p := range platforms.All() {
		auto := "true or false"
		switch p.AutoBootstrap {
		case platforms.AutoBootstrapMustBeFalse:
			auto = "false"
		case platforms.AutoBootstrapAbsent:
			auto = "absent"
		}
		ops, phases := "-", "-"
		if p.HasScripts() {
			s := make([]string, len(p.ScriptOps))
			for i, o := range p.ScriptOps {
				s[i] = string(o)
			}
			ops = strings.Join(s, ", ")
			phases = p.PhasesDoc
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Type, p.Key, auto, ops, phases)
	}
	_ = tw.Flush()
	return ExitOK
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
