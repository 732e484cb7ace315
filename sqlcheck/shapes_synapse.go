package sqlcheck

// synapseShapes is the synapse closed grammar: exactly the statements of
// templates/synapse (owned by the Synapse platform engineer). Guards are part of the
// statement: T-SQL has no IF [NOT] EXISTS on CREATE/DROP LOGIN, USER, ROLE or SCHEMA in
// dedicated SQL pools, so each is guarded by a catalog lookup.
var synapseShapes = []Shape{
	// login.* (master)
	// CREATE LOGIN must be the only statement of its batch, so no IF guards it: on an
	// existing login it fails, before initial-create changed anything
	// (https://learn.microsoft.com/sql/t-sql/statements/create-login-transact-sql).
	{Name: "create-login", Pattern: "CREATE LOGIN $ident WITH PASSWORD = $string"},
	{Name: "alter-login", Pattern: "ALTER LOGIN $ident WITH PASSWORD = $string"},
	{Name: "drop-login", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . SQL_LOGINS WHERE NAME = $string ) DROP LOGIN $ident"},

	// user.*, external-user.*
	{Name: "create-user", Pattern: "IF NOT EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string ) CREATE USER $ident < FROM LOGIN $ident | FROM EXTERNAL PROVIDER >"},
	{Name: "drop-user", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string ) DROP USER $ident"},

	// role.*
	{Name: "create-role", Pattern: "IF NOT EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string ) CREATE ROLE $ident"},
	{Name: "drop-role", Pattern: "IF EXISTS ( SELECT 1 FROM SYS . DATABASE_PRINCIPALS WHERE NAME = $string ) DROP ROLE $ident"},

	// role-member.*
	{Name: "add-role-member", Pattern: "EXEC SP_ADDROLEMEMBER $string , $string"},
	{Name: "drop-role-member", Pattern: "EXEC SP_DROPROLEMEMBER $string , $string"},

	// schema.*, view-schema.*: CREATE SCHEMA must be alone in its batch, so it runs
	// through sp_executesql (its own batch) inside its guard; the inner statement is
	// create-schema. sp_executesql rather than EXEC(N'...'): both are valid, but the
	// sqlfluff tsql grammar parses only the former.
	{Name: "create-schema-guarded", Pattern: "IF SCHEMA_ID ( $string ) IS NULL EXEC SP_EXECUTESQL $exec"},
	{Name: "create-schema", Pattern: "CREATE SCHEMA $ident AUTHORIZATION $ident"},
	{Name: "drop-schema", Pattern: "IF SCHEMA_ID ( $string ) IS NOT NULL DROP SCHEMA $ident"},
	{Name: "drop-schema-if-empty", Pattern: "IF SCHEMA_ID ( $string ) IS NOT NULL AND NOT EXISTS ( SELECT 1 FROM SYS . OBJECTS WHERE SCHEMA_ID = SCHEMA_ID ( $string ) ) DROP SCHEMA $ident"},

	// metadata-table.*, metadata-row.create
	{Name: "create-metadata-table", Pattern: "IF OBJECT_ID ( $string ) IS NULL CREATE TABLE $ident . $ident ( " +
		"$ident NVARCHAR ( 1 ) NOT NULL , $ident NVARCHAR ( 1 ) NOT NULL , $ident NVARCHAR ( 1 ) NOT NULL " +
		") WITH ( DISTRIBUTION = REPLICATE )"},
	{Name: "drop-metadata-table", Pattern: "IF OBJECT_ID ( $string ) IS NOT NULL DROP TABLE $ident . $ident"},
	{Name: "insert-metadata-row", Pattern: "IF NOT EXISTS ( SELECT 1 FROM $ident . $ident ) INSERT INTO $ident . $ident ( $ident , $ident , $ident ) VALUES ( $string , $string , $string )"},

	// grant-schema.*, grant-role.*
	{Name: "grant-schema", Pattern: "GRANT < CONTROL | EXECUTE > ON SCHEMA :: $ident TO $ident"},
	{Name: "revoke-schema", Pattern: "REVOKE < CONTROL | EXECUTE > ON SCHEMA :: $ident FROM $ident"},
	{Name: "grant-role", Pattern: "GRANT ALTER ON ROLE :: $ident TO $ident"},
	{Name: "revoke-role", Pattern: "REVOKE ALTER ON ROLE :: $ident FROM $ident"},
}
