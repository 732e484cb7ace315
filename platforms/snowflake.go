package platforms

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Snowflake is the config of the Snowflake type (API.md section 3). Field order is the
// JSON order of the seed's GET example.
type Snowflake struct {
	Host          string        `json:"host" immutable:"true"`
	Warehouse     string        `json:"warehouse"`
	Database      string        `json:"database" immutable:"true"`
	Port          int           `json:"port" immutable:"true"`
	Audit         Toggle        `json:"audit"`
	Workspaces    Toggle        `json:"workspaces"`
	Impersonation Impersonation `json:"impersonation"`
	Lineage       Lineage       `json:"lineage"`
	// AuthenticationType is userPassword, keyPair or oAuthClientCredentials.
	AuthenticationType string `json:"authenticationType"`
	// Username is the system account (autoBootstrap=false) or the privileged bootstrap
	// user (autoBootstrap=true).
	Username string `json:"username,omitempty" bootstrap:"true"`
	Password string `json:"password,omitempty" secret:"true" bootstrap:"true"`
	// Role is the privileged role of the bootstrap (autoBootstrap=true only).
	Role               string             `json:"role,omitempty"`
	PrivateKey         *PrivateKey        `json:"privateKey,omitempty" bootstrap:"true"`
	PrivateKeyPassword string             `json:"privateKeyPassword,omitempty" secret:"true" bootstrap:"true"`
	OAuthClientConfig  *OAuthClientConfig `json:"oAuthClientConfig,omitempty" bootstrap:"true"`
}

// Lineage is the Snowflake `lineage` object.
type Lineage struct {
	Enabled bool `json:"enabled"`
	// IngestBatchSize is 1..1000, default 100 when enabled (a pointer so that an
	// explicit 0 is refused rather than defaulted).
	IngestBatchSize *int   `json:"ingestBatchSize,omitempty"`
	TableFilter     string `json:"tableFilter,omitempty"`
	TagFilter       string `json:"tagFilter,omitempty"`
}

// PrivateKey is the Snowflake `privateKey` object of key-pair authentication.
type PrivateKey struct {
	KeyName      string `json:"keyName,omitempty"`
	UserFilename string `json:"userFilename,omitempty"`
	// Content is the PEM text of a PKCS#8 RSA private key.
	Content string `json:"content,omitempty" secret:"true"`
}

// OAuthClientConfig is the Snowflake `oAuthClientConfig` object.
type OAuthClientConfig struct {
	Provider                    string `json:"provider,omitempty"`
	ClientID                    string `json:"clientId,omitempty"`
	ClientSecret                string `json:"clientSecret,omitempty" secret:"true"`
	AuthorityURL                string `json:"authorityUrl,omitempty"`
	Scope                       string `json:"scope,omitempty"`
	UseCertificate              bool   `json:"useCertificate"`
	PublicCertificateThumbprint string `json:"publicCertificateThumbprint,omitempty"`
	Resource                    string `json:"resource,omitempty"`
}

// Snowflake authentication types.
const (
	sfUserPassword = "userPassword"
	sfKeyPair      = "keyPair"
	sfOAuth        = "oAuthClientCredentials"
)

// sfAuthTypes are the accepted values of authenticationType; sfAutoAuthTypes those
// accepted with autoBootstrap (the bootstrap needs a privileged user's credentials).
var (
	sfAuthTypes     = []string{sfUserPassword, sfKeyPair, sfOAuth}
	sfAutoAuthTypes = []string{sfUserPassword, sfKeyPair}
)

// schema implements schemaRuled: what Validate always requires, and per
// authenticationType.
func (c *Snowflake) schema() schemaRules {
	return schemaRules{
		Required:           []string{"host", "warehouse", "database", "authenticationType"},
		Enums:              map[string][]string{"authenticationType": sfAuthTypes},
		AutoBootstrapEnums: map[string][]string{"authenticationType": sfAutoAuthTypes},
		When: []schemaWhen{
			{Field: "authenticationType", Equals: sfUserPassword, Required: []string{"username", "password"}},
			{Field: "authenticationType", Equals: sfKeyPair, Required: []string{"username", "privateKey", "privateKey.content"}},
			{Field: "authenticationType", Equals: sfOAuth, Required: []string{"oAuthClientConfig", "oAuthClientConfig.clientId", "oAuthClientConfig.authorityUrl"}},
		},
	}
}

// Snowflake defaults and fixed names.
const (
	sfDefaultPort          = 443
	sfDefaultRole          = "ACCOUNTADMIN"
	sfDefaultImpersonation = "IMMUTA_IMPERSONATION"
	sfDefaultBatchSize     = 100
	sfKeyName              = "PRIV_KEY_FILE"
	sfMaxIdent             = 255
	sfMaxPassword          = 256
	sfSystemSuffix         = "_SYSTEM"
	sfAccountSuffix        = "_SYSTEM_ACCOUNT"
	sfSharedDatabase       = "SNOWFLAKE"
	sfSampleDatabase       = "SNOWFLAKE_SAMPLE_DATA"
	// sfMinPassword is PASSWORD_MIN_LENGTH of Snowflake's default password policy
	// (https://docs.snowflake.com/en/sql-reference/sql/create-password-policy: default
	// 14; older revisions of the page said 8, so 14 is the safe reading).
	sfMinPassword = 14
)

// sfSchemas are the schemas the create script makes in the database, in order.
var sfSchemas = []string{"IMMUTA_PROCEDURES", "IMMUTA_FUNCTIONS", "IMMUTA_SYSTEM", "IMMUTA_POLICIES"}

// sfSystemRoles are Snowflake's built-in roles: the scripts must never create, own or
// drop them.
var sfSystemRoles = []string{"ACCOUNTADMIN", "ORGADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "PUBLIC", "GLOBALORGADMIN"}

// sfData is the Data type of each Snowflake kind (Snowflake.TemplateData); every
// scripted platform has such a table beside its Needs, since its kinds are its own.
var sfData = map[Kind]any{
	KindGuard:             SnowflakeGuardData{},
	KindRole:              NameData{},
	KindDatabase:          NameData{},
	KindSchema:            SnowflakeSchemaData{},
	KindUser:              SnowflakeUserData{},
	KindUserPassword:      SnowflakePasswordData{},
	KindUserKey:           SnowflakeKeyData{},
	KindDatabaseOwnership: SnowflakeDatabaseRoleData{},
	KindSchemaOwnership:   SnowflakeSchemaOwnershipData{},
	KindRoleOwnership:     SnowflakeRoleOwnershipData{},
	KindRoleMember:        SnowflakeRoleMemberData{},
	KindWarehouseGrant:    SnowflakeWarehouseGrantData{},
	KindImportedGrant:     SnowflakeDatabaseRoleData{},
	KindAccountGrant:      SnowflakeAccountGrantData{},
}

// TemplateData implements Scripted.
func (c *Snowflake) TemplateData() map[Kind]any { return sfData }

// sfNeeds are what the runner of each statement needs, per object kind. Creating an
// account object needs the account's CREATE privilege; dropping or altering an object
// needs its OWNERSHIP (ACCOUNTADMIN is not a superuser: the role must own the object or
// inherit the owner role); granting and revoking need MANAGE GRANTS on the account (or
// the privilege WITH GRANT OPTION), and GRANT OWNERSHIP needs the object's OWNERSHIP or
// MANAGE GRANTS.
// https://docs.snowflake.com/en/user-guide/security-access-control-privileges
// https://docs.snowflake.com/en/sql-reference/sql/grant-ownership
//
// System: what the system account (the system user, signed in with the system role) may
// run itself. Create makes the system role the owner of the database and of each of its
// schemas (GRANT OWNERSHIP), and the role that owns an object has full control of it
// (https://docs.snowflake.com/en/user-guide/security-access-control-overview):
//   - schema create: CREATE SCHEMA needs CREATE SCHEMA on the database, which its owner
//     holds (https://docs.snowflake.com/en/sql-reference/sql/create-schema); the role
//     that makes the schema owns it.
//   - schema drop: DROP SCHEMA needs OWNERSHIP of the schema
//     (https://docs.snowflake.com/en/sql-reference/sql/drop-schema), which the system
//     role holds (create transferred it, or the role made the schema).
//   - user alter: user.alter sets only DEFAULT_WAREHOUSE, on the system user itself, and
//     a user may change its own default warehouse with ALTER USER
//     (https://docs.snowflake.com/en/sql-reference/ddl-user-security,
//     https://docs.snowflake.com/en/sql-reference/sql/alter-user).
//
// Not the system account's: the user's create and drop, its password and key (the user
// is owned by the runner's role, not by the system role, and TYPE is not a property a
// user sets for itself); roles (the system role does not own itself); the database
// (CREATE DATABASE is the system role's only with workspaces, and a drop's undo is a
// create); the ownership transfers (when the system role runs one it already owns the
// object, and the page describes a transfer "from one role to another role"); and every
// grant: they are the system role's own privileges and roles, which it would hold only
// through MANAGE GRANTS, not by owning the object.
var sfNeeds = map[Kind]Needs{
	// SHOW lists only what the runner's role may see; SHOW USERS lists every user only
	// for a role with CREATE USER on the account (which create needs anyway).
	// https://docs.snowflake.com/en/release-notes/bcr-bundles/2023_06/bcr-975
	KindGuard:             {Create: []string{"to see the names it checks: SHOW ROLES, SHOW DATABASES and SHOW USERS list only what the role may see (SHOW USERS: all users with CREATE USER ON ACCOUNT)"}},
	KindRole:              {Create: []string{"CREATE ROLE ON ACCOUNT"}, Drop: []string{"OWNERSHIP of the role"}},
	KindDatabase:          {Create: []string{"CREATE DATABASE ON ACCOUNT"}, Drop: []string{"OWNERSHIP of the database"}},
	KindSchema:            {Create: []string{"CREATE SCHEMA on the database (its owner has it)"}, Drop: []string{"OWNERSHIP of the schema"}, System: []string{"create", "drop"}},
	KindUser:              {Create: []string{"CREATE USER ON ACCOUNT"}, Alter: []string{"OWNERSHIP of the user"}, Drop: []string{"OWNERSHIP of the user"}, System: []string{"alter"}},
	KindUserPassword:      {Create: []string{"OWNERSHIP of the user"}, Alter: []string{"OWNERSHIP of the user"}, Drop: []string{"OWNERSHIP of the user"}},
	KindUserKey:           {Create: []string{"OWNERSHIP of the user"}, Alter: []string{"OWNERSHIP of the user"}, Drop: []string{"OWNERSHIP of the user"}},
	KindDatabaseOwnership: {Create: []string{"OWNERSHIP of the object, or MANAGE GRANTS ON ACCOUNT"}},
	KindSchemaOwnership:   {Create: []string{"OWNERSHIP of the object, or MANAGE GRANTS ON ACCOUNT"}},
	KindRoleOwnership:     {Create: []string{"OWNERSHIP of the object, or MANAGE GRANTS ON ACCOUNT"}},
	KindRoleMember:        {Create: []string{"MANAGE GRANTS ON ACCOUNT"}, Drop: []string{"MANAGE GRANTS ON ACCOUNT"}},
	KindWarehouseGrant:    {Create: []string{"MANAGE GRANTS ON ACCOUNT"}, Drop: []string{"MANAGE GRANTS ON ACCOUNT"}},
	KindImportedGrant:     {Create: []string{"MANAGE GRANTS ON ACCOUNT"}, Drop: []string{"MANAGE GRANTS ON ACCOUNT"}},
	KindAccountGrant: {Create: []string{"MANAGE GRANTS ON ACCOUNT (or each granted account privilege WITH GRANT OPTION)"},
		Drop: []string{"MANAGE GRANTS ON ACCOUNT (or each granted account privilege WITH GRANT OPTION)"}},
}

// Defaults fills in the documented defaults: port 443, the bootstrap role ACCOUNTADMIN
// (autoBootstrap only), the impersonation role and the lineage batch size when those
// features are enabled, and the private key's keyName.
func (c *Snowflake) Defaults(auto bool) {
	if c.Port == 0 {
		c.Port = sfDefaultPort
	}
	if auto && c.Role == "" {
		c.Role = sfDefaultRole
	}
	if c.Impersonation.Enabled && c.Impersonation.Role == "" {
		c.Impersonation.Role = sfDefaultImpersonation
	}
	if c.Lineage.Enabled && c.Lineage.IngestBatchSize == nil {
		n := sfDefaultBatchSize
		c.Lineage.IngestBatchSize = &n
	}
	if c.PrivateKey != nil && c.PrivateKey.KeyName == "" {
		c.PrivateKey.KeyName = sfKeyName
	}
}

// UniqueKey is the account host.
func (c *Snowflake) UniqueKey() string { return strings.ToLower(c.Host) }

// UniqueKeys is the host: one integration per Snowflake host.
func (c *Snowflake) UniqueKeys() []Unique { return hostUnique(c, c.Host) }

// ImpersonationEnabled is config.impersonation.enabled.
func (c *Snowflake) ImpersonationEnabled() bool { return c.Impersonation.Enabled }

// Validate reports every problem of a defaulted Snowflake config.
func (c *Snowflake) Validate(v *Validator, auto bool) {
	checkHost(v, "config.host", c.Host)
	checkPort(v, "config.port", c.Port)
	sfCheckName(v, "config.warehouse", c.Warehouse, sfMaxIdent)
	if sfCheckName(v, "config.database", c.Database, sfMaxIdent-len(sfAccountSuffix)) {
		switch canon := sfCanon(c.Database); {
		case canon == sfSharedDatabase:
			v.Add("config.database", "must not be %s: that is Snowflake's shared database; name a new database for Immuta", sfSharedDatabase)
		case canon == sfSampleDatabase && v.ScriptPasswords():
			// Only a script refuses it: a stored integration (POST) may name it, as the
			// API reference's own examples do, but a script must never create or drop it.
			v.Add("config.database", "%s", sfSharedDatabaseMessage(canon))
		}
	}
	if c.Impersonation.Enabled || c.Impersonation.Role != "" {
		if sfCheckName(v, "config.impersonation.role", c.Impersonation.Role, sfMaxIdent) {
			r := sfCanon(c.Impersonation.Role)
			switch {
			case sfIsSystemRole(r):
				v.Add("config.impersonation.role", "must not be a Snowflake system role (%s); name a new role", strings.Join(sfSystemRoles, ", "))
			case c.Database != "" && r == sfCanon(c.Database+sfSystemSuffix):
				v.Add("config.impersonation.role", "must differ from the system role %s (config.database + %s)", c.Database+sfSystemSuffix, sfSystemSuffix)
			}
		}
	}
	c.validateLineage(v)
	if auto {
		if v.Required("config.role", c.Role) {
			sfCheckName(v, "config.role", c.Role, sfMaxIdent)
		}
	} else if c.Role != "" {
		checkValue(v, "config.role", c.Role, sfMaxIdent)
	}
	if !v.Required("config.authenticationType", c.AuthenticationType) ||
		!v.OneOf("config.authenticationType", c.AuthenticationType, sfAuthTypes...) {
		return
	}
	switch c.AuthenticationType {
	case sfUserPassword:
		c.validateUser(v, auto)
		if v.Required("config.password", c.Password) {
			if !auto && v.ScriptPasswords() {
				// The create and edit scripts set this password on the system account.
				sfCheckPassword(v, "config.password", c.Password)
			} else {
				// The bootstrap password (auto), or the password of an account that
				// exists (an integration record): only used to sign in.
				sfCheckSecret(v, "config.password", c.Password, sfMaxPassword)
			}
		}
	case sfKeyPair:
		c.validateUser(v, auto)
		c.validateKey(v)
	case sfOAuth:
		if auto {
			v.Add("config.authenticationType", "must be %s with autoBootstrap (the bootstrap needs a privileged user's credentials); %s needs autoBootstrap false", strings.Join(sfAutoAuthTypes, " or "), sfOAuth)
		}
		c.validateOAuth(v)
	}
}

func (c *Snowflake) validateUser(v *Validator, auto bool) {
	if !sfCheckName(v, "config.username", c.Username, sfMaxIdent) || auto {
		return
	}
	if sfCanon(c.Username) == "SNOWFLAKE" {
		v.Add("config.username", "must not be SNOWFLAKE (Snowflake's own service user)")
	}
}

func (c *Snowflake) validateKey(v *Validator) {
	if c.PrivateKeyPassword != "" {
		sfCheckSecret(v, "config.privateKeyPassword", c.PrivateKeyPassword, 1024)
	}
	if c.PrivateKey == nil {
		v.Add("config.privateKey", "is required for %s: {keyName: %s, userFilename, content}", sfKeyPair, sfKeyName)
		return
	}
	if c.PrivateKey.KeyName != sfKeyName {
		v.Add("config.privateKey.keyName", "must be %s (got %q)", sfKeyName, c.PrivateKey.KeyName)
	}
	if c.PrivateKey.UserFilename != "" {
		checkValue(v, "config.privateKey.userFilename", c.PrivateKey.UserFilename, 1024)
	}
	if !v.Required(pathPrivateKey, c.PrivateKey.Content) {
		return
	}
	if len(c.PrivateKey.Content) > 64<<10 {
		v.Add(pathPrivateKey, "must be at most 64 KiB")
		return
	}
	if v.Has(pathPrivateKeyPassword) {
		return
	}
	if _, kerr := RSAPublicKeyBody(c.PrivateKey.Content, c.PrivateKeyPassword); kerr != nil {
		v.Add(kerr.Path, "%s", kerr.Message)
	}
}

func (c *Snowflake) validateOAuth(v *Validator) {
	o := c.OAuthClientConfig
	if o == nil {
		v.Add("config.oAuthClientConfig", "is required for %s: {provider, clientId, clientSecret, authorityUrl, scope, useCertificate, publicCertificateThumbprint, resource}", sfOAuth)
		return
	}
	const p = "config.oAuthClientConfig."
	for _, f := range []struct{ name, val string }{
		{"provider", o.Provider}, {"scope", o.Scope}, {"resource", o.Resource},
	} {
		if f.val != "" {
			checkValue(v, p+f.name, f.val, 1024)
		}
	}
	if v.Required(p+"clientId", o.ClientID) {
		checkValue(v, p+"clientId", o.ClientID, 1024)
	}
	if v.Required(p+"authorityUrl", o.AuthorityURL) && checkValue(v, p+"authorityUrl", o.AuthorityURL, 2048) {
		u, err := url.Parse(o.AuthorityURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			v.Add(p+"authorityUrl", "must be an https URL such as https://login.example.com/oauth2/token (got %q)", o.AuthorityURL)
		}
	}
	if o.UseCertificate {
		if v.Required(p+"publicCertificateThumbprint", o.PublicCertificateThumbprint) {
			checkValue(v, p+"publicCertificateThumbprint", o.PublicCertificateThumbprint, 256)
		}
	} else if v.Required(p+"clientSecret", o.ClientSecret) {
		sfCheckSecret(v, p+"clientSecret", o.ClientSecret, 4096)
	}
}

func (c *Snowflake) validateLineage(v *Validator) {
	l := c.Lineage
	if l.IngestBatchSize != nil && (*l.IngestBatchSize < 1 || *l.IngestBatchSize > 1000) {
		v.Add("config.lineage.ingestBatchSize", "must be between 1 and 1000 (got %d)", *l.IngestBatchSize)
	}
	for _, f := range []struct{ name, val string }{{"tableFilter", l.TableFilter}, {"tagFilter", l.TagFilter}} {
		if f.val == "" {
			continue
		}
		path := "config.lineage." + f.name
		if !checkValue(v, path, f.val, 1024) {
			continue
		}
		if _, err := regexp.Compile(f.val); err != nil {
			msg := err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "error parsing regexp: ") {
				msg = strings.TrimPrefix(msg[:i], "error parsing regexp: ")
			}
			v.Add(path, "must be a regular expression (Go RE2 syntax): %s", msg)
		}
	}
}

// sfCheckName validates a value used as a Snowflake identifier: required, no control
// characters, at most max characters. It returns whether the value is usable.
func sfCheckName(v *Validator, path, val string, max int) bool {
	if !v.Required(path, val) {
		return false
	}
	if !checkValue(v, path, val, 0) {
		return false
	}
	if n := utf8.RuneCountInString(val); n > max {
		if max < sfMaxIdent {
			v.Add(path, "must be at most %d characters (the names derived from it, %s and %s, must fit Snowflake's %d)", max, sfSystemSuffix, sfAccountSuffix, sfMaxIdent)
		} else {
			v.Add(path, "must be at most %d characters", max)
		}
		return false
	}
	return true
}

// sfCheckSecret is checkValue for secrets: the message never shows the value, and
// surrounding spaces are allowed (a password may legitimately have them).
func sfCheckSecret(v *Validator, path, val string, max int) {
	switch {
	case !utf8.ValidString(val):
		v.Add(path, "must be valid UTF-8")
	case hasControl(val):
		v.Add(path, "must not contain control characters (line breaks, tabs, NUL)")
	case utf8.RuneCountInString(val) > max:
		v.Add(path, "must be at most %d characters", max)
	}
}

// sfCheckPassword validates a password a script sets: a plain value that meets
// Snowflake's default password policy (SnowflakePasswordProblem). The value is never
// echoed.
func sfCheckPassword(v *Validator, path, pw string) {
	sfCheckSecret(v, path, pw, sfMaxPassword)
	if v.Has(path) {
		return
	}
	if msg := SnowflakePasswordProblem(pw); msg != "" {
		v.Add(path, "%s", msg)
	}
}

// SnowflakePasswordProblem says what is wrong with a password that a script sets, or ""
// when it meets Snowflake's default password policy. The policy's defaults
// (https://docs.snowflake.com/en/sql-reference/sql/create-password-policy, and the
// built-in policy of https://docs.snowflake.com/en/user-guide/password-authentication):
// PASSWORD_MIN_LENGTH 14, PASSWORD_MAX_LENGTH 256, at least one upper-case letter, one
// lower-case letter and one digit (PASSWORD_MIN_UPPER_CASE_CHARS,
// PASSWORD_MIN_LOWER_CASE_CHARS, PASSWORD_MIN_NUMERIC_CHARS 1), no special character
// required (PASSWORD_MIN_SPECIAL_CHARS 0). The pages do not say whether non-ASCII
// letters count as upper or lower case; the safe reading counts only A-Z, a-z and 0-9.
// An account may set a stricter policy, which no render can know.
func SnowflakePasswordProblem(pw string) string {
	upper, lower, digit := asciiClasses(pw)
	if n := utf8.RuneCountInString(pw); n < sfMinPassword || n > sfMaxPassword || !upper || !lower || !digit {
		return fmt.Sprintf("must be %d to %d characters with an upper-case letter (A-Z), a lower-case letter (a-z) and a digit (Snowflake's default password policy)", sfMinPassword, sfMaxPassword)
	}
	return ""
}

// sfSharedDatabaseMessage is the problem of a config.database that names one of
// Snowflake's shared, read-only databases.
func sfSharedDatabaseMessage(canon string) string {
	return fmt.Sprintf("must not be %s: that is a database Snowflake shares with every account, read-only "+
		"(https://docs.snowflake.com/en/sql-reference/snowflake-db, https://docs.snowflake.com/en/user-guide/sample-data-using); "+
		"a script would create and later drop it: name a new database for Immuta", canon)
}

func sfIsSystemRole(canon string) bool {
	for _, r := range sfSystemRoles {
		if canon == r {
			return true
		}
	}
	return false
}

// sfUnquotedRE matches the names Snowflake accepts unquoted (and folds to upper case).
var sfUnquotedRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// sfCanon is the name Snowflake stores for name: upper-cased when it is a valid unquoted
// identifier, else unchanged. Models hold canonical names so that edits compare the
// objects Snowflake has, not spellings.
func sfCanon(name string) string {
	if SnowflakeUnquoted(name) {
		return strings.ToUpper(name)
	}
	return name
}

// SnowflakeUnquoted reports whether name is an unquoted Snowflake identifier: a letter
// or _, then letters, digits, _ or $
// (https://docs.snowflake.com/en/sql-reference/identifiers-syntax). It is
// sfUnquotedRE.MatchString without the regexp engine (it runs for every identifier of
// every script; FuzzSnowflakeQuoting checks that the two agree).
func SnowflakeUnquoted(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// SnowflakeIdent quotes a Snowflake identifier (SCRIPTS.md section 2).
func SnowflakeIdent(name string) (string, error) {
	if name == "" || !utf8.ValidString(name) || hasControl(name) || utf8.RuneCountInString(name) > sfMaxIdent {
		return "", errQuote("snowflake", "identifier", name)
	}
	return `"` + strings.ReplaceAll(sfCanon(name), `"`, `""`) + `"`, nil
}

// SnowflakeExactIdent quotes a name Snowflake stored (read back from a SHOW listing)
// without folding it: "my_role" stays my_role, where SnowflakeIdent would make it
// MY_ROLE. The same names are refused as by SnowflakeIdent.
func SnowflakeExactIdent(stored string) (string, error) {
	if stored == "" || !utf8.ValidString(stored) || hasControl(stored) || utf8.RuneCountInString(stored) > sfMaxIdent {
		return "", errQuote("snowflake", "identifier", stored)
	}
	return `"` + strings.ReplaceAll(stored, `"`, `""`) + `"`, nil
}

// SnowflakeStr quotes a Snowflake string literal: backslashes doubled, then quotes.
func SnowflakeStr(s string) (string, error) {
	if !utf8.ValidString(s) || hasControl(s) {
		return "", errQuote("snowflake", "string", s)
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// Quoting returns Snowflake's quoting functions.
func (c *Snowflake) Quoting() Quoting {
	return Quoting{Ident: SnowflakeIdent, Str: SnowflakeStr, Exact: SnowflakeExactIdent}
}

// SystemUser is the system account the integration signs in as after setup: the
// config's username for a manual setup, <database>_SYSTEM_ACCOUNT (folded as Snowflake
// folds it) for an automatic one. OAuth manual setups have none ("").
func (c *Snowflake) SystemUser(auto bool) string {
	switch {
	case auto:
		return sfCanon(c.Database + sfAccountSuffix)
	case c.AuthenticationType == sfOAuth:
		return ""
	}
	return c.Username
}

// SystemRole is the role the script creates and grants to the system account.
func (c *Snowflake) SystemRole() string { return sfCanon(c.Database + sfSystemSuffix) }

// Model returns the objects a Snowflake create script makes (SCRIPTS.md section 4).
func (c *Snowflake) Model(o ModelOptions) (*Model, error) {
	db := sfCanon(c.Database)
	sys := sfCanon(c.Database + sfSystemSuffix)
	wh := sfCanon(c.Warehouse)
	// Every render refuses the shared databases, teardown too (a stored integration may
	// name one; its delete script would drop the account's copy), and a weak generated
	// password (the server's own automatic setup).
	if db == sfSharedDatabase || db == sfSampleDatabase {
		return nil, &ValidationError{Problems: []Problem{{Path: "config.database", Message: sfSharedDatabaseMessage(db)}}}
	}
	if o.AutoBootstrap && o.SystemPassword != "" && o.SystemPassword != Redacted {
		if msg := SnowflakePasswordProblem(o.SystemPassword); msg != "" {
			return nil, &ValidationError{Problems: []Problem{{Path: "autoBootstrap", Message: "the generated system-account password " + msg}}}
		}
	}
	for _, n := range []string{db, sys, wh} {
		if _, err := SnowflakeIdent(n); err != nil {
			return nil, err
		}
	}
	q := func(n string) string { s, _ := SnowflakeIdent(n); return s }

	runAs := "a role with the privileges listed below (e.g. ACCOUNTADMIN)"
	if o.AutoBootstrap {
		runAs = fmt.Sprintf("role %s (config.role) of the bootstrap user", q(c.Role))
	}
	m := &Model{
		Create:   []PhaseSpec{{Name: "create", ConnectTo: "account", RunAs: runAs}},
		Teardown: []PhaseSpec{{Name: "cleanup", ConnectTo: "account", RunAs: fmt.Sprintf("ACCOUNTADMIN or SYSADMIN (create grants role %s to SYSADMIN, so they may drop what it owns)", q(sys))}},
		Needs:    sfNeeds,
	}
	add := func(obj Object) {
		obj.Phase, obj.Teardown = "create", "cleanup"
		m.Objects = append(m.Objects, obj)
	}
	roleID := "role:" + sys
	dbID := "database:" + db
	const whyDB = "config.database"

	// Guards: before its first change, create checks every name it takes (the roles,
	// the database, the user) and stops, having made nothing, on one that exists
	// (templates/snowflake/guard.sql.tmpl).
	type taken struct{ show, kind, name, path string }
	names := []taken{{"ROLES", "role", sys, "config.database"}, {"DATABASES", "database", db, "config.database"}}
	if o.AutoBootstrap {
		names = append(names, taken{"USERS", "user", sfCanon(c.Database + sfAccountSuffix), "config.database"})
	} else if c.AuthenticationType != sfOAuth {
		names = append(names, taken{"USERS", "user", sfCanon(c.Username), "config.username"})
	}
	if c.Impersonation.Enabled {
		names = append(names, taken{"ROLES", "role", sfCanon(c.Impersonation.Role), "config.impersonation.role"})
	}
	for _, n := range names {
		if strings.Contains(n.name, "$$") {
			// The guard quotes names inside a $$...$$ body, which $$ would end.
			return nil, &ValidationError{Problems: []Problem{{Path: n.path, Message: "must not contain $$ (the create script's guard quotes it inside a $$...$$ block)"}}}
		}
	}
	for _, n := range names {
		add(Object{ID: "guard:" + n.kind + ":" + n.name, Kind: KindGuard, Guard: true,
			Why: "guard: create never takes over an existing " + n.kind + " (" + n.path + ")",
			Data: SnowflakeGuardData{Show: n.show, Name: n.name,
				Message: fmt.Sprintf("%s %s already exists: this create script makes it and never takes over an existing one; nothing was changed (choose another %s, or drop the old one)", n.kind, q(n.name), n.path)}})
	}

	// The system role and the database with its schemas, all owned by the role.
	// Plain CREATE (no IF NOT EXISTS): on an existing role, database or user it fails,
	// so create never takes over an object it did not make, and delete never drops one.
	add(Object{ID: roleID, Kind: KindRole, Why: whyDB + " (system role " + sys + ")",
		Data: NameData{Name: sys}, NotRerunnable: true})
	// Snowflake recommends granting every custom role to SYSADMIN, so that the system
	// hierarchy (SYSADMIN, ACCOUNTADMIN) can manage and drop what the role owns
	// (https://docs.snowflake.com/en/user-guide/security-access-control-considerations).
	add(Object{ID: "grant:role:" + sys + ":role:SYSADMIN", Kind: KindRoleMember, Parents: []string{roleID},
		Why:  whyDB + " (system role " + sys + " in the SYSADMIN hierarchy, as Snowflake recommends for custom roles)",
		Data: SnowflakeRoleMemberData{Role: sys, GranteeType: "ROLE", Grantee: "SYSADMIN"}})
	add(Object{ID: dbID, Kind: KindDatabase, Why: whyDB,
		Data: NameData{Name: db}, NotRerunnable: true})
	for _, s := range sfSchemas {
		add(Object{ID: "schema:" + db + "." + s, Kind: KindSchema, Parents: []string{dbID}, Why: whyDB,
			Data: SnowflakeSchemaData{Database: db, Name: s}})
	}
	for _, s := range sfSchemas {
		add(Object{ID: "grant:ownership:schema:" + db + "." + s + ":role:" + sys, Kind: KindSchemaOwnership,
			Parents: []string{"schema:" + db + "." + s, dbID}, Why: whyDB + " (owned by " + sys + ")",
			Data: SnowflakeSchemaOwnershipData{Database: db, Schema: s, Role: sys}})
	}
	add(Object{ID: "grant:ownership:database:" + db + ":role:" + sys, Kind: KindDatabaseOwnership,
		Parents: []string{dbID}, Why: whyDB + " (owned by " + sys + ")",
		Data: SnowflakeDatabaseRoleData{Database: db, Role: sys}})

	// The system account (none for OAuth: the OAuth client's user gets the role).
	switch {
	case o.AutoBootstrap || c.AuthenticationType != sfOAuth:
		user, why := sfCanon(c.Username), "config.username"
		if o.AutoBootstrap {
			user, why = sfCanon(c.Database+sfAccountSuffix), "autoBootstrap (system account "+c.Database+sfAccountSuffix+")"
		}
		if _, err := SnowflakeIdent(user); err != nil {
			return nil, err
		}
		userID := "user:" + user
		add(Object{ID: userID, Kind: KindUser, Why: why + ", config.warehouse",
			Data: SnowflakeUserData{Name: user, Role: sys, Warehouse: wh, Namespace: db}, NotRerunnable: true})
		switch {
		case o.AutoBootstrap:
			pw := o.SystemPassword
			if pw == "" {
				pw = Redacted
			} else {
				m.Secrets = append(m.Secrets, pw)
			}
			add(Object{ID: "password:" + userID, Kind: KindUserPassword, Parents: []string{userID},
				Why: "autoBootstrap (generated password; TYPE = LEGACY_SERVICE: a service user that signs in with a password)", Data: SnowflakePasswordData{User: user, Password: pw, Type: "LEGACY_SERVICE"}})
		case c.AuthenticationType == sfUserPassword:
			m.Secrets = append(m.Secrets, c.Password)
			add(Object{ID: "password:" + userID, Kind: KindUserPassword, Parents: []string{userID},
				Why: "config.password (TYPE = LEGACY_SERVICE: a service user that signs in with a password)", Data: SnowflakePasswordData{User: user, Password: c.Password, Type: "LEGACY_SERVICE"}})
		case c.AuthenticationType == sfKeyPair:
			if c.PrivateKey == nil {
				return nil, fmt.Errorf("snowflake: keyPair without privateKey")
			}
			pub, kerr := RSAPublicKeyBody(c.PrivateKey.Content, c.PrivateKeyPassword)
			if kerr != nil {
				return nil, kerr
			}
			add(Object{ID: "rsa-public-key:" + userID, Kind: KindUserKey, Parents: []string{userID},
				Why:  "config.privateKey (its public key; the private key stays with Immuta; TYPE = SERVICE: key-pair sign-in only)",
				Data: SnowflakeKeyData{User: user, PublicKey: pub, Type: "SERVICE"}})
		}
		add(Object{ID: "grant:role:" + sys + ":user:" + user, Kind: KindRoleMember, Parents: []string{roleID, userID},
			Why:  why + " (system role " + sys + ")",
			Data: SnowflakeRoleMemberData{Role: sys, GranteeType: "USER", Grantee: user}})
	default:
		id := ""
		if c.OAuthClientConfig != nil {
			id = c.OAuthClientConfig.ClientID
		}
		m.Notes = append(m.Notes, fmt.Sprintf("oAuthClientCredentials: no user is created; grant role %s to the Snowflake user of OAuth client %q (GRANT ROLE %s TO USER <that user>) and make it the user's default role", q(sys), id, q(sys)))
	}

	// Privileges of the system role.
	add(Object{ID: "grant:usage:warehouse:" + wh + ":role:" + sys, Kind: KindWarehouseGrant, Parents: []string{roleID},
		Why: "config.warehouse", Data: SnowflakeWarehouseGrantData{Warehouse: wh, Role: sys}})
	accountGrant := func(priv, why string) {
		add(Object{ID: "grant:" + strings.ToLower(strings.ReplaceAll(priv, " ", "-")) + ":account:role:" + sys,
			Kind: KindAccountGrant, Parents: []string{roleID}, Why: why,
			Data: SnowflakeAccountGrantData{Privilege: priv, Role: sys}})
	}
	accountGrant("APPLY MASKING POLICY", "policy enforcement (masking policies)")
	accountGrant("APPLY ROW ACCESS POLICY", "policy enforcement (row access policies)")
	// Table grants: Immuta creates a role per user and grants it SELECT on the tables
	// the user may query, so the system role creates roles and manages grants.
	accountGrant("CREATE ROLE", "table grants (Immuta makes a role per user)")
	accountGrant("MANAGE GRANTS", "table grants (Immuta grants SELECT on tables it does not own to those roles)")
	var imported []string
	if c.Audit.Enabled {
		imported = append(imported, "audit enabled")
	}
	if c.Lineage.Enabled {
		imported = append(imported, "lineage enabled")
	}
	if len(imported) > 0 {
		add(Object{ID: "grant:imported-privileges:database:" + sfSharedDatabase + ":role:" + sys, Kind: KindImportedGrant,
			Parents: []string{roleID}, Why: strings.Join(imported, ", ") + " (reads SNOWFLAKE.ACCOUNT_USAGE)",
			Data: SnowflakeDatabaseRoleData{Database: sfSharedDatabase, Role: sys}})
	}
	if c.Workspaces.Enabled {
		accountGrant("CREATE DATABASE", "workspaces enabled (creates workspace databases)")
	}
	if c.Impersonation.Enabled {
		r := sfCanon(c.Impersonation.Role)
		if _, err := SnowflakeIdent(r); err != nil {
			return nil, err
		}
		rID := "role:" + r
		why := "impersonation enabled (config.impersonation.role)"
		add(Object{ID: rID, Kind: KindRole, Why: why, Data: NameData{Name: r}, NotRerunnable: true})
		add(Object{ID: "grant:role:" + r + ":role:" + sys, Kind: KindRoleMember, Parents: []string{rID, roleID}, Why: why,
			Data: SnowflakeRoleMemberData{Role: r, GranteeType: "ROLE", Grantee: sys}})
		add(Object{ID: "grant:ownership:role:" + r + ":role:" + sys, Kind: KindRoleOwnership, Parents: []string{rID}, Why: why,
			Data: SnowflakeRoleOwnershipData{Name: r, Role: sys}})
	}

	owned := "the database and its schemas"
	made := "role " + q(sys) + ", database " + q(db)
	if c.Impersonation.Enabled {
		owned = "the database, its schemas and the impersonation role"
		made += ", role " + q(sfCanon(c.Impersonation.Role))
	}
	m.CreateNotes = append(m.CreateNotes,
		fmt.Sprintf("create is not re-runnable: it never takes over an object it did not make (%s, and the system account); the guards at its start stop it, having changed nothing, when one of those names is taken and visible to the runner's role, and CREATE ROLE, CREATE DATABASE and CREATE USER fail on one it cannot see; after a run that failed past the guards, run cleanup, then create", made))
	m.Notes = append(m.Notes,
		fmt.Sprintf("role %s owns %s and is granted to SYSADMIN: an edit or a cleanup runs as ACCOUNTADMIN or SYSADMIN (or a role that %s is granted to)", q(sys), owned, q(sys)))
	return m, nil
}
