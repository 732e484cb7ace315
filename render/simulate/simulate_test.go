package simulate

import (
	"errors"
	"strings"
	"testing"
)

// step is one statement of a rule test: the batch, and "" if it must succeed or a
// fragment of the refusal's rule.
type step struct {
	sql     string
	refused string
}

// runSteps runs steps in s and checks each outcome; a refusal must name its source.
func runSteps(t *testing.T, a Account, s *Session, steps []step) {
	t.Helper()
	for _, st := range steps {
		err := a.Exec(s, st.sql)
		switch {
		case st.refused == "" && err != nil:
			t.Fatalf("%s: %v", st.sql, err)
		case st.refused != "" && err == nil:
			t.Fatalf("%s: accepted, want refused (%s)", st.sql, st.refused)
		case st.refused != "":
			var r *Refusal
			if !errors.As(err, &r) || !strings.Contains(r.Rule, st.refused) || !strings.HasPrefix(r.Source, "https://") {
				t.Fatalf("%s: %v, want a refusal with a source saying %q", st.sql, err, st.refused)
			}
		}
	}
}

func TestSnowflakeRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(a *Snowflake)
		role  string
		steps []step
	}{
		{name: "DROP needs the owner role: ACCOUNTADMIN is not a superuser", role: "ACCOUNTADMIN",
			setup: func(a *Snowflake) {
				a.AddExisting("role", "ORPHAN", "ORPHAN")
				a.AddExisting("database", "D", "ORPHAN")
			},
			steps: []step{{`DROP DATABASE IF EXISTS "D"`, "owner role ORPHAN"}}},
		{name: "DROP by a role above the owner", role: "ACCOUNTADMIN",
			setup: func(a *Snowflake) { a.AddExisting("database", "D", "SYSADMIN") },
			steps: []step{{`DROP DATABASE IF EXISTS "D"`, ""}}},
		{name: "GRANT OWNERSHIP needs the owner or MANAGE GRANTS", role: "SYSADMIN",
			setup: func(a *Snowflake) {
				a.AddExisting("role", "OTHER", "USERADMIN")
				a.AddExisting("database", "D", "USERADMIN")
				a.grants[grant{"USAGE", key{"role", "SYSADMIN"}, key{"user", "ADMIN"}}] = true
			},
			steps: []step{{`GRANT OWNERSHIP ON DATABASE "D" TO ROLE "OTHER" COPY CURRENT GRANTS`, "MANAGE GRANTS"}}},
		{name: "IF NOT EXISTS is a no-op on an existing object, plain CREATE fails", role: "ACCOUNTADMIN",
			setup: func(a *Snowflake) { a.AddExisting("role", "R", "USERADMIN") },
			steps: []step{{`CREATE ROLE "R"`, "already exists"}, {`DROP ROLE IF EXISTS "MISSING"`, ""}}},
		{name: "shared databases are read-only", role: "ACCOUNTADMIN",
			steps: []step{
				{`CREATE SCHEMA IF NOT EXISTS "SNOWFLAKE_SAMPLE_DATA"."S"`, "read-only"},
				{`CREATE SCHEMA IF NOT EXISTS "SNOWFLAKE"."S"`, "read-only"},
				{`DROP DATABASE IF EXISTS "SNOWFLAKE"`, "cannot be dropped"},
			}},
		{name: "IMPORTED PRIVILEGES only on shared databases", role: "ACCOUNTADMIN",
			setup: func(a *Snowflake) {
				a.AddExisting("database", "D", "ACCOUNTADMIN")
				a.AddExisting("role", "R", "ACCOUNTADMIN")
			},
			steps: []step{
				{`GRANT IMPORTED PRIVILEGES ON DATABASE "SNOWFLAKE" TO ROLE "R"`, ""},
				{`GRANT IMPORTED PRIVILEGES ON DATABASE "D" TO ROLE "R"`, "shared databases only"},
			}},
		{name: "SERVICE users have no password; the password policy applies", role: "ACCOUNTADMIN",
			setup: func(a *Snowflake) { a.AddExisting("user", "U", "ACCOUNTADMIN") },
			steps: []step{
				{`ALTER USER IF EXISTS "U" SET TYPE = LEGACY_SERVICE PASSWORD = 'short1A'`, "password policy"},
				{`ALTER USER IF EXISTS "U" SET TYPE = SERVICE RSA_PUBLIC_KEY = 'MIIB'`, ""},
				{`ALTER USER IF EXISTS "U" SET PASSWORD = 'Long-enough-Passw0rd'`, "SERVICE"},
			}},
		{name: "the guard raises on a taken name, exactly and only there, and changes nothing", role: "ACCOUNTADMIN",
			setup: func(a *Snowflake) {
				a.AddExisting("database", "TAKEN_DB", "SYSADMIN")
				a.AddExisting("role", "TAKEN_ROLE", "USERADMIN")
				a.AddUser("taken@example.com")
				a.AddExisting("role", "ORPHAN", "ORPHAN")
				a.AddExisting("database", "HIDDEN", "ORPHAN")
			},
			steps: []step{
				{sfGuard("DATABASES", "TAKEN_DB"), "guard: database TAKEN_DB is taken"},
				{sfGuard("ROLES", "TAKEN_ROLE"), "guard: role TAKEN_ROLE is taken"},
				{sfGuard("USERS", "taken@example.com"), "guard: user taken@example.com is taken"},
				// LIKE is case-insensitive and _ matches any character: the exact
				// comparison decides.
				{sfGuard("DATABASES", "taken_db"), ""},
				{sfGuard("DATABASES", "TAKENXDB"), ""},
				{sfGuard("ROLES", "FREE"), ""},
				// A database the runner cannot see passes (its plain CREATE still fails).
				{sfGuard("DATABASES", "HIDDEN"), ""},
				{`CREATE DATABASE "HIDDEN"`, "already exists"},
				// The block must compare the "name" column, and its pattern must list the
				// name.
				{strings.Replace(sfGuard("DATABASES", "TAKEN_DB"), `"name"`, `"NAME"`, 1), "no column"},
				{strings.Replace(sfGuard("DATABASES", "TAKEN_DB"), `LIKE 'TAKEN_DB'`, `LIKE 'OTHER'`, 1), "does not list"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewSnowflake("W")
			if tc.setup != nil {
				tc.setup(a)
			}
			s, err := a.Connect("account", "ADMIN", tc.role)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, a, s, tc.steps)
		})
	}
}

// sfGuard is the guard statement of templates/snowflake/guard.sql.tmpl for a name
// without quotes or backslashes.
func sfGuard(show, name string) string {
	return "EXECUTE IMMEDIATE $$ DECLARE NAME_TAKEN EXCEPTION (-20001, 'taken'); BEGIN SHOW " + show + " LIKE '" + name +
		"'; IF ((SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE \"name\" = '" + name + "') > 0) THEN RAISE NAME_TAKEN; END IF; END; $$"
}

func TestSnowflakeDropRoleHandsOwnedObjectsToTheDropper(t *testing.T) {
	a := NewSnowflake("W")
	s, _ := a.Connect("account", "ADMIN", "ACCOUNTADMIN")
	runSteps(t, a, s, []step{
		{`CREATE ROLE "S"`, ""}, {`CREATE DATABASE "D"`, ""},
		{`GRANT OWNERSHIP ON DATABASE "D" TO ROLE "S" COPY CURRENT GRANTS`, ""},
		{`DROP ROLE IF EXISTS "S"`, ""},
	})
	if o := a.get("database", "D"); o == nil || o.owner != "ACCOUNTADMIN" {
		t.Fatalf("database D after DROP ROLE: %+v", o)
	}
}

func TestRedshiftRules(t *testing.T) {
	a := NewRedshift("dev")
	s, _ := a.Connect("dev", "admin", "")
	runSteps(t, a, s, []step{
		{`CREATE USER "u" PASSWORD 'Abcdefg1'`, ""},
		{`CREATE USER "u" PASSWORD 'Abcdefg1'`, "already exists"},
		{`CREATE DATABASE "d"`, ""},
	})
	t.Run("CREATE and DROP DATABASE cannot run in a transaction", func(t *testing.T) {
		s.InTx = true
		defer func() { s.InTx = false }()
		runSteps(t, a, s, []step{{`CREATE DATABASE "e"`, "transaction block"}, {`DROP DATABASE "d" FORCE`, "transaction block"}})
	})
	in, _ := a.Connect("d", "admin", "")
	runSteps(t, a, in, []step{{`CREATE SCHEMA IF NOT EXISTS "s" AUTHORIZATION "u"`, ""}})
	t.Run("DROP USER fails while the user owns objects in the current database only", func(t *testing.T) {
		runSteps(t, a, in, []step{{`DROP USER IF EXISTS "u"`, "owns schema d.s"}})
		b := a.Clone().(*Redshift)
		bs, _ := b.Connect("dev", "admin", "")
		runSteps(t, b, bs, []step{{`DROP USER IF EXISTS "u"`, ""}})
		if o := b.get("schema", "d.s"); o == nil || o.owner != "unknown" {
			t.Fatalf("schema after DROP USER from another database: %+v", o)
		}
	})
	t.Run("DROP DATABASE FORCE ends the other sessions, and fails on the connected database", func(t *testing.T) {
		b := a.Clone().(*Redshift)
		bs, _ := b.Connect("dev", "admin", "")
		other, _ := b.Connect("d", "u", "")
		runSteps(t, b, bs, []step{{`DROP DATABASE "d" FORCE`, ""}})
		if !other.closed || b.Has("database", "d") {
			t.Fatalf("after DROP DATABASE FORCE: other session closed %t, database still there %t", other.closed, b.Has("database", "d"))
		}
		runSteps(t, b, bs, []step{{`DROP DATABASE "d" FORCE`, "does not exist"}})
		c := a.Clone().(*Redshift)
		cs, _ := c.Connect("d", "admin", "")
		runSteps(t, c, cs, []step{{`DROP DATABASE "d" FORCE`, "connected to"}})
	})
	t.Run("ALTER USER RENAME keeps what the user owns and holds, and clears its password", func(t *testing.T) {
		b := a.Clone().(*Redshift)
		bs, _ := b.Connect("dev", "admin", "")
		in, _ := b.Connect("d", "admin", "")
		runSteps(t, b, in, []step{{`GRANT TEMP, CREATE ON DATABASE "d" TO "u"`, ""}})
		svc, _ := b.Connect("d", "u", "")
		if err := b.ServiceCreate(svc, "table", "s", "t"); err != nil {
			t.Fatal(err)
		}
		runSteps(t, b, bs, []step{
			{`CREATE USER "taken" PASSWORD 'Abcdefg1'`, ""},
			{`ALTER USER "u" RENAME TO "taken"`, "already exists"},
			{`ALTER USER "missing" RENAME TO "v"`, "does not exist"},
			{`ALTER USER "u" RENAME TO "v"`, ""},
		})
		if b.Has("user", "u") || b.get("user", "v").attrs["password"] != "cleared" {
			t.Fatalf("after the rename: old name still there %t, password %q", b.Has("user", "u"), b.get("user", "v").attrs["password"])
		}
		if sc, tb := b.get("schema", "d.s"), b.get("table", "d.s.t"); sc.owner != "v" || tb.owner != "v" {
			t.Fatalf("owners after the rename: schema %s, table %s", sc.owner, tb.owner)
		}
		if !b.grants[grant{"CREATE", key{"database", "d"}, key{"user", "v"}}] {
			t.Fatal("the renamed user lost its CREATE on the database")
		}
		runSteps(t, b, bs, []step{{`ALTER USER "v" PASSWORD 'Abcdefg1'`, ""}})
		if b.get("user", "v").attrs["password"] != "set" {
			t.Fatal("ALTER USER PASSWORD did not set the password")
		}
	})
	t.Run("GRANT USAGE ON SCHEMA TO PUBLIC needs the schema", func(t *testing.T) {
		b := a.Clone().(*Redshift)
		in, _ := b.Connect("d", "admin", "")
		runSteps(t, b, in, []step{{`GRANT USAGE ON SCHEMA "missing" TO PUBLIC`, "does not exist"}, {`GRANT USAGE ON SCHEMA "s" TO PUBLIC`, ""}})
		if !b.grants[grant{"USAGE", key{"schema", "d.s"}, key{"public", ""}}] {
			t.Fatal("no USAGE for PUBLIC on the schema")
		}
		u, _ := b.Connect("d", "u", "")
		runSteps(t, b, u, []step{{`GRANT USAGE ON SCHEMA "s" TO PUBLIC`, ""}}) // u owns s
		b.AddUser("alice")
		al, _ := b.Connect("d", "alice", "")
		runSteps(t, b, al, []step{{`GRANT USAGE ON SCHEMA "s" TO PUBLIC`, "only the owner"}})
	})
	t.Run("the guard fails naming a taken name and changes nothing", func(t *testing.T) {
		guard := func(db, user, group string) string {
			q := `SELECT CAST(taken AS INTEGER) FROM (SELECT 'database already exists: ' || CAST(datname AS VARCHAR) AS taken FROM pg_database WHERE datname = '` + db +
				`' UNION ALL SELECT 'user already exists: ' || CAST(usename AS VARCHAR) FROM pg_user WHERE usename = '` + user + `'`
			if group != "" {
				q += ` UNION ALL SELECT 'group already exists: ' || CAST(groname AS VARCHAR) FROM pg_group WHERE groname = '` + group + `'`
			}
			return q + `) AS names`
		}
		b := a.Clone().(*Redshift)
		bs, _ := b.Connect("dev", "admin", "")
		runSteps(t, b, bs, []step{{`CREATE GROUP "g"`, ""}})
		before := b.Snapshot()
		runSteps(t, b, bs, []step{
			{guard("free", "free", "free"), ""},
			{guard("free", "free", ""), ""},
			{guard("d", "free", "free"), "database already exists: d"},
			{guard("free", "u", "free"), "user already exists: u"},
			{guard("free", "free", "g"), "group already exists: g"},
		})
		if b.Snapshot() != before {
			t.Fatal("the guard changed the account")
		}
	})
	t.Run("DROP GROUP fails while the group holds privileges", func(t *testing.T) {
		runSteps(t, a, s, []step{{`CREATE GROUP "g"`, ""}, {`DROP GROUP "missing"`, "does not exist"}, {`DROP GROUP "g"`, ""}})
	})
}

func TestSynapseRules(t *testing.T) {
	a := NewSynapse("db", map[string]string{"immuta-app": "3f2b8c1e-0000-0000-0000-000000000000"})
	m, _ := a.Connect("master", SynapseAdmin, "")
	d, _ := a.Connect("db", SynapseAdmin, "")
	t.Run("CREATE LOGIN alone in its batch, only in master", func(t *testing.T) {
		err := a.Exec(m, `CREATE LOGIN [l] WITH PASSWORD = N'Abc1234!secret'`, `ALTER LOGIN [l] WITH PASSWORD = N'Abc1234!secret'`)
		if err == nil || !strings.Contains(err.Error(), "only statement in its batch") || a.Has("login", "l") {
			t.Fatalf("CREATE LOGIN with another statement in its batch: %v", err)
		}
		runSteps(t, a, d, []step{{`CREATE LOGIN [l] WITH PASSWORD = N'Abc1234!secret'`, "only in master"}})
		runSteps(t, a, m, []step{{`CREATE LOGIN [l] WITH PASSWORD = N'Abc1234!secret'`, ""}, {`CREATE LOGIN [l] WITH PASSWORD = N'Abc1234!secret'`, "already exists"}})
	})
	t.Run("DROP SCHEMA fails while the schema holds objects", func(t *testing.T) {
		runSteps(t, a, d, []step{{`IF SCHEMA_ID(N's') IS NULL EXEC sp_executesql N'CREATE SCHEMA [s] AUTHORIZATION [dbo]'`, ""}})
		if err := a.ServiceCreate(d, "table", "s", "t"); err != nil {
			t.Fatal(err)
		}
		runSteps(t, a, d, []step{
			{`IF SCHEMA_ID(N's') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sys.objects WHERE schema_id = SCHEMA_ID(N's')) DROP SCHEMA [s]`, ""},
			{`IF SCHEMA_ID(N's') IS NOT NULL DROP SCHEMA [s]`, "holds table"},
		})
	})
	t.Run("DROP USER fails while the user owns a schema", func(t *testing.T) {
		runSteps(t, a, d, []step{
			{`IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'l') CREATE USER [l] FROM LOGIN [l]`, ""},
			{`IF SCHEMA_ID(N'owned') IS NULL EXEC sp_executesql N'CREATE SCHEMA [owned] AUTHORIZATION [l]'`, ""},
			{`IF EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'l') DROP USER [l]`, "owns schema"},
		})
	})
	t.Run("DROP ROLE fails while the role has members", func(t *testing.T) {
		runSteps(t, a, d, []step{
			{`IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'r') CREATE ROLE [r]`, ""},
			{`EXEC sp_addrolemember N'r', N'l'`, ""},
			{`IF EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'r') DROP ROLE [r]`, "has member"},
		})
	})
	t.Run("Entra users are named by display name", func(t *testing.T) {
		runSteps(t, a, d, []step{
			{`IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'3f2b8c1e-0000-0000-0000-000000000000') CREATE USER [3f2b8c1e-0000-0000-0000-000000000000] FROM EXTERNAL PROVIDER`, "display name"},
			{`IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'immuta-app') CREATE USER [immuta-app] FROM EXTERNAL PROVIDER`, ""},
		})
	})
	t.Run("DROP LOGIN fails while the login is signed in", func(t *testing.T) {
		if _, err := a.Connect("db", "l", ""); err != nil {
			t.Fatal(err)
		}
		runSteps(t, a, m, []step{{`IF EXISTS (SELECT 1 FROM sys.sql_logins WHERE name = N'l') DROP LOGIN [l]`, "signed in"}})
	})
}

func TestSnapshotAndClone(t *testing.T) {
	a := NewSnowflake("W")
	b := a.Clone()
	s, _ := b.Connect("account", "ADMIN", "ACCOUNTADMIN")
	if err := b.Exec(s, `CREATE ROLE "X"`); err != nil {
		t.Fatal(err)
	}
	if a.Snapshot() == b.Snapshot() || a.Has("role", "X") || !b.Has("role", "X") {
		t.Fatal("clone shares state with its original")
	}
}
