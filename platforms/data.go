package platforms

// The template data of the object kinds: Object.Data holds one of these, the type
// TemplateData of the platform's config names for the object's Kind, and the templates
// "<kind>.create", "<kind>.drop" and "<kind>.alter" read its fields. A field a template
// misspells fails render's test that executes every template against its kind's type.

// NameData is the data of a kind whose templates need only a name.
type NameData struct{ Name string }

// OwnedData is the data of an object made with an owner (a schema, a Synapse role).
type OwnedData struct{ Name, Owner string }

// SnowflakeGuardData is Snowflake's guard: SHOW <Show> LIKE Name raises Message when
// the name is taken.
type SnowflakeGuardData struct{ Show, Name, Message string }

// SnowflakeRoleMemberData grants Role to the grantee of type GranteeType (ROLE, USER).
type SnowflakeRoleMemberData struct{ Role, GranteeType, Grantee string }

// SnowflakeSchemaData is a schema Name of Database.
type SnowflakeSchemaData struct{ Database, Name string }

// SnowflakeSchemaOwnershipData gives schema Database.Schema to Role.
type SnowflakeSchemaOwnershipData struct{ Database, Schema, Role string }

// SnowflakeDatabaseRoleData names a database and the role it is given or granted to
// (database-ownership, imported-grant).
type SnowflakeDatabaseRoleData struct{ Database, Role string }

// SnowflakeUserData is a user with its default role, warehouse and namespace.
type SnowflakeUserData struct{ Name, Role, Warehouse, Namespace string }

// SnowflakePasswordData sets User's password and TYPE.
type SnowflakePasswordData struct{ User, Password, Type string }

// SnowflakeKeyData sets User's RSA public key and TYPE.
type SnowflakeKeyData struct{ User, PublicKey, Type string }

// SnowflakeWarehouseGrantData grants USAGE on Warehouse to Role.
type SnowflakeWarehouseGrantData struct{ Warehouse, Role string }

// SnowflakeAccountGrantData grants the account privilege Privilege to Role.
type SnowflakeAccountGrantData struct{ Privilege, Role string }

// SnowflakeRoleOwnershipData gives role Name to Role.
type SnowflakeRoleOwnershipData struct{ Name, Role string }

// RedshiftGuardData names what Redshift's guard checks is free (Group "": none).
type RedshiftGuardData struct{ Database, User, Group string }

// RedshiftUserData is the system user and its password (user, user-password).
type RedshiftUserData struct {
	Name, Password   string
	PasswordDisabled bool
}

// RedshiftDatabaseGrantData grants TEMP and CREATE on Database to User.
type RedshiftDatabaseGrantData struct{ Database, User string }

// RedshiftProcedureData is an impersonation procedure that runs ALTER GROUP Group
// Action USER.
type RedshiftProcedureData struct{ Schema, Name, Group, Action string }

// RedshiftProcedureRefData names a procedure (procedure-revoke-public).
type RedshiftProcedureRefData struct{ Schema, Name string }

// RedshiftProcedureGrantData grants EXECUTE on procedure Schema.Name to User.
type RedshiftProcedureGrantData struct{ Schema, Name, User string }

// SynapseLoginData is a login of master with its password.
type SynapseLoginData struct{ Name, Password string }

// SynapseUserData is a database user of Login.
type SynapseUserData struct{ Name, Login string }

// SynapseRoleMemberData adds Member to Role.
type SynapseRoleMemberData struct{ Role, Member string }

// SynapseDatabaseGrantData grants the database permission Privilege to Grantee.
type SynapseDatabaseGrantData struct{ Privilege, Grantee string }

// SynapseSchemaGrantData grants Privilege on Schema to Grantee.
type SynapseSchemaGrantData struct{ Privilege, Schema, Grantee string }

// SynapseRoleGrantData grants Privilege on Role to Grantee.
type SynapseRoleGrantData struct{ Privilege, Role, Grantee string }

// SynapseTableData is the table Schema.Name.
type SynapseTableData struct{ Schema, Name string }

// SynapseMetadataRowData is the row of delimiters in Schema.Table.
type SynapseMetadataRowData struct {
	Schema, Table                                   string
	HashDelimiter, HashKeyDelimiter, ArrayDelimiter string
}
