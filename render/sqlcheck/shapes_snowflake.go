package sqlcheck

// snowflakeShapes is the Snowflake closed grammar: exactly the statement forms of
// templates/snowflake (owned by the Snowflake platform engineer). Names are always quoted
// identifiers; the only string literals are a password and an RSA public key.
// Its entries look like the other dialects' lists (grants and revokes in pairs, one
// line each): a grammar is data, one entry per statement form, and alike forms stay
// listed one by one so each can be read against its vendor page.
var snowflakeShapes = []Shape{
	// The guard before a create's first change (templates/snowflake/guard.sql.tmpl): a
	// Snowflake Scripting block that raises when a SHOW ... LIKE listing holds exactly
	// the name.
	{Name: "execute-guard", Pattern: "EXECUTE IMMEDIATE $block"},
	{Name: "guard-block", Block: true, Pattern: "DECLARE NAME_TAKEN EXCEPTION ( - 20001 , $string ) ; " +
		"BEGIN SHOW < DATABASES | ROLES | USERS > LIKE $string ; " +
		"IF ( ( SELECT COUNT ( * ) FROM TABLE ( RESULT_SCAN ( LAST_QUERY_ID ( ) ) ) WHERE $ident = $string ) \\> 0 ) THEN RAISE NAME_TAKEN ; END IF ; " +
		"END ;"},

	// Objects.
	{Name: "create-role", Pattern: "CREATE ROLE $ident"},
	{Name: "drop-role", Pattern: "DROP ROLE IF EXISTS $ident"},
	{Name: "create-database", Pattern: "CREATE DATABASE $ident"},
	{Name: "drop-database", Pattern: "DROP DATABASE IF EXISTS $ident"},
	{Name: "create-schema", Pattern: "CREATE SCHEMA IF NOT EXISTS $ident . $ident"},
	{Name: "drop-schema", Pattern: "DROP SCHEMA IF EXISTS $ident . $ident"},

	// Ownership of the database, its schemas and the impersonation role.
	{Name: "grant-ownership", Pattern: "GRANT OWNERSHIP ON < DATABASE $ident | SCHEMA $ident . $ident | ROLE $ident > TO ROLE $ident COPY CURRENT GRANTS"},

	// The system account and its credential.
	{Name: "create-user", Pattern: "CREATE USER $ident DEFAULT_ROLE = $ident DEFAULT_WAREHOUSE = $ident DEFAULT_NAMESPACE = $ident"},
	// Only the warehouse of the system account can change (its default role and namespace
	// derive from the immutable database); one property per SET also keeps sqlfluff happy.
	{Name: "alter-user-warehouse", Pattern: "ALTER USER IF EXISTS $ident SET DEFAULT_WAREHOUSE = $ident"},
	{Name: "alter-user-set-credential", Pattern: "ALTER USER IF EXISTS $ident SET [ TYPE = < SERVICE | LEGACY_SERVICE > ] < PASSWORD | RSA_PUBLIC_KEY > = $string"},
	{Name: "alter-user-unset-credential", Pattern: "ALTER USER IF EXISTS $ident UNSET < PASSWORD | RSA_PUBLIC_KEY >"},
	{Name: "drop-user", Pattern: "DROP USER IF EXISTS $ident"},

	// Grants to the system role (and of it to the system account).
	{Name: "grant-role", Pattern: "GRANT ROLE $ident TO < USER | ROLE > $ident"},
	{Name: "revoke-role", Pattern: "REVOKE ROLE $ident FROM < USER | ROLE > $ident"},
	{Name: "grant-warehouse-usage", Pattern: "GRANT USAGE ON WAREHOUSE $ident TO ROLE $ident"},
	{Name: "revoke-warehouse-usage", Pattern: "REVOKE USAGE ON WAREHOUSE $ident FROM ROLE $ident"},
	// CREATE USER is granted by no script: it is only in the connector's suggestion to the
	// bootstrap role (Validate Automatic Bootstrap User Grants), which the runner needs.
	{Name: "grant-account-privilege", Pattern: "GRANT < APPLY MASKING POLICY | APPLY ROW ACCESS POLICY | CREATE DATABASE | CREATE ROLE | CREATE USER | MANAGE GRANTS > ON ACCOUNT TO ROLE $ident"},
	{Name: "revoke-account-privilege", Pattern: "REVOKE < APPLY MASKING POLICY | APPLY ROW ACCESS POLICY | CREATE DATABASE | CREATE ROLE | MANAGE GRANTS > ON ACCOUNT FROM ROLE $ident"},
	{Name: "grant-imported-privileges", Pattern: "GRANT IMPORTED PRIVILEGES ON DATABASE $ident TO ROLE $ident"},
	{Name: "revoke-imported-privileges", Pattern: "REVOKE IMPORTED PRIVILEGES ON DATABASE $ident FROM ROLE $ident"},

	// What the connector runs on its own session to look at the account
	// (templates/snowflake/connector.sql.tmpl); CheckConnector accepts only these, and no
	// script can hold one.
	// https://docs.snowflake.com/en/sql-reference/functions/current_user
	{Name: "connector-current-user", Connector: true, Pattern: "SELECT CURRENT_USER ( )"},
	// https://docs.snowflake.com/en/sql-reference/sql/use-role,
	// https://docs.snowflake.com/en/sql-reference/sql/use-warehouse
	{Name: "connector-use", Connector: true, Pattern: "USE < ROLE | WAREHOUSE > $ident"},
	// https://docs.snowflake.com/en/sql-reference/sql/show-roles (LIKE: a case-insensitive
	// pattern; STARTS WITH: a case-sensitive prefix, no wildcards),
	// https://docs.snowflake.com/en/sql-reference/sql/show-databases,
	// https://docs.snowflake.com/en/sql-reference/sql/show-users
	{Name: "connector-show-like", Connector: true, Pattern: "SHOW < DATABASES | ROLES | USERS > LIKE $string"},
	{Name: "connector-show-roles-starting", Connector: true, Pattern: "SHOW ROLES STARTS WITH $string"},
	// https://docs.snowflake.com/en/sql-reference/sql/show-grants
	{Name: "connector-show-grants", Connector: true, Pattern: "SHOW GRANTS TO < ROLE | USER > $ident"},
}
