//go:build unix

package doctest_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/openintegrations/integrations/internal/cli"
	"github.com/openintegrations/integrations/render"
)

// client is what the runner demands of one database client's command line, the one a
// document tells a DBA to run a phase file with. A document cannot reach a Snowflake
// account, a Redshift cluster or a Synapse workspace, so under the client's name the
// test binary stands in for it: it checks the flags that make a run stop at the first
// failing statement and read the file as written, checks that it connects where the
// file's phase line says, and runs the engine's check on the file (which refuses a
// review copy). It runs no SQL.
type client struct {
	dialect string // of integrations check
	// required are flags that must be given: a flag alone ("-X") or a flag and its
	// value as one string ("-o exit_on_error=true"), each with the vendor page that
	// says why.
	required []string
	file     string // the flag naming the file to run
	db       string // the flag naming the database ("" when the phase line says account)
	// conninfo: the database may instead be a dbname= in a libpq connection string
	// given as an argument (psql).
	conninfo bool
	// valued are the client's other flags that take a value, so their values are not
	// read as arguments.
	valued []string
	// noTxn are flags that run the whole file in one transaction, refused for a file
	// holding a statement that cannot run in one.
	noTxn []string
}

// clients are the stand-ins, by command name.
var clients = map[string]client{
	// SnowSQL: -o exit_on_error=true ends the run at the first error with a non-zero
	// exit status; without it SnowSQL goes on with the next statement
	// (https://docs.snowflake.com/en/user-guide/snowsql-sfsql-diff, "Exit on error";
	// https://docs.snowflake.com/en/user-guide/snowsql-use).
	"snowsql": {
		dialect:  "snowflake",
		required: []string{"-o exit_on_error=true"},
		file:     "-f",
		valued:   []string{"-a", "-u", "-r", "-w", "-d", "-s", "-c", "-h", "-p", "--authenticator", "--config"},
	},
	// psql: -v ON_ERROR_STOP=1 stops at the first failing statement and exits 3;
	// without it psql goes on and exits 0. -X skips ~/.psqlrc, which could change
	// what the file does (https://www.postgresql.org/docs/current/app-psql.html).
	// --single-transaction (-1) wraps the file in BEGIN/COMMIT, where Redshift refuses
	// CREATE DATABASE and DROP DATABASE
	// (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_DATABASE.html).
	"psql": {
		dialect:  "redshift",
		required: []string{"-X", "-v ON_ERROR_STOP=1"},
		file:     "-f",
		db:       "-d",
		conninfo: true,
		valued:   []string{"-h", "-p", "-U", "-v"},
		noTxn:    []string{"-1", "--single-transaction"},
	},
	// sqlcmd: -b ends the run with a non-zero exit status when a batch fails (without
	// it sqlcmd goes on with the next batch); -I sets QUOTED_IDENTIFIER ON, which the
	// scripts' "quoted" names need; -x turns off sqlcmd's $(name) variable
	// substitution, so a value holding "$(" reaches the server as written
	// (https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility).
	"sqlcmd": {
		dialect:  "synapse",
		required: []string{"-b", "-I", "-x"},
		file:     "-i",
		db:       "-d",
		valued:   []string{"-S", "-U", "-P", "-G", "-l", "-t"},
	},
}

// clientMain is the stand-in for the client name: it checks args as client says and
// returns the exit status.
func clientMain(name string, args []string, stdout, stderr io.Writer) int {
	c := clients[name]
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s (doctest stand-in): %s\n", name, fmt.Sprintf(format, a...))
		return 1
	}
	given := map[string]bool{}
	var file, db string
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == c.file:
			file = value()
		case c.db != "" && a == c.db:
			db = value()
		case a == "-o" || a == "-v":
			given[a+" "+value()] = true
		case slices.Contains(c.valued, a):
			value()
		case strings.HasPrefix(a, "-"):
			given[a] = true
		case c.conninfo:
			for _, kv := range strings.Fields(a) {
				if v, ok := strings.CutPrefix(kv, "dbname="); ok {
					db = v
				}
			}
		default:
			return fail("unexpected argument %q", a)
		}
	}
	for _, r := range c.required {
		if !given[r] {
			return fail("%s is missing: without it a failing statement does not stop the run, or the file is not read as written", r)
		}
	}
	if file == "" {
		return fail("no %s FILE: give the phase file to run", c.file)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return fail("%v", err)
	}
	var phases []string
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, render.PhaseMarker) {
			phases = append(phases, l)
		}
	}
	if len(phases) != 1 {
		return fail("%s holds %d phases: run each phase file (render -o DIR/) on its own connection", file, len(phases))
	}
	_, rest, _ := strings.Cut(phases[0], "(connect to ")
	want, _, _ := strings.Cut(rest, ";")
	switch {
	case want == "account":
	case db != want:
		return fail("%s connects to %q, but its phase line says connect to %s", file, db, want)
	}
	for _, f := range c.noTxn {
		if given[f] && (strings.Contains(string(src), "\nCREATE DATABASE ") || strings.Contains(string(src), "\nDROP DATABASE ")) {
			return fail("%s runs %s in one transaction, where CREATE DATABASE and DROP DATABASE fail: run it with autocommit", file, f)
		}
	}
	if code := cli.Run(context.Background(), []string{"check", "--dialect", c.dialect, file}, nil, nil, io.Discard, stderr); code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "%s (doctest stand-in): %s checked; it would run connected to %s\n", name, file, want)
	return 0
}
