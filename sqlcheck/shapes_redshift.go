package sqlcheck

// redshiftShapes is the Redshift closed grammar: exactly the statements the templates in
// templates/redshift emit (owned by the platform engineers). Every statement is also
// parsed by pg_query (and procedure bodies by its plpgsql parser) except the shapes
// marked RedshiftOnly.
var redshiftShapes = []Shape{
	// Guard (first statement of initial-create): fails, changing nothing, when the
	// database, the user or the group is taken.
	{Name: "guard-names", Pattern: "SELECT CAST ( TAKEN AS INTEGER ) FROM ( " +
		"SELECT $string || CAST ( DATNAME AS VARCHAR ) AS TAKEN FROM PG_DATABASE WHERE DATNAME = $string " +
		"UNION ALL SELECT $string || CAST ( USENAME AS VARCHAR ) FROM PG_USER WHERE USENAME = $string " +
		"[ UNION ALL SELECT $string || CAST ( GRONAME AS VARCHAR ) FROM PG_GROUP WHERE GRONAME = $string ] ) AS NAMES"},

	// System user (initial-create, edit, post-cleanup).
	{Name: "create-user-password", Pattern: "CREATE USER $ident PASSWORD $string"},
	// PASSWORD DISABLE (authenticationType accessKey: IAM sign-in only) is Redshift
	// syntax; PostgreSQL's grammar rejects it ("syntax error at or near DISABLE").
	{Name: "create-user-password-disable", Pattern: "CREATE USER $ident PASSWORD DISABLE", RedshiftOnly: true},
	{Name: "alter-user-password", Pattern: "ALTER USER $ident PASSWORD $string"},
	// Same as create-user-password-disable: PostgreSQL has no PASSWORD DISABLE.
	{Name: "alter-user-password-disable", Pattern: "ALTER USER $ident PASSWORD DISABLE", RedshiftOnly: true},
	// Edit of config.username: the user is renamed (it keeps what it owns), then its
	// password is set again (a rename clears it).
	{Name: "alter-user-rename", Pattern: "ALTER USER $ident RENAME TO $ident"},
	{Name: "drop-user", Pattern: "DROP USER IF EXISTS $ident"},

	// Managed database (initial-create, post-cleanup) and its privileges (create, cleanup).
	{Name: "create-database", Pattern: "CREATE DATABASE $ident"},
	// FORCE ends the sessions connected to the database first (Redshift documents
	// DROP DATABASE name [ FORCE ]); PostgreSQL's grammar has WITH (FORCE) instead and
	// rejects the bare keyword.
	{Name: "drop-database-force", Pattern: "DROP DATABASE $ident FORCE", RedshiftOnly: true},
	{Name: "grant-database", Pattern: "GRANT TEMP , CREATE ON DATABASE $ident TO $ident"},
	{Name: "revoke-database", Pattern: "REVOKE TEMP , CREATE ON DATABASE $ident FROM $ident"},

	// Immuta schemas owned by the system user.
	{Name: "create-schema", Pattern: "CREATE SCHEMA IF NOT EXISTS $ident AUTHORIZATION $ident"},
	{Name: "drop-schema", Pattern: "DROP SCHEMA IF EXISTS $ident CASCADE"},
	{Name: "grant-schema-usage-public", Pattern: "GRANT USAGE ON SCHEMA $ident TO PUBLIC"},

	// Impersonation: group, procedures and their privileges.
	{Name: "create-group", Pattern: "CREATE GROUP $ident"},
	{Name: "drop-group", Pattern: "DROP GROUP $ident"},
	{Name: "create-procedure", Pattern: "CREATE OR REPLACE PROCEDURE $ident . $ident ( USERNAME VARCHAR ) AS $body LANGUAGE PLPGSQL SECURITY DEFINER"},
	{Name: "drop-procedure", Pattern: "DROP PROCEDURE IF EXISTS $ident . $ident ( VARCHAR )"},
	{Name: "revoke-procedure-public", Pattern: "REVOKE ALL ON PROCEDURE $ident . $ident ( VARCHAR ) FROM PUBLIC"},
	{Name: "grant-procedure", Pattern: "GRANT EXECUTE ON PROCEDURE $ident . $ident ( VARCHAR ) TO $ident"},
	{Name: "revoke-procedure", Pattern: "REVOKE EXECUTE ON PROCEDURE $ident . $ident ( VARCHAR ) FROM $ident"},
}
