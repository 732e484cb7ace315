package cli_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/cli"
)

// Every command's --help exits 0 with its usage on stdout, flags spelled --name;
// `help CMD` is CMD --help; a misspelt flag is a usage error with a did-you-mean.
func TestHelpAndFlagErrors(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		stdout     string // a line stdout must contain ("" none expected)
		stderr     string // a line stderr must contain ("" none expected)
		stdoutNone bool
	}{
		{args: []string{"render", "--help"}, code: cli.ExitOK, stdout: "  --operation string"},
		{args: []string{"render", "-h"}, code: cli.ExitOK, stdout: "usage: integrations render --operation OP"},
		{args: []string{"help", "render"}, code: cli.ExitOK, stdout: "usage: integrations render --operation OP"},
		{args: []string{"check", "--help"}, code: cli.ExitOK, stdout: "  --dialect string"},
		{args: []string{"help", "check"}, code: cli.ExitOK, stdout: "usage: integrations check --dialect"},
		{args: []string{"serve", "--help"}, code: cli.ExitOK, stdout: "  --addr string"},
		{args: []string{"help", "serve"}, code: cli.ExitOK, stdout: "usage: integrations serve [flags]"},
		{args: []string{"keys", "--help"}, code: cli.ExitOK, stdout: "usage: integrations keys create --name NAME"},
		{args: []string{"help", "keys"}, code: cli.ExitOK, stdout: "usage: integrations keys create --name NAME"},
		{args: []string{"keys", "create", "--help"}, code: cli.ExitOK, stdout: "  --permission value"},
		{args: []string{"keys", "revoke", "--help"}, code: cli.ExitOK, stdout: "usage: integrations keys revoke"},
		{args: []string{"platforms", "--help"}, code: cli.ExitOK, stdout: "usage: integrations platforms"},
		{args: []string{"help", "platforms"}, code: cli.ExitOK, stdout: "usage: integrations platforms"},
		{args: []string{"version", "--help"}, code: cli.ExitOK, stdout: "usage: integrations version"},
		{args: []string{"schema", "--help"}, code: cli.ExitOK, stdout: "usage: integrations schema [TYPE]"},
		{args: []string{"help", "schema"}, code: cli.ExitOK, stdout: "usage: integrations schema [TYPE]"},
		{args: []string{"schema", "snowflak"}, code: cli.ExitUsage, stdoutNone: true,
			stderr: `integrations schema: unknown type "snowflak" (did you mean "Snowflake"?)`},
		{args: []string{"help"}, code: cli.ExitOK, stdout: "exit codes: 0 ok, 1 invalid input or a failed check, 2 usage error, 3 internal error"},
		{args: []string{"render", "--operatoin", "create"}, code: cli.ExitUsage, stdoutNone: true,
			stderr: `integrations render: unknown flag -operatoin (did you mean "--operation"?)`},
		{args: []string{"check", "--dialcet", "snowflake", "x.sql"}, code: cli.ExitUsage, stdoutNone: true,
			stderr: `integrations check: unknown flag -dialcet (did you mean "--dialect"?)`},
		{args: []string{"keys", "create", "--nam", "ci"}, code: cli.ExitUsage, stdoutNone: true,
			stderr: `integrations keys create: unknown flag -nam (did you mean "--name"?)`},
		{args: []string{"serve", "--adr", "x"}, code: cli.ExitUsage, stdoutNone: true,
			stderr: `integrations serve: unknown flag -adr (did you mean "--addr"?)`},
		{args: []string{"render", "--operation"}, code: cli.ExitUsage, stdoutNone: true,
			stderr: "integrations render: flag needs an argument: -operation (see integrations render --help)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), tt.args, nil, strings.NewReader(""), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			if tt.stdout != "" && !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if tt.stderr != "" && !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
			if tt.stdoutNone && stdout.Len() > 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
			if tt.code == cli.ExitOK && stderr.Len() > 0 {
				t.Errorf("stderr of a help: %s", stderr.String())
			}
		})
	}
}

// render -o: a script that is not redacted (it holds passwords) is written 0600, even
// over a file that was 0644; a redacted copy 0644; an unwritable path is invalid
// input (exit 1), not an internal error.
func TestRenderOutputFile(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.sql")
	if err := os.WriteFile(existing, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		out    string
		redact bool
		code   int
		mode   os.FileMode
	}{
		{"plain", filepath.Join(dir, "real.sql"), false, cli.ExitOK, 0o600},
		{"plain over a 0644 file", existing, false, cli.ExitOK, 0o600},
		{"redacted", filepath.Join(dir, "review.sql"), true, cli.ExitOK, 0o644},
		{"unwritable", filepath.Join(dir, "missing", "x.sql"), false, cli.ExitInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"render", "--operation", "create", "-f", "../../examples/snowflake.yaml", "-o", tt.out}
			if tt.redact {
				args = append(args, "--redact")
			}
			var stdout, stderr bytes.Buffer
			if code := cli.Run(context.Background(), args, nil, strings.NewReader(""), &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			if tt.mode == 0 {
				return
			}
			fi, err := os.Stat(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.mode {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tt.mode)
			}
		})
	}
}

// serve on a busy port fails before it makes the new store's one-time admin key, so
// the start that does listen prints it.
func TestServeBusyPortPrintsNoKey(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := filepath.Join(t.TempDir(), "s.db")
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"serve", "--addr", busy.Addr().String(), "--db", db, "--offline"}, nil, strings.NewReader(""), &stdout, &stderr)
	if code == cli.ExitOK {
		t.Fatalf("serve on a busy port exited 0: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "admin API key") {
		t.Errorf("a failed start printed the one-time key:\n%s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := cli.Run(context.Background(), []string{"keys", "list", "--db", db}, nil, strings.NewReader(""), &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("keys list: exit %d: %s", code, stderr.String())
	}
	if strings.Contains(stdout.String(), "admin") {
		t.Errorf("a failed start stored an admin key nobody saw:\n%s", stdout.String())
	}
}

// render --detailed-exitcode: an edit with nothing to change exits 0, one that changes
// something 4 (the script is written either way); without the flag, or for another
// operation, 0.
func TestDetailedExitCode(t *testing.T) {
	const from, to = "../../examples/snowflake.yaml", "../../examples/snowflake-audit.yaml"
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"edit of nothing", []string{"render", "--operation", "edit", "--from", from, "-f", from, "--detailed-exitcode"}, cli.ExitOK},
		{"edit with changes", []string{"render", "--operation", "edit", "--from", from, "-f", to, "--detailed-exitcode"}, cli.ExitChanges},
		{"edit with changes, no flag", []string{"render", "--operation", "edit", "--from", from, "-f", to}, cli.ExitOK},
		{"create with the flag", []string{"render", "--operation", "create", "-f", to, "--detailed-exitcode"}, cli.ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := cli.Run(context.Background(), tt.args, nil, strings.NewReader(""), &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), "-- Snowflake ") {
				t.Errorf("no script on stdout: %q", stdout.String())
			}
		})
	}
}

// render -o FOLDER/: one file per phase, N-PHASE.sql, each the script's header and that
// phase's statements only, each accepted by check on its own.
func TestRenderOnePhasePerFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out") + "/"
	var stdout, stderr bytes.Buffer
	args := []string{"render", "--operation", "delete", "-f", "../../examples/redshift.yaml", "-o", dir}
	if code := cli.Run(context.Background(), args, nil, strings.NewReader(""), &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := map[string]string{ // file: the one phase marker it must hold
		"1-cleanup.sql":      "-- ==== phase 1 of 2: cleanup (connect to immuta;",
		"2-post-cleanup.sql": "-- ==== phase 2 of 2: post-cleanup (connect to dev;",
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != len(want) {
		t.Fatalf("files %v, %v; want %d", entries, err, len(want))
	}
	for name, marker := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !strings.HasPrefix(text, "-- Redshift delete script\n") || !strings.Contains(text, marker) || strings.Count(text, "-- ==== phase ") != 1 {
			t.Errorf("%s: want the header and exactly the marker %q:\n%s", name, marker, text)
		}
		var so, se bytes.Buffer
		if code := cli.Run(context.Background(), []string{"check", "--dialect", "redshift", filepath.Join(dir, name)}, nil, strings.NewReader(""), &so, &se); code != cli.ExitOK {
			t.Errorf("check %s: exit %d: %s", name, code, se.String())
		}
	}
	if code := cli.Run(context.Background(), append(args, "--format", "json"), nil, strings.NewReader(""), &stdout, &stderr); code != cli.ExitUsage {
		t.Errorf("-o FOLDER/ with --format json: exit %d, want 2", code)
	}
}
