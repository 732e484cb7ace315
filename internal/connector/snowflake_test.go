package connector

//lint:file-ignore SA1019 gosnowflake v1.19 marks its timeout and credential-cache settings deprecated ("may be reorganized"), yet they are its only way to bound sign-in and requests and to keep tokens off disk.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/openintegrations/integrations/internal/connector/recorddriver"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Secrets of the Snowflake test payloads: none may reach an error.
const (
	sfBootPW = "B00tstrap-Secret-pw"
	sfSysPW  = "Generated-Sys-Passw0rd-123456789"
)

const sfAutoDoc = `{"type":"Snowflake","autoBootstrap":true,"config":{"host":"acct-x.us-east-1.snowflakecomputing.com","warehouse":"WH","database":"IMMUTA_DB","authenticationType":"userPassword","username":"BOOT","password":"` + sfBootPW + `","role":"SETUP_ROLE","impersonation":{"enabled":true},"audit":{"enabled":true},"workspaces":{"enabled":true}}}`

const sfManualDoc = `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"acct-x.snowflakecomputing.com","warehouse":"WH","database":"IMMUTA_DB","authenticationType":"userPassword","username":"IMMUTA_SYS","password":"` + sfBootPW + `","impersonation":{"enabled":true}}}`

// sfHarness is a Snowflake connector on the recording driver.
type sfHarness struct {
	d  *recorddriver.Driver
	sf *Snowflake
	mu sync.Mutex
	// sys are the credentials each Open got.
	sys []Credentials
}

func newSFHarness() *sfHarness {
	h := &sfHarness{d: recorddriver.New()}
	h.sf = NewSnowflake(Options{StatementTimeout: 5 * time.Second})
	h.sf.Open = func(_ context.Context, _ *platforms.Payload, sys Credentials, connectTo string) (*sql.DB, error) {
		h.mu.Lock()
		h.sys = append(h.sys, sys)
		h.mu.Unlock()
		return sql.OpenDB(h.d.Connector(connectTo)), nil
	}
	return h
}

func (h *sfHarness) opened() []Credentials {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Credentials(nil), h.sys...)
}

func sfRender(t *testing.T, p *platforms.Payload, op platforms.Operation, pw string) *render.Script {
	t.Helper()
	eng, err := render.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.Render(render.Request{Operation: op, Payload: p, SystemPassword: pw})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recExpectPhases checks that log is exactly the statements of phases, in order, each
// phase on one connection of its own to its ConnectTo.
func recExpectPhases(t *testing.T, log []recorddriver.Exec, phases []render.Phase) {
	t.Helper()
	i := 0
	conns := map[int]string{}
	for _, ph := range phases {
		conn := -1
		for j, st := range ph.Statements {
			if i >= len(log) {
				t.Fatalf("phase %s statement %d did not run (%d statements ran)", ph.Name, j+1, len(log))
			}
			e := log[i]
			if e.SQL != st.SQL || e.Target != ph.ConnectTo {
				t.Fatalf("statement %d: ran %q on %q, want %q on %q", i+1, e.SQL, e.Target, st.SQL, ph.ConnectTo)
			}
			if conn == -1 {
				conn = e.Conn
				if prev, ok := conns[conn]; ok {
					t.Fatalf("phase %s reused connection %d of phase %s", ph.Name, conn, prev)
				}
				conns[conn] = ph.Name
			} else if e.Conn != conn {
				t.Fatalf("phase %s switched connections (%d, then %d)", ph.Name, conn, e.Conn)
			}
			i++
		}
	}
	if i != len(log) {
		t.Fatalf("%d statements ran, the script has %d: %v", len(log), i, log[i:])
	}
}

// recConnectorShapes fails unless every statement a check ran is one of the dialect's
// connector shapes (a definition of templates/<platform>/connector.sql.tmpl).
func recConnectorShapes(t *testing.T, d sqlcheck.Dialect, ran []string) {
	t.Helper()
	for _, q := range ran {
		if _, err := sqlcheck.CheckConnector(d, q); err != nil {
			t.Errorf("ran %q, which no %s connector shape accepts: %v", q, d, err)
		}
	}
}

// recNoSecret fails if text holds any of the secrets.
func recNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("secret %q in %q", s, text)
		}
	}
}

func TestSnowflakeRunCreate(t *testing.T) {
	p := payload(t, sfAutoDoc)
	s := sfRender(t, p, platforms.OpCreate, sfSysPW)
	if len(s.Phases) != 1 || s.Phases[0].ConnectTo != "account" {
		t.Fatalf("phases %+v", s.Phases)
	}
	h := newSFHarness()
	if err := h.sf.Run(context.Background(), s, p, Credentials{}); err != nil {
		t.Fatal(err)
	}
	recExpectPhases(t, h.d.Log(), s.Phases)
	// Run signs in with the payload's (bootstrap) credentials.
	for _, c := range h.opened() {
		if c != (Credentials{}) {
			t.Errorf("Run opened with %+v", c)
		}
	}
	if h.d.OpenConns() != 0 {
		t.Error("connections left open")
	}
}

func TestSnowflakeRunFailureAndCleanup(t *testing.T) {
	p := payload(t, sfAutoDoc)
	s := sfRender(t, p, platforms.OpCreate, sfSysPW)
	stmts := s.Phases[0].Statements
	pwAt := -1
	for i, st := range stmts {
		if strings.Contains(st.SQL, sfSysPW) {
			pwAt = i
		}
	}
	if pwAt < 0 {
		t.Fatal("no statement sets the system password")
	}
	for _, n := range []int{1, pwAt + 1, len(stmts)} {
		h := newSFHarness()
		failing := stmts[n-1].SQL
		for i, st := range stmts[:n-1] {
			if strings.Contains(st.SQL, failing) {
				t.Fatalf("statement %d contains statement %d", i+1, n)
			}
		}
		// The platform's error echoes the statement (with the generated password) and the
		// bootstrap password.
		h.d.FailOn(failing, &gosnowflake.SnowflakeError{Number: 3001, SQLState: "42501",
			Message: "SQL access control error: " + failing + " (session of BOOT/" + sfBootPW + ")"})
		err := h.sf.Run(context.Background(), s, p, Credentials{})
		var re *RunError
		if !errors.As(err, &re) || re.Phase != "create" || re.Index != n {
			t.Fatalf("statement %d: err %v", n, err)
		}
		recNoSecret(t, err.Error(), sfSysPW, sfBootPW)
		// The platform's message is kept up to a length: the secrets in what is kept are
		// redacted, and what is cut is gone.
		if !strings.Contains(err.Error(), platforms.Redacted) && !strings.Contains(err.Error(), cutMark) {
			t.Errorf("statement %d: no %s in %v", n, platforms.Redacted, err)
		}
		log := h.d.Log()
		if len(log) != n || log[n-1].SQL != failing {
			t.Fatalf("statement %d: ran %d statements, the last %q", n, len(log), log[len(log)-1].SQL)
		}

		// The server runs the cleanup script after a failed automatic create.
		h.d.Reset()
		cleanup := sfRender(t, p, platforms.OpCleanup, sfSysPW)
		if err := h.sf.Run(context.Background(), cleanup, p, Credentials{}); err != nil {
			t.Fatal(err)
		}
		recExpectPhases(t, h.d.Log(), cleanup.Phases)
		for _, e := range h.d.Log() {
			if e.Conn == log[0].Conn {
				t.Error("cleanup reused the create's connection")
			}
		}
	}
}

func TestSnowflakeRunDeleteAndEdit(t *testing.T) {
	p := payload(t, sfAutoDoc)
	del := sfRender(t, p, platforms.OpDelete, sfSysPW)
	h := newSFHarness()
	if err := h.sf.Run(context.Background(), del, p, Credentials{}); err != nil {
		t.Fatal(err)
	}
	recExpectPhases(t, h.d.Log(), del.Phases)

	eng, _ := render.Default()
	to := payload(t, strings.Replace(sfAutoDoc, `"WH"`, `"WH2"`, 1))
	edit, err := eng.Render(render.Request{Operation: platforms.OpEdit, Payload: to, From: p, SystemPassword: sfSysPW})
	if err != nil {
		t.Fatal(err)
	}
	h = newSFHarness()
	if err := h.sf.Run(context.Background(), edit, to, Credentials{}); err != nil {
		t.Fatal(err)
	}
	recExpectPhases(t, h.d.Log(), edit.Phases)
}

var sfGrantCols = []string{"created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option", "granted_by"}

func sfGrant(priv, on, name string) []driver.Value {
	return []driver.Value{time.Unix(0, 0), priv, on, name, "ROLE", "SETUP_ROLE", "false", "ACCOUNTADMIN"}
}

func sfNames(names ...string) [][]driver.Value {
	out := make([][]driver.Value, len(names))
	for i, n := range names {
		out[i] = []driver.Value{time.Unix(0, 0), n, "N", "N", "", ""}
	}
	return out
}

var sfShowCols = []string{"created_on", "name", "is_default", "is_current", "origin", "owner"}

// sfOwned is SHOW ROLES rows of name, owner pairs.
func sfOwned(pairs ...string) [][]driver.Value {
	var out [][]driver.Value
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, []driver.Value{time.Unix(0, 0), pairs[i], "N", "N", "", pairs[i+1]})
	}
	return out
}

func TestSnowflakeChecks(t *testing.T) {
	auto := payload(t, sfAutoDoc)
	manual := payload(t, sfManualDoc)
	held := Credentials{Password: sfSysPW}
	all := [][]driver.Value{
		sfGrant("CREATE DATABASE", "ACCOUNT", "ACME"), sfGrant("CREATE ROLE", "ACCOUNT", "ACME"),
		sfGrant("CREATE USER", "ACCOUNT", "ACME"), sfGrant("MANAGE GRANTS", "ACCOUNT", "ACME"),
	}
	type rowsSet struct {
		sub  string
		cols []string
		rows [][]driver.Value
	}
	cases := []struct {
		name, test string
		p          *platforms.Payload
		sys        Credentials
		rows       []rowsSet
		fail       map[string]error
		wantSQL    []string
		wantErr    []string // substrings of the error; nil: passes
		prefix     string   // Options.TableGrantsRolePrefix
	}{
		{name: "prefix unique", test: sfTestPrefix, p: auto,
			// The system and impersonation roles carry the prefix but are the integration's
			// own; a lower-case name does not start with IMMUTA (names are case-sensitive);
			// IMMUTAX matched no LIKE wildcard but STARTS WITH, and is owned by the system role.
			rows: []rowsSet{{"SHOW ROLES", sfShowCols, sfOwned("IMMUTA_DB_SYSTEM", "SETUP_ROLE", "IMMUTA_IMPERSONATION", "IMMUTA_DB_SYSTEM",
				"IMMUTA_USER_1", "IMMUTA_DB_SYSTEM", "immuta_lower", "SECURITYADMIN", "IMMUTAX", "IMMUTA_DB_SYSTEM")}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW ROLES STARTS WITH 'IMMUTA'`}},
		{name: "prefix taken", test: sfTestPrefix, p: auto,
			rows:    []rowsSet{{"SHOW ROLES", sfShowCols, sfOwned("IMMUTA_USER_1", "IMMUTA_DB_SYSTEM", "IMMUTA_ANALYSTS", "SECURITYADMIN", "IMMUTA_x", "")}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW ROLES STARTS WITH 'IMMUTA'`},
			wantErr: []string{"2 roles", `table grants prefix IMMUTA`, `"IMMUTA_ANALYSTS" (owned by "SECURITYADMIN")`, `"IMMUTA_x" (no owner shown)`, `system role "IMMUTA_DB_SYSTEM"`, "--table-grants-role-prefix"}},
		{name: "prefix of the server setting, folded", test: sfTestPrefix, p: manual, prefix: "tg_",
			rows:    []rowsSet{{"SHOW ROLES", sfShowCols, sfOwned("TGX", "SECURITYADMIN", "TG_1", "IMMUTA_DB_SYSTEM")}},
			wantSQL: []string{`USE ROLE "IMMUTA_DB_SYSTEM"`, `SHOW ROLES STARTS WITH 'TG_'`}},
		{name: "prefix taken, revalidation as the system role", test: sfTestPrefix, p: auto, sys: held,
			rows:    []rowsSet{{"SHOW ROLES", sfShowCols, sfOwned("IMMUTA_OTHER", "USERADMIN")}},
			wantSQL: []string{`USE ROLE "IMMUTA_DB_SYSTEM"`, `SHOW ROLES STARTS WITH 'IMMUTA'`},
			wantErr: []string{`"IMMUTA_OTHER" (owned by "USERADMIN")`}},
		{name: "prefix roles cannot be listed", test: sfTestPrefix, p: auto,
			fail:    map[string]error{"SHOW ROLES": &gosnowflake.SnowflakeError{Number: 3001, SQLState: "42501", Message: "Insufficient privileges to operate on account 'ACME'"}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW ROLES STARTS WITH 'IMMUTA'`},
			wantErr: []string{"cannot list the roles whose names start with the table grants prefix IMMUTA", "Insufficient privileges"}},
		{name: "connection", test: sfTestConnection, p: auto,
			rows:    []rowsSet{{"CURRENT_USER", []string{"CURRENT_USER()"}, [][]driver.Value{{"BOOT"}}}},
			wantSQL: []string{"SELECT CURRENT_USER()"}},
		{name: "connection no row", test: sfTestConnection, p: auto,
			wantSQL: []string{"SELECT CURRENT_USER()"}, wantErr: []string{"returned nothing"}},
		{name: "warehouse as bootstrap role", test: sfTestWarehouse, p: auto,
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `USE WAREHOUSE "WH"`}},
		{name: "warehouse as system role (revalidation)", test: sfTestWarehouse, p: auto, sys: held,
			wantSQL: []string{`USE ROLE "IMMUTA_DB_SYSTEM"`, `USE WAREHOUSE "WH"`}},
		{name: "warehouse manual", test: sfTestWarehouse, p: manual,
			wantSQL: []string{`USE ROLE "IMMUTA_DB_SYSTEM"`, `USE WAREHOUSE "WH"`}},
		{name: "warehouse denied", test: sfTestWarehouse, p: auto,
			fail:    map[string]error{"USE WAREHOUSE": &gosnowflake.SnowflakeError{Number: 2043, Message: "Object does not exist, or operation cannot be performed."}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `USE WAREHOUSE "WH"`},
			wantErr: []string{`cannot use warehouse "WH"`, `GRANT USAGE ON WAREHOUSE "WH" TO ROLE "SETUP_ROLE"`}},
		{name: "privileged role", test: sfTestRole, p: auto, wantSQL: []string{`USE ROLE "SETUP_ROLE"`}},
		{name: "privileged role not granted", test: sfTestRole, p: auto,
			fail:    map[string]error{"USE ROLE": &gosnowflake.SnowflakeError{Number: 390189, SQLState: "08004", Message: "Role 'SETUP_ROLE' specified in the connect string is not granted to this user."}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`},
			wantErr: []string{`GRANT ROLE "SETUP_ROLE" TO USER "BOOT"`, "config.role"}},
		{name: "database absent", test: sfTestDatabase, p: auto,
			rows:    []rowsSet{{"SHOW DATABASES", sfShowCols, sfNames("IMMUTAXDB")}}, // LIKE's _ matched another name
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW DATABASES LIKE 'IMMUTA_DB'`}},
		{name: "database exists", test: sfTestDatabase, p: auto,
			rows:    []rowsSet{{"SHOW DATABASES", sfShowCols, sfNames("IMMUTA_DB")}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW DATABASES LIKE 'IMMUTA_DB'`},
			wantErr: []string{`database "IMMUTA_DB" already exists`, "config.database"}},
		{name: "impersonation role absent", test: sfTestImpersonation, p: auto,
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW ROLES LIKE 'IMMUTA_IMPERSONATION'`}},
		{name: "impersonation role exists", test: sfTestImpersonation, p: auto,
			rows:    []rowsSet{{"SHOW ROLES", sfShowCols, sfNames("IMMUTA_IMPERSONATION")}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW ROLES LIKE 'IMMUTA_IMPERSONATION'`},
			wantErr: []string{`role "IMMUTA_IMPERSONATION" already exists`, "config.impersonation.role"}},
		{name: "grants held directly", test: sfTestGrants, p: auto,
			rows:    []rowsSet{{`SHOW GRANTS TO ROLE "SETUP_ROLE"`, sfGrantCols, all}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW GRANTS TO ROLE "SETUP_ROLE"`}},
		{name: "grants inherited", test: sfTestGrants, p: auto,
			rows: []rowsSet{
				{`SHOW GRANTS TO ROLE "SETUP_ROLE"`, sfGrantCols, [][]driver.Value{sfGrant("CREATE DATABASE", "ACCOUNT", "ACME"), sfGrant("USAGE", "ROLE", "SECURITYADMIN")}},
				{`SHOW GRANTS TO ROLE "SECURITYADMIN"`, sfGrantCols, [][]driver.Value{sfGrant("MANAGE GRANTS", "ACCOUNT", "ACME"), sfGrant("USAGE", "ROLE", "USERADMIN")}},
				{`SHOW GRANTS TO ROLE "USERADMIN"`, sfGrantCols, [][]driver.Value{sfGrant("CREATE USER", "ACCOUNT", "ACME"), sfGrant("CREATE ROLE", "ACCOUNT", "ACME"), sfGrant("USAGE", "ROLE", "SETUP_ROLE")}},
			},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW GRANTS TO ROLE "SETUP_ROLE"`, `SHOW GRANTS TO ROLE "SECURITYADMIN"`, `SHOW GRANTS TO ROLE "USERADMIN"`}},
		{name: "grants via ACCOUNTADMIN", test: sfTestGrants, p: auto,
			rows:    []rowsSet{{`SHOW GRANTS TO ROLE "SETUP_ROLE"`, sfGrantCols, [][]driver.Value{sfGrant("USAGE", "ROLE", "ACCOUNTADMIN")}}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW GRANTS TO ROLE "SETUP_ROLE"`}},
		{name: "grants missing", test: sfTestGrants, p: auto,
			rows:    []rowsSet{{`SHOW GRANTS TO ROLE "SETUP_ROLE"`, sfGrantCols, [][]driver.Value{sfGrant("CREATE DATABASE", "ACCOUNT", "ACME"), sfGrant("CREATE ROLE", "ACCOUNT", "ACME")}}},
			wantSQL: []string{`USE ROLE "SETUP_ROLE"`, `SHOW GRANTS TO ROLE "SETUP_ROLE"`},
			wantErr: []string{"lacks CREATE USER, MANAGE GRANTS", `GRANT CREATE USER ON ACCOUNT TO ROLE "SETUP_ROLE";`, `GRANT MANAGE GRANTS ON ACCOUNT TO ROLE "SETUP_ROLE";`}},
		{name: "grants of ACCOUNTADMIN", test: sfTestGrants, p: payload(t, strings.Replace(sfAutoDoc, "SETUP_ROLE", "accountadmin", 1)),
			wantSQL: []string{`USE ROLE "ACCOUNTADMIN"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSFHarness()
			h.sf.opts.TableGrantsRolePrefix = tc.prefix
			for _, r := range tc.rows {
				h.d.Rows(r.sub, r.cols, r.rows)
			}
			for sub, err := range tc.fail {
				h.d.FailOn(sub, err)
			}
			err := h.sf.Check(context.Background(), tc.test, tc.p, tc.sys)
			if got := h.d.SQL(); strings.Join(got, "\n") != strings.Join(tc.wantSQL, "\n") {
				t.Errorf("SQL:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantSQL, "\n"))
			}
			recConnectorShapes(t, sqlcheck.Snowflake, h.d.SQL())
			for _, c := range h.opened() {
				if c != tc.sys {
					t.Errorf("opened with %+v, want %+v", c, tc.sys)
				}
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("failed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("passed")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			recNoSecret(t, err.Error(), sfBootPW, sfSysPW)
		})
	}
}

func TestSnowflakeCheckErrorsHideSecrets(t *testing.T) {
	p := payload(t, sfAutoDoc)
	h := newSFHarness()
	h.d.FailConnect("account", &gosnowflake.SnowflakeError{Number: 390100, Message: "Incorrect username or password was specified: " + sfBootPW})
	err := h.sf.Check(context.Background(), sfTestConnection, p, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "refused the sign-in") || !strings.Contains(err.Error(), "config.password") {
		t.Fatalf("err %v", err)
	}
	recNoSecret(t, err.Error(), sfBootPW)

	// The held system password is a secret too.
	h = newSFHarness()
	h.d.FailOn("USE WAREHOUSE", &gosnowflake.SnowflakeError{Number: 390201, Message: "warehouse error for password " + sfSysPW})
	err = h.sf.Check(context.Background(), sfTestWarehouse, p, Credentials{Password: sfSysPW})
	if err == nil {
		t.Fatal("passed")
	}
	recNoSecret(t, err.Error(), sfSysPW, sfBootPW)

	// An unknown test fails, and a timeout stays a deadline error.
	if err := h.sf.Check(context.Background(), "No Such Test", p, Credentials{}); err == nil {
		t.Error("unknown test passed")
	}
	h = newSFHarness()
	h.d.Delay("CURRENT_USER", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.sf.Check(ctx, sfTestConnection, p, Credentials{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}

func TestSnowflakeValidate(t *testing.T) {
	p := payload(t, sfAutoDoc)
	h := newSFHarness()
	h.d.Rows("CURRENT_USER", []string{"CURRENT_USER()"}, [][]driver.Value{{"BOOT"}})
	h.d.Rows(`SHOW GRANTS TO ROLE "SETUP_ROLE"`, sfGrantCols, [][]driver.Value{sfGrant("USAGE", "ROLE", "ACCOUNTADMIN")})
	r := Validate(context.Background(), h.sf, platforms.OpCreate, p, Credentials{}, 5*time.Second)
	if r.Status != Passed {
		t.Fatalf("%+v", r)
	}
	h.d.Rows("SHOW DATABASES", sfShowCols, sfNames("IMMUTA_DB"))
	r = Validate(context.Background(), h.sf, platforms.OpCreate, p, Credentials{}, 5*time.Second)
	if r.Status != Failed || r.Tests[4].Status != Failed || !strings.Contains(r.Tests[4].Message, "IMMUTA_DB") {
		t.Fatalf("%+v", r)
	}
	// The recurring validation signs in as the system account.
	h = newSFHarness()
	h.d.Rows("CURRENT_USER", []string{"CURRENT_USER()"}, [][]driver.Value{{"IMMUTA_DB_SYSTEM_ACCOUNT"}})
	r = Validate(context.Background(), h.sf, Revalidate, p, Credentials{Password: sfSysPW}, 5*time.Second)
	if r.Status != Passed {
		t.Fatalf("%+v", r)
	}
	for _, c := range h.opened() {
		if c.Password != sfSysPW {
			t.Errorf("revalidation opened with %+v", c)
		}
	}
}

func TestSnowflakeVerify(t *testing.T) {
	manual := payload(t, sfManualDoc)
	present := func(h *sfHarness) {
		h.d.Rows("CURRENT_USER", []string{"CURRENT_USER()"}, [][]driver.Value{{"IMMUTA_SYS"}})
		h.d.Rows("SHOW ROLES", sfShowCols, sfNames("IMMUTA_DB_SYSTEM", "IMMUTA_IMPERSONATION"))
		h.d.Rows("SHOW DATABASES", sfShowCols, sfNames("IMMUTA_DB"))
	}
	h := newSFHarness()
	present(h)
	if err := h.sf.Verify(context.Background(), platforms.OpCreate, manual, Credentials{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT CURRENT_USER()", `USE ROLE "IMMUTA_DB_SYSTEM"`, `SHOW ROLES LIKE 'IMMUTA_DB_SYSTEM'`,
		`SHOW DATABASES LIKE 'IMMUTA_DB'`, `SHOW ROLES LIKE 'IMMUTA_IMPERSONATION'`}
	if got := h.d.SQL(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SQL %q", got)
	}

	// The database is missing and the role not granted.
	h = newSFHarness()
	h.d.Rows("CURRENT_USER", []string{"CURRENT_USER()"}, [][]driver.Value{{"IMMUTA_SYS"}})
	h.d.Rows("SHOW ROLES", sfShowCols, sfNames("IMMUTA_DB_SYSTEM", "IMMUTA_IMPERSONATION"))
	h.d.FailOn("USE ROLE", &gosnowflake.SnowflakeError{Number: 3013, SQLState: "42501", Message: "Requested role 'IMMUTA_DB_SYSTEM' is not assigned to the executing user."})
	err := h.sf.Verify(context.Background(), platforms.OpEdit, manual, Credentials{})
	if err == nil || !strings.Contains(err.Error(), `database "IMMUTA_DB" does not exist`) ||
		!strings.Contains(err.Error(), `GRANT ROLE "IMMUTA_DB_SYSTEM" TO USER "IMMUTA_SYS"`) || !strings.Contains(err.Error(), "create script") {
		t.Errorf("err %v", err)
	}

	// Delete: the system account's sign-in is refused, so it is gone.
	h = newSFHarness()
	h.d.FailConnect("account", &gosnowflake.SnowflakeError{Number: 390100, Message: "Incorrect username or password was specified."})
	if err := h.sf.Verify(context.Background(), platforms.OpDelete, manual, Credentials{}); err != nil {
		t.Errorf("delete: %v", err)
	}
	// ...while a system account that can still sign in fails it.
	h = newSFHarness()
	present(h)
	err = h.sf.Verify(context.Background(), platforms.OpDelete, manual, Credentials{})
	if err == nil || !strings.Contains(err.Error(), `user "IMMUTA_SYS"`) || !strings.Contains(err.Error(), `database "IMMUTA_DB"`) || !strings.Contains(err.Error(), "delete script") {
		t.Errorf("delete left: %v", err)
	}
	// Other connection failures are reported, not taken as "gone".
	h = newSFHarness()
	h.d.FailConnect("account", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.EHOSTUNREACH})
	if err := h.sf.Verify(context.Background(), platforms.OpDelete, manual, Credentials{}); err == nil || !strings.Contains(err.Error(), "config.host") {
		t.Errorf("delete unreachable: %v", err)
	}

	// An automatic setup verified with the bootstrap user looks everything up by name.
	auto := payload(t, sfAutoDoc)
	h = newSFHarness()
	h.d.Rows("SHOW USERS", sfShowCols, sfNames("IMMUTA_DB_SYSTEM_ACCOUNT"))
	h.d.Rows("SHOW ROLES", sfShowCols, sfNames("IMMUTA_DB_SYSTEM", "IMMUTA_IMPERSONATION"))
	h.d.Rows("SHOW DATABASES", sfShowCols, sfNames("IMMUTA_DB"))
	h.d.Rows("SHOW GRANTS TO USER", []string{"created_on", "role", "granted_to", "grantee_name", "granted_by"},
		[][]driver.Value{{time.Unix(0, 0), "IMMUTA_DB_SYSTEM", "USER", "IMMUTA_DB_SYSTEM_ACCOUNT", "SETUP_ROLE"}})
	if err := h.sf.Verify(context.Background(), platforms.OpCreate, auto, Credentials{}); err != nil {
		t.Fatal(err)
	}
	if got := h.d.SQL(); got[0] != `USE ROLE "SETUP_ROLE"` || got[len(got)-1] != `SHOW GRANTS TO USER "IMMUTA_DB_SYSTEM_ACCOUNT"` {
		t.Errorf("SQL %q", got)
	}
	if err := h.sf.Verify(context.Background(), platforms.OpDelete, auto, Credentials{}); err == nil || !strings.Contains(err.Error(), "still in place") {
		t.Errorf("auto delete: %v", err)
	}
}

func TestSnowflakeConfig(t *testing.T) {
	o := Options{ConnectTimeout: 7 * time.Second, StatementTimeout: 9 * time.Second, DisableTLS: true}
	auto := payload(t, sfAutoDoc).Config.(*platforms.Snowflake)
	cfg, err := sfConfig(auto, true, Credentials{}, "SETUP_ROLE", o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Account != "acct-x" || cfg.Host != "acct-x.us-east-1.snowflakecomputing.com" || cfg.Port != 443 || cfg.Protocol != "https" ||
		cfg.User != "BOOT" || cfg.Password != sfBootPW || cfg.Role != "SETUP_ROLE" || cfg.Authenticator != gosnowflake.AuthTypeSnowflake ||
		cfg.LoginTimeout != 7*time.Second || cfg.RequestTimeout != 9*time.Second {
		t.Errorf("auto: %+v", cfg)
	}
	// The recurring validation of an automatic setup: the system account.
	cfg, err = sfConfig(auto, true, Credentials{Password: sfSysPW}, "", o)
	if err != nil || cfg.User != "IMMUTA_DB_SYSTEM_ACCOUNT" || cfg.Password != sfSysPW || cfg.Authenticator != gosnowflake.AuthTypeSnowflake || cfg.Role != "" {
		t.Errorf("held: %+v %v", cfg, err)
	}

	// Key pair, with an encrypted PKCS#8 key.
	pemKey, err := os.ReadFile("../../platforms/testdata/snowflake/key-aes256-sha256.p8")
	if err != nil {
		t.Fatal(err)
	}
	content, _ := json.Marshal(string(pemKey))
	kp := payload(t, `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"acct.snowflakecomputing.com","warehouse":"WH","database":"D","authenticationType":"keyPair","username":"KEYUSER","privateKey":{"content":`+string(content)+`},"privateKeyPassword":"s3cret pass"}}`)
	cfg, err = sfConfig(kp.Config.(*platforms.Snowflake), false, Credentials{}, "", o)
	if err != nil || cfg.Authenticator != gosnowflake.AuthTypeJwt || cfg.PrivateKey == nil || cfg.User != "KEYUSER" || cfg.Password != "" {
		t.Errorf("key pair: %+v %v", cfg, err)
	}
	kp.Config.(*platforms.Snowflake).PrivateKeyPassword = "xyzzy-bad"
	if _, err := sfConfig(kp.Config.(*platforms.Snowflake), false, Credentials{}, "", o); err == nil || strings.Contains(err.Error(), "xyzzy") {
		t.Errorf("wrong passphrase: %v", err)
	}

	// OAuth client credentials.
	oauthDoc := `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"acct.snowflakecomputing.com","warehouse":"WH","database":"D","authenticationType":"oAuthClientCredentials","oAuthClientConfig":{"clientId":"cid","clientSecret":"csecret-123","authorityUrl":"https://login.example.com/oauth2/token","useCertificate":false}}}`
	oc := payload(t, oauthDoc).Config.(*platforms.Snowflake)
	cfg, err = sfConfig(oc, false, Credentials{}, "", o)
	if err != nil || cfg.Authenticator != gosnowflake.AuthTypeOAuthClientCredentials || cfg.OauthClientID != "cid" || cfg.OauthClientSecret != "csecret-123" ||
		cfg.OauthTokenRequestURL != "https://login.example.com/oauth2/token" || cfg.OauthScope != "session:role:D_SYSTEM" || cfg.User != "" {
		t.Errorf("oauth: %+v %v", cfg, err)
	}
	oc.OAuthClientConfig.UseCertificate = true
	if _, err := sfConfig(oc, false, Credentials{}, "", o); err == nil || !strings.Contains(err.Error(), "not supported yet") {
		t.Errorf("oauth certificate: %v", err)
	}

	bad := *auto
	bad.Host = "example.com"
	if _, err := sfConfig(&bad, true, Credentials{}, "", o); err == nil || !strings.Contains(err.Error(), "snowflakecomputing.com") {
		t.Errorf("bad host: %v", err)
	}

	// The real Open builds a pool without contacting Snowflake.
	sf := NewSnowflake(o)
	db, err := sf.open(context.Background(), payload(t, sfAutoDoc), Credentials{}, "account", "SETUP_ROLE")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := sf.open(context.Background(), payload(t, sfAutoDoc), Credentials{}, "master", ""); err == nil {
		t.Error("opened a Snowflake connection to a database target")
	}
}

// sfStripQuoted removes Snowflake's quoted identifiers ("...", "" escapes) and string
// literals ('...', ” and backslash escapes) from sql.
func sfStripQuoted(t *testing.T, sql string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		switch sql[i] {
		case '"':
			for i++; ; i++ {
				if i >= len(sql) {
					t.Fatalf("unterminated identifier in %q", sql)
				}
				if sql[i] == '"' {
					if i+1 < len(sql) && sql[i+1] == '"' {
						i++
						continue
					}
					break
				}
			}
			b.WriteString("ID")
		case '\'':
			for i++; ; i++ {
				if i >= len(sql) {
					t.Fatalf("unterminated string in %q", sql)
				}
				if sql[i] == '\\' {
					i++
					continue
				}
				if sql[i] == '\'' {
					if i+1 < len(sql) && sql[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
			b.WriteString("STR")
		default:
			b.WriteByte(sql[i])
		}
	}
	return b.String()
}

func TestSnowflakeAdversarialNamesStayQuoted(t *testing.T) {
	doc := `{"type":"Snowflake","autoBootstrap":true,"config":{"host":"acct.snowflakecomputing.com","warehouse":"w\" evil --","database":"x'; DROP USER evil; --","authenticationType":"userPassword","username":"BOOT","password":"` + sfBootPW + `","role":"r'\\\\'); evil","impersonation":{"enabled":true,"role":"imp\\\\' evil"}}}`
	p := payload(t, doc)
	h := newSFHarness()
	h.d.Rows("SHOW GRANTS TO ROLE", sfGrantCols, [][]driver.Value{sfGrant("USAGE", "ROLE", `evil"; DROP`)})
	ctx := context.Background()
	for _, s := range []*render.Script{sfRender(t, p, platforms.OpCreate, sfSysPW), sfRender(t, p, platforms.OpDelete, sfSysPW)} {
		if err := h.sf.Run(ctx, s, p, Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, spec := range Catalogue("Snowflake") {
		_ = h.sf.Check(ctx, spec.Name, p, Credentials{})
		_ = h.sf.Check(ctx, spec.Name, p, Credentials{Password: sfSysPW})
	}
	for _, op := range []platforms.Operation{platforms.OpCreate, platforms.OpDelete} {
		_ = h.sf.Verify(ctx, op, p, Credentials{})
		_ = h.sf.Verify(ctx, op, p, Credentials{Password: sfSysPW})
	}
	log := h.d.SQL()
	if len(log) < 20 {
		t.Fatalf("only %d statements", len(log))
	}
	sawDB, sawRole := false, false
	for _, q := range log {
		if rest := sfStripQuoted(t, q); strings.Contains(rest, "evil") {
			t.Errorf("a config value reached SQL unquoted: %q (outside quotes: %q)", q, rest)
		}
		sawDB = sawDB || strings.Contains(q, `"x'; DROP USER evil; --"`)
		sawRole = sawRole || strings.Contains(q, `SHOW GRANTS TO ROLE "evil""; DROP"`)
	}
	if !sawDB || !sawRole {
		t.Errorf("the adversarial names were not used (database %t, inherited role %t)", sawDB, sawRole)
	}
}
