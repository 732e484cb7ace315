package platforms

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Synapse is the config of the "Azure Synapse Analytics" type (API.md section 3): an
// existing dedicated SQL pool database that Immuta uses, with a login in master and a
// user, schemas and roles in the database.
type Synapse struct {
	Host               string            `json:"host" immutable:"true"`
	Port               int               `json:"port,omitempty" immutable:"true"`
	Schema             string            `json:"schema"`
	Database           string            `json:"database" immutable:"true"`
	MetadataDelimiters SynapseDelimiters `json:"metadataDelimiters" immutable:"true"`
	Username           string            `json:"username,omitempty" bootstrap:"true"`
	Password           string            `json:"password,omitempty" secret:"true" bootstrap:"true"`
	AuthenticationType string            `json:"authenticationType"`
	OAuthClientConfig  *SynapseOAuth     `json:"oAuthClientConfig,omitempty" bootstrap:"true"`
	Impersonation      Impersonation     `json:"impersonation"`
}

// SynapseDelimiters are the delimiters Immuta uses in the metadata it stores; they are
// written once into immuta_system.metadata and cannot change later.
type SynapseDelimiters struct {
	HashDelimiter    string `json:"hashDelimiter"`
	HashKeyDelimiter string `json:"hashKeyDelimiter"`
	ArrayDelimiter   string `json:"arrayDelimiter"`
}

// SynapseOAuth is the Microsoft Entra ID application Immuta connects as
// (authenticationType oAuthClientSecret).
type SynapseOAuth struct {
	ClientID string `json:"clientId"`
	// DisplayName is the application's display name in Microsoft Entra ID: the name
	// CREATE USER ... FROM EXTERNAL PROVIDER takes, since Entra resolves the user of an
	// application by its display name (the WITH OBJECT_ID form that takes an id is
	// documented for Azure SQL Database and Managed Instance only, not for Synapse).
	// Required for scripts.
	DisplayName  string `json:"displayName,omitempty"`
	ClientSecret string `json:"clientSecret" secret:"true"`
	AuthorityURL string `json:"authorityUrl"`
	Resource     string `json:"resource,omitempty"`
}

// synData is the Data type of each Azure Synapse Analytics kind (Synapse.TemplateData);
// every scripted platform has such a table beside its Needs, since its kinds are its own.
var synData = map[Kind]any{
	KindLogin:          SynapseLoginData{},
	KindUser:           SynapseUserData{},
	KindExternalUser:   NameData{},
	KindSchema:         OwnedData{},
	KindViewSchema:     OwnedData{},
	KindRole:           OwnedData{},
	KindRoleMember:     SynapseRoleMemberData{},
	KindSchemaGrant:    SynapseSchemaGrantData{},
	KindRoleGrant:      SynapseRoleGrantData{},
	KindMetadataTable:  SynapseTableData{},
	KindMetadataRow:    SynapseMetadataRowData{},
	KindDatabaseGrant:  SynapseDatabaseGrantData{},
	KindGuardLogin:     NameData{},
	KindGuardPrincipal: NameData{},
	KindGuardSchema:    NameData{},
	KindLoginSessions:  NameData{},
}

// TemplateData implements Scripted.
func (c *Synapse) TemplateData() map[Kind]any { return synData }

// synNeeds are what the runner of each statement needs, per object kind (the workspace
// SQL admin has all of them in master and is db_owner in the database).
// https://learn.microsoft.com/sql/t-sql/statements/create-login-transact-sql
// https://learn.microsoft.com/sql/t-sql/statements/create-user-transact-sql
// https://learn.microsoft.com/sql/t-sql/statements/create-role-transact-sql
// https://learn.microsoft.com/sql/t-sql/statements/create-schema-transact-sql
// https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sp-addrolemember-transact-sql
// https://learn.microsoft.com/sql/t-sql/statements/grant-database-permissions-transact-sql
// https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-sql-logins-transact-sql
//
// System: what the system user (the user of config.username's login, or of the
// application) may run itself, in the database. The schemas are dbo's, but create grants
// the user CONTROL on each Immuta schema and CREATE TABLE on the database; CONTROL on a
// schema implies ALTER, INSERT and SELECT on it
// (https://learn.microsoft.com/sql/t-sql/statements/grant-schema-permissions-transact-sql):
//   - metadata-table create: CREATE TABLE needs CREATE TABLE on the database and ALTER
//     on the schema that will contain the table
//     (https://learn.microsoft.com/sql/t-sql/statements/create-table-azure-sql-data-warehouse).
//   - metadata-table drop: DROP TABLE needs ALTER on the table's schema (or CONTROL on
//     the table) (https://learn.microsoft.com/sql/t-sql/statements/drop-table-transact-sql).
//   - metadata-row create: INSERT needs INSERT on the table
//     (https://learn.microsoft.com/sql/t-sql/statements/insert-transact-sql), and its
//     IF NOT EXISTS reads the table (SELECT): both implied by CONTROL on immuta_system.
//
// Not the system user's: the login (in master), the users, the schemas and the role
// (CREATE SCHEMA and CREATE ROLE, and IMPERSONATE on dbo, which the user lacks; dropping
// an Immuta schema is paired with that create); the membership and the grants (they
// are what the runner gives the system user, which holds no CONTROL on the database and
// no ALTER on db_datareader); the guards (they must see every principal and
// schema, which needs VIEW DEFINITION on the database) and the sessions (VIEW SERVER
// STATE and KILL).
var synNeeds = map[Kind]Needs{
	KindLogin:          {Create: []string{"ALTER ANY LOGIN (in master: the workspace SQL admin or a loginmanager member)"}, Alter: []string{"ALTER ANY LOGIN (in master)"}, Drop: []string{"ALTER ANY LOGIN (in master)"}},
	KindUser:           {Create: []string{"ALTER ANY USER"}, Drop: []string{"ALTER ANY USER"}},
	KindExternalUser:   {Create: []string{"ALTER ANY USER"}, Drop: []string{"ALTER ANY USER"}},
	KindSchema:         {Create: []string{"CREATE SCHEMA, and IMPERSONATE on its owner (or db_owner)"}, Drop: []string{"CONTROL on the schema (or db_owner)"}},
	KindViewSchema:     {Create: []string{"CREATE SCHEMA, and IMPERSONATE on its owner (or db_owner)"}, Drop: []string{"CONTROL on the schema (or db_owner)"}},
	KindRole:           {Create: []string{"CREATE ROLE, and IMPERSONATE on dbo (or db_owner: the role is AUTHORIZATION [dbo])"}, Drop: []string{"CONTROL on the role (or ALTER ANY ROLE)"}},
	KindRoleMember:     {Create: []string{"ALTER on the role (or ALTER ANY ROLE, db_securityadmin)"}, Drop: []string{"ALTER on the role (or ALTER ANY ROLE, db_securityadmin)"}},
	KindSchemaGrant:    {Create: []string{"CONTROL on the schema (or db_owner)"}, Drop: []string{"CONTROL on the schema (or db_owner)"}},
	KindRoleGrant:      {Create: []string{"CONTROL on the role (or db_owner)"}, Drop: []string{"CONTROL on the role (or db_owner)"}},
	KindMetadataTable:  {Create: []string{"CREATE TABLE, and ALTER on the schema"}, Drop: []string{"CONTROL on the table (or ALTER on the schema)"}, System: []string{"create", "drop"}},
	KindMetadataRow:    {Create: []string{"INSERT on the table (its owner has it)"}, System: []string{"create"}},
	KindDatabaseGrant:  {Create: []string{"CONTROL on the database (or db_owner)"}, Drop: []string{"CONTROL on the database (or db_owner)"}},
	KindGuardLogin:     {Create: []string{"VIEW ANY DEFINITION or ALTER ANY LOGIN (in master), to see every login in sys.sql_logins"}},
	KindGuardPrincipal: {Create: []string{"VIEW DEFINITION on the database (or db_owner), to see every principal in sys.database_principals"}},
	KindGuardSchema:    {Create: []string{"VIEW DEFINITION on the database (or db_owner), to see every schema"}},
	// sys.dm_pdw_exec_sessions needs VIEW SERVER STATE; the KILL page names no
	// permission for Azure Synapse Analytics (Azure SQL Database: KILL DATABASE
	// CONNECTION, which the server-level principal login has).
	// https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-pdw-exec-sessions-transact-sql
	// https://learn.microsoft.com/sql/t-sql/language-elements/kill-transact-sql
	KindLoginSessions: {Drop: []string{"VIEW SERVER STATE, to see the other sessions in sys.dm_pdw_exec_sessions, and the right to KILL them: the workspace SQL admin (server admin login) has both; a db_owner member alone may see only its own sessions"}},
}

// Synapse constants.
const (
	SynapseDefaultPort = 1433
	// SynapseDefaultImpersonationRole is the impersonation role's default name.
	SynapseDefaultImpersonationRole = "IMMUTA_IMPERSONATION"
	// synapseMaxName is the length limit of T-SQL identifiers (sysname).
	synapseMaxName = 128
	// synapseSystemSuffix is appended to the database name to name the system account
	// when autoBootstrap is true.
	synapseSystemSuffix = "_SYSTEM_ACCOUNT"
	// synapsePasswordPlaceholder is rendered for the system account's generated password
	// when the caller did not supply it (autoBootstrap, offline generation).
	synapsePasswordPlaceholder = "<SYSTEM_ACCOUNT_PASSWORD>"

	synapseAuthPassword = "userPassword"
	synapseAuthOAuth    = "oAuthClientSecret"
)

// synapseCheckPhase is the first phase of initial-create's script when it makes a
// login: it runs in the database and checks the names create will take there, before
// the login is made in master.
const synapseCheckPhase = "initial-check"

// The schemas Immuta owns in the database (besides the configured one).
var synapseImmutaSchemas = []string{"immuta_system", "immuta_functions", "immuta_procedures"}

// Defaults fills in port 1433, the default metadata delimiters (each absent one) and,
// when impersonation is enabled, the role IMMUTA_IMPERSONATION.
func (c *Synapse) Defaults(bool) {
	if c.Port == 0 {
		c.Port = SynapseDefaultPort
	}
	d := &c.MetadataDelimiters
	if d.HashDelimiter == "" {
		d.HashDelimiter = "|"
	}
	if d.HashKeyDelimiter == "" {
		d.HashKeyDelimiter = "-"
	}
	if d.ArrayDelimiter == "" {
		d.ArrayDelimiter = ","
	}
	if c.Impersonation.Enabled && c.Impersonation.Role == "" {
		c.Impersonation.Role = SynapseDefaultImpersonationRole
	}
}

// synapseLookalike reports characters that Windows "best fit" code-page conversion maps
// to a T-SQL quote or bracket (U+02BC -> '): a script saved in a non-Unicode encoding
// would otherwise turn them into real delimiters ("SQL smuggling").
func synapseLookalike(r rune) bool {
	switch r {
	case '\u02b9', '\u02bc', '\u02c8', '\u2032', '\uff07', '\uff3b', '\uff3d':
		return true
	}
	return false
}

func hasLookalike(s string) bool { return strings.IndexFunc(s, synapseLookalike) >= 0 }

// synapseValue is checkValue plus the lookalike rule, for every value that reaches SQL.
func synapseValue(v *Validator, path, val string, max int) bool {
	if !checkValue(v, path, val, max) {
		return false
	}
	if hasLookalike(val) {
		v.Add(path, "must not contain characters that look like quotes or brackets (such as U+02BC or U+FF07)")
		return false
	}
	return true
}

// synapseReserved are principal and schema names a config must not take: the fixed
// principals and schemas of every database (database roles db_* are checked apart).
var synapseReserved = []string{"dbo", "guest", "public", "sys", "INFORMATION_SCHEMA", "sa"}

func synapseIsReserved(name string) bool {
	for _, r := range synapseReserved {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return len(name) >= 3 && strings.EqualFold(name[:3], "db_")
}

var guidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// synapseAuthTypes are the accepted values of authenticationType.
var synapseAuthTypes = []string{synapseAuthPassword, synapseAuthOAuth}

// schema implements schemaRuled: what Validate always requires, and per
// authenticationType (oAuthClientConfig.displayName only for scripts: not stated).
func (c *Synapse) schema() schemaRules {
	return schemaRules{
		Required: []string{"host", "schema", "database", "authenticationType"},
		Enums:    map[string][]string{"authenticationType": synapseAuthTypes},
		When: []schemaWhen{
			{Field: "authenticationType", Equals: synapseAuthPassword, Required: []string{"username", "password"}},
			{Field: "authenticationType", Equals: synapseAuthOAuth, Required: []string{"oAuthClientConfig",
				"oAuthClientConfig.clientId", "oAuthClientConfig.clientSecret", "oAuthClientConfig.authorityUrl"}},
		},
	}
}

// Validate reports every problem of the config with its path.
func (c *Synapse) Validate(v *Validator, auto bool) {
	checkHost(v, "config.host", c.Host)
	checkPort(v, "config.port", c.Port)

	if v.Required("config.database", c.Database) {
		max := synapseMaxName
		if auto {
			max = synapseMaxName - len(synapseSystemSuffix)
		}
		if synapseValue(v, "config.database", c.Database, synapseMaxName) && auto &&
			utf8.RuneCountInString(c.Database) > max {
			v.Add("config.database", "must be at most %d characters with autoBootstrap (the system account %s must fit %d characters)",
				max, "<database>"+synapseSystemSuffix, synapseMaxName)
		}
	}

	if v.Required("config.schema", c.Schema) && synapseValue(v, "config.schema", c.Schema, synapseMaxName) {
		for _, s := range synapseImmutaSchemas {
			if strings.EqualFold(c.Schema, s) {
				v.Add("config.schema", "must not be %s: Immuta manages that schema itself", s)
			}
		}
		if synapseIsReserved(c.Schema) {
			v.Add("config.schema", "must not be a system schema (dbo, guest, sys, INFORMATION_SCHEMA, db_*): give a schema for the policy-enforced views")
		}
	}

	c.validateDelimiters(v)

	authOK := v.Required("config.authenticationType", c.AuthenticationType) &&
		v.OneOf("config.authenticationType", c.AuthenticationType, synapseAuthTypes...)
	if authOK {
		switch c.AuthenticationType {
		case synapseAuthPassword:
			c.validatePassword(v, auto)
			if c.OAuthClientConfig != nil {
				v.Add("config.oAuthClientConfig", "must be absent with authenticationType userPassword")
			}
		case synapseAuthOAuth:
			c.validateOAuth(v)
			if c.Username != "" {
				v.Add("config.username", "must be absent with authenticationType oAuthClientSecret (the system account is the Microsoft Entra application of config.oAuthClientConfig)")
			}
			if c.Password != "" {
				v.Add("config.password", "must be absent with authenticationType oAuthClientSecret")
			}
		}
	}

	if c.Impersonation.Enabled {
		path := "config.impersonation.role"
		r := c.Impersonation.Role
		if v.Required(path, r) && synapseValue(v, path, r, synapseMaxName) {
			switch {
			case synapseIsReserved(r):
				v.Add(path, "must not be a fixed database role or principal (public, dbo, guest, sys, db_*)")
			case authOK && strings.EqualFold(r, c.systemAccount(auto)):
				v.Add(path, "must differ from the system account name %q (roles and users share one namespace)", c.systemAccount(auto))
			}
		}
	}
}

func (c *Synapse) validateDelimiters(v *Validator) {
	d := c.MetadataDelimiters
	fields := []struct{ name, val string }{
		{"hashDelimiter", d.HashDelimiter}, {"hashKeyDelimiter", d.HashKeyDelimiter}, {"arrayDelimiter", d.ArrayDelimiter},
	}
	ok := true
	for _, f := range fields {
		path := "config.metadataDelimiters." + f.name
		r, size := utf8.DecodeRuneInString(f.val)
		switch {
		case f.val == "" || size != len(f.val) || r == utf8.RuneError:
			v.Add(path, "must be exactly one character (got %q)", f.val)
			ok = false
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			v.Add(path, "must be a visible character, not a space or control character")
			ok = false
		case strings.ContainsRune(`'"`+"`"+`[](){}`, r) || synapseLookalike(r):
			v.Add(path, "must not be a quote or bracket character ' \" ` [ ] ( ) { } (got %q)", f.val)
			ok = false
		}
	}
	if !ok {
		return
	}
	for i := range fields {
		for j := 0; j < i; j++ {
			if fields[i].val == fields[j].val {
				v.Add("config.metadataDelimiters."+fields[i].name, "must differ from %s (both are %q): the delimiters must be distinct",
					fields[j].name, fields[i].val)
				break
			}
		}
	}
}

func (c *Synapse) validatePassword(v *Validator, auto bool) {
	if v.Required("config.username", c.Username) && checkValue(v, "config.username", c.Username, synapseMaxName) && !auto {
		// Only the system account's name reaches SQL; the bootstrap user (auto) is only
		// used to connect.
		switch {
		case hasLookalike(c.Username):
			v.Add("config.username", "must not contain characters that look like quotes or brackets (such as U+02BC or U+FF07)")
		case strings.ContainsRune(c.Username, '\\'):
			v.Add("config.username", "must not contain a backslash: SQL logins cannot (got %q)", c.Username)
		case synapseIsReserved(c.Username):
			v.Add("config.username", "must not be a fixed principal name (sa, dbo, guest, public, sys, INFORMATION_SCHEMA, db_*)")
		}
	}
	if !v.Required("config.password", c.Password) {
		return
	}
	if auto || !v.ScriptPasswords() {
		// The bootstrap password (auto), or the password of an existing system account
		// (an integration record), is only used to connect: never rendered, no rules
		// beyond being a plain value. Never echo it.
		if hasControl(c.Password) {
			v.Add("config.password", "must not contain control characters (line breaks, tabs, NUL)")
		}
		return
	}
	if !synapseValue(v, "config.password", c.Password, synapseMaxName) {
		return
	}
	n := utf8.RuneCountInString(c.Password)
	classes := 0
	for _, f := range []func(rune) bool{unicode.IsUpper, unicode.IsLower, unicode.IsDigit, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}} {
		if strings.IndexFunc(c.Password, f) >= 0 {
			classes++
		}
	}
	if n < 8 || classes < 3 {
		v.Add("config.password", "must be 8 to 128 characters with at least three of: upper-case letters, lower-case letters, digits, symbols (Azure SQL password policy)")
		return
	}
	if c.Username != "" && strings.Contains(strings.ToLower(c.Password), strings.ToLower(c.Username)) {
		v.Add("config.password", "must not contain the username (Azure SQL password policy)")
	}
}

func (c *Synapse) validateOAuth(v *Validator) {
	o := c.OAuthClientConfig
	if o == nil {
		v.Add("config.oAuthClientConfig", "is required with authenticationType oAuthClientSecret: {clientId, clientSecret, authorityUrl, resource}")
		return
	}
	p := "config.oAuthClientConfig."
	if v.Required(p+"clientId", o.ClientID) && !guidRE.MatchString(o.ClientID) {
		v.Add(p+"clientId", "must be the application (client) id, a GUID such as 00000000-0000-0000-0000-000000000000 (got %q)", o.ClientID)
	}
	// CREATE USER [<name>] FROM EXTERNAL PROVIDER names the application by its display
	// name, which must be unique in the tenant
	// (https://learn.microsoft.com/en-us/sql/t-sql/statements/create-user-transact-sql;
	// the WITH OBJECT_ID form is documented only for Azure SQL Database and Managed
	// Instance: https://learn.microsoft.com/en-us/azure/azure-sql/database/authentication-microsoft-entra-create-users-with-nonunique-names).
	// A script needs it; an integration record of an existing setup does not.
	if o.DisplayName != "" || v.ScriptPasswords() {
		if v.Required(p+"displayName", o.DisplayName) && synapseValue(v, p+"displayName", o.DisplayName, synapseMaxName) {
			if synapseIsReserved(o.DisplayName) {
				v.Add(p+"displayName", "must not be a fixed principal or schema name (dbo, guest, public, sys, INFORMATION_SCHEMA, sa, db_*)")
			}
		}
	}
	if v.Required(p+"clientSecret", o.ClientSecret) && hasControl(o.ClientSecret) {
		v.Add(p+"clientSecret", "must not contain control characters (line breaks, tabs, NUL)")
	}
	if v.Required(p+"authorityUrl", o.AuthorityURL) && checkValue(v, p+"authorityUrl", o.AuthorityURL, 2048) &&
		(!strings.HasPrefix(o.AuthorityURL, "https://") || strings.ContainsAny(o.AuthorityURL, " ")) {
		v.Add(p+"authorityUrl", "must be an https:// URL such as https://login.microsoftonline.com/<tenant id> (got %q)", o.AuthorityURL)
	}
	if o.Resource != "" {
		checkValue(v, p+"resource", o.Resource, 2048)
	}
}

// UniqueKey is the host (host names are case-insensitive).
func (c *Synapse) UniqueKey() string { return strings.ToLower(c.Host) }

// UniqueKeys is the host: one integration per Synapse host.
func (c *Synapse) UniqueKeys() []Unique { return hostUnique(c, c.Host) }

// ImpersonationEnabled is config.impersonation.enabled.
func (c *Synapse) ImpersonationEnabled() bool { return c.Impersonation.Enabled }

// Quoting returns the T-SQL quoting functions.
func (c *Synapse) Quoting() Quoting { return SynapseQuoting }

// SynapseQuoting quotes identifiers as [x] with ] doubled and strings as N'x' with '
// doubled. Both refuse control characters, invalid UTF-8 and quote lookalikes;
// identifiers must be 1 to 128 characters.
var SynapseQuoting = Quoting{Ident: synapseIdent, Str: synapseStr}

func synapseIdent(s string) (string, error) {
	if s == "" || utf8.RuneCountInString(s) > synapseMaxName || !utf8.ValidString(s) || hasControl(s) || hasLookalike(s) {
		return "", errQuote("synapse", "identifier", s)
	}
	return "[" + strings.ReplaceAll(s, "]", "]]") + "]", nil
}

func synapseStr(s string) (string, error) {
	if !utf8.ValidString(s) || hasControl(s) || hasLookalike(s) {
		return "", errQuote("synapse", "string", s)
	}
	return "N'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// SynapseUnquoteIdent reverses synapseIdent (for tests and tools).
func SynapseUnquoteIdent(q string) (string, error) {
	if len(q) < 2 || q[0] != '[' || q[len(q)-1] != ']' {
		return "", fmt.Errorf("not a bracketed identifier: %q", q)
	}
	return undouble(q[1:len(q)-1], ']', q)
}

// undouble returns in, the inside of the quoted q, with each doubled c made single; a
// lone c is an error.
func undouble(in string, c byte, q string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		if in[i] == c {
			if i+1 >= len(in) || in[i+1] != c {
				return "", fmt.Errorf("unescaped %c in %q", c, q)
			}
			i++
		}
		b.WriteByte(in[i])
	}
	return b.String(), nil
}

// SynapseUnquoteStr reverses synapseStr (for tests and tools).
func SynapseUnquoteStr(q string) (string, error) {
	if len(q) < 3 || q[:2] != "N'" || q[len(q)-1] != '\'' {
		return "", fmt.Errorf("not an N'...' literal: %q", q)
	}
	return undouble(q[2:len(q)-1], '\'', q)
}

// SystemUser is the system account (login and user) the integration signs in as after
// setup: the config's username for a manual setup, <database>_SYSTEM_ACCOUNT for an
// automatic one.
func (c *Synapse) SystemUser(auto bool) string { return c.systemAccount(auto) }

// systemAccount is the name of the login/user the server connects as.
func (c *Synapse) systemAccount(auto bool) string {
	switch {
	case auto:
		return c.Database + synapseSystemSuffix
	case c.AuthenticationType == synapseAuthOAuth && c.OAuthClientConfig != nil:
		// The database user of an Entra application is named by its display name;
		// records made before displayName existed fall back to the client id.
		if c.OAuthClientConfig.DisplayName != "" {
			return c.OAuthClientConfig.DisplayName
		}
		return c.OAuthClientConfig.ClientID
	default:
		return c.Username
	}
}

// external reports whether the system account is a Microsoft Entra application (no
// login, CREATE USER ... FROM EXTERNAL PROVIDER).
func (c *Synapse) external(auto bool) bool {
	return !auto && c.AuthenticationType == synapseAuthOAuth
}

// Model returns the objects of the Synapse scripts:
//
//	initial-create (master):  login U
//	initial-create also:      first, a guard that stops when login U exists
//	create (database):        first, guards that stop when U, R or an Immuta schema
//	                          exists; user U; db_datareader; CREATE TABLE, VIEW,
//	                          PROCEDURE and FUNCTION on the database;
//	                          schemas immuta_system, immuta_functions, immuta_procedures
//	                          with CONTROL for U; the metadata table and its row; the
//	                          configured schema with CONTROL for U; impersonation: role R
//	                          (owned by dbo) with ALTER for U
//	cleanup (database), post-cleanup (master): the reverse.
//
// Schemas and the role are owned by dbo, not by U: a user cannot be dropped while it
// owns anything, so a username change (drop and create the user) or a teardown never
// has to transfer ownership first; dbo ownership also keeps the ownership chain from
// the policy-enforced views to the tables unbroken.
func (c *Synapse) Model(o ModelOptions) (*Model, error) {
	auto := o.AutoBootstrap
	u := c.systemAccount(auto)
	if u == "" {
		return nil, fmt.Errorf("synapse: no system account name (config not validated)")
	}
	ext := c.external(auto)
	master := "the workspace SQL admin (server admin login)"
	dbRunner := fmt.Sprintf("a member of db_owner in %s (e.g. the workspace SQL admin)", c.Database)
	if ext {
		dbRunner = fmt.Sprintf("a Microsoft Entra member of db_owner in %s (e.g. the workspace's Entra admin)", c.Database)
	}
	m := &Model{
		Create: []PhaseSpec{
			{Name: string(OpInitialCreate), ConnectTo: "master", RunAs: master},
			{Name: string(OpCreate), ConnectTo: c.Database, RunAs: dbRunner},
		},
		Teardown: []PhaseSpec{
			{Name: string(OpCleanup), ConnectTo: c.Database, RunAs: dbRunner},
			{Name: string(OpPostCleanup), ConnectTo: "master", RunAs: master},
		},
	}
	add := func(obj Object) { m.Objects = append(m.Objects, obj) }
	inDB := func(obj Object) Object {
		obj.Phase, obj.Teardown = string(OpCreate), string(OpCleanup)
		return obj
	}
	accountWhy := "config.username (the system account)"
	switch {
	case auto:
		accountWhy = "autoBootstrap: the system account <database>_SYSTEM_ACCOUNT"
	case ext:
		accountWhy = "authenticationType oAuthClientSecret: the application, by its display name config.oAuthClientConfig.displayName"
	}

	// Guards: create never takes over a login, user, role or Immuta schema that exists
	// (teardown drops them, and everything in the schemas). Each phase checks, before
	// its first change, every name it is about to take; one guard per name, so that an
	// edit that takes a new name checks that name alone.
	if !ext {
		add(Object{ID: "guard:login:" + u, Kind: KindGuardLogin, Phase: string(OpInitialCreate), Teardown: string(OpPostCleanup),
			Why: "create never takes over an existing login", Data: NameData{Name: u}, Guard: true})
	}
	// With a login, the database's names are checked before initial-create makes it:
	// a dedicated pool has no cross-database queries, so initial-create's script starts
	// with a phase of its own in the database ("initial-check") that holds those guards.
	// Without a login (an Entra application), create's own phase checks them.
	guardPhase := string(OpCreate)
	if !ext {
		guardPhase = synapseCheckPhase
		m.Create = append([]PhaseSpec{{Name: synapseCheckPhase, Op: string(OpInitialCreate), ConnectTo: c.Database, RunAs: dbRunner}}, m.Create...)
	}
	guardInDB := func(obj Object) Object {
		obj.Phase, obj.Teardown = guardPhase, string(OpCleanup)
		return obj
	}
	principals := []string{u}
	if c.Impersonation.Enabled {
		principals = append(principals, c.Impersonation.Role)
	}
	for _, n := range principals {
		add(guardInDB(Object{ID: "guard:principal:" + n, Kind: KindGuardPrincipal,
			Why: "create never takes over an existing user or role", Data: NameData{Name: n}, Guard: true}))
	}
	for _, s := range synapseImmutaSchemas {
		add(guardInDB(Object{ID: "guard:schema:" + s, Kind: KindGuardSchema,
			Why: "create never takes over an existing Immuta schema (teardown drops it with everything in it)", Data: NameData{Name: s}, Guard: true}))
	}

	userID := "user:" + u
	if ext {
		add(inDB(Object{ID: userID, Kind: KindExternalUser, Why: accountWhy, Data: NameData{Name: u}, NotRerunnable: true}))
	} else {
		pw := c.Password
		if auto {
			pw = o.SystemPassword
			if pw == "" {
				pw = synapsePasswordPlaceholder
			}
		}
		if pw != synapsePasswordPlaceholder {
			m.Secrets = append(m.Secrets, pw)
		}
		add(Object{ID: "login:" + u, Kind: KindLogin, Phase: string(OpInitialCreate), Teardown: string(OpPostCleanup),
			Why: accountWhy, Data: SynapseLoginData{Name: u, Password: pw}, NotRerunnable: true})
		add(inDB(Object{ID: userID, Kind: KindUser, Why: accountWhy, Data: SynapseUserData{Name: u, Login: u}, NotRerunnable: true}))
	}
	add(inDB(Object{ID: "member:db_datareader:" + u, Kind: KindRoleMember, Parents: []string{userID},
		Why: "read the tables Immuta catalogs and protects", Data: SynapseRoleMemberData{Role: "db_datareader", Member: u}}))
	// The CREATE permissions the service uses, instead of db_ddladmin (which may also
	// alter and drop any object of the database): each CREATE also needs ALTER on the
	// target schema, which CONTROL on the schemas below includes.
	for _, p := range []struct{ priv, why string }{
		{"CREATE TABLE", "Immuta's own tables (immuta_system)"},
		{"CREATE VIEW", "the policy-enforced views (config.schema)"},
		{"CREATE PROCEDURE", "Immuta's procedures (immuta_procedures)"},
		{"CREATE FUNCTION", "Immuta's functions (immuta_functions)"},
	} {
		add(inDB(Object{ID: "grant:" + p.priv + ":database:user:" + u, Kind: KindDatabaseGrant, Parents: []string{userID},
			Why: p.why, Data: SynapseDatabaseGrantData{Privilege: p.priv, Grantee: u}}))
	}
	for _, s := range synapseImmutaSchemas {
		add(inDB(Object{ID: "schema:" + s, Kind: KindSchema, Why: "Immuta's own objects (owned by dbo, so that the user can be renamed or dropped)",
			Data: OwnedData{Name: s, Owner: "dbo"}}))
	}
	for _, s := range synapseImmutaSchemas {
		add(inDB(Object{ID: "grant:CONTROL:schema:" + s + ":user:" + u, Kind: KindSchemaGrant, Parents: []string{userID, "schema:" + s},
			Why:  "the system account manages Immuta's own objects",
			Data: SynapseSchemaGrantData{Privilege: "CONTROL", Schema: s, Grantee: u}}))
	}
	d := c.MetadataDelimiters
	tableID := "table:immuta_system.metadata"
	add(inDB(Object{ID: tableID, Kind: KindMetadataTable,
		Why:  "config.metadataDelimiters (stored once: they cannot change later)",
		Data: SynapseTableData{Schema: "immuta_system", Name: "metadata"}}))
	add(inDB(Object{ID: "row:immuta_system.metadata", Kind: KindMetadataRow, Parents: []string{tableID},
		Why: "config.metadataDelimiters (stored once: they cannot change later)",
		Data: SynapseMetadataRowData{Schema: "immuta_system", Table: "metadata",
			HashDelimiter: d.HashDelimiter, HashKeyDelimiter: d.HashKeyDelimiter, ArrayDelimiter: d.ArrayDelimiter}}))
	viewSchemaID := "schema:" + c.Schema
	add(inDB(Object{ID: viewSchemaID, Kind: KindViewSchema,
		Why:  "config.schema: policy-enforced views (owned by dbo for ownership chaining; created if missing, dropped only when empty)",
		Data: OwnedData{Name: c.Schema, Owner: "dbo"}}))
	add(inDB(Object{ID: "grant:CONTROL:schema:" + c.Schema + ":user:" + u, Kind: KindSchemaGrant, Parents: []string{userID, viewSchemaID},
		Why:  "config.schema: the system account manages the policy-enforced views",
		Data: SynapseSchemaGrantData{Privilege: "CONTROL", Schema: c.Schema, Grantee: u}}))
	if c.Impersonation.Enabled {
		r := c.Impersonation.Role
		roleID := "role:" + r
		why := "impersonation enabled (config.impersonation.role)"
		// Members of R may impersonate: the policy views check membership, and the
		// session context itself needs no permission (sp_set_session_context: "Any user
		// can set a session context for their session"), so R is granted nothing.
		add(inDB(Object{ID: roleID, Kind: KindRole, Why: why, Data: OwnedData{Name: r, Owner: "dbo"}, NotRerunnable: true}))
		add(inDB(Object{ID: "grant:ALTER:role:" + r + ":user:" + u, Kind: KindRoleGrant, Parents: []string{roleID, userID},
			Why:  "impersonation: the system account adds and removes the members of " + r,
			Data: SynapseRoleGrantData{Privilege: "ALTER", Role: r, Grantee: u}}))
	}

	if !ext {
		// Last, so that it is the first statement of cleanup: the service's sessions end
		// before anything it uses is dropped, and before DROP USER (a login with no user
		// in the database cannot sign in to it again); post-cleanup's DROP LOGIN fails
		// while the login is signed in (templates/synapse/sessions.sql.tmpl). No
		// parents: it must not be covered by the user's drop.
		add(inDB(Object{ID: "sessions:" + u, Kind: KindLoginSessions,
			Why:  "ends the governance service's open sessions of login " + u + " (disable the integration first), so that post-cleanup can drop the login: a login that is signed in cannot be dropped",
			Data: NameData{Name: u}}))
	}

	m.Needs = synNeeds
	m.CreateNotes = append(m.CreateNotes,
		"create never takes over an existing principal or Immuta schema: each phase starts with guards (IF ... THROW) that stop it, before any change, when a name it takes exists; the users, the role and the schemas are then created without IF NOT EXISTS",
		"create is not re-runnable: after a run that failed past its guards, run cleanup (and post-cleanup), then initial-create and create again",
	)
	m.Notes = append(m.Notes, "CREATE SCHEMA must start a batch, so it runs through sp_executesql")
	if !ext {
		m.Notes = append(m.Notes,
			"CREATE LOGIN must be the only statement of its batch, so no IF guards it; the guard before it stops initial-create when the login exists",
			"teardown: disable the integration first; cleanup then starts by ending the system account's open sessions (KILL of its sys.dm_pdw_exec_sessions rows; run it as the workspace SQL admin, who can see and end them), since post-cleanup cannot drop a login that is signed in",
			"initial-create's script has two phases: initial-check runs in the database (no cross-database queries reach it from master) and checks the names create takes there, then initial-create makes the login in master; if either stops at its guard, nothing was made and nothing is to be run")
	}
	if ext {
		m.Notes = append(m.Notes, "oAuthClientSecret: the system account is the Microsoft Entra application "+u+
			" (CREATE USER ... FROM EXTERNAL PROVIDER takes the application's display name, which must be unique in the tenant; only a Microsoft Entra principal can run it) with no login: the initial-create and post-cleanup phases are empty")
	}
	if auto {
		m.Notes = append(m.Notes, "autoBootstrap: the config's credentials are the privileged bootstrap credentials (used once, never rendered); the system account is "+u+" with a generated password")
		if o.SystemPassword == "" {
			m.Notes = append(m.Notes, "the generated password was not supplied: replace "+synapsePasswordPlaceholder+" before running")
		}
	}
	m.Notes = append(m.Notes,
		"the schemas and the role are owned by dbo (AUTHORIZATION [dbo]): dropping the system account's user also removes its role memberships and grants",
		"cleanup drops the tables, views, procedures and functions in immuta_system, immuta_functions and immuta_procedures (schemas that create made, its guard saw to that) before each DROP SCHEMA; the schema "+
			c.Schema+" may hold the customer's objects, so it is dropped only when empty, and views left in it keep it in place",
	)
	if c.Impersonation.Enabled {
		r := c.Impersonation.Role
		m.Notes = append(m.Notes,
			"impersonation: the system account adds the users allowed to impersonate to "+r+" (sp_addrolemember); the policy views check that membership. "+r+" is granted nothing: setting the session context needs no permission. IMPERSONATE on individual users is not granted (the users are not known here)",
			"DROP ROLE fails while "+r+" has members: cleanup removes them first (sp_droprolemember for each member)")
	}
	return m, nil
}
