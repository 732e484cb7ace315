// Package doctest owns the test that runs the commands of the repository's documents
// (TestDocs in doctest_test.go), so that every command a document shows is run by a
// test and an example that stops working fails the build. The documents it runs are
// listed in the test's documents variable; adding one is one line.
//
// The package has no code of its own: it is the test, and this comment is its rules.
//
// # Blocks
//
// A fenced code block (``` or ~~~, at any indentation) is read by its info string:
//
//   - sh: its lines are run. All sh and console blocks of a document run, in document
//     order, as one bash script with set -euo pipefail, so a variable set in one block
//     is there in the next and a failing command fails the document. Before each block
//     and each console command the script prints a marker "--- doctest: FILE:LINE", so a
//     failure names the block or command (and shows its output).
//   - sh test=TestName: not run (for commands a document test cannot have, such as a
//     PostgreSQL at a real host); a "func TestName(" must exist in one of the
//     repository's *_test.go files, so the claim that TestName covers it cannot rot.
//   - console: lines "$ command" (a command line ending in \ continues on the next
//     line), each followed by its expected output. Each command runs in the same
//     script, its stdout and stderr together are compared with the expected lines,
//     and its exit status with 0, or with N when the last expected line is "[exit N]".
//     An expected line "..." matches any number of lines (none too); an expected line
//     that ends in "..." matches any line that starts with the rest.
//   - bash, shell, zsh, shell-session, sh-session and a block with no info string are
//     refused: a command there would silently not run. Say sh, console or what the
//     block holds (text, for a command shown but not run).
//   - anything else (yaml, json, sql, text, go, ...) is not a command and is ignored.
//
// # Rewrites
//
// The runner changes a document's commands in these ways only. The first four apply to
// a line that starts a command (a line of an sh block, the first line of a console
// command; not a line that continues one after a \), the last to every line:
//
//   - "go run ./cmd/integrations" becomes "integrations". The integrations command is
//     the test binary itself, first on PATH: it runs internal/cli as cmd/integrations
//     does.
//   - A line that only builds or installs the binary ("go build [flags]
//     ./cmd/integrations", "go install [flags] ./cmd/integrations") is not run: the
//     test binary stands in for it. A go build line's output (its -o PATH, which must
//     be a relative path whose last element is integrations, or ./integrations without
//     -o) becomes a link to the test binary, so "bin/integrations render ..." after
//     "go build -o bin/integrations ./cmd/integrations" works.
//   - A line "bash .ci/run" is not run: it is the command that runs this test.
//   - A line "integrations serve [flags]" in an sh block (at most one per document,
//     written in the foreground as a reader types it in a terminal of its own; plain
//     flags only, a trailing # comment allowed) is the server of the document. The
//     runner starts it before the script, in a fresh temporary directory (so a fresh
//     store), with the flags given and --addr 127.0.0.1:0 (a port the system picks; a
//     --addr of the default 127.0.0.1:8080 or localhost:8080 is dropped, any other is
//     refused). It reads the address from the "listening" log line and the admin key
//     from the line "integrations: new store: admin API key (shown once, keep it): KEY",
//     waits until GET /readyz answers 200 (up to 60 s, or until the server exits), and
//     replaces the line with "export KEY=<that key>", so the blocks after it have
//     $KEY. It stops the server with SIGTERM when the script ends; the server's output
//     is shown when the document fails, and a server that does not exit 0 fails it.
//   - Every "127.0.0.1:8080" and "localhost:8080" in the commands and expected output
//     becomes the server's address; a document that names them without starting a
//     server is refused.
//
// # Database clients
//
// A document cannot reach a Snowflake account, a Redshift cluster or a Synapse
// workspace, yet it should show the DBA's command that runs each phase file. So snowsql,
// psql and sqlcmd on the script's PATH are stand-ins (clients_test.go): each checks
// that its command line has the flags that stop a run at the first failing statement
// and read the file as written (snowsql -o exit_on_error=true; psql -X -v
// ON_ERROR_STOP=1, and no --single-transaction for a file with CREATE or DROP
// DATABASE; sqlcmd -b -I -x), that the file holds one phase and that the database it
// connects to (psql's dbname=, sqlcmd's -d) is the one its phase line names, then runs
// integrations check on the file, which refuses a review copy. They run no SQL.
//
// # Environment
//
// The script runs in a fresh temporary directory that holds a copy of the repository's
// examples/ folder (so -f examples/snowflake.yaml works), never in the repository. It
// gets the test's environment without INTEGRATIONS_* variables, KEY, BASH_ENV and
// CDPATH, with LC_ALL=C, GORACE=atexit_sleep_ms=0 (a -race test binary would otherwise
// wait a second at every exit) and stdin from /dev/null; the server gets the same
// environment. A document's run is bounded (2 minutes). Without bash or curl the test
// is skipped, unless CI is set (to anything), where it fails.
package doctest
