package sqlcheck

import "strings"

// redshiftStrings is the pattern of a parenthesised list of 1 to n string literals: the
// names a connector query looks up (IN ('a', 'b')).
func redshiftStrings(n int) string {
	return "( $string" + strings.Repeat(" [ , $string", n-1) + strings.Repeat(" ]", n-1) + " )"
}

// redshiftShapes is the Redshift closed grammar: exactly the statements the templates in
// templates/redshift emit (owned by the platform engineers). Every statement is also
// parsed by pg_query (and procedure bodies by its plpgsql parser) except the shapes
// marked RedshiftOnly.
// Its entries look like the other dialects' lists (grants and revokes in pairs, one
// line each): a grammar is data, one entry per statement form, and alike forms stay
// listed one by one so each can be read against its vendor page.
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

	// Suggested by the connector's Validate Manual: System User Privileges when a schema
	// has another owner or the user lacks its privileges (no script runs them: the create
	// script makes the user the owner, who holds every privilege on the schema).
	// https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_SCHEMA.html,
	// https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html
	{Name: "alter-schema-owner", Pattern: "ALTER SCHEMA $ident OWNER TO $ident"},
	{Name: "grant-schema", Pattern: "GRANT USAGE , CREATE ON SCHEMA $ident TO $ident"},

	// What the connector runs on its own session to look at the database
	// (templates/redshift/connector.sql.tmpl); CheckConnector accepts only these, and no
	// script can hold one. Each is also parsed by pg_query: the connector's tests run them
	// on PostgreSQL. https://docs.aws.amazon.com/redshift/latest/dg/r_statement_timeout.html
	{Name: "connector-statement-timeout", Connector: true, Pattern: "SET STATEMENT_TIMEOUT TO $number"},
	{Name: "connector-select-one", Connector: true, Pattern: "SELECT 1"},
	// https://docs.aws.amazon.com/redshift/latest/dg/r_HAS_DATABASE_PRIVILEGE.html
	{Name: "connector-database-privileges", Connector: true, Pattern: "SELECT HAS_DATABASE_PRIVILEGE ( CURRENT_DATABASE ( ) , $string ) , " +
		"HAS_DATABASE_PRIVILEGE ( CURRENT_DATABASE ( ) , $string )"},
	// https://docs.aws.amazon.com/redshift/latest/dg/r_HAS_SCHEMA_PRIVILEGE.html
	{Name: "connector-schemas", Connector: true, Pattern: "SELECT N . NSPNAME , PG_GET_USERBYID ( N . NSPOWNER ) , " +
		"HAS_SCHEMA_PRIVILEGE ( N . NSPNAME , $string ) , HAS_SCHEMA_PRIVILEGE ( N . NSPNAME , $string ) " +
		"FROM PG_NAMESPACE N WHERE N . NSPNAME IN " + redshiftStrings(4)},
	{Name: "connector-schema-names", Connector: true, Pattern: "SELECT NSPNAME FROM PG_NAMESPACE WHERE NSPNAME IN " + redshiftStrings(4) + " ORDER BY NSPNAME"},
	// https://docs.aws.amazon.com/redshift/latest/dg/r_PG_GROUP.html
	{Name: "connector-group-count", Connector: true, Pattern: "SELECT COUNT ( * ) FROM PG_GROUP WHERE GRONAME = $string"},
	// https://docs.aws.amazon.com/redshift/latest/dg/r_HAS_FUNCTION_PRIVILEGE.html
	{Name: "connector-procedures", Connector: true, Pattern: "SELECT N . NSPNAME , P . PRONAME , P . PROSECDEF , COALESCE ( U . USESUPER , FALSE ) , " +
		"PG_GET_USERBYID ( P . PROOWNER ) , HAS_FUNCTION_PRIVILEGE ( P . OID , $string ) " +
		"FROM PG_PROC P JOIN PG_NAMESPACE N ON N . OID = P . PRONAMESPACE LEFT JOIN PG_USER U ON U . USESYSID = P . PROOWNER " +
		"WHERE P . PRONARGS = 1 AND N . NSPNAME IN " + redshiftStrings(4) + " AND P . PRONAME IN " + redshiftStrings(4)},
}
