package platforms

// Kind names an object kind: the templates "<kind>.create", "<kind>.drop" and
// "<kind>.alter" of a platform's folder render its statements, and a model's Needs say
// per kind what the runner of each needs. Kinds are named by one rule on every
// platform: the object itself ("user", "schema"), "<securable>-grant" for privileges
// on a securable granted to a grantee, "<securable>-ownership" for a transfer of
// ownership, "role-member" for a grantee made a member of a role, "guard" or
// "guard-<what>" for a check that a name is free. The names never reach a script.
type Kind string

// The kinds of more than one platform.
const (
	KindGuard         Kind = "guard"
	KindDatabase      Kind = "database"
	KindSchema        Kind = "schema"
	KindRole          Kind = "role"
	KindUser          Kind = "user"
	KindUserPassword  Kind = "user-password"
	KindDatabaseGrant Kind = "database-grant"
	KindRoleMember    Kind = "role-member"
)

// The kinds of Snowflake.
const (
	KindUserKey           Kind = "user-key"
	KindDatabaseOwnership Kind = "database-ownership"
	KindSchemaOwnership   Kind = "schema-ownership"
	KindRoleOwnership     Kind = "role-ownership"
	KindWarehouseGrant    Kind = "warehouse-grant"
	KindImportedGrant     Kind = "imported-grant"
	KindAccountGrant      Kind = "account-grant"
)

// The kinds of Redshift.
const (
	KindGroup                 Kind = "group"
	KindProcedure             Kind = "procedure"
	KindProcedureGrant        Kind = "procedure-grant"
	KindProcedureRevokePublic Kind = "procedure-revoke-public"
	KindSchemaUsagePublic     Kind = "schema-usage-public"
)

// The kinds of Azure Synapse Analytics.
const (
	KindLogin          Kind = "login"
	KindLoginSessions  Kind = "login-sessions"
	KindExternalUser   Kind = "external-user"
	KindViewSchema     Kind = "view-schema"
	KindSchemaGrant    Kind = "schema-grant"
	KindRoleGrant      Kind = "role-grant"
	KindMetadataTable  Kind = "metadata-table"
	KindMetadataRow    Kind = "metadata-row"
	KindGuardLogin     Kind = "guard-login"
	KindGuardPrincipal Kind = "guard-principal"
	KindGuardSchema    Kind = "guard-schema"
)

// Template returns the name of the kind's template for statement op ("create", "drop"
// or "alter").
func (k Kind) Template(op string) string { return string(k) + "." + op }
