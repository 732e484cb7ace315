package platforms

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// rsData is the Data type of each Redshift kind (Redshift.TemplateData); every
// scripted platform has such a table beside its Needs, since its kinds are its own.
var rsData = map[Kind]any{
	KindDatabase:              NameData{},
	KindGuard:                 RedshiftGuardData{},
	KindSchemaUsagePublic:     NameData{},
	KindUserPassword:          RedshiftUserData{},
	KindDatabaseGrant:         RedshiftDatabaseGrantData{},
	KindGroup:                 NameData{},
	KindUser:                  RedshiftUserData{},
	KindSchema:                OwnedData{},
	KindProcedure:             RedshiftProcedureData{},
	KindProcedureRevokePublic: RedshiftProcedureRefData{},
	KindProcedureGrant:        RedshiftProcedureGrantData{},
}

// TemplateData implements Scripted.
func (c *Redshift) TemplateData() map[Kind]any { return rsData }

// rsNeeds are what the runner of each statement needs, per object kind. Only a
// superuser (or a user with CREATEUSER) creates, alters and drops users and groups; a
// database is dropped by its owner or a superuser; schemas made for another user and a
// change of a schema's owner need a superuser; the impersonation procedures are SECURITY
// DEFINER, so their owner (the runner) must be allowed to ALTER GROUP: a superuser.
// https://docs.aws.amazon.com/redshift/latest/dg/r_superusers.html
// https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html
// https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_DATABASE.html
// https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_USER.html
//
// System: what the system user (config.username) may run itself. Create makes the three
// schemas AUTHORIZATION the user, so the user owns them, and the owner of an object may
// grant privileges on it
// (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT-usage-notes.html,
// https://docs.aws.amazon.com/redshift/latest/dg/r_Privileges.html):
//   - schema-usage-public create: GRANT USAGE ON SCHEMA ... TO PUBLIC on a schema the
//     user owns (its drop is empty: DROP SCHEMA removes the grant).
//
// Not the system user's: the schemas themselves (CREATE SCHEMA lists a superuser or the
// CREATE SCHEMA privilege, https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_SCHEMA.html,
// and the template names the owner with AUTHORIZATION; DROP SCHEMA lists the schema
// owner, https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_SCHEMA.html, but the
// template's CASCADE also drops the impersonation procedures, which the superuser runner
// owns, and the page does not say that an owner's CASCADE drops what others own; a
// drop's undo is a create anyway); the user, its password, the group and the database
// (a superuser's, or the database owner's: the runner made it); the grants on the
// database and on the procedures (their owner is the runner); and the procedures
// (SECURITY DEFINER, owned by a superuser).
var rsNeeds = map[Kind]Needs{
	KindDatabase:              {Create: []string{"superuser or CREATEDB"}, Drop: []string{"superuser or the database's owner"}},
	KindGuard:                 {Create: []string{"none beyond reading pg_database, pg_user and pg_group (readable by every user)"}},
	KindSchemaUsagePublic:     {Create: []string{"superuser or the schema's owner"}, System: []string{"create"}},
	KindUserPassword:          {Alter: []string{"superuser (sets the password again after a rename)"}},
	KindDatabaseGrant:         {Create: []string{"superuser or the database's owner"}, Drop: []string{"superuser or the database's owner"}},
	KindGroup:                 {Create: []string{"superuser"}, Drop: []string{"superuser"}},
	KindUser:                  {Create: []string{"superuser or CREATEUSER"}, Alter: []string{"superuser (ALTER USER ... RENAME TO, PASSWORD)"}, Drop: []string{"superuser or CREATEUSER"}},
	KindSchema:                {Create: []string{"superuser (CREATE SCHEMA ... AUTHORIZATION another user)"}, Alter: []string{"superuser (ALTER SCHEMA ... OWNER TO)"}, Drop: []string{"superuser or the schema's owner"}},
	KindProcedure:             {Create: []string{"superuser (a SECURITY DEFINER procedure that runs ALTER GROUP as its owner)"}, Alter: []string{"superuser (a SECURITY DEFINER procedure that runs ALTER GROUP as its owner)"}, Drop: []string{"superuser or the procedure's owner"}},
	KindProcedureRevokePublic: {Create: []string{"superuser or the procedure's owner"}},
	KindProcedureGrant:        {Create: []string{"superuser or the procedure's owner"}, Drop: []string{"superuser or the procedure's owner"}},
}

// Redshift is the config of the Redshift type (API.md section 3).
//
// Scripts (SCRIPTS.md section 4): the system user `username`, the database `database`,
// TEMP and CREATE on the database for the user, the schemas immuta_procedures,
// immuta_functions and immuta_system owned by the user with USAGE for PUBLIC (Immuta's
// own Redshift setup: PUBLIC keeps TEMP on the database and uses the three schemas)
// and, with impersonation, the group `impersonation.role` plus two SECURITY DEFINER
// procedures that add a user to the group and remove it, executable by the system user.
//
// Authentication: with `userPassword` the user is created with the given password (plain
// text following Redshift's rules, or pre-hashed `md5...`/`sha256|...`). With
// `accessKey` the user `username` is still required: Immuta signs in with IAM
// temporary credentials (GetClusterCredentials with DbUser = username), and an
// IAM-authenticated session always maps to a database user, so the script creates that
// user with `PASSWORD DISABLE` (no password sign-in at all). The access key itself never
// reaches SQL; its id and region are validated here.
//
// autoBootstrap must be false (the decoder enforces it): Redshift scripts are always run
// by a DBA.
type Redshift struct {
	Host               string        `json:"host" immutable:"true"`
	Port               int           `json:"port,omitempty" immutable:"true"`
	Database           string        `json:"database" immutable:"true"`
	InitialDatabase    string        `json:"initialDatabase,omitempty"`
	Impersonation      Impersonation `json:"impersonation"`
	AuthenticationType string        `json:"authenticationType"`
	Username           string        `json:"username,omitempty"`
	Password           string        `json:"password,omitempty" secret:"true"`
	AWSAccessKeyID     string        `json:"awsAccessKeyId,omitempty"`
	AWSSecretAccessKey string        `json:"awsSecretAccessKey,omitempty" secret:"true"`
	AWSRegion          string        `json:"awsRegion,omitempty"`
}

// redshiftAuthTypes are the accepted values of authenticationType.
var redshiftAuthTypes = []string{"userPassword", "accessKey"}

// schema implements schemaRuled: what Validate always requires (both authentication
// types need the user the script creates), and per authenticationType.
func (c *Redshift) schema() schemaRules {
	return schemaRules{
		Required: []string{"host", "database", "username", "authenticationType"},
		Enums:    map[string][]string{"authenticationType": redshiftAuthTypes},
		When: []schemaWhen{
			{Field: "authenticationType", Equals: "userPassword", Required: []string{"password"}},
			{Field: "authenticationType", Equals: "accessKey", Required: []string{"awsAccessKeyId", "awsSecretAccessKey", "awsRegion"}},
		},
	}
}

// Redshift defaults and fixed names.
const (
	redshiftDefaultPort            = 5439
	redshiftDefaultInitialDatabase = "dev"
	redshiftDefaultImpersonation   = "immuta_impersonation"
	// redshiftMaxIdent is Redshift's limit on names, in bytes.
	redshiftMaxIdent = 127
	// redshiftRunAs is who runs every Redshift phase.
	redshiftRunAs = "a superuser"
)

// redshiftSchemas are the schemas the system user owns, in create order.
var redshiftSchemas = []string{"immuta_procedures", "immuta_functions", "immuta_system"}

// redshiftProcSchema holds the impersonation procedures.
const redshiftProcSchema = "immuta_procedures"

// Defaults fills in port 5439, initialDatabase `dev` and, when impersonation is
// enabled, the role `immuta_impersonation`.
func (c *Redshift) Defaults(bool) {
	if c.Port == 0 {
		c.Port = redshiftDefaultPort
	}
	if c.InitialDatabase == "" {
		c.InitialDatabase = redshiftDefaultInitialDatabase
	}
	if c.Impersonation.Enabled && c.Impersonation.Role == "" {
		c.Impersonation.Role = redshiftDefaultImpersonation
	}
}

var (
	// redshiftKeyIDRE is the shape of a long-term AWS access key id (temporary ASIA keys
	// need a session token, which the config has no field for).
	redshiftKeyIDRE = regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`)
	// redshiftMD5RE is a pre-hashed md5 password: "md5" + md5(password + username).
	redshiftMD5RE = regexp.MustCompile(`^md5[0-9a-fA-F]{32}$`)
	// redshiftSHA256RE is a pre-hashed sha256 password: "sha256|digest" or
	// "sha256|digest|salt" (hex or base64 parts).
	redshiftSHA256RE = regexp.MustCompile(`^sha256\|[A-Za-z0-9+/=]{1,128}(\|[A-Za-z0-9+/=]{1,128})?$`)
)

// redshiftReservedDatabases cannot be the managed database: they are Redshift's own.
var redshiftReservedDatabases = []string{"dev", "padb_harvest", "template0", "template1", "sys:internal"}

// Validate reports every problem of the config, each with its path.
func (c *Redshift) Validate(v *Validator, _ bool) {
	checkHost(v, "config.host", c.Host)
	checkPort(v, "config.port", c.Port)

	dbOK := v.Required("config.database", c.Database) && checkRedshiftName(v, "config.database", c.Database)
	initOK := checkRedshiftName(v, "config.initialDatabase", c.InitialDatabase)
	if dbOK {
		db := redshiftFold(c.Database)
		for _, r := range redshiftReservedDatabases {
			if db == r {
				v.Add("config.database", "must not be %q: that database belongs to Redshift; name a new database the script creates", r)
				dbOK = false
				break
			}
		}
	}
	if dbOK && strings.Contains(c.Database, "$$") {
		v.Add("config.database", "must not contain $$ (create's guard writes the name in a string literal)")
		dbOK = false
	}
	if dbOK && initOK && redshiftFold(c.Database) == redshiftFold(c.InitialDatabase) {
		v.Add("config.database", "must differ from config.initialDatabase (%q): the scripts create and drop it", c.InitialDatabase)
	}

	if c.Impersonation.Role != "" && checkRedshiftName(v, "config.impersonation.role", c.Impersonation.Role) {
		role := c.Impersonation.Role
		switch {
		case strings.Contains(role, "$"):
			// The group name is written inside the $$-quoted procedure bodies.
			v.Add("config.impersonation.role", "must not contain $ (it is written inside a procedure body)")
		case redshiftFold(role) == "public":
			v.Add("config.impersonation.role", "must not be PUBLIC")
		}
	}

	// Both authentication types need the user the script creates.
	c.validateUsername(v)
	if !v.Required("config.authenticationType", c.AuthenticationType) ||
		!v.OneOf("config.authenticationType", c.AuthenticationType, redshiftAuthTypes...) {
		return
	}
	switch c.AuthenticationType {
	case "userPassword":
		if v.Required("config.password", c.Password) {
			if v.ScriptPasswords() {
				checkRedshiftPassword(v, "config.password", c.Password)
			} else if hasControl(c.Password) {
				v.Add("config.password", "must not contain control characters (line breaks, tabs, NUL)")
			}
		}
		for _, f := range []struct{ path, val string }{
			{"config.awsAccessKeyId", c.AWSAccessKeyID},
			{"config.awsSecretAccessKey", c.AWSSecretAccessKey},
			{"config.awsRegion", c.AWSRegion},
		} {
			if f.val != "" {
				v.Add(f.path, "must be absent with authenticationType userPassword")
			}
		}
	case "accessKey":
		if c.Password != "" {
			v.Add("config.password", "must be absent with authenticationType accessKey (the user signs in with IAM and has no password)")
		}
		if v.Required("config.awsAccessKeyId", c.AWSAccessKeyID) && !redshiftKeyIDRE.MatchString(c.AWSAccessKeyID) {
			v.Add("config.awsAccessKeyId", "must be an AWS access key id: AKIA followed by 16 upper-case letters or digits")
		}
		if v.Required("config.awsSecretAccessKey", c.AWSSecretAccessKey) {
			// Never echo the value: it is a secret.
			if !utf8.ValidString(c.AWSSecretAccessKey) || hasControl(c.AWSSecretAccessKey) ||
				len(c.AWSSecretAccessKey) > 128 || strings.TrimSpace(c.AWSSecretAccessKey) != c.AWSSecretAccessKey {
				v.Add("config.awsSecretAccessKey", "must be an AWS secret access key (at most 128 printable characters)")
			}
		}
		if v.Required("config.awsRegion", c.AWSRegion) && !awsRegionRE.MatchString(c.AWSRegion) {
			v.Add("config.awsRegion", "must be an AWS region such as us-east-1 (got %q)", c.AWSRegion)
		}
	}
}

func (c *Redshift) validateUsername(v *Validator) {
	if !v.Required("config.username", c.Username) || !checkRedshiftName(v, "config.username", c.Username) {
		return
	}
	switch {
	case redshiftFold(c.Username) == "public" || redshiftFold(c.Username) == "rdsdb":
		v.Add("config.username", "must not be %q: that name is reserved by Redshift", c.Username)
	case strings.Contains(c.Username, "$$"):
		v.Add("config.username", "must not contain $$ (create's guard writes the name in a string literal)")
	}
}

// checkRedshiftName applies the rules of a Redshift name: the common value rules, no
// backslash, no double quote, at most 127 bytes.
func checkRedshiftName(v *Validator, path, val string) bool {
	if !checkValue(v, path, val, 0) {
		return false
	}
	switch {
	case strings.Contains(val, `\`):
		v.Add(path, `must not contain \ (backslash)`)
		return false
	case strings.Contains(val, `"`):
		v.Add(path, `must not contain " (double quote)`)
		return false
	case len(val) > redshiftMaxIdent:
		v.Add(path, "must be at most %d bytes", redshiftMaxIdent)
		return false
	}
	return true
}

// checkRedshiftPassword applies Redshift's password rules: 8 to 64 ASCII characters (codes
// 33-126) with an upper-case letter, a lower-case letter and a digit, none of ' " \ / @;
// or a pre-hashed md5/sha256 password. The engine also refuses $, so that no value can
// close a dollar-quoted body. The value is never echoed.
func checkRedshiftPassword(v *Validator, path, pw string) {
	if redshiftMD5RE.MatchString(pw) || redshiftSHA256RE.MatchString(pw) {
		return
	}
	const rule = `must be 8 to 64 characters with an upper-case letter, a lower-case letter and a digit, ` +
		`using printable ASCII except space ' " \ / @ $ (or a pre-hashed md5<32 hex digits> or sha256|<digest>)`
	if len(pw) < 8 || len(pw) > 64 {
		v.Add(path, "%s", rule)
		return
	}
	for i := 0; i < len(pw); i++ {
		if b := pw[i]; b < 33 || b > 126 || strings.IndexByte(`'"\/@$`, b) >= 0 {
			v.Add(path, "%s", rule)
			return
		}
	}
	if upper, lower, digit := asciiClasses(pw); !upper || !lower || !digit {
		v.Add(path, "%s", rule)
	}
}

// EditProblems refuses a change of config.username while config.password is a
// pre-hashed md5 password: Redshift's md5 hash is md5(password + username), salted with
// the user name, and a rename clears it
// (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_USER.html), so the edit would
// set a hash that no password matches for the new name. The value is never echoed.
func (c *Redshift) EditProblems(old Config) []Problem {
	o, ok := old.(*Redshift)
	if !ok || redshiftFold(o.Username) == redshiftFold(c.Username) || !redshiftMD5RE.MatchString(c.Password) {
		return nil
	}
	return []Problem{{Path: "config.username", Message: fmt.Sprintf(
		"cannot be changed from %q while config.password is a pre-hashed md5 password: the hash is salted with the user name, "+
			"so it matches no password for the new name; give the password in plain text or as sha256|..., or keep the username", o.Username)}}
}

// UniqueKey is the host (host names are case-insensitive).
func (c *Redshift) UniqueKey() string { return strings.ToLower(c.Host) }

// UniqueKeys is the host: one integration per Redshift host.
func (c *Redshift) UniqueKeys() []Unique { return hostUnique(c, c.Host) }

// ImpersonationEnabled is config.impersonation.enabled.
func (c *Redshift) ImpersonationEnabled() bool { return c.Impersonation.Enabled }

// redshiftFold folds a name the way Redshift does: ASCII letters to lower case (quoted
// or not), everything else kept.
func redshiftFold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// RedshiftIdent quotes a Redshift identifier: folded to lower case (as Redshift folds
// every name), wrapped in double quotes with any double quote doubled. Empty names,
// control characters, backslashes and names over 127 bytes are refused.
func RedshiftIdent(s string) (string, error) {
	if s == "" || !utf8.ValidString(s) || hasControl(s) || strings.Contains(s, `\`) || len(s) > redshiftMaxIdent {
		return "", errQuote("redshift", "identifier", s)
	}
	return `"` + strings.ReplaceAll(redshiftFold(s), `"`, `""`) + `"`, nil
}

// RedshiftStr quotes a Redshift string literal: wrapped in single quotes with any single
// quote doubled. Backslashes are refused (Redshift may read them as escapes), and so is
// $$ (a string literal may sit inside a $$-quoted procedure body, which only $$ closes;
// the quotes around the value keep a $ at either end from forming one), as are control
// characters.
func RedshiftStr(s string) (string, error) {
	if !utf8.ValidString(s) || hasControl(s) || strings.Contains(s, `\`) || strings.Contains(s, "$$") {
		return "", errQuote("redshift", "string", s)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// Quoting returns Redshift's quoting functions.
func (c *Redshift) Quoting() Quoting { return Quoting{Ident: RedshiftIdent, Str: RedshiftStr} }

// Model returns the Redshift objects, in create order:
//
//	initial-create (connected to initialDatabase): the guard (fails, changing nothing,
//	if D, U or R is taken), user U, then database D (user first, so that teardown can
//	drop the database before the user);
//	create (connected to D): with impersonation, group R; TEMP, CREATE on D for U;
//	the three schemas owned by U, each with USAGE for PUBLIC; with
//	impersonation, the procedures grant_impersonation and revoke_impersonation with
//	their EXECUTE grants.
//
// Teardown: `cleanup` connected to D drops the procedures and schemas and revokes U's
// database privileges (a user that holds privileges or owns objects cannot be dropped);
// `post-cleanup` connected to initialDatabase drops D, then U, then R. Redshift has no
// post-cleanup endpoint, so the registry's `delete` and `cleanup` operations both return
// both phases.
func (c *Redshift) Model(o ModelOptions) (*Model, error) {
	if o.AutoBootstrap {
		return nil, errors.New("redshift: autoBootstrap must be false")
	}
	if c.Database == "" || c.Username == "" || c.InitialDatabase == "" {
		return nil, errors.New("redshift: model of an unvalidated config")
	}
	db := redshiftFold(c.Database)
	user := redshiftFold(c.Username)
	initial := redshiftFold(c.InitialDatabase)

	m := &Model{
		Create: []PhaseSpec{
			{Name: "initial-create", ConnectTo: initial, RunAs: redshiftRunAs},
			{Name: "create", ConnectTo: db, RunAs: redshiftRunAs},
		},
		Teardown: []PhaseSpec{
			{Name: "cleanup", ConnectTo: db, RunAs: redshiftRunAs},
			{Name: "post-cleanup", ConnectTo: initial, RunAs: redshiftRunAs},
		},
		Needs: rsNeeds,
		CreateNotes: []string{
			"create is not re-runnable: CREATE USER, CREATE DATABASE and CREATE GROUP have no IF NOT EXISTS on Redshift; after a run that failed past its guard, run cleanup before running create again",
		},
		Notes: []string{
			fmt.Sprintf("run initial-create connected to database %s and create connected to database %s", initial, db),
			"CREATE DATABASE cannot run inside a transaction block: run initial-create with autocommit on",
			fmt.Sprintf("cleanup connects to database %s: if initial-create never created it, skip the cleanup phase and run post-cleanup only", db),
		},
	}

	why := "system user (config.username)"
	userData := RedshiftUserData{Name: user}
	switch c.AuthenticationType {
	case "userPassword":
		userData.Password = c.Password
		m.Secrets = append(m.Secrets, c.Password)
		why = "system user (config.username, config.password)"
	case "accessKey":
		userData.PasswordDisabled = true
		why = "system user (config.username) for IAM sign-in: PASSWORD DISABLE (authenticationType accessKey)"
		m.Notes = append(m.Notes, fmt.Sprintf(
			"authenticationType accessKey: the user %s has no password; the IAM identity of the access key needs redshift:GetClusterCredentials for database user %s on this cluster", user, user))
	default:
		return nil, fmt.Errorf("redshift: unknown authenticationType %q", c.AuthenticationType)
	}

	impWhy := "impersonation enabled (config.impersonation.role)"
	role := redshiftFold(c.Impersonation.Role)
	// The guard is the first statement of initial-create: it changes nothing and fails
	// when the database, the user or (with impersonation) the group is already taken,
	// so that create never adopts, and teardown never drops, what existed before. The
	// group is made only in the create phase, after the user and the database: without
	// the guard, an existing group would stop create after it had made them.
	guardData := RedshiftGuardData{Database: db, User: user}
	if c.Impersonation.Enabled {
		guardData.Group = role
	}
	m.Objects = append(m.Objects, Object{ID: "guard:names", Kind: KindGuard, Phase: "initial-create", Teardown: "post-cleanup",
		Why:  "stop before any change if a name create makes is taken (config.database, config.username, config.impersonation.role)",
		Data: guardData, Guard: true})
	if c.Impersonation.Enabled {
		// The group comes first in the list (it is still made in the create phase, after
		// initial-create) so that post-cleanup, which drops in reverse order, runs
		// DROP DATABASE, DROP USER, then DROP GROUP.
		m.Objects = append(m.Objects, Object{ID: "group:" + role, Kind: KindGroup, Phase: "create", Teardown: "post-cleanup",
			Why: impWhy, Data: NameData{Name: role}, TolerateMissing: true, NotRerunnable: true})
	}
	// The system user's IDs do not name it: an edit that changes config.username
	// renames the user (ALTER USER ... RENAME TO keeps what it owns and holds), so the
	// objects that name it are altered, not dropped and made again.
	userID := "user:system"
	dbID := "database:" + db
	m.Objects = append(m.Objects,
		Object{ID: userID, Kind: KindUser, Phase: "initial-create", Teardown: "post-cleanup",
			Why: why, Data: userData, NotRerunnable: true},
		// Renaming clears the password (r_ALTER_USER): after a rename the edit sets it
		// again. Nothing of its own at create or teardown (CREATE USER sets it).
		Object{ID: "password:system", Kind: KindUserPassword, Phase: "initial-create", Teardown: "post-cleanup",
			Parents: []string{userID}, Why: why, Data: userData},
		Object{ID: dbID, Kind: KindDatabase, Phase: "initial-create", Teardown: "post-cleanup",
			Why: "managed database (config.database)", Data: NameData{Name: db},
			TolerateMissing: true, NotRerunnable: true},
		Object{ID: "grant:temp,create:database:" + db + ":system", Kind: KindDatabaseGrant,
			Phase: "create", Teardown: "cleanup",
			Why:  "system user may create schemas and temporary tables in the managed database (config.database, config.username)",
			Data: RedshiftDatabaseGrantData{Database: db, User: user},
			// Revoked explicitly (not left to DROP DATABASE) so that DROP USER succeeds
			// even if the database could not be dropped; REVOKE has no IF EXISTS and
			// fails only when the user is already gone.
			TolerateMissing: true},
	)
	for _, s := range redshiftSchemas {
		m.Objects = append(m.Objects, Object{ID: "schema:" + s, Kind: KindSchema, Phase: "create", Teardown: "cleanup",
			Why: "Immuta schemas owned by the system user (config.username)", Data: OwnedData{Name: s, Owner: user}})
	}
	// Immuta's own Redshift setup grants PUBLIC USAGE on its three schemas (and leaves
	// PUBLIC its TEMP on the database): every user's queries of the policy views call
	// the functions and read the tables in them. DROP SCHEMA ... CASCADE removes the
	// grants with the schemas.
	for _, s := range redshiftSchemas {
		m.Objects = append(m.Objects, Object{ID: "grant:usage:schema:" + s + ":public", Kind: KindSchemaUsagePublic,
			Phase: "create", Teardown: "cleanup", Parents: []string{"schema:" + s},
			Why:  "every user may use the Immuta schemas, as Immuta's Redshift setup grants",
			Data: NameData{Name: s}})
	}

	if c.Impersonation.Enabled {
		for _, p := range []struct{ name, action string }{
			{"grant_impersonation", "ADD"}, {"revoke_impersonation", "DROP"},
		} {
			procID := "procedure:" + redshiftProcSchema + "." + p.name
			m.Objects = append(m.Objects,
				Object{ID: procID, Kind: KindProcedure, Phase: "create", Teardown: "cleanup", Why: impWhy,
					Data: RedshiftProcedureData{Schema: redshiftProcSchema, Name: p.name, Group: role, Action: p.action}},
				Object{ID: "revoke:all:" + procID + ":public", Kind: KindProcedureRevokePublic, Phase: "create",
					Teardown: "cleanup", Parents: []string{procID}, Why: impWhy,
					Data: RedshiftProcedureRefData{Schema: redshiftProcSchema, Name: p.name}},
				Object{ID: "grant:execute:" + procID + ":system", Kind: KindProcedureGrant, Phase: "create",
					Teardown: "cleanup", Parents: []string{procID}, Why: impWhy,
					Data: RedshiftProcedureGrantData{Schema: redshiftProcSchema, Name: p.name, User: user}},
			)
		}
	}
	return m, nil
}
