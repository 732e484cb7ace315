package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/openintegrations/integrations/internal/store/storetest"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// rsPassword is the system user's password in the tests (the local server's trust
// authentication does not check it, but every message is checked not to contain it).
const rsPassword = "Passw0rd-1x"

// rsEnv is a fresh database on the local PostgreSQL, standing in for a Redshift
// cluster, with unique names for the roles a test creates.
type rsEnv struct {
	host    string
	port    int
	admin   *url.URL // the maintenance database, as the superuser
	initial string   // the maintenance database's name: the payload's initialDatabase
	db      string   // the fresh database: the payload's database
	user    string   // the system user the scripts create
	group   string   // the impersonation group the scripts create
}

func rsName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// rsSetup creates the test database (storetest) and drops the test's roles at the end.
func rsSetup(t *testing.T) *rsEnv {
	t.Helper()
	base := strings.TrimSpace(os.Getenv(storetest.PostgresEnv))
	if base == "" {
		base = storetest.DefaultPostgres
	}
	admin, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", storetest.PostgresEnv, err)
	}
	e := &rsEnv{admin: admin, initial: strings.TrimPrefix(admin.Path, "/"), user: rsName("rs_user_"), group: rsName("rs_group_")}
	if e.initial == "" {
		e.initial = "postgres"
		e.admin.Path = "/postgres"
	}
	// Registered before the database exists, so it runs after the database is dropped
	// (a role that holds privileges in a database cannot be dropped).
	t.Cleanup(func() {
		for _, role := range []string{e.user, e.group} {
			e.exec(t, e.initial, `DROP ROLE IF EXISTS `+pgx.Identifier{role}.Sanitize())
		}
	})
	u, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	e.db = strings.TrimPrefix(u.Path, "/")
	e.host = u.Hostname()
	e.port = 5432
	if u.Port() != "" {
		if e.port, err = strconv.Atoi(u.Port()); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// exec runs statements as the superuser, connected to database.
func (e *rsEnv) exec(t *testing.T, database string, stmts ...string) {
	t.Helper()
	u := *e.admin
	u.Path = "/" + database
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Errorf("connect to %s as the superuser: %v", database, err)
		return
	}
	defer conn.Close(context.Background())
	for _, st := range stmts {
		if _, err := conn.Exec(ctx, st); err != nil {
			t.Errorf("%s: %v", st, err)
		}
	}
}

// exists runs a boolean query as the superuser.
func (e *rsEnv) exists(t *testing.T, database, query string) bool {
	t.Helper()
	u := *e.admin
	u.Path = "/" + database
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connect to %s as the superuser: %v", database, err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(ctx, query).Scan(&ok); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return ok
}

// payload is the integration's payload: the system user the scripts create.
func (e *rsEnv) payload(t *testing.T, impersonation bool) *platforms.Payload {
	t.Helper()
	cfg := &platforms.Redshift{
		Host: e.host, Port: e.port, Database: e.db, InitialDatabase: e.initial,
		AuthenticationType: "userPassword", Username: e.user, Password: rsPassword,
	}
	if impersonation {
		cfg.Impersonation = platforms.Impersonation{Enabled: true, Role: e.group}
	}
	p, err := platforms.NewPayload(cfg, false)
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	return p
}

// runner is p signed in as the local server's superuser: Redshift scripts run as a
// superuser, and the payload given to Run names who runs them. It is built by hand
// because the superuser's name and password need not follow Redshift's rules.
// createAll runs p's initial-create and create scripts as runner, on a server where
// the managed database does not exist yet: the initial-create script creates it, so the
// empty one storetest made is dropped first (storetest drops it IF EXISTS at the end).
func (e *rsEnv) createAll(ctx context.Context, t *testing.T, r *Redshift, p, runner *platforms.Payload) {
	t.Helper()
	e.exec(t, e.initial, `DROP DATABASE `+pgx.Identifier{e.db}.Sanitize())
	for _, op := range []platforms.Operation{platforms.OpInitialCreate, platforms.OpCreate} {
		if err := r.Run(ctx, rsRender(t, op, p), runner, Credentials{}); err != nil {
			t.Fatalf("run %s: %v", op, err)
		}
	}
}

func (e *rsEnv) runner(p *platforms.Payload) *platforms.Payload {
	cfg := *p.Config.(*platforms.Redshift)
	cfg.Username = e.admin.User.Username()
	cfg.Password = rsPassword // trust authentication; still scrubbed from errors
	if pw, ok := e.admin.User.Password(); ok {
		cfg.Password = pw
	}
	q := *p
	q.Config = &cfg
	return &q
}

// rsRender renders op for p and translates it for the PostgreSQL stand-in (rsOnPostgres).
func rsRender(t *testing.T, op platforms.Operation, p *platforms.Payload) *render.Script {
	t.Helper()
	eng, err := render.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.Render(render.Request{Operation: op, Payload: p})
	if err != nil {
		t.Fatalf("render %s: %v", op, err)
	}
	return rsOnPostgres(s)
}

// rsDropForce is the Redshift statement DROP DATABASE "x" FORCE.
var rsDropForce = regexp.MustCompile(`^(DROP DATABASE "(?:[^"]|"")+") FORCE;$`)

// rsOnPostgres rewrites the statements of s that Redshift and PostgreSQL spell
// differently, so that the scripts run on the local stand-in; test code only, the
// engine and its checker stay Redshift-correct. The only one: Redshift's DROP DATABASE
// name FORCE (https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_DATABASE.html) is
// DROP DATABASE name WITH (FORCE) on PostgreSQL
// (https://www.postgresql.org/docs/current/sql-dropdatabase.html); both end the other
// sessions connected to the database first.
func rsOnPostgres(s *render.Script) *render.Script {
	cp := *s
	cp.Phases = make([]render.Phase, len(s.Phases))
	for i, ph := range s.Phases {
		ph.Statements = append([]render.Statement(nil), ph.Statements...)
		for j, st := range ph.Statements {
			ph.Statements[j].SQL = rsDropForce.ReplaceAllString(st.SQL, "$1 WITH (FORCE);")
		}
		cp.Phases[i] = ph
	}
	return &cp
}

func rsCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var rsOpts = Options{DisableTLS: true, ConnectTimeout: 3 * time.Second, StatementTimeout: 5 * time.Second, Egress: localEgress}

// rsWant checks a validation's outcome: every test passed except the failing ones,
// whose messages must contain the given texts; no message contains a secret.
func rsWant(t *testing.T, res Results, failing map[string][]string) {
	t.Helper()
	names := map[string]bool{}
	for _, tt := range res.Tests {
		names[tt.Name] = true
		if strings.Contains(tt.Message, rsPassword) {
			t.Errorf("%s: message contains the password: %s", tt.Name, tt.Message)
		}
		wants, fail := failing[tt.Name]
		if tt.Message != "" {
			t.Logf("%s: %s: %s", tt.Name, tt.Status, tt.Message)
		}
		switch {
		case fail && tt.Status != Failed:
			t.Errorf("%s: %s (%s), want failed", tt.Name, tt.Status, tt.Message)
		case !fail && tt.Status != Passed:
			t.Errorf("%s: %s (%s), want passed", tt.Name, tt.Status, tt.Message)
		}
		for _, w := range wants {
			if !strings.Contains(tt.Message, w) {
				t.Errorf("%s: message %q does not contain %q", tt.Name, tt.Message, w)
			}
		}
	}
	for name := range failing {
		if !names[name] {
			t.Errorf("no test %q in %+v", name, res.Tests)
		}
	}
}

// TestRedshiftLifecycle runs the real Redshift scripts on PostgreSQL and validates the
// result, then breaks one grant at a time.
func TestRedshiftLifecycle(t *testing.T) {
	e := rsSetup(t)
	ctx := rsCtx(t)
	r := NewRedshift(rsOpts)
	p := e.payload(t, true)
	runner := e.runner(p)

	e.createAll(ctx, t, r, p, runner)
	// The scripts leave PUBLIC what Immuta's Redshift setup gives it: TEMP on the
	// database (never revoked; on PostgreSQL also CONNECT, which Redshift does not have)
	// and USAGE on the three Immuta schemas.
	user, db := pgx.Identifier{e.user}.Sanitize(), pgx.Identifier{e.db}.Sanitize()
	if !e.exists(t, e.db, `SELECT has_database_privilege('public', current_database(), 'TEMP') AND has_database_privilege('public', current_database(), 'CONNECT')`) {
		t.Error("PUBLIC lost TEMP or CONNECT on the managed database")
	}
	for _, sc := range []string{"immuta_procedures", "immuta_functions", "immuta_system"} {
		if !e.exists(t, e.db, `SELECT has_schema_privilege('public', '`+sc+`', 'USAGE')`) {
			t.Errorf("PUBLIC has no USAGE on schema %s", sc)
		}
	}

	const timeout = 5 * time.Second
	all := func() Results { return Validate(ctx, r, platforms.OpCreate, p, Credentials{}, timeout) }
	res := all()
	rsWant(t, res, nil)
	if res.Status != Passed || len(res.Tests) != 4 {
		t.Fatalf("validation %s with %d tests, want passed with 4: %+v", res.Status, len(res.Tests), res.Tests)
	}
	if err := r.Verify(ctx, platforms.OpCreate, p, Credentials{}); err != nil {
		t.Fatalf("Verify(create) after the create script: %v", err)
	}
	if err := r.Verify(ctx, platforms.OpEdit, p, Credentials{}); err != nil {
		t.Fatalf("Verify(edit) after the create script: %v", err)
	}
	// Before the delete script, Verify(delete) says what is left and what removes it.
	err := r.Verify(ctx, platforms.OpDelete, p, Credentials{})
	t.Logf("Verify(delete) before the delete script: %v", err)
	for _, w := range []string{`"immuta_functions"`, `"immuta_procedures"`, `"immuta_system"`, "cleanup phase", "post-cleanup",
		"database " + db, "user " + user, "group " + pgx.Identifier{e.group}.Sanitize(), "delete script"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Verify(delete) before the delete script = %v; want a failure mentioning %s", err, w)
		}
	}

	procSig := `"immuta_procedures"."revoke_impersonation"(varchar)`
	for _, c := range []struct {
		name          string
		breakIt, mend []string
		onDB          bool // run in the managed database (else in the maintenance one)
		test          string
		want          []string
	}{
		{
			name:    "database CREATE revoked",
			breakIt: []string{`REVOKE CREATE ON DATABASE ` + db + ` FROM ` + user},
			mend:    []string{`GRANT CREATE ON DATABASE ` + db + ` TO ` + user},
			test:    redshiftTestDatabase,
			// The fix is the create script's own statement: granting TEMP again is harmless.
			want: []string{fmt.Sprintf(`user %s cannot CREATE in database %s: run GRANT TEMP, CREATE ON DATABASE %s TO %s;`, user, db, db, user),
				"part of the create script"},
		},
		{
			name: "database TEMP and CREATE revoked",
			// PUBLIC keeps TEMP on the database (Immuta's setup): take it away too.
			breakIt: []string{`REVOKE TEMP, CREATE ON DATABASE ` + db + ` FROM ` + user, `REVOKE TEMP ON DATABASE ` + db + ` FROM PUBLIC`},
			mend:    []string{`GRANT TEMP, CREATE ON DATABASE ` + db + ` TO ` + user, `GRANT TEMP ON DATABASE ` + db + ` TO PUBLIC`},
			test:    redshiftTestDatabase,
			want:    []string{fmt.Sprintf(`run GRANT TEMP, CREATE ON DATABASE %s TO %s;`, db, user)},
		},
		{
			name:    "schema owned by someone else",
			breakIt: []string{`ALTER SCHEMA immuta_functions OWNER TO CURRENT_USER`},
			mend:    []string{`ALTER SCHEMA immuta_functions OWNER TO ` + user},
			onDB:    true,
			test:    redshiftTestPrivileges,
			want:    []string{`schema "immuta_functions" in database ` + db + ` is owned by`, `run ALTER SCHEMA "immuta_functions" OWNER TO ` + user + `;`},
		},
		{
			name:    "schema dropped",
			breakIt: []string{`DROP SCHEMA immuta_system`},
			mend:    []string{`CREATE SCHEMA immuta_system AUTHORIZATION ` + user},
			onDB:    true,
			test:    redshiftTestPrivileges,
			want:    []string{`schema "immuta_system" does not exist in database ` + db, `run CREATE SCHEMA IF NOT EXISTS "immuta_system" AUTHORIZATION ` + user + `;`},
		},
		{
			name:    "procedure EXECUTE revoked",
			breakIt: []string{`REVOKE EXECUTE ON PROCEDURE immuta_procedures.revoke_impersonation(varchar) FROM ` + user},
			mend:    []string{`GRANT EXECUTE ON PROCEDURE immuta_procedures.revoke_impersonation(varchar) TO ` + user},
			onDB:    true,
			test:    redshiftTestImpersonation,
			want:    []string{fmt.Sprintf(`user %s cannot EXECUTE procedure %s: run GRANT EXECUTE ON PROCEDURE %s TO %s;`, user, procSig, procSig, user)},
		},
		{
			name:    "group dropped",
			breakIt: []string{`DROP GROUP ` + pgx.Identifier{e.group}.Sanitize()},
			mend:    []string{`CREATE GROUP ` + pgx.Identifier{e.group}.Sanitize()},
			test:    redshiftTestImpersonation,
			want:    []string{fmt.Sprintf(`impersonation group %s does not exist: run CREATE GROUP %s;`, pgx.Identifier{e.group}.Sanitize(), pgx.Identifier{e.group}.Sanitize())},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			where := e.initial
			if c.onDB {
				where = e.db
			}
			e.exec(t, where, c.breakIt...)
			defer e.exec(t, where, c.mend...)
			rsWant(t, all(), map[string][]string{c.test: c.want})
			err := r.Verify(ctx, platforms.OpCreate, p, Credentials{})
			if err == nil {
				t.Fatal("Verify(create) passed with the setup broken")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Verify(create) = %q; want it to contain %q", err, w)
				}
			}
		})
	}
	rsWant(t, all(), nil) // mended

	if err := r.Run(ctx, rsRender(t, platforms.OpDelete, p), runner, Credentials{}); err != nil {
		t.Fatalf("run delete: %v", err)
	}
	if err := r.Verify(ctx, platforms.OpDelete, p, Credentials{}); err != nil {
		t.Fatalf("Verify(delete) after the delete script: %v", err)
	}
	if e.exists(t, e.initial, fmt.Sprintf(`SELECT count(*) > 0 FROM pg_roles WHERE rolname IN ('%s', '%s')`, e.user, e.group)) {
		t.Error("the delete script left the user or the group")
	}
	// Gone, Basic Connection Test says what to run.
	res = all()
	if got := res.Tests[0]; got.Status != Failed || !strings.Contains(got.Message, "initial-create script") {
		t.Errorf("Basic Connection Test after delete: %s %q; want a failure naming the initial-create script", got.Status, got.Message)
	}
}

// TestRedshiftEditUsername: the edit that changes config.username renames the user, so
// the tables the service made in its schemas stay with it (none is left to the old
// name), and the new user passes Verify(create).
func TestRedshiftEditUsername(t *testing.T) {
	e := rsSetup(t)
	ctx := rsCtx(t)
	r := NewRedshift(rsOpts)
	p := e.payload(t, false)
	runner := e.runner(p)
	e.createAll(ctx, t, r, p, runner)
	// The service's own table, made as the system user.
	e.exec(t, e.db, `SET ROLE `+pgx.Identifier{e.user}.Sanitize(), `CREATE TABLE immuta_system.state (x int)`, `RESET ROLE`)

	newUser := rsName("rs_user_")
	cfg := *p.Config.(*platforms.Redshift)
	cfg.Username = newUser
	q, err := platforms.NewPayload(&cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := render.Default()
	if err != nil {
		t.Fatal(err)
	}
	edit, err := eng.Render(render.Request{Operation: platforms.OpEdit, From: p, Payload: q})
	if err != nil {
		t.Fatalf("render edit: %v", err)
	}
	if err := r.Run(ctx, rsOnPostgres(edit), e.runner(q), Credentials{}); err != nil {
		t.Fatalf("run edit: %v", err)
	}
	oldUser := e.user
	e.user = newUser // rsSetup's cleanup drops the user under its new name
	if !e.exists(t, e.db, `SELECT tableowner = '`+newUser+`' FROM pg_tables WHERE schemaname = 'immuta_system' AND tablename = 'state'`) {
		t.Error("the service's table is not owned by the renamed user")
	}
	if e.exists(t, e.initial, `SELECT count(*) > 0 FROM pg_roles WHERE rolname = '`+oldUser+`'`) {
		t.Error("the old user name still exists")
	}
	if err := r.Verify(ctx, platforms.OpCreate, q, Credentials{}); err != nil {
		t.Fatalf("Verify(create) as the renamed user: %v", err)
	}
	if err := r.Run(ctx, rsRender(t, platforms.OpDelete, q), e.runner(q), Credentials{}); err != nil {
		t.Fatalf("run delete: %v", err)
	}
}

// TestRedshiftGuard: initial-create stops at its first statement, the guard, when the
// user's name is taken, and makes nothing (the database is not created).
func TestRedshiftGuard(t *testing.T) {
	e := rsSetup(t)
	ctx := rsCtx(t)
	r := NewRedshift(rsOpts)
	p := e.payload(t, true)
	e.exec(t, e.initial, `DROP DATABASE `+pgx.Identifier{e.db}.Sanitize(), `CREATE USER `+pgx.Identifier{e.user}.Sanitize())
	s := rsRender(t, platforms.OpInitialCreate, p)
	// The script marks the guard with a comment line just above it.
	first := s.Phases[0].Statements[0]
	if !strings.Contains(s.Script, "-- guard: changes nothing; it fails if a name this script creates is already taken, and then nothing was made\n"+first.SQL) {
		t.Fatalf("the first statement of initial-create is not the guard: %s", first.SQL)
	}
	err := r.Run(ctx, s, e.runner(p), Credentials{})
	var re *RunError
	if !errors.As(err, &re) || re.Index != 1 || !strings.Contains(err.Error(), "user already exists: "+e.user) {
		t.Fatalf("initial-create with the user taken = %v; want the guard (statement 1) to fail naming the user", err)
	}
	if e.exists(t, e.initial, `SELECT count(*) > 0 FROM pg_database WHERE datname = '`+e.db+`'`) {
		t.Error("initial-create made the database although its guard failed")
	}
}

// TestRedshiftVerifyDeletePartial: after only the cleanup phase, Verify(delete) reports
// what the post-cleanup phase removes.
func TestRedshiftVerifyDeletePartial(t *testing.T) {
	e := rsSetup(t)
	ctx := rsCtx(t)
	r := NewRedshift(rsOpts)
	p := e.payload(t, false)
	runner := e.runner(p)
	e.createAll(ctx, t, r, p, runner)
	del := rsRender(t, platforms.OpDelete, p)
	if len(del.Phases) != 2 || del.Phases[0].Name != "cleanup" {
		t.Fatalf("delete phases %+v, want cleanup and post-cleanup", del.Phases)
	}
	// The first phase only, then the database as well: the user stays.
	del.Phases = del.Phases[:1]
	if err := r.Run(ctx, del, runner, Credentials{}); err != nil {
		t.Fatalf("run cleanup: %v", err)
	}
	e.exec(t, e.initial, `DROP DATABASE `+pgx.Identifier{e.db}.Sanitize())
	err := r.Verify(ctx, platforms.OpDelete, p, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "user "+pgx.Identifier{e.user}.Sanitize()+" still exists") ||
		strings.Contains(err.Error(), "schemas") || strings.Contains(err.Error(), rsPassword) {
		t.Fatalf("Verify(delete) with the user left = %v; want a failure naming the user only", err)
	}
}

// TestRedshiftRunStops: a failing statement stops the script where it fails.
func TestRedshiftRunStops(t *testing.T) {
	e := rsSetup(t)
	ctx := rsCtx(t)
	r := NewRedshift(rsOpts)
	runner := e.runner(e.payload(t, false))
	s := &render.Script{Type: "Redshift", Operation: "create", Phases: []render.Phase{
		{Name: "first", ConnectTo: e.db, Statements: []render.Statement{{SQL: "CREATE TABLE rs_a (x int)"}}},
		{Name: "second", ConnectTo: e.db, Statements: []render.Statement{
			{SQL: "CREATE TABLE rs_b (x int)"},
			// PostgreSQL echoes the value: the error must not.
			{SQL: "SELECT '" + rsPassword + "'::int"},
			{SQL: "CREATE TABLE rs_c (x int)"},
		}},
		{Name: "third", ConnectTo: e.db, Statements: []render.Statement{{SQL: "CREATE TABLE rs_d (x int)"}}},
	}}
	err := r.Run(ctx, s, runner, Credentials{})
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("Run = %v, want a *RunError", err)
	}
	if re.Phase != "second" || re.Index != 2 {
		t.Errorf("RunError at phase %q statement %d, want second, 2", re.Phase, re.Index)
	}
	if msg := err.Error(); strings.Contains(msg, rsPassword) || !strings.Contains(msg, "invalid input syntax") || !strings.Contains(msg, platforms.Redacted) {
		t.Errorf("Run error %q: want PostgreSQL's message with the password redacted", msg)
	}
	for table, want := range map[string]bool{"rs_a": true, "rs_b": true, "rs_c": false, "rs_d": false} {
		if got := e.exists(t, e.db, `SELECT to_regclass('`+table+`') IS NOT NULL`); got != want {
			t.Errorf("table %s exists: %v, want %v", table, got, want)
		}
	}
}

// TestRedshiftUnreachable: connection failures are quick and say where they went.
func TestRedshiftUnreachable(t *testing.T) {
	payload := func(t *testing.T, host string, port int) *platforms.Payload {
		p, err := platforms.NewPayload(&platforms.Redshift{Host: host, Port: port, Database: "immuta",
			AuthenticationType: "userPassword", Username: "immuta_system", Password: rsPassword}, false)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := rsCtx(t)

	t.Run("refused", func(t *testing.T) {
		r := NewRedshift(Options{DisableTLS: true, ConnectTimeout: 2 * time.Second, Egress: localEgress})
		p := payload(t, "127.0.0.1", 1)
		start := time.Now()
		err := r.Check(ctx, redshiftTestConnection, p, Credentials{})
		if err == nil || !strings.Contains(err.Error(), "cannot connect to Redshift at 127.0.0.1:1") ||
			!strings.Contains(err.Error(), "security group") || strings.Contains(err.Error(), rsPassword) {
			t.Fatalf("Check = %v; want a connection failure naming 127.0.0.1:1 and what to check", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s, more than the connect timeout", d)
		}
		// The connection test fails naming the address; the tests after it are skipped
		// rather than each waiting for the same unreachable server.
		res := Validate(ctx, r, platforms.OpCreate, p, Credentials{}, 5*time.Second)
		for i, tt := range res.Tests[:3] {
			want, says := Skipped, "Basic Connection Test failed"
			if i == 0 {
				want, says = Failed, "127.0.0.1:1"
			}
			if tt.Status != want || !strings.Contains(tt.Message, says) {
				t.Errorf("%s: %s %q, want %s saying %q", tt.Name, tt.Status, tt.Message, want, says)
			}
		}
		var re *RunError
		script := &render.Script{Phases: []render.Phase{{Name: "create", ConnectTo: "immuta", Statements: []render.Statement{{SQL: "SELECT 1"}}}}}
		if err := r.Run(ctx, script, p, Credentials{}); !errors.As(err, &re) || re.Phase != "create" || re.Index != 0 || !strings.Contains(re.Error(), "127.0.0.1:1") {
			t.Errorf("Run = %v; want a RunError of phase create, index 0, naming the address", err)
		}
		if err := r.Verify(ctx, platforms.OpDelete, p, Credentials{}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Verify(delete) of an unreachable cluster = %v; want a connection failure, not success", err)
		}
	})

	t.Run("silent", func(t *testing.T) {
		// A server that accepts the connection and never answers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var conns []net.Conn
		defer func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		r := NewRedshift(Options{DisableTLS: true, ConnectTimeout: 300 * time.Millisecond, Egress: localEgress})
		port := ln.Addr().(*net.TCPAddr).Port
		start := time.Now()
		err = r.Check(ctx, redshiftTestConnection, payload(t, "127.0.0.1", port), Credentials{})
		if err == nil || !strings.Contains(err.Error(), "did not answer within the connect timeout (300ms)") {
			t.Fatalf("Check = %v; want a connect timeout failure", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s with a 300ms connect timeout", d)
		}
	})
}

// rsFakeServer speaks just enough of the PostgreSQL protocol to ask for a password and
// refuse it, echoing it in the error (as no real server should, to test the scrubbing).
// It records the passwords it got, and refuses TLS (answers SSL requests with 'N').
func rsFakeServer(t *testing.T) (port int, got func() []string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var passwords []string
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				be := pgproto3.NewBackend(c, c)
				msg, err := be.ReceiveStartupMessage()
				if _, ok := msg.(*pgproto3.SSLRequest); ok {
					if _, err := c.Write([]byte("N")); err != nil {
						return
					}
					msg, err = be.ReceiveStartupMessage()
				}
				sm, ok := msg.(*pgproto3.StartupMessage)
				if err != nil || !ok {
					return
				}
				be.Send(&pgproto3.AuthenticationCleartextPassword{})
				if be.Flush() != nil || be.SetAuthType(pgproto3.AuthTypeCleartextPassword) != nil {
					return
				}
				m, err := be.Receive()
				pm, ok := m.(*pgproto3.PasswordMessage)
				if err != nil || !ok {
					return
				}
				mu.Lock()
				passwords = append(passwords, pm.Password)
				mu.Unlock()
				be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01",
					Message: fmt.Sprintf("password authentication failed for user %q (password %q)", sm.Parameters["user"], pm.Password)})
				_ = be.Flush()
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), passwords...)
	}
}

// TestRedshiftWrongPassword: the local PostgreSQL trusts every local connection, so a
// server that checks passwords is faked at the protocol level.
func TestRedshiftWrongPassword(t *testing.T) {
	ctx := rsCtx(t)
	port, got := rsFakeServer(t)
	// Characters a URL would mangle reach the server as they are.
	const pw = "Pa%3Ass#w0rd?x=1&:"
	p, err := platforms.NewPayload(&platforms.Redshift{Host: "127.0.0.1", Port: port, Database: "immuta",
		AuthenticationType: "userPassword", Username: "Immuta_System", Password: pw}, false)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRedshift(Options{DisableTLS: true, ConnectTimeout: 2 * time.Second, Egress: localEgress})
	err = r.Check(ctx, redshiftTestConnection, p, Credentials{})
	if err == nil || strings.Contains(err.Error(), pw) ||
		!strings.Contains(err.Error(), `password authentication failed for user "immuta_system"`) ||
		!strings.Contains(err.Error(), "config.password") {
		t.Fatalf("Check = %v; want a password failure naming the user and config.password, without the password", err)
	}
	if g := got(); len(g) == 0 || g[0] != pw {
		t.Errorf("the server got passwords %q, want %q", g, pw)
	}
	res := Validate(ctx, r, platforms.OpCreate, p, Credentials{}, 5*time.Second)
	if res.Status != Failed || res.Tests[0].Status != Failed || strings.Contains(fmt.Sprint(res), pw) {
		t.Errorf("Validate = %+v; want failed, without the password", res)
	}
	// Credentials replace the config's user and password.
	if err := r.Check(ctx, redshiftTestConnection, p, Credentials{Username: "other", Password: "Other-Secret-1"}); err == nil ||
		strings.Contains(err.Error(), "Other-Secret-1") || !strings.Contains(err.Error(), `user "other"`) {
		t.Errorf("Check with credentials = %v; want a failure for user other without its password", err)
	}

	t.Run("TLS required", func(t *testing.T) {
		before := len(got())
		err := NewRedshift(Options{ConnectTimeout: 2 * time.Second, Egress: localEgress}).Check(ctx, redshiftTestConnection, p, Credentials{})
		if err == nil || !strings.Contains(err.Error(), "refused TLS") {
			t.Fatalf("Check with TLS against a server without it = %v; want a TLS failure", err)
		}
		if n := len(got()); n != before {
			t.Errorf("the server got %d passwords after refusing TLS; want none", n-before)
		}
	})
}

// TestRedshiftAccessKey: IAM sign-in is not implemented; every test says so.
func TestRedshiftAccessKey(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	p, err := platforms.NewPayload(&platforms.Redshift{Host: "127.0.0.1", Port: 1, Database: "immuta",
		AuthenticationType: "accessKey", Username: "immuta_system",
		AWSAccessKeyID: "AKIAIOSFODNN7EXAMPLE", AWSSecretAccessKey: secret, AWSRegion: "us-east-1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := rsCtx(t)
	r := NewRedshift(Options{DisableTLS: true, Egress: localEgress})
	for _, name := range []string{redshiftTestConnection, redshiftTestDatabase, redshiftTestPrivileges} {
		err := r.Check(ctx, name, p, Credentials{})
		if err == nil || !strings.Contains(err.Error(), "IAM credentials flow") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v; want a failure naming the IAM credentials flow", name, err)
		}
	}
	// Through Validate, the connection test fails and the rest are skipped.
	res := Validate(ctx, r, platforms.OpCreate, p, Credentials{}, 5*time.Second)
	if res.Tests[0].Status != Failed || !strings.Contains(res.Tests[0].Message, "IAM credentials flow") {
		t.Errorf("connection test: %+v", res.Tests[0])
	}
	for _, op := range []platforms.Operation{platforms.OpCreate, platforms.OpDelete} {
		if err := r.Verify(ctx, op, p, Credentials{}); err == nil || !strings.Contains(err.Error(), "IAM credentials flow") {
			t.Errorf("Verify(%s) = %v; want the IAM credentials flow failure", op, err)
		}
	}
}

func TestRedshiftUnknownTest(t *testing.T) {
	err := NewRedshift(Options{}).Check(context.Background(), "No Such Test", nil, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "No Such Test") {
		t.Fatalf("Check(unknown) = %v", err)
	}
}
