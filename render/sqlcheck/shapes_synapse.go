package sqlcheck

import "strings"

// synapseStrings is the pattern of a parenthesised list of 1 to n string literals: the
// names a connector query looks up (IN (N'a', N'b')).
func synapseStrings(n int) string {
	return "( $string" + strings.Repeat(" [ , $string", n-1) + strings.Repeat(" ]", n-1) + " )"
}

// synapseSetupColumns is the pattern of 0 to n more columns of connector-setup, each a
// scalar function of one string literal with a bracketed alias.
func synapseSetupColumns(n int) string {
	col := " [ , < IS_ROLEMEMBER | SCHEMA_ID | OBJECT_ID | DATABASE_PRINCIPAL_ID > ( $string ) AS $ident"
	return strings.Repeat(col, n) + strings.Repeat(" ]", n)
}

// synapseShapes is the synapse closed grammar: exactly the statements of
// templates/synapse (owned by the Synapse platform engineer). Guards are part of the
// statement: T-SQL has no IF [NOT] EXISTS on CREATE/DROP LOGIN, USER, ROLE or SCHEMA in
// dedicated SQL pools, so each is guarded by a catalog lookup.
// Its entries look like the other dialects' lists (grants and revokes in pairs, one
// line each): a grammar is data, one entry per statement form, and alike forms stay
// listed one by one so each can be read against its vendor page.
var synapseShapes = []Shape{
	// login.* (master)
	// CREATE LOGIN must be the only statement of its batch, so no IF guards it: on an
	// existing login it fails, before initial-create changed anything
	// (https://learn.microsoft.com/sql/t-sql/statements/create-login-transact-sql).
	{Name: "create-login", Pattern: "CREATE LOGIN $ident WITH PASSWORD = $string"},
	{Name: "alter-login", Pattern: "ALTER LOGIN $ident WITH PASSWORD = $string"},
	{Name: "drop-login", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . SQL_LOGINS WHERE NAME = $string ) DROP LOGIN $ident"},

	// guard-*.create: change nothing, and end the batch with THROW when a name the
	// script takes exists (https://learn.microsoft.com/en-us/sql/t-sql/language-elements/throw-transact-sql).
	{Name: "guard-login", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . SQL_LOGINS WHERE NAME = $string ) THROW 50000 , $string , 1"},
	{Name: "guard-principal", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string ) THROW 50000 , $string , 1"},
	{Name: "guard-schema", Pattern: "IF SCHEMA_ID ( $string ) IS NOT NULL THROW 50000 , $string , 1"},

	// user.*, external-user.*: no IF NOT EXISTS (the guard checked the name)
	{Name: "create-user", Pattern: "CREATE USER $ident < FROM LOGIN $ident | FROM EXTERNAL PROVIDER >"},
	{Name: "drop-user", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string ) DROP USER $ident"},

	// role.*
	{Name: "create-role", Pattern: "CREATE ROLE $ident AUTHORIZATION $ident"},
	// role.drop: one batch (no ';' inside) that removes every member with
	// sp_droprolemember, looping WHILE over a numbered temporary table (dedicated SQL
	// pools have no cursors), then drops the role.
	{Name: "drop-role-with-members", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string AND TYPE = $string ) " +
		"BEGIN " +
		"DECLARE @N INT , @I INT = 1 , @MEMBER NVARCHAR ( 128 ) " +
		"CREATE TABLE #IMMUTA_MEMBERS WITH ( DISTRIBUTION = ROUND_ROBIN ) AS SELECT ROW_NUMBER ( ) OVER ( ORDER BY M . MEMBER_PRINCIPAL_ID ) AS $ident , P . NAME AS $ident " +
		"FROM SYS . DATABASE_ROLE_MEMBERS AS M JOIN SYS . DATABASE_PRINCIPALS AS P ON P . PRINCIPAL_ID = M . MEMBER_PRINCIPAL_ID " +
		"JOIN SYS . DATABASE_PRINCIPALS AS R ON R . PRINCIPAL_ID = M . ROLE_PRINCIPAL_ID WHERE R . NAME = $string " +
		"SET @N = ( SELECT COUNT ( * ) FROM #IMMUTA_MEMBERS ) " +
		"WHILE @I <= @N BEGIN " +
		"SET @MEMBER = ( SELECT $ident FROM #IMMUTA_MEMBERS WHERE $ident = @I ) " +
		"EXEC SP_DROPROLEMEMBER $string , @MEMBER " +
		"SET @I = @I + 1 " +
		"END " +
		"DROP TABLE #IMMUTA_MEMBERS " +
		"DROP ROLE $ident " +
		"END"},

	// login-sessions.drop (cleanup, in the database): one batch (no ';' inside) that
	// ends every other open session of the system account's login with KILL 'SIDnnn'
	// through sp_executesql, looping WHILE over a numbered temporary table filled from
	// sys.dm_pdw_exec_sessions, so that post-cleanup can drop the login
	// (https://learn.microsoft.com/en-us/sql/t-sql/language-elements/kill-transact-sql).
	{Name: "kill-login-sessions", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . DM_PDW_EXEC_SESSIONS WHERE LOGIN_NAME = $string " +
		"AND SESSION_ID <> SESSION_ID ( ) AND STATUS NOT IN ( $string , $string ) ) " +
		"BEGIN " +
		"DECLARE @N INT , @I INT = 1 , @SQL NVARCHAR ( 4000 ) " +
		"CREATE TABLE #IMMUTA_SESSIONS WITH ( DISTRIBUTION = ROUND_ROBIN ) AS SELECT ROW_NUMBER ( ) OVER ( ORDER BY S . SESSION_ID ) AS $ident , " +
		"$string + QUOTENAME ( S . SESSION_ID , $string ) AS $ident " +
		"FROM SYS . DM_PDW_EXEC_SESSIONS AS S WHERE S . LOGIN_NAME = $string AND S . SESSION_ID <> SESSION_ID ( ) AND S . STATUS NOT IN ( $string , $string ) " +
		"SET @N = ( SELECT COUNT ( * ) FROM #IMMUTA_SESSIONS ) " +
		"WHILE @I <= @N BEGIN " +
		"SET @SQL = ( SELECT $ident FROM #IMMUTA_SESSIONS WHERE $ident = @I ) " +
		"EXEC SP_EXECUTESQL @SQL " +
		"SET @I = @I + 1 " +
		"END " +
		"DROP TABLE #IMMUTA_SESSIONS " +
		"END"},

	// role-member.*
	{Name: "add-role-member", Pattern: "EXEC SP_ADDROLEMEMBER $string , $string"},
	{Name: "drop-role-member", Pattern: "EXEC SP_DROPROLEMEMBER $string , $string"},

	// schema.*, view-schema.*: CREATE SCHEMA must be alone in its batch, so it runs
	// through sp_executesql (its own batch) inside its guard; the inner statement is
	// create-schema. sp_executesql rather than EXEC(N'...'): both are valid, but the
	// sqlfluff tsql grammar parses only the former.
	{Name: "create-schema-guarded", Pattern: "IF SCHEMA_ID ( $string ) IS NULL EXEC SP_EXECUTESQL $exec"},
	{Name: "create-schema", Pattern: "CREATE SCHEMA $ident AUTHORIZATION $ident"},
	// schema.drop: one batch (no ';' inside) that drops the schema's views, procedures,
	// functions and tables with sp_executesql, looping WHILE over a numbered temporary
	// table, then drops the schema.
	{Name: "drop-schema-with-objects", Pattern: "IF SCHEMA_ID ( $string ) IS NOT NULL " +
		"BEGIN " +
		"DECLARE @N INT , @I INT = 1 , @SQL NVARCHAR ( 4000 ) " +
		"CREATE TABLE #IMMUTA_OBJECTS WITH ( DISTRIBUTION = ROUND_ROBIN ) AS SELECT ROW_NUMBER ( ) OVER ( ORDER BY " +
		"CASE O . TYPE WHEN $string THEN 1 WHEN $string THEN 2 WHEN $string THEN 4 ELSE 3 END , O . OBJECT_ID ) AS $ident , " +
		"$string + CASE O . TYPE WHEN $string THEN $string WHEN $string THEN $string WHEN $string THEN $string ELSE $string END + " +
		"QUOTENAME ( SCHEMA_NAME ( O . SCHEMA_ID ) ) + $string + QUOTENAME ( O . NAME ) AS $ident " +
		"FROM SYS . OBJECTS AS O WHERE O . SCHEMA_ID = SCHEMA_ID ( $string ) AND O . TYPE IN ( $string , $string , $string , $string , $string , $string ) " +
		"SET @N = ( SELECT COUNT ( * ) FROM #IMMUTA_OBJECTS ) " +
		"WHILE @I <= @N BEGIN " +
		"SET @SQL = ( SELECT $ident FROM #IMMUTA_OBJECTS WHERE $ident = @I ) " +
		"EXEC SP_EXECUTESQL @SQL " +
		"SET @I = @I + 1 " +
		"END " +
		"DROP TABLE #IMMUTA_OBJECTS " +
		"DROP SCHEMA $ident " +
		"END"},
	{Name: "drop-schema-if-empty", Pattern: "IF SCHEMA_ID ( $string ) IS NOT NULL AND NOT EXISTS ( SELECT 1 FROM SYS . OBJECTS WHERE SCHEMA_ID = SCHEMA_ID ( $string ) ) DROP SCHEMA $ident"},

	// metadata-table.*, metadata-row.create
	{Name: "create-metadata-table", Pattern: "IF OBJECT_ID ( $string ) IS NULL CREATE TABLE $ident . $ident ( " +
		"$ident NVARCHAR ( 1 ) NOT NULL , $ident NVARCHAR ( 1 ) NOT NULL , $ident NVARCHAR ( 1 ) NOT NULL " +
		") WITH ( DISTRIBUTION = REPLICATE )"},
	{Name: "drop-metadata-table", Pattern: "IF OBJECT_ID ( $string ) IS NOT NULL DROP TABLE $ident . $ident"},
	{Name: "insert-metadata-row", Pattern: "IF NOT EXISTS ( SELECT 1 FROM $ident . $ident ) INSERT INTO $ident . $ident ( $ident , $ident , $ident ) VALUES ( $string , $string , $string )"},

	// schema-grant.*, role-grant.*
	{Name: "grant-schema", Pattern: "GRANT CONTROL ON SCHEMA :: $ident TO $ident"},
	{Name: "revoke-schema", Pattern: "REVOKE CONTROL ON SCHEMA :: $ident FROM $ident"},
	// database-grant.*: the CREATE permissions the service uses (instead of db_ddladmin)
	{Name: "grant-database", Pattern: "GRANT CREATE < TABLE | VIEW | PROCEDURE | FUNCTION > TO $ident"},
	{Name: "revoke-database", Pattern: "REVOKE CREATE < TABLE | VIEW | PROCEDURE | FUNCTION > FROM $ident"},
	{Name: "grant-role", Pattern: "GRANT ALTER ON ROLE :: $ident TO $ident"},
	{Name: "revoke-role", Pattern: "REVOKE ALTER ON ROLE :: $ident FROM $ident"},

	// Suggested by the connector's messages (no script runs them): a disabled login is
	// enabled, a role an earlier setup left is dropped.
	// https://learn.microsoft.com/en-us/sql/t-sql/statements/alter-login-transact-sql,
	// https://learn.microsoft.com/en-us/sql/t-sql/statements/drop-role-transact-sql
	{Name: "enable-login", Pattern: "ALTER LOGIN $ident ENABLE"},
	{Name: "drop-role", Pattern: "DROP ROLE $ident"},

	// What the connector runs on its own session to look at the pool or master
	// (templates/synapse/connector.sql.tmpl, which cites the vendor pages);
	// CheckConnector accepts only these, and no script can hold one.
	{Name: "connector-login-name", Connector: true, Pattern: "SELECT SUSER_SNAME ( ) AS LOGIN_NAME"},
	{Name: "connector-pool-edition", Connector: true, Pattern: "SELECT DB_NAME ( ) AS DATABASE_NAME , " +
		"CAST ( DATABASEPROPERTYEX ( DB_NAME ( ) , $string ) AS NVARCHAR ( 128 ) ) AS EDITION"},
	{Name: "connector-role-membership", Connector: true, Pattern: "SELECT IS_ROLEMEMBER ( $string ) AS < LOGINMANAGER | DB_OWNER > , USER_NAME ( ) AS USER_NAME"},
	{Name: "connector-names", Connector: true, Pattern: "SELECT NAME FROM SYS . < SCHEMAS | DATABASE_PRINCIPALS > WHERE NAME IN " + synapseStrings(8)},
	{Name: "connector-login-names", Connector: true, Pattern: "SELECT NAME FROM SYS . SQL_LOGINS WHERE NAME = $string"},
	{Name: "connector-principal", Connector: true, Pattern: "SELECT [ NAME , ] TYPE_DESC FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string"},
	{Name: "connector-setup", Connector: true, Pattern: "SELECT IS_ROLEMEMBER ( $string ) AS $ident" + synapseSetupColumns(15)},
	{Name: "connector-permissions", Connector: true, Pattern: "SELECT DP . CLASS , DP . MAJOR_ID , DP . PERMISSION_NAME FROM SYS . DATABASE_PERMISSIONS AS DP " +
		"WHERE DP . GRANTEE_PRINCIPAL_ID = DATABASE_PRINCIPAL_ID ( [ $string ] ) AND DP . STATE IN ( $string , $string )"},
}
