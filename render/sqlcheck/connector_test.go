package sqlcheck

import "testing"

// Connector shapes and script shapes exclude each other: a script cannot hold what only a
// connector runs (a SHOW, a session's SELECT), and CheckConnector refuses a script's
// statement.
func TestConnectorShapesAreSeparate(t *testing.T) {
	cases := []struct {
		d               Dialect
		sql             string
		script, connect string // the accepting shape of CheckStatement and CheckConnector ("": refused)
	}{
		{Snowflake, `SHOW ROLES STARTS WITH 'IMMUTA'`, "", "connector-show-roles-starting"},
		{Snowflake, `SHOW ROLES LIKE 'IMMUTA_DB'`, "", "connector-show-like"},
		{Snowflake, `USE ROLE "R"`, "", "connector-use"},
		{Snowflake, `SELECT CURRENT_USER()`, "", "connector-current-user"},
		{Snowflake, `SHOW GRANTS TO ROLE "a""b"`, "", "connector-show-grants"},
		{Snowflake, `CREATE ROLE "R";`, "create-role", ""},
		{Snowflake, `GRANT CREATE USER ON ACCOUNT TO ROLE "R";`, "grant-account-privilege", ""},
		{Snowflake, `SHOW ROLES STARTS WITH 'A'; DROP ROLE "R"`, "", ""},
		{Redshift, `SELECT 1`, "", "connector-select-one"},
		{Redshift, `SET statement_timeout TO 120000`, "", "connector-statement-timeout"},
		{Redshift, `SELECT count(*) FROM pg_group WHERE groname = 'g'`, "", "connector-group-count"},
		{Redshift, `SELECT nspname FROM pg_namespace WHERE nspname IN ('a', 'b', 'c', 'd', 'e') ORDER BY nspname`, "", ""},
		{Redshift, `SELECT nspname FROM pg_namespace WHERE nspname IN ('a', 'b') ORDER BY nspname`, "", "connector-schema-names"},
		{Redshift, `ALTER SCHEMA "s" OWNER TO "u";`, "alter-schema-owner", ""},
		{Redshift, `CREATE GROUP "g";`, "create-group", ""},
		{Synapse, `SELECT SUSER_SNAME() AS login_name`, "", "connector-login-name"},
		{Synapse, `SELECT name FROM sys.schemas WHERE name IN (N'a', N'b')`, "", "connector-names"},
		{Synapse, `SELECT name FROM sys.schemas WHERE name IN (N'a'); DROP SCHEMA [a]`, "", ""},
		{Synapse, `SELECT IS_ROLEMEMBER(N'db_owner') AS [p1], SCHEMA_ID(N'a') AS [p2], DATABASE_PRINCIPAL_ID(N'r') AS [p3]`, "", "connector-setup"},
		{Synapse, `SELECT IS_ROLEMEMBER(N'db_owner') AS [p1], SCHEMA_ID(N'a') + 1 AS [p2]`, "", ""},
		{Synapse, `SELECT dp.class, dp.major_id, dp.permission_name FROM sys.database_permissions AS dp WHERE dp.grantee_principal_id = DATABASE_PRINCIPAL_ID() AND dp.state IN ('G', 'W')`, "", "connector-permissions"},
		{Synapse, `DROP ROLE [r];`, "drop-role", ""},
		{Synapse, `GRANT CONTROL ON SCHEMA::[s] TO [u];`, "grant-schema", ""},
	}
	for _, c := range cases {
		got, _ := CheckStatement(c.d, c.sql)
		if got != c.script {
			t.Errorf("CheckStatement(%s, %q) = %q, want %q", c.d, c.sql, got, c.script)
		}
		got, _ = CheckConnector(c.d, c.sql)
		if got != c.connect {
			t.Errorf("CheckConnector(%s, %q) = %q, want %q", c.d, c.sql, got, c.connect)
		}
	}
	if _, err := CheckConnector("mysql", "SELECT 1"); err == nil {
		t.Error("unknown dialect accepted")
	}
}
