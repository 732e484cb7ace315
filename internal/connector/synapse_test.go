package connector

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/microsoft/go-mssqldb/msdsn"

	"github.com/openintegrations/integrations/internal/connector/recorddriver"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Secrets of the Synapse test payloads: none may reach an error.
const (
	synBootPW   = "Boot-Passw0rd!xyz"
	synSysPW    = "Generated-Syn-Passw0rd-987654321"
	synManualPW = "Manual-Passw0rd!abc"
)

const synAutoDoc = `{"type":"Azure Synapse Analytics","autoBootstrap":true,"config":{"host":"ws.sql.azuresynapse.net","schema":"views","database":"pool1","username":"sqladmin","password":"` + synBootPW + `","authenticationType":"userPassword","impersonation":{"enabled":true}}}`

const synManualDoc = `{"type":"Azure Synapse Analytics","autoBootstrap":false,"config":{"host":"ws.sql.azuresynapse.net","schema":"views","database":"pool1","username":"immuta_sys","password":"` + synManualPW + `","authenticationType":"userPassword","impersonation":{"enabled":true}}}`

const synOAuthDoc = `{"type":"Azure Synapse Analytics","autoBootstrap":false,"config":{"host":"ws.sql.azuresynapse.net","schema":"views","database":"pool1","authenticationType":"oAuthClientSecret","oAuthClientConfig":{"clientId":"00000000-1111-2222-3333-444444444444","clientSecret":"client-secret-xyz","authorityUrl":"https://login.microsoftonline.com/contoso.onmicrosoft.com"}}}`

// synHarness is a Synapse connector on the recording driver.
type synHarness struct {
	d   *recorddriver.Driver
	syn *Synapse
	mu  sync.Mutex
	sys []Credentials
}

func newSynHarness() *synHarness {
	h := &synHarness{d: recorddriver.New()}
	h.syn = NewSynapse(Options{StatementTimeout: 5 * time.Second})
	h.syn.Open = func(_ context.Context, _ *platforms.Payload, sys Credentials, connectTo string) (*sql.DB, error) {
		h.mu.Lock()
		h.sys = append(h.sys, sys)
		h.mu.Unlock()
		return sql.OpenDB(h.d.Connector(connectTo)), nil
	}
	return h
}

func (h *synHarness) opened() []Credentials {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Credentials(nil), h.sys...)
}

func TestSynapseRunPhases(t *testing.T) {
	p := payload(t, synAutoDoc)
	ic := sfRender(t, p, platforms.OpInitialCreate, synSysPW)
	cr := sfRender(t, p, platforms.OpCreate, synSysPW)
	// initial-create checks the database's names first (initial-check), then makes the
	// login in master.
	if len(ic.Phases) != 2 || ic.Phases[0].ConnectTo != "pool1" || ic.Phases[1].ConnectTo != "master" || len(cr.Phases) != 1 || cr.Phases[0].ConnectTo != "pool1" {
		t.Fatalf("phases %+v %+v", ic.Phases, cr.Phases)
	}
	h := newSynHarness()
	for _, s := range []*render.Script{ic, cr} {
		if err := h.syn.Run(context.Background(), s, p, Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	recExpectPhases(t, h.d.Log(), append(append([]render.Phase(nil), ic.Phases...), cr.Phases...))
	for _, c := range h.opened() {
		if c != (Credentials{}) {
			t.Errorf("Run opened with %+v", c)
		}
	}

	// delete: cleanup in the database, then post-cleanup in master, each on its own
	// connection.
	del := sfRender(t, p, platforms.OpDelete, synSysPW)
	if len(del.Phases) != 2 {
		t.Fatalf("delete phases %+v", del.Phases)
	}
	h = newSynHarness()
	if err := h.syn.Run(context.Background(), del, p, Credentials{}); err != nil {
		t.Fatal(err)
	}
	recExpectPhases(t, h.d.Log(), del.Phases)
	if h.d.OpenConns() != 0 {
		t.Error("connections left open")
	}

	// edit: a new config.schema.
	eng, _ := render.Default()
	to := payload(t, strings.Replace(synAutoDoc, `"views"`, `"views2"`, 1))
	edit, err := eng.Render(render.Request{Operation: platforms.OpEdit, Payload: to, From: p, SystemPassword: synSysPW})
	if err != nil {
		t.Fatal(err)
	}
	h = newSynHarness()
	if err := h.syn.Run(context.Background(), edit, to, Credentials{}); err != nil {
		t.Fatal(err)
	}
	recExpectPhases(t, h.d.Log(), edit.Phases)
}

func TestSynapseRunFailureAndCleanup(t *testing.T) {
	p := payload(t, synAutoDoc)
	ic := sfRender(t, p, platforms.OpInitialCreate, synSysPW)
	cr := sfRender(t, p, platforms.OpCreate, synSysPW)
	// Both create phases in one script: a failure in one phase stops the next.
	all := &render.Script{Type: cr.Type, Operation: "create", Phases: append(append([]render.Phase(nil), ic.Phases...), cr.Phases...)}
	type pos struct {
		phase, index int
	}
	var cases []pos
	for pi, ph := range all.Phases {
		cases = append(cases, pos{pi, 1}, pos{pi, len(ph.Statements)})
	}
	for _, c := range cases {
		h := newSynHarness()
		ph := all.Phases[c.phase]
		failing := ph.Statements[c.index-1].SQL
		h.d.FailOn(failing, mssql.Error{Number: 15247, Class: 16, Message: "User does not have permission to perform this action: " + failing + " (login sqladmin, " + synBootPW + ")"})
		err := h.syn.Run(context.Background(), all, p, Credentials{})
		var re *RunError
		if !errors.As(err, &re) || re.Phase != ph.Name || re.Index != c.index {
			t.Fatalf("%s statement %d: err %v", ph.Name, c.index, err)
		}
		recNoSecret(t, err.Error(), synSysPW, synBootPW)
		log := h.d.Log()
		before := 0
		for _, p := range all.Phases[:c.phase] {
			before += len(p.Statements)
		}
		if len(log) != before+c.index || log[len(log)-1].SQL != failing || log[len(log)-1].Target != ph.ConnectTo {
			t.Fatalf("%s statement %d: ran %v", ph.Name, c.index, log)
		}

		// Cleanup after the failure: the database phase, then master.
		h.d.Reset()
		cleanup := sfRender(t, p, platforms.OpCleanup, synSysPW)
		post := sfRender(t, p, platforms.OpPostCleanup, synSysPW)
		for _, s := range []*render.Script{cleanup, post} {
			if err := h.syn.Run(context.Background(), s, p, Credentials{}); err != nil {
				t.Fatal(err)
			}
		}
		recExpectPhases(t, h.d.Log(), append(append([]render.Phase(nil), cleanup.Phases...), post.Phases...))
		if got := h.d.Log(); got[0].Target != "pool1" || got[len(got)-1].Target != "master" {
			t.Errorf("cleanup targets %v", got)
		}
	}
}

// synQ1 is the column list of the facts query for the manual test payload: db_owner,
// db_datareader, db_ddladmin, the schema ids of immuta_system, immuta_functions,
// immuta_procedures and views, then (Verify) the metadata table and (with role) the
// impersonation role.
const synFactsSub = "SELECT IS_ROLEMEMBER(N'db_owner') AS [p1]"

func synRow(vals ...driver.Value) [][]driver.Value {
	return [][]driver.Value{vals}
}

func synPermRows(perms ...[3]driver.Value) [][]driver.Value {
	out := make([][]driver.Value, len(perms))
	for i, p := range perms {
		out[i] = []driver.Value{p[0], p[1], p[2]}
	}
	return out
}

var synPermCols = []string{"class", "major_id", "permission_name"}

func synCols(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "p" + string(rune('1'+i))
	}
	return out
}

func TestSynapseChecks(t *testing.T) {
	auto := payload(t, synAutoDoc)
	manual := payload(t, synManualDoc)
	held := Credentials{Password: synSysPW}
	type rowsSet struct {
		sub  string
		cols []string
		rows [][]driver.Value
	}
	control := func(ids ...int64) [][3]driver.Value {
		var out [][3]driver.Value
		for _, id := range ids {
			out = append(out, [3]driver.Value{int64(3), id, "CONTROL"})
		}
		return out
	}
	// The database permissions create grants (class 0, major_id 0).
	var create [][3]driver.Value
	for _, p := range []string{"CREATE TABLE", "CREATE VIEW", "CREATE PROCEDURE", "CREATE FUNCTION"} {
		create = append(create, [3]driver.Value{int64(0), int64(0), p})
	}
	factsQ := "SELECT IS_ROLEMEMBER(N'db_owner') AS [p1], IS_ROLEMEMBER(N'db_datareader') AS [p2], SCHEMA_ID(N'immuta_system') AS [p3], SCHEMA_ID(N'immuta_functions') AS [p4], SCHEMA_ID(N'immuta_procedures') AS [p5], SCHEMA_ID(N'views') AS [p6]"
	mineQ := "SELECT dp.class, dp.major_id, dp.permission_name FROM sys.database_permissions AS dp WHERE dp.grantee_principal_id = DATABASE_PRINCIPAL_ID() AND dp.state IN ('G', 'W')"
	typeQ := "SELECT type_desc FROM sys.database_principals WHERE name = N'IMMUTA_IMPERSONATION'"
	roleQ := "SELECT dp.class, dp.major_id, dp.permission_name FROM sys.database_permissions AS dp WHERE dp.grantee_principal_id = DATABASE_PRINCIPAL_ID(N'IMMUTA_IMPERSONATION') AND dp.state IN ('G', 'W')"
	cases := []struct {
		name, test string
		p          *platforms.Payload
		sys        Credentials
		rows       []rowsSet
		fail       map[string]error
		wantSQL    []string
		wantTarget []string
		wantErr    []string // nil: passes
		notErr     []string // must not be in the error
		warning    bool
	}{
		{name: "connection as bootstrap in master", test: synTestConnection, p: auto,
			rows:    []rowsSet{{"SUSER_SNAME", []string{"login_name"}, synRow("sqladmin")}},
			wantSQL: []string{"SELECT SUSER_SNAME() AS login_name"}, wantTarget: []string{"master"}},
		{name: "connection as system account (revalidation)", test: synTestConnection, p: auto, sys: held,
			rows:    []rowsSet{{"SUSER_SNAME", []string{"login_name"}, synRow("pool1_SYSTEM_ACCOUNT")}},
			wantSQL: []string{"SELECT SUSER_SNAME() AS login_name"}, wantTarget: []string{"pool1"}},
		{name: "connection manual", test: synTestConnection, p: manual,
			rows:    []rowsSet{{"SUSER_SNAME", []string{"login_name"}, synRow("immuta_sys")}},
			wantSQL: []string{"SELECT SUSER_SNAME() AS login_name"}, wantTarget: []string{"pool1"}},
		{name: "dedicated pool", test: synTestPool, p: manual,
			rows:    []rowsSet{{"DATABASEPROPERTYEX", []string{"database_name", "edition"}, synRow("pool1", "DataWarehouse")}},
			wantSQL: []string{"SELECT DB_NAME() AS database_name, CAST(DATABASEPROPERTYEX(DB_NAME(), 'Edition') AS nvarchar(128)) AS edition"}, wantTarget: []string{"pool1"}},
		{name: "not a dedicated pool", test: synTestPool, p: manual,
			rows:    []rowsSet{{"DATABASEPROPERTYEX", []string{"database_name", "edition"}, synRow("pool1", "Standard")}},
			wantSQL: []string{"SELECT DB_NAME() AS database_name, CAST(DATABASEPROPERTYEX(DB_NAME(), 'Edition') AS nvarchar(128)) AS edition"},
			wantErr: []string{"not a dedicated SQL pool", "config.database"}, warning: true},
		{name: "schemas absent", test: synTestSchema, p: auto,
			wantSQL:    []string{"SELECT name FROM sys.schemas WHERE name IN (N'views', N'immuta_system', N'immuta_functions', N'immuta_procedures')"},
			wantTarget: []string{"pool1"}},
		{name: "config schema exists", test: synTestSchema, p: auto,
			rows:    []rowsSet{{"sys.schemas", []string{"name"}, [][]driver.Value{{"Views"}, {"immuta_system"}}}},
			wantSQL: []string{"SELECT name FROM sys.schemas WHERE name IN (N'views', N'immuta_system', N'immuta_functions', N'immuta_procedures')"},
			wantErr: []string{"schema [Views] (config.schema) already exists", "set config.schema", "[immuta_system] already exists", "cleanup script"}},
		{name: "impersonation role absent", test: synTestImpersonationAbsent, p: auto,
			wantSQL: []string{"SELECT name, type_desc FROM sys.database_principals WHERE name = N'IMMUTA_IMPERSONATION'"}},
		{name: "impersonation role exists", test: synTestImpersonationAbsent, p: auto,
			rows:    []rowsSet{{"sys.database_principals", []string{"name", "type_desc"}, synRow("IMMUTA_IMPERSONATION", "DATABASE_ROLE")}},
			wantSQL: []string{"SELECT name, type_desc FROM sys.database_principals WHERE name = N'IMMUTA_IMPERSONATION'"},
			wantErr: []string{"[IMMUTA_IMPERSONATION]", "already exists", "config.impersonation.role", "DROP ROLE [IMMUTA_IMPERSONATION]"}},
		{name: "bootstrap is the workspace admin", test: synTestGrants, p: auto,
			rows: []rowsSet{
				{"loginmanager", []string{"loginmanager", "user_name"}, synRow(int64(0), "dbo")},
				{"db_owner", []string{"db_owner", "user_name"}, synRow(int64(1), "dbo")},
			},
			wantSQL: []string{
				"SELECT IS_ROLEMEMBER(N'loginmanager') AS loginmanager, USER_NAME() AS user_name",
				"SELECT IS_ROLEMEMBER(N'db_owner') AS db_owner, USER_NAME() AS user_name",
			}, wantTarget: []string{"master", "pool1"}},
		{name: "bootstrap is a loginmanager", test: synTestGrants, p: auto,
			rows: []rowsSet{
				{"loginmanager", []string{"loginmanager", "user_name"}, synRow(int64(1), "sqladmin")},
				{"db_owner", []string{"db_owner", "user_name"}, synRow(int64(1), "sqladmin")},
			},
			wantSQL: []string{
				"SELECT IS_ROLEMEMBER(N'loginmanager') AS loginmanager, USER_NAME() AS user_name",
				"SELECT IS_ROLEMEMBER(N'db_owner') AS db_owner, USER_NAME() AS user_name",
			}},
		{name: "bootstrap cannot create logins", test: synTestGrants, p: auto,
			rows:    []rowsSet{{"loginmanager", []string{"loginmanager", "user_name"}, synRow(int64(0), "sqladmin")}},
			wantSQL: []string{"SELECT IS_ROLEMEMBER(N'loginmanager') AS loginmanager, USER_NAME() AS user_name"},
			wantErr: []string{"cannot create logins in master", "EXEC sp_addrolemember N'loginmanager', N'sqladmin';", "workspace SQL admin"}},
		{name: "bootstrap not db_owner", test: synTestGrants, p: auto,
			rows: []rowsSet{
				{"loginmanager", []string{"loginmanager", "user_name"}, synRow(int64(1), "sqladmin")},
				{"db_owner", []string{"db_owner", "user_name"}, synRow(int64(0), "boot_user")},
			},
			wantSQL: []string{
				"SELECT IS_ROLEMEMBER(N'loginmanager') AS loginmanager, USER_NAME() AS user_name",
				"SELECT IS_ROLEMEMBER(N'db_owner') AS db_owner, USER_NAME() AS user_name",
			},
			wantErr: []string{"not a member of db_owner in database [pool1]", "EXEC sp_addrolemember N'db_owner', N'boot_user'"}},
		{name: "system account permissions", test: synTestPermissions, p: manual,
			rows: []rowsSet{
				{synFactsSub, synCols(6), synRow(int64(0), int64(1), int64(5), int64(6), int64(7), int64(8))},
				{"DATABASE_PRINCIPAL_ID() AND", synPermCols, synPermRows(append(control(5, 6, 7, 8), create...)...)},
			},
			wantSQL: []string{factsQ, mineQ}, wantTarget: []string{"pool1", "pool1"}},
		{name: "system account is db_owner", test: synTestPermissions, p: manual,
			rows:    []rowsSet{{synFactsSub, synCols(6), synRow(int64(1), int64(0), int64(5), int64(6), int64(7), int64(8))}},
			wantSQL: []string{factsQ, mineQ}},
		{name: "system account lacks permissions", test: synTestPermissions, p: manual,
			rows: []rowsSet{
				{synFactsSub, synCols(6), synRow(int64(0), int64(1), int64(5), nil, int64(7), int64(8))},
				{"DATABASE_PRINCIPAL_ID() AND", synPermCols, synPermRows([3]driver.Value{int64(3), int64(5), "CONTROL"}, [3]driver.Value{int64(3), int64(7), "SELECT"},
					[3]driver.Value{int64(0), int64(0), "CREATE TABLE"}, [3]driver.Value{int64(3), int64(5), "CREATE VIEW"})},
			},
			wantSQL: []string{factsQ, mineQ},
			// CREATE VIEW on a schema is not the database permission; CREATE TABLE is there.
			wantErr: []string{"[immuta_sys] lacks", "CREATE VIEW on the database", "CREATE PROCEDURE on the database", "schema [immuta_functions] (it does not exist", "CONTROL on schema [immuta_procedures]", "CONTROL on schema [views]",
				"GRANT CREATE VIEW TO [immuta_sys];", "GRANT CONTROL ON SCHEMA::[views] TO [immuta_sys];", "create script"},
			notErr: []string{"CREATE TABLE on the database", "db_ddladmin"}},
		{name: "impersonation role in place", test: synTestImpersonationExists, p: manual,
			rows: []rowsSet{
				{synFactsSub, synCols(7), synRow(int64(0), int64(1), int64(5), int64(6), int64(7), int64(8), int64(42))},
				{"DATABASE_PRINCIPAL_ID() AND", synPermCols, synPermRows([3]driver.Value{int64(4), int64(42), "ALTER"})},
				{"SELECT type_desc", []string{"type_desc"}, synRow("DATABASE_ROLE")},
			},
			wantSQL: []string{factsQ + ", DATABASE_PRINCIPAL_ID(N'IMMUTA_IMPERSONATION') AS [p7]", mineQ, typeQ, roleQ}},
		{name: "impersonation role lacks grants", test: synTestImpersonationExists, p: manual,
			rows: []rowsSet{
				{synFactsSub, synCols(7), synRow(int64(0), int64(1), int64(5), int64(6), int64(7), int64(8), int64(42))},
				{"SELECT type_desc", []string{"type_desc"}, synRow("DATABASE_ROLE")},
			},
			wantSQL: []string{factsQ + ", DATABASE_PRINCIPAL_ID(N'IMMUTA_IMPERSONATION') AS [p7]", mineQ, typeQ, roleQ},
			wantErr: []string{"ALTER on role [IMMUTA_IMPERSONATION]", "GRANT ALTER ON ROLE::[IMMUTA_IMPERSONATION] TO [immuta_sys];"},
			notErr:  []string{"EXECUTE"}},
		{name: "impersonation role missing", test: synTestImpersonationExists, p: manual,
			wantSQL: []string{factsQ + ", DATABASE_PRINCIPAL_ID(N'IMMUTA_IMPERSONATION') AS [p7]", mineQ, typeQ},
			wantErr: []string{"role [IMMUTA_IMPERSONATION] (config.impersonation.role; it does not exist", "CREATE ROLE [IMMUTA_IMPERSONATION] AUTHORIZATION [dbo];"}},
		{name: "impersonation name is a user", test: synTestImpersonationExists, p: manual,
			rows: []rowsSet{
				{synFactsSub, synCols(7), synRow(int64(0), int64(1), int64(5), int64(6), int64(7), int64(8), int64(42))},
				{"SELECT type_desc", []string{"type_desc"}, synRow("SQL_USER")},
			},
			wantSQL: []string{factsQ + ", DATABASE_PRINCIPAL_ID(N'IMMUTA_IMPERSONATION') AS [p7]", mineQ, typeQ, roleQ},
			wantErr: []string{"is a sql_user, not a database role"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSynHarness()
			for _, r := range tc.rows {
				h.d.Rows(r.sub, r.cols, r.rows)
			}
			for sub, err := range tc.fail {
				h.d.FailOn(sub, err)
			}
			err := h.syn.Check(context.Background(), tc.test, tc.p, tc.sys)
			log := h.d.Log()
			var got, targets []string
			for _, e := range log {
				got, targets = append(got, e.SQL), append(targets, e.Target)
				// Every statement the connector runs is a connector statement of the
				// closed grammar (templates/synapse/connector.sql.tmpl).
				if _, err := sqlcheck.CheckConnector(sqlcheck.Synapse, e.SQL); err != nil {
					t.Errorf("ran %q, which no Synapse connector shape accepts: %v", e.SQL, err)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.wantSQL, "\n") {
				t.Errorf("SQL:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantSQL, "\n"))
			}
			if tc.wantTarget != nil && strings.Join(targets, ",") != strings.Join(tc.wantTarget, ",") {
				t.Errorf("targets %v, want %v", targets, tc.wantTarget)
			}
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
			if errors.Is(err, ErrWarning) != tc.warning {
				t.Errorf("warning %t, want %t: %v", errors.Is(err, ErrWarning), tc.warning, err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, w := range tc.notErr {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q has %q", err, w)
				}
			}
			recNoSecret(t, err.Error(), synBootPW, synSysPW, synManualPW)
		})
	}
}

func TestSynapseConnectErrors(t *testing.T) {
	manual := payload(t, synManualDoc)
	h := newSynHarness()
	h.d.FailConnect("pool1", mssql.Error{Number: 18456, Class: 14, Message: "Login failed for user 'immuta_sys'. " + synManualPW})
	err := h.syn.Check(context.Background(), synTestConnection, manual, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "refused the sign-in") || !strings.Contains(err.Error(), "CREATE USER [immuta_sys] FROM LOGIN [immuta_sys]") {
		t.Fatalf("err %v", err)
	}
	recNoSecret(t, err.Error(), synManualPW)

	h = newSynHarness()
	h.d.FailConnect("pool1", mssql.Error{Number: 4060, Class: 11, Message: "Cannot open database \"pool1\" requested by the login."})
	if err := h.syn.Check(context.Background(), synTestPool, manual, Credentials{}); err == nil || !strings.Contains(err.Error(), "cannot open database [pool1]") || !strings.Contains(err.Error(), "resume") {
		t.Errorf("4060: %v", err)
	}
	h = newSynHarness()
	h.d.FailConnect("pool1", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded})
	if err := h.syn.Check(context.Background(), synTestPool, manual, Credentials{}); err == nil || !strings.Contains(err.Error(), "config.host") || !strings.Contains(err.Error(), "firewall") {
		t.Errorf("dial: %v", err)
	}
	// A held password that no longer works says so.
	auto := payload(t, synAutoDoc)
	h = newSynHarness()
	h.d.FailConnect("pool1", mssql.Error{Number: 18456, Message: "Login failed for user 'pool1_SYSTEM_ACCOUNT'."})
	if err := h.syn.Check(context.Background(), synTestConnection, auto, Credentials{Password: synSysPW}); err == nil || !strings.Contains(err.Error(), "password was changed") {
		t.Errorf("held: %v", err)
	}
	if err := h.syn.Check(context.Background(), "No Such Test", auto, Credentials{}); err == nil {
		t.Error("unknown test passed")
	}
}

func TestSynapseValidate(t *testing.T) {
	p := payload(t, synAutoDoc)
	h := newSynHarness()
	h.d.Rows("SUSER_SNAME", []string{"login_name"}, synRow("sqladmin"))
	h.d.Rows("DATABASEPROPERTYEX", []string{"database_name", "edition"}, synRow("pool1", "DataWarehouse"))
	h.d.Rows("loginmanager", []string{"loginmanager", "user_name"}, synRow(int64(0), "dbo"))
	h.d.Rows("IS_ROLEMEMBER(N'db_owner') AS db_owner", []string{"db_owner", "user_name"}, synRow(int64(1), "dbo"))
	r := Validate(context.Background(), h.syn, platforms.OpCreate, p, Credentials{}, 5*time.Second)
	if r.Status != Passed {
		t.Fatalf("%+v", r)
	}
	h.d.Rows("DATABASEPROPERTYEX", []string{"database_name", "edition"}, synRow("pool1", "Standard"))
	if r = Validate(context.Background(), h.syn, platforms.OpCreate, p, Credentials{}, 5*time.Second); r.Status != Warning {
		t.Fatalf("%+v", r)
	}
}

func TestSynapseVerify(t *testing.T) {
	manual := payload(t, synManualDoc)
	inPlace := func(h *synHarness, table driver.Value) {
		h.d.Rows(synFactsSub, synCols(8), synRow(int64(0), int64(1), int64(5), int64(6), int64(7), int64(8), table, int64(42)))
		h.d.Rows("DATABASE_PRINCIPAL_ID() AND", synPermCols, synPermRows([3]driver.Value{int64(0), int64(0), "CONTROL"}))
		h.d.Rows("SELECT type_desc", []string{"type_desc"}, synRow("DATABASE_ROLE"))
	}
	h := newSynHarness()
	inPlace(h, int64(1234))
	if err := h.syn.Verify(context.Background(), platforms.OpCreate, manual, Credentials{}); err != nil {
		t.Fatal(err)
	}
	log := h.d.Log()
	if len(log) != 4 || !strings.Contains(log[0].SQL, "OBJECT_ID(N'[immuta_system].[metadata]') AS [p7]") {
		t.Errorf("log %v", log)
	}
	for _, e := range log {
		if e.Target != "pool1" || e.Conn != log[0].Conn {
			t.Errorf("verify ran %v", e)
		}
	}
	h = newSynHarness()
	inPlace(h, nil)
	if err := h.syn.Verify(context.Background(), platforms.OpEdit, manual, Credentials{}); err == nil || !strings.Contains(err.Error(), "table [immuta_system].[metadata]") {
		t.Errorf("no table: %v", err)
	}

	// Delete: the system account can no longer sign in.
	for _, n := range []int32{18456, 4060} {
		h = newSynHarness()
		h.d.FailConnect("pool1", mssql.Error{Number: n, Message: "Login failed"})
		if err := h.syn.Verify(context.Background(), platforms.OpDelete, manual, Credentials{}); err != nil {
			t.Errorf("delete (%d): %v", n, err)
		}
	}
	h = newSynHarness()
	if err := h.syn.Verify(context.Background(), platforms.OpDelete, manual, Credentials{}); err == nil || !strings.Contains(err.Error(), "can still sign in") {
		t.Errorf("delete not run: %v", err)
	}
	h = newSynHarness()
	h.d.FailConnect("pool1", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	if err := h.syn.Verify(context.Background(), platforms.OpDelete, manual, Credentials{}); err == nil || !strings.Contains(err.Error(), "config.host") {
		t.Errorf("delete unreachable: %v", err)
	}

	// As the bootstrap login (an automatic setup without the held password): by name.
	auto := payload(t, synAutoDoc)
	h = newSynHarness()
	h.d.Rows("sys.sql_logins", []string{"name"}, synRow("pool1_SYSTEM_ACCOUNT"))
	h.d.Rows("sys.database_principals", []string{"name"}, [][]driver.Value{{"pool1_SYSTEM_ACCOUNT"}, {"immuta_impersonation"}})
	h.d.Rows("sys.schemas", []string{"name"}, [][]driver.Value{{"immuta_system"}, {"immuta_functions"}, {"immuta_procedures"}, {"views"}})
	if err := h.syn.Verify(context.Background(), platforms.OpCreate, auto, Credentials{}); err != nil {
		t.Fatal(err)
	}
	want := []recorddriver.Exec{
		{Target: "master", Conn: 1, SQL: "SELECT name FROM sys.sql_logins WHERE name = N'pool1_SYSTEM_ACCOUNT'"},
		{Target: "pool1", Conn: 2, SQL: "SELECT name FROM sys.database_principals WHERE name IN (N'pool1_SYSTEM_ACCOUNT', N'IMMUTA_IMPERSONATION')"},
		{Target: "pool1", Conn: 2, SQL: "SELECT name FROM sys.schemas WHERE name IN (N'immuta_system', N'immuta_functions', N'immuta_procedures', N'views')"},
	}
	if got := h.d.Log(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("log %v", got)
	}
	if err := h.syn.Verify(context.Background(), platforms.OpDelete, auto, Credentials{}); err == nil ||
		!strings.Contains(err.Error(), "login [pool1_SYSTEM_ACCOUNT] in master") || strings.Contains(err.Error(), "schema [views]") {
		t.Errorf("delete left: %v", err)
	}
	h = newSynHarness()
	h.d.Rows("sys.schemas", []string{"name"}, [][]driver.Value{{"views"}}) // kept: it still holds views
	if err := h.syn.Verify(context.Background(), platforms.OpDelete, auto, Credentials{}); err != nil {
		t.Errorf("delete done: %v", err)
	}
	if err := h.syn.Verify(context.Background(), platforms.OpCreate, auto, Credentials{}); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("create missing: %v", err)
	}
	// With the held password, as the system account.
	h = newSynHarness()
	inPlace(h, int64(1))
	if err := h.syn.Verify(context.Background(), platforms.OpCreate, auto, Credentials{Password: synSysPW}); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.opened() {
		if c.Password != synSysPW {
			t.Errorf("opened with %+v", c)
		}
	}
}

func TestSynapseConnectionConfig(t *testing.T) {
	o := Options{ConnectTimeout: 7 * time.Second, StatementTimeout: 90 * time.Second}
	c := payload(t, synManualDoc).Config.(*platforms.Synapse)
	cfg, err := synDSN(c, "d'] evil&encrypt=disable", o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "ws.sql.azuresynapse.net" || cfg.Port != 1433 || cfg.Database != "d'] evil&encrypt=disable" ||
		cfg.Encryption != msdsn.EncryptionRequired || cfg.TLSConfig == nil || cfg.TLSConfig.ServerName != "ws.sql.azuresynapse.net" ||
		cfg.DialTimeout != 7*time.Second || cfg.ConnTimeout != 90*time.Second || cfg.User != "" || cfg.Password != "" {
		t.Errorf("config %+v", cfg)
	}
	o.DisableTLS = true
	if cfg, err = synDSN(c, "master", o); err != nil || cfg.Encryption != msdsn.EncryptionDisabled {
		t.Errorf("disable TLS: %+v %v", cfg, err)
	}

	for _, tc := range []struct {
		doc string
		sys Credentials
	}{{synManualDoc, Credentials{}}, {synAutoDoc, Credentials{Password: synSysPW}}, {synOAuthDoc, Credentials{}}} {
		p := payload(t, tc.doc)
		conn, err := synConnector(p.Config.(*platforms.Synapse), p.Auto(), tc.sys, "pool1", o)
		if err != nil || conn == nil {
			t.Errorf("%s: %v", tc.doc, err)
		}
	}
	lg := synLoginOf(payload(t, synAutoDoc).Config.(*platforms.Synapse), true, Credentials{Password: synSysPW})
	if lg.user != "pool1_SYSTEM_ACCOUNT" || !lg.system || !lg.held {
		t.Errorf("held login %+v", lg)
	}
	if lg := synLoginOf(payload(t, synOAuthDoc).Config.(*platforms.Synapse), false, Credentials{}); lg.user != "00000000-1111-2222-3333-444444444444" || !lg.oauth {
		t.Errorf("oauth login %+v", lg)
	}
	if _, err := synTokenProvider(&platforms.SynapseOAuth{ClientID: "x", ClientSecret: "s", AuthorityURL: "http://login.example.com/t"}, localEgress); err == nil {
		t.Error("an http authority was accepted")
	}

	// The real Open builds a pool without connecting.
	s := NewSynapse(o)
	db, err := s.open(context.Background(), payload(t, synManualDoc), Credentials{}, "pool1")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// synStripQuoted removes T-SQL bracketed identifiers ([...], ]] escapes) and string
// literals ('...', ” escapes) from sql.
func synStripQuoted(t *testing.T, sql string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		var end byte
		switch sql[i] {
		case '[':
			end = ']'
		case '\'':
			end = '\''
		default:
			b.WriteByte(sql[i])
			continue
		}
		for i++; ; i++ {
			if i >= len(sql) {
				t.Fatalf("unterminated quote in %q", sql)
			}
			if sql[i] == end {
				if i+1 < len(sql) && sql[i+1] == end {
					i++
					continue
				}
				break
			}
		}
		b.WriteString("Q")
	}
	return b.String()
}

func TestSynapseAdversarialNamesStayQuoted(t *testing.T) {
	doc := `{"type":"Azure Synapse Analytics","autoBootstrap":true,"config":{"host":"ws.sql.azuresynapse.net","schema":"s]; DROP USER evil; --","database":"d'] evil","username":"sqladmin","password":"` + synBootPW + `","authenticationType":"userPassword","impersonation":{"enabled":true,"role":"r]] evil'"}}}`
	p := payload(t, doc)
	h := newSynHarness()
	h.d.Rows("AS loginmanager", []string{"loginmanager", "user_name"}, synRow(int64(1), "sqladmin"))
	h.d.Rows("AS db_owner", []string{"db_owner", "user_name"}, synRow(int64(0), "u]; evil"))
	ctx := context.Background()
	for _, op := range []platforms.Operation{platforms.OpInitialCreate, platforms.OpCreate, platforms.OpDelete} {
		if err := h.syn.Run(ctx, sfRender(t, p, op, synSysPW), p, Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, spec := range Catalogue(p.Type) {
		_ = h.syn.Check(ctx, spec.Name, p, Credentials{})
		_ = h.syn.Check(ctx, spec.Name, p, Credentials{Password: synSysPW})
	}
	for _, op := range []platforms.Operation{platforms.OpCreate, platforms.OpDelete} {
		_ = h.syn.Verify(ctx, op, p, Credentials{})
		_ = h.syn.Verify(ctx, op, p, Credentials{Password: synSysPW})
	}
	log := h.d.Log()
	if len(log) < 30 {
		t.Fatalf("only %d statements", len(log))
	}
	targets := map[string]bool{}
	for _, e := range log {
		targets[e.Target] = true
		if rest := synStripQuoted(t, e.SQL); strings.Contains(rest, "evil") {
			t.Errorf("a config value reached SQL unquoted: %q (outside quotes: %q)", e.SQL, rest)
		}
	}
	if !targets["d'] evil"] || !targets["master"] || len(targets) != 2 {
		t.Errorf("targets %v", targets)
	}
	// The failure message quotes the bootstrap user's name for the fix it shows.
	err := h.syn.Check(ctx, synTestGrants, p, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "N'u]; evil'") {
		t.Errorf("grants: %v", err)
	}
}
