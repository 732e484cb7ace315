package connector

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openintegrations/integrations/internal/connector/recorddriver"
	"github.com/openintegrations/integrations/render"
)

// recOpener opens pools on the recording driver, one target per ConnectTo.
func recOpener(d *recorddriver.Driver) Opener {
	return func(_ context.Context, connectTo string) (*sql.DB, error) {
		return sql.OpenDB(d.Connector(connectTo)), nil
	}
}

func runScript(phases ...render.Phase) *render.Script {
	return &render.Script{Type: "test", Operation: "create", Phases: phases}
}

func phase(name, target string, sqls ...string) render.Phase {
	ph := render.Phase{Name: name, ConnectTo: target}
	for _, s := range sqls {
		ph.Statements = append(ph.Statements, render.Statement{SQL: s})
	}
	return ph
}

func TestRunPhasesOrderAndConnections(t *testing.T) {
	d := recorddriver.New()
	s := runScript(
		phase("initial-create", "master", "CREATE LOGIN a;", "CREATE LOGIN b;"),
		phase("create", "db", "CREATE USER a;", "CREATE USER b;", "GRANT x;"),
		phase("post", "master", "ALTER LOGIN a;"),
	)
	if err := RunPhases(context.Background(), s, recOpener(d), time.Second, nil); err != nil {
		t.Fatal(err)
	}
	log := d.Log()
	want := []recorddriver.Exec{
		{Target: "master", Conn: 1, SQL: "CREATE LOGIN a;"},
		{Target: "master", Conn: 1, SQL: "CREATE LOGIN b;"},
		{Target: "db", Conn: 2, SQL: "CREATE USER a;"},
		{Target: "db", Conn: 2, SQL: "CREATE USER b;"},
		{Target: "db", Conn: 2, SQL: "GRANT x;"},
		{Target: "master", Conn: 3, SQL: "ALTER LOGIN a;"},
	}
	if len(log) != len(want) {
		t.Fatalf("log %v", log)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Errorf("statement %d: %+v, want %+v", i, log[i], want[i])
		}
	}
	if n := d.OpenConns(); n != 0 {
		t.Errorf("%d connections left open", n)
	}
}

func TestRunPhasesStopsAtFirstFailure(t *testing.T) {
	d := recorddriver.New()
	const secret = "S3cr3t-Passw0rd"
	d.FailOn("CREATE USER b", &pgconn.PgError{Code: "42601", Message: "syntax error near '" + secret + "' in CREATE USER b"})
	s := runScript(
		phase("initial-create", "master", "CREATE LOGIN a;"),
		phase("create", "db", "CREATE USER a;", "CREATE USER b;", "GRANT x;"),
		phase("post", "master", "ALTER LOGIN a;"),
	)
	err := RunPhases(context.Background(), s, recOpener(d), time.Second, []string{secret})
	var re *RunError
	if !errors.As(err, &re) || re.Phase != "create" || re.Index != 2 {
		t.Fatalf("err %#v", err)
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "<REDACTED>") {
		t.Errorf("secret not redacted: %v", err)
	}
	log := d.Log()
	if len(log) != 3 || log[len(log)-1].SQL != "CREATE USER b;" {
		t.Errorf("statements after the failure ran: %v", log)
	}
	if n := d.OpenConns(); n != 0 {
		t.Errorf("%d connections left open", n)
	}
}

func TestRunPhasesConnectionFailure(t *testing.T) {
	d := recorddriver.New()
	const secret = "pw-in-dsn"
	d.FailConnect("db", &pgconn.PgError{Code: "28P01", Message: "login failed for user u with password " + secret})
	s := runScript(
		phase("initial-create", "master", "CREATE LOGIN a;"),
		phase("create", "db", "CREATE USER a;"),
	)
	err := RunPhases(context.Background(), s, recOpener(d), time.Second, []string{secret})
	var re *RunError
	if !errors.As(err, &re) || re.Phase != "create" || re.Index != 0 {
		t.Fatalf("err %#v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("secret in %v", err)
	}
	if len(d.Log()) != 1 {
		t.Errorf("log %v", d.Log())
	}
	// An opener that fails has index 0 too.
	boom := func(context.Context, string) (*sql.DB, error) { return nil, errors.New("no route") }
	err = RunPhases(context.Background(), s, boom, time.Second, nil)
	if !errors.As(err, &re) || re.Phase != "initial-create" || re.Index != 0 {
		t.Fatalf("opener failure: %#v", err)
	}
}

func TestRunPhasesStatementTimeout(t *testing.T) {
	d := recorddriver.New()
	d.Delay("SLOW", time.Minute)
	s := runScript(phase("create", "db", "FAST;", "SLOW;", "NEVER;"))
	start := time.Now()
	err := RunPhases(context.Background(), s, recOpener(d), 30*time.Millisecond, nil)
	var re *RunError
	if !errors.As(err, &re) || re.Index != 2 || !strings.Contains(err.Error(), "did not finish within 30ms") {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Error("the timeout was not applied")
	}
	for _, e := range d.Log() {
		if e.SQL == "NEVER;" {
			t.Error("a statement after the timeout ran")
		}
	}
	// The caller's own deadline is reported as such.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = RunPhases(ctx, s, recOpener(d), time.Minute, nil)
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") {
		t.Errorf("caller deadline: %v", err)
	}
}

func TestRunPhasesScriptPasswords(t *testing.T) {
	s := runScript(
		phase("create", "account",
			`CREATE USER IF NOT EXISTS "U";`,
			`ALTER USER IF EXISTS "U" SET PASSWORD = 'a''b\\c PASSWORD = ';`,
			`ALTER USER IF EXISTS "V" SET PASSWORD = 'second';`),
	)
	got := liveSQLPasswords(s, true)
	if len(got) != 2 || got[0] != `a'b\c PASSWORD = ` || got[1] != "second" {
		t.Errorf("snowflake: %q", got)
	}
	s = runScript(phase("initial-create", "master",
		`IF NOT EXISTS (SELECT 1 FROM sys.sql_logins WHERE name = N'x') CREATE LOGIN [x] WITH PASSWORD = N'p''q\r';`))
	if got := liveSQLPasswords(s, false); len(got) != 1 || got[0] != `p'q\r` {
		t.Errorf("synapse: %q", got)
	}
}
