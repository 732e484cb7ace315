package connector

//lint:file-ignore SA1019 gosnowflake v1.19 marks its timeout and credential-cache settings deprecated ("may be reorganized"), yet they are its only way to bound sign-in and requests and to keep tokens off disk.

// The import block is like internal/store/sqlite.go's: both open a database/sql driver;
// a list of dependencies shares no logic.
import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// The Snowflake test catalogue's names (registered in init).
const (
	sfTestConnection    = "Initial Validation: Basic Connection Test"
	sfTestWarehouse     = "Initial Validation: Default Warehouse Access Test"
	sfTestPrefix        = "Initial Validation: Table Grants Role Prefix is Unique"
	sfTestRole          = "Initial Validation: Validate access to Privileged Role"
	sfTestDatabase      = "Validate Automatic: Database Does Not Exist"
	sfTestImpersonation = "Validate Automatic: Impersonation Role Does Not Exist"
	sfTestGrants        = "Validate Automatic Bootstrap User Grants"
)

// Every connector file registers itself like this: the catalogue is data each platform
// states beside its checks.
func init() {
	register(Registration{Type: "Snowflake", Tests: []Spec{
		{Name: sfTestConnection, Recurring: true, Connection: true},
		{Name: sfTestWarehouse, EmptyResult: true, Recurring: true},
		// Where the API reference's GET /integrations/{id} example lists it.
		{Name: sfTestPrefix, Recurring: true},
		{Name: sfTestRole, Applies: AutomaticOnly, EmptyResult: true},
		{Name: sfTestDatabase, Applies: AutomaticOnly, CreateOnly: true},
		{Name: sfTestImpersonation, Applies: AutomaticOnly, Impersonation: true, CreateOnly: true},
		{Name: sfTestGrants, Applies: AutomaticOnly},
	}, New: func(o Options) Connector { return NewSnowflake(o) }})
}

// sfTarget is the only ConnectTo of Snowflake scripts: the account.
const sfTarget = "account"

// sfAccountAdmin holds every account privilege.
const sfAccountAdmin = "ACCOUNTADMIN"

// sfRequiredPrivileges are the account privileges the bootstrap role needs to run the
// create script: it creates a database, roles and a user, and grants privileges and
// roles (MANAGE GRANTS lets it grant APPLY MASKING POLICY, APPLY ROW ACCESS POLICY,
// USAGE on the warehouse and, for workspaces, CREATE DATABASE without holding them
// WITH GRANT OPTION).
var sfRequiredPrivileges = []string{"CREATE DATABASE", "CREATE ROLE", "CREATE USER", "MANAGE GRANTS"}

// sfMaxRoles bounds the role hierarchy the grants check walks.
const sfMaxRoles = 100

// sfAuthErrors are the Snowflake error numbers of a refused sign-in (wrong password,
// unknown user, bad JWT, bad OAuth token).
var sfAuthErrors = map[int]bool{390100: true, 390144: true, 390303: true, 390318: true}

// Snowflake is the live Connector of Snowflake, over gosnowflake. Connections are built
// from a gosnowflake.Config (no DSN string ever holds a secret): the account is the
// first label of config.host (what gosnowflake's own DSN parsing takes from such a
// host; the region part stays in the host), the host and port are config.host and
// config.port, TLS is always on (Options.DisableTLS does not apply: Snowflake only
// speaks HTTPS), the login and request timeouts are Options.ConnectTimeout and
// Options.StatementTimeout.
//
// Who signs in:
//   - Run, and Check of a create or edit: the payload's credentials. With autoBootstrap
//     they are the privileged bootstrap user's, and Run uses config.role as the session
//     role.
//   - Check and Verify of an automatic setup when sys holds a password (the server's
//     recurring validation): the system account, sys.Username or
//     config.SystemUser(true), with that password.
//   - Verify of a manual setup: the payload's credentials, which are the system
//     account's.
//
// authenticationType userPassword signs in with the password, keyPair with a JWT
// signed by config.privateKey (PKCS#8 PEM, decrypted with config.privateKeyPassword
// when encrypted), oAuthClientCredentials with gosnowflake's OAuth 2.0 client
// credentials flow: config.oAuthClientConfig.clientId and clientSecret at the token
// endpoint config.oAuthClientConfig.authorityUrl, with its scope (default
// session:role:<config.role, else the system role>). OAuth with useCertificate (a
// client certificate instead of a secret) is not supported yet: every call fails with
// a message saying so.
//
// The tests (Check):
//   - Basic Connection Test: sign in and SELECT CURRENT_USER().
//   - Default Warehouse Access Test: USE ROLE <role>; USE WAREHOUSE <config.warehouse>,
//     where role is the bootstrap role (config.role) for an automatic create or edit,
//     the system role (<database>_SYSTEM) when signed in as the system account of an
//     automatic setup, and config.role or else the system role for a manual setup.
//   - Table Grants Role Prefix is Unique: as that same role, SHOW ROLES STARTS WITH
//     '<prefix>' (Options.TableGrantsRolePrefix, default IMMUTA) lists no role whose
//     owner is another role than the system role (<database>_SYSTEM), which creates and
//     manages the roles of Immuta's table grants (the system role and the impersonation
//     role themselves are not counted: the create script makes them). STARTS WITH is
//     case-sensitive and has no wildcards, and the names are compared with the prefix
//     again in Go.
//   - Validate access to Privileged Role: USE ROLE <config.role>.
//   - Database Does Not Exist: SHOW DATABASES LIKE '<database>' as config.role finds no
//     database of exactly that name (LIKE is a pattern; the names are compared after).
//   - Impersonation Role Does Not Exist: the same with SHOW ROLES LIKE for
//     config.impersonation.role.
//   - Bootstrap User Grants: config.role is ACCOUNTADMIN, or it and the roles granted to
//     it (SHOW GRANTS TO ROLE, following USAGE grants on roles, at most 100 roles; a
//     role that inherits ACCOUNTADMIN passes) hold CREATE DATABASE, CREATE ROLE, CREATE
//     USER and MANAGE GRANTS on the account. A failure names the missing privileges and
//     the GRANT statements that add them.
//
// Roles see only what their privileges show them: a database or role that config.role
// cannot see is not found by the "does not exist" tests.
//
// Verify of create or edit checks, as the system account, that it can sign in, that
// USE ROLE of the system role works (the role exists and is granted to it), that the
// database exists (SHOW DATABASES LIKE, as the system role, which owns it) and, with
// impersonation, that the impersonation role exists. Verify of delete passes when the
// system account's sign-in is refused (the user is gone) and otherwise lists what is
// left. Signed in as someone else (an automatic setup with no sys password, or a manual
// OAuth setup, which has no system user) both look the objects up with SHOW ... LIKE.
//
// Every error has the payload's secrets, sys.Password and the passwords found in the
// script removed.
type Snowflake struct {
	// Open, when set, replaces the real connection: it returns a pool to connectTo (the
	// script phase's ConnectTo, "account") signed in as the rules above say. Tests set
	// it to open pools on a recording driver.
	Open func(ctx context.Context, p *platforms.Payload, sys Credentials, connectTo string) (*sql.DB, error)
	opts Options
}

// NewSnowflake returns the Snowflake connector configured by o. It turns off
// gosnowflake's platform detection for the whole process (see sfQuiet).
func NewSnowflake(o Options) *Snowflake {
	sfQuiet()
	return &Snowflake{opts: o}
}

// sfPlatformDetectionEnv is gosnowflake's switch for its platform detection: on its
// first connection the driver probes the AWS, Azure and GCP metadata services and calls
// AWS STS with the process's own AWS credentials, whatever the payload, in a client
// of its own that no Transporter replaces. "true" turns that off (gosnowflake
// platform_detection.go, v1.19; https://github.com/snowflakedb/gosnowflake/pull/1608).
const sfPlatformDetectionEnv = "SNOWFLAKE_DISABLE_PLATFORM_DETECTION"

var sfQuietOnce sync.Once

// sfQuiet sets sfPlatformDetectionEnv before any connection is made. This is the one
// environment write of the server: no connection leaves it unless the connector asked
// for it.
func sfQuiet() {
	sfQuietOnce.Do(func() { _ = os.Setenv(sfPlatformDetectionEnv, "true") })
}

var _ Connector = (*Snowflake)(nil)

// sfLogin is who a Snowflake call signs in as.
type sfLogin struct {
	// user is the user signed in as; "" for OAuth (the OAuth client's user).
	user string
	// system: the system account (not the bootstrap user).
	system bool
	// held: the server-held system account credentials (sys).
	held bool
	// role is the role the checks use.
	role string
	// what describes the sign-in in messages.
	what string
}

func sfLoginOf(c *platforms.Snowflake, auto bool, sys Credentials) sfLogin {
	switch {
	case auto && sys.Password != "":
		u := sys.Username
		if u == "" {
			u = c.SystemUser(true)
		}
		return sfLogin{user: u, system: true, held: true, role: c.SystemRole(),
			what: fmt.Sprintf("the system account %s (with the password the server holds)", sfQ(u))}
	case auto:
		return sfLogin{user: c.Username, role: c.Role, what: "the bootstrap user " + sfQ(c.Username) + sfAuthWhat(c)}
	}
	role := c.Role
	if role == "" {
		role = c.SystemRole()
	}
	if c.AuthenticationType == "oAuthClientCredentials" {
		id := ""
		if c.OAuthClientConfig != nil {
			id = c.OAuthClientConfig.ClientID
		}
		return sfLogin{system: true, role: role, what: fmt.Sprintf("the user of OAuth client %q", id)}
	}
	return sfLogin{user: c.Username, system: true, role: role, what: "the system account " + sfQ(c.Username) + sfAuthWhat(c)}
}

func sfAuthWhat(c *platforms.Snowflake) string {
	if c.AuthenticationType == "keyPair" {
		return " (key pair)"
	}
	return ""
}

// sfQ quotes a name for a message the way the scripts quote it; names that cannot be
// quoted are shown with Go quoting.
func sfQ(name string) string {
	q, err := platforms.SnowflakeIdent(name)
	if err != nil {
		return fmt.Sprintf("%q", name)
	}
	return q
}

// sfCanonical is the name Snowflake stores for name (folded the way the scripts'
// quoting folds it).
func sfCanonical(name string) string {
	q, err := platforms.SnowflakeIdent(name)
	if err != nil {
		return name
	}
	return strings.ReplaceAll(q[1:len(q)-1], `""`, `"`)
}

// sfPlatform is the folder of the Snowflake templates (templates/snowflake).
const sfPlatform = "snowflake"

// The typed data of the connector's own definitions (templates/snowflake/
// connector.sql.tmpl); the script definitions its messages suggest take the kinds'
// data types of package platforms.
type (
	sfRoleData      struct{ Role string }
	sfWarehouseData struct{ Warehouse string }
	sfUserData      struct{ User string }
	sfPrefixData    struct{ Prefix string }
	// sfShowData: Objects is DATABASES, ROLES or USERS.
	sfShowData struct{ Objects, Name string }
)

// sfQuery renders a statement the connector runs (render.Engine.Query: checked against
// the connector shapes).
func sfQuery(name string, data any) (string, error) {
	return liveSQLQuery(sfPlatform, name, data)
}

// sfSuggest renders a statement a message suggests (render.Engine.Suggest: checked like
// a script statement). A name that cannot be quoted (validation refuses it first) gives
// a phrase saying so instead of a statement.
func sfSuggest(name string, data any) string {
	return liveSQLSuggest(sfPlatform, name, data)
}

// sfConfig is the gosnowflake configuration of a sign-in (see Snowflake); role, when
// set, is the session role.
func sfConfig(c *platforms.Snowflake, auto bool, sys Credentials, role string, o Options) (*gosnowflake.Config, error) {
	host := strings.TrimSuffix(c.Host, ".")
	dot := strings.Index(host, ".")
	if dot <= 0 || !strings.Contains(strings.ToLower(host), ".snowflakecomputing.") {
		return nil, fmt.Errorf("config.host %q is not a Snowflake account host: use <account identifier>.snowflakecomputing.com (the host of the account's URL)", c.Host)
	}
	cfg := &gosnowflake.Config{
		Account:          host[:dot],
		Host:             host,
		Port:             c.Port,
		Protocol:         "https",
		Role:             role,
		LoginTimeout:     o.connectTimeout(),
		RequestTimeout:   o.statementTimeout(),
		JWTClientTimeout: o.connectTimeout(),
		// Never cache tokens on disk.
		ClientStoreTemporaryCredential: gosnowflake.ConfigBoolFalse,
		// Every request, the OAuth token request included, goes through the egress
		// policy. With a Transporter gosnowflake runs no OCSP or CRL fetches of its own
		// (transport.go createTransport, v1.19): certificates are verified by Go's TLS
		// against the system roots, and no request goes to a CA's responder.
		Transporter: o.egress().Transport(),
		// No client telemetry: only the statements the connector runs go to Snowflake.
		DisableTelemetry: true,
	}
	if cfg.Port == 0 {
		cfg.Port = 443
	}
	if auto && sys.Password != "" {
		cfg.User = sys.Username
		if cfg.User == "" {
			cfg.User = c.SystemUser(true)
		}
		cfg.Password = sys.Password
		cfg.Authenticator = gosnowflake.AuthTypeSnowflake
		return cfg, nil
	}
	switch c.AuthenticationType {
	case "userPassword":
		cfg.User, cfg.Password = c.Username, c.Password
		cfg.Authenticator = gosnowflake.AuthTypeSnowflake
	case "keyPair":
		if c.PrivateKey == nil {
			return nil, errors.New("config.privateKey is missing: key-pair authentication needs the PKCS#8 PEM private key of config.username")
		}
		key, kerr := platforms.ParseRSAPrivateKey(c.PrivateKey.Content, c.PrivateKeyPassword)
		if kerr != nil {
			return nil, kerr
		}
		cfg.User = c.Username
		cfg.PrivateKey = key
		cfg.Authenticator = gosnowflake.AuthTypeJwt
	case "oAuthClientCredentials":
		oc := c.OAuthClientConfig
		if oc == nil {
			return nil, errors.New("config.oAuthClientConfig is missing: OAuth client credentials need clientId, clientSecret and authorityUrl")
		}
		if oc.UseCertificate {
			return nil, errors.New("oAuthClientCredentials with a certificate (config.oAuthClientConfig.useCertificate) are not supported yet: use a client secret (useCertificate false, clientSecret set), or key-pair authentication")
		}
		if u, err := url.Parse(oc.AuthorityURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("config.oAuthClientConfig.authorityUrl %q must be the https:// URL of the OAuth provider's token endpoint", oc.AuthorityURL)
		}
		cfg.Authenticator = gosnowflake.AuthTypeOAuthClientCredentials
		cfg.OauthClientID = oc.ClientID
		cfg.OauthClientSecret = oc.ClientSecret
		cfg.OauthTokenRequestURL = oc.AuthorityURL
		cfg.OauthScope = oc.Scope
		if cfg.OauthScope == "" {
			r := role
			if r == "" {
				r = c.Role
			}
			if r == "" {
				r = c.SystemRole()
			}
			cfg.OauthScope = "session:role:" + sfCanonical(r)
		}
	default:
		return nil, fmt.Errorf("config.authenticationType %q is not one of userPassword, keyPair, oAuthClientCredentials", c.AuthenticationType)
	}
	return cfg, nil
}

func sfConfigOf(p *platforms.Payload) (*platforms.Snowflake, error) {
	if p == nil {
		return nil, errors.New("no payload")
	}
	c, ok := p.Config.(*platforms.Snowflake)
	if !ok || c == nil {
		return nil, fmt.Errorf("the Snowflake connector cannot handle a payload of type %q", p.Type)
	}
	return c, nil
}

// open returns a pool to connectTo; role (Run only) is the session role.
func (s *Snowflake) open(ctx context.Context, p *platforms.Payload, sys Credentials, connectTo, role string) (*sql.DB, error) {
	if s.Open != nil {
		return s.Open(ctx, p, sys, connectTo)
	}
	if connectTo != sfTarget {
		return nil, fmt.Errorf("snowflake scripts connect to the %s, not to %q", sfTarget, connectTo)
	}
	c, err := sfConfigOf(p)
	if err != nil {
		return nil, own(err)
	}
	cfg, err := sfConfig(c, p.Auto(), sys, role, s.opts)
	if err != nil {
		return nil, own(err)
	}
	if err := s.opts.refused(ctx, cfg.Host, cfg.OauthTokenRequestURL); err != nil {
		return nil, err
	}
	db := sql.OpenDB(gosnowflake.NewConnector(gosnowflake.SnowflakeDriver{}, *cfg))
	db.SetMaxOpenConns(2)
	return db, nil
}

// sfSession is one connection of a Check or Verify.
type sfSession struct {
	conn *sql.Conn
	c    *platforms.Snowflake
	lg   sfLogin
	auto bool
}

// session signs in (see Snowflake) with the user's default role.
func (s *Snowflake) session(ctx context.Context, p *platforms.Payload, c *platforms.Snowflake, sys Credentials) (*sfSession, func(), error) {
	db, err := s.open(ctx, p, sys, sfTarget, "")
	if err != nil {
		return nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	ss := &sfSession{conn: conn, c: c, lg: sfLoginOf(c, p.Auto(), sys), auto: p.Auto()}
	return ss, func() { conn.Close(); db.Close() }, nil
}

func sfAuthFailed(err error) bool {
	var se *gosnowflake.SnowflakeError
	return errors.As(err, &se) && sfAuthErrors[se.Number]
}

// sfConnectError explains a failed sign-in.
func sfConnectError(c *platforms.Snowflake, lg sfLogin, err error) error {
	if kept := keptAsIs(err); kept != nil {
		return kept
	}
	if sfAuthFailed(err) {
		fix := "check config.username and config.password"
		switch {
		case lg.held:
			fix = "the system account's password was changed or the user was dropped; edit the integration to run its setup again, or restore the user"
		case c.AuthenticationType == "keyPair":
			fix = "check config.username, and that the user's RSA_PUBLIC_KEY matches config.privateKey (" +
				sfSuggest(platforms.KindUserKey.Template("create"), platforms.SnowflakeKeyData{User: c.Username, Type: "SERVICE", PublicKey: "<the public key of config.privateKey>"}) + ")"
		case c.AuthenticationType == "oAuthClientCredentials":
			fix = "check config.oAuthClientConfig (clientId, clientSecret, authorityUrl, scope) and the Snowflake security integration of the OAuth provider"
		}
		return fmt.Errorf("snowflake refused the sign-in of %s at %s (%v): %s", lg.what, c.Host, vendor(err), fix)
	}
	var kerr *platforms.KeyError
	if errors.As(err, &kerr) {
		return fmt.Errorf("cannot use the private key: %v", kerr)
	}
	return fmt.Errorf("cannot sign in to Snowflake at %s:%d as %s (%v): check config.host (the account host, <account>.snowflakecomputing.com), config.port and the credentials, and that the server can reach Snowflake", c.Host, c.Port, lg.what, vendor(err))
}

// exec runs one statement.
func (ss *sfSession) exec(ctx context.Context, q string) error {
	_, err := ss.conn.ExecContext(ctx, q)
	return vendor(err)
}

// useRole makes role the session role; the error says how to grant it.
func (ss *sfSession) useRole(ctx context.Context, role string) error {
	use, err := sfQuery("connector.use-role", sfRoleData{Role: role})
	if err != nil {
		return err
	}
	if err := ss.exec(ctx, use); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		q := sfQ(role)
		if ss.lg.user == "" {
			return fmt.Errorf("%s cannot use role %s (%v): grant the role to the OAuth client's user (GRANT ROLE %s TO USER followed by that user's name, as SECURITYADMIN or ACCOUNTADMIN)", ss.lg.what, q, vendor(err), q)
		}
		fix := sfSuggest(platforms.KindRoleMember.Template("create"), platforms.SnowflakeRoleMemberData{Role: role, GranteeType: "USER", Grantee: ss.lg.user})
		return fmt.Errorf("%s cannot use role %s (%v): grant it with %s (as SECURITYADMIN or ACCOUNTADMIN)", ss.lg.what, q, vendor(err), fix)
	}
	return nil
}

// find runs SHOW <objects> LIKE '<name>' and reports whether a row's name is exactly name,
// folded as the scripts fold it (LIKE is a case-insensitive pattern in which _ and %
// match more).
func (ss *sfSession) find(ctx context.Context, objects, name string) (bool, error) {
	canon := sfCanonical(name)
	q, err := sfQuery("connector.show-like", sfShowData{Objects: objects, Name: canon})
	if err != nil {
		return false, err
	}
	rows, err := liveSQLRows(ctx, ss.conn, q)
	if err != nil {
		return false, fmt.Errorf("%s failed (%w)", q, vendor(err))
	}
	for _, r := range rows {
		if v, _ := r.get("name"); v == canon {
			return true, nil
		}
	}
	return false, nil
}

// Check implements Connector.
func (s *Snowflake) Check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	return liveSQLFinish(ctx, s.check(ctx, test, p, sys), Secrets(p, sys))
}

func (s *Snowflake) check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	c, err := sfConfigOf(p)
	if err != nil {
		return err
	}
	var run func(ctx context.Context, ss *sfSession) error
	switch test {
	case sfTestConnection:
		run = sfCheckConnection
	case sfTestWarehouse:
		run = sfCheckWarehouse
	case sfTestPrefix:
		prefix := s.opts.tableGrantsRolePrefix()
		run = func(ctx context.Context, ss *sfSession) error { return sfCheckPrefix(ctx, ss, prefix) }
	case sfTestRole:
		run = sfCheckRole
	case sfTestDatabase:
		run = sfCheckDatabase
	case sfTestImpersonation:
		run = sfCheckImpersonation
	case sfTestGrants:
		run = sfCheckGrants
	default:
		return fmt.Errorf("there is no Snowflake test %q", test)
	}
	ss, done, err := s.session(ctx, p, c, sys)
	if err != nil {
		return sfConnectError(c, sfLoginOf(c, p.Auto(), sys), err)
	}
	defer done()
	return run(ctx, ss)
}

func sfCheckConnection(ctx context.Context, ss *sfSession) error {
	q, err := sfQuery("connector.current-user", nil)
	if err != nil {
		return err
	}
	rows, err := liveSQLRows(ctx, ss.conn, q)
	if err != nil {
		return fmt.Errorf("signed in as %s, but SELECT CURRENT_USER() failed (%v): check that the user is not disabled or locked (DESCRIBE USER)", ss.lg.what, vendor(err))
	}
	if len(rows) == 0 {
		return fmt.Errorf("signed in as %s, but SELECT CURRENT_USER() returned nothing: check the account's session policies", ss.lg.what)
	}
	return nil
}

func sfCheckWarehouse(ctx context.Context, ss *sfSession) error {
	if err := ss.useRole(ctx, ss.lg.role); err != nil {
		return err
	}
	use, err := sfQuery("connector.use-warehouse", sfWarehouseData{Warehouse: ss.c.Warehouse})
	if err != nil {
		return err
	}
	if err := ss.exec(ctx, use); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fix := sfSuggest(platforms.KindWarehouseGrant.Template("create"), platforms.SnowflakeWarehouseGrantData{Warehouse: ss.c.Warehouse, Role: ss.lg.role})
		return fmt.Errorf("role %s cannot use warehouse %s (%v): check config.warehouse, and grant the role access with %s", sfQ(ss.lg.role), sfQ(ss.c.Warehouse), vendor(err), fix)
	}
	return nil
}

// sfMaxListed bounds the roles a prefix failure names.
const sfMaxListed = 10

// sfCheckPrefix: no role whose name starts with prefix (canonical, upper case) is owned
// by a role other than the integration's system role. SHOW ROLES and its "owner" column:
// https://docs.snowflake.com/en/sql-reference/sql/show-roles. SHOW ROLES lists only the
// roles the current role can view, so a role hidden from it is not found.
func sfCheckPrefix(ctx context.Context, ss *sfSession, prefix string) error {
	if err := ss.useRole(ctx, ss.lg.role); err != nil {
		return err
	}
	q, err := sfQuery("connector.show-roles-with-prefix", sfPrefixData{Prefix: prefix})
	if err != nil {
		return err
	}
	rows, err := liveSQLRows(ctx, ss.conn, q)
	if err != nil {
		return fmt.Errorf("cannot list the roles whose names start with the table grants prefix %s (%s: %v): run the check as a role that can see the account's roles", prefix, q, vendor(err))
	}
	own := ss.c.SystemRole()
	// The integration's own roles may carry the prefix (IMMUTA_SYSTEM): the create script
	// makes them, and the "does not exist" tests and its guards check them.
	mine := map[string]bool{own: true}
	if ss.c.Impersonation.Enabled {
		mine[sfCanonical(ss.c.Impersonation.Role)] = true
	}
	var taken []string
	for _, r := range rows {
		name, _ := r.get("name")
		owner, _ := r.get("owner")
		if !strings.HasPrefix(name, prefix) || owner == own || mine[name] {
			continue
		}
		by := "no owner shown"
		if owner != "" {
			by = "owned by " + sfStored(owner)
		}
		taken = append(taken, sfStored(name)+" ("+by+")")
	}
	if len(taken) == 0 {
		return nil
	}
	n := len(taken)
	if n > sfMaxListed {
		taken = append(taken[:sfMaxListed], fmt.Sprintf("and %d more", n-sfMaxListed))
	}
	return fmt.Errorf("%d roles whose names start with the table grants prefix %s belong to another owner than the system role %s: %s; Immuta's table grants create and manage the roles with this prefix as %s, so rename or drop those roles, or run the server with another --table-grants-role-prefix",
		n, prefix, sfQ(own), strings.Join(taken, ", "), sfQ(own))
}

// sfStored quotes a name read back from Snowflake, as stored, for a message.
func sfStored(name string) string {
	q, err := platforms.SnowflakeExactIdent(name)
	if err != nil {
		return fmt.Sprintf("%q", name)
	}
	return q
}

func sfCheckRole(ctx context.Context, ss *sfSession) error {
	if err := ss.useRole(ctx, ss.c.Role); err != nil {
		return fmt.Errorf("%w, or set config.role to a role the user has", err)
	}
	return nil
}

func sfCheckDatabase(ctx context.Context, ss *sfSession) error {
	if err := ss.useRole(ctx, ss.lg.role); err != nil {
		return err
	}
	found, err := ss.find(ctx, "DATABASES", ss.c.Database)
	if err != nil {
		return fmt.Errorf("cannot check whether database %s exists: %v", sfQ(ss.c.Database), vendor(err))
	}
	if found {
		db := sfQ(ss.c.Database)
		drop := sfSuggest(platforms.KindDatabase.Template("drop"), platforms.NameData{Name: ss.c.Database})
		return fmt.Errorf("database %s already exists, but the create script makes it: set config.database to a new database name, or, if %s is left over from an earlier Immuta setup and holds nothing you need, run that setup's cleanup script or %s", db, db, drop)
	}
	return nil
}

func sfCheckImpersonation(ctx context.Context, ss *sfSession) error {
	if err := ss.useRole(ctx, ss.lg.role); err != nil {
		return err
	}
	r := ss.c.Impersonation.Role
	found, err := ss.find(ctx, "ROLES", r)
	if err != nil {
		return fmt.Errorf("cannot check whether role %s exists: %v", sfQ(r), vendor(err))
	}
	if found {
		drop := sfSuggest(platforms.KindRole.Template("drop"), platforms.NameData{Name: r})
		return fmt.Errorf("role %s already exists, but the create script makes it: set config.impersonation.role to a new role name, or, if an earlier Immuta setup left it, drop it with %s", sfQ(r), drop)
	}
	return nil
}

func sfCheckGrants(ctx context.Context, ss *sfSession) error {
	root := sfCanonical(ss.c.Role)
	if err := ss.useRole(ctx, root); err != nil {
		return err
	}
	if root == sfAccountAdmin {
		return nil
	}
	have := map[string]bool{}
	seen := map[string]bool{root: true}
	queue := []string{root}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		// Rendering and running a SHOW inline, as the user check below does too, keeps
		// each failure's message naming what was being listed.
		q, err := sfQuery("connector.show-grants-to-role", sfRoleData{Role: r})
		if err != nil {
			return err
		}
		rows, err := liveSQLRows(ctx, ss.conn, q)
		if err != nil {
			return fmt.Errorf("cannot list the privileges of role %s (%s: %v): run the check as a role that can, or grant the bootstrap role ACCOUNTADMIN", sfQ(root), q, vendor(err))
		}
		for _, row := range rows {
			priv, _ := row.get("privilege")
			on, _ := row.get("granted_on")
			name, _ := row.get("name")
			priv, on = strings.ToUpper(priv), strings.ToUpper(on)
			switch {
			case on == "ACCOUNT":
				have[priv] = true
			case on == "ROLE" && priv == "USAGE" && name != "":
				if name == sfAccountAdmin {
					return nil
				}
				if !seen[name] && len(seen) < sfMaxRoles {
					seen[name] = true
					queue = append(queue, name)
				}
			}
		}
	}
	var missing, fixes []string
	for _, priv := range sfRequiredPrivileges {
		if !have[priv] {
			missing = append(missing, priv)
			fixes = append(fixes, sfSuggest(platforms.KindAccountGrant.Template("create"), platforms.SnowflakeAccountGrantData{Privilege: priv, Role: root}))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	checked := "it has no other roles granted"
	if n := len(seen) - 1; n > 0 {
		checked = fmt.Sprintf("checked it and the %d roles granted to it", n)
	}
	return fmt.Errorf("role %s (config.role) lacks %s on the account (%s), which the create script needs to make the database, roles and user and grant their privileges: as ACCOUNTADMIN run %s or set config.role to ACCOUNTADMIN",
		sfQ(root), strings.Join(missing, ", "), checked, strings.Join(fixes, " "))
}

// Run implements Connector.
func (s *Snowflake) Run(ctx context.Context, script *render.Script, p *platforms.Payload, sys Credentials) error {
	c, err := sfConfigOf(p)
	if err != nil {
		return err
	}
	// The bootstrap role (autoBootstrap) or the configured role runs the script; with
	// neither, the user's default role. The system account runs with its default role,
	// the system role its create script gives it.
	role := c.Role
	if sys.Password != "" {
		role = ""
	}
	return runLive(ctx, script, p, sys, s.opts, true, func(ctx context.Context, connectTo string) (*sql.DB, error) {
		return s.open(ctx, p, sys, connectTo, role)
	})
}

// Verify and verify have the outline of Synapse's (finish with secrets scrubbed; config,
// operation, sign-in); what is checked after the sign-in is each platform's own.
// Verify implements Connector.
func (s *Snowflake) Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	return liveSQLFinish(ctx, s.verify(ctx, op, p, sys), Secrets(p, sys))
}

func (s *Snowflake) verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	c, err := sfConfigOf(p)
	if err != nil {
		return err
	}
	if err := verifiable(op); err != nil {
		return err
	}
	lg := sfLoginOf(c, p.Auto(), sys)
	ss, done, err := s.session(ctx, p, c, sys)
	if err != nil {
		if op == platforms.OpDelete && lg.system && lg.user != "" && sfAuthFailed(err) {
			return nil // the system account is gone
		}
		if op != platforms.OpDelete && lg.system {
			return fmt.Errorf("%v; if the create script has not run yet, run it first (POST /integrations/scripts/create)", sfConnectError(c, lg, err))
		}
		return sfConnectError(c, lg, err)
	}
	defer done()
	if op == platforms.OpDelete {
		return ss.verifyGone(ctx)
	}
	return ss.verifyPresent(ctx)
}

// sfObject is one object the create script makes, for Verify; objects is what SHOW
// lists it under (DATABASES, ROLES, USERS).
type sfObject struct{ kind, objects, name string }

func (ss *sfSession) objects() []sfObject {
	var out []sfObject
	if !ss.lg.system {
		out = append(out, sfObject{"user", "USERS", ss.c.SystemUser(ss.auto)})
	}
	out = append(out, sfObject{"role", "ROLES", ss.c.SystemRole()}, sfObject{"database", "DATABASES", ss.c.Database})
	if ss.c.Impersonation.Enabled {
		out = append(out, sfObject{"role", "ROLES", ss.c.Impersonation.Role})
	}
	return out
}

func (ss *sfSession) verifyPresent(ctx context.Context) error {
	var problems []string
	sysRole := ss.c.SystemRole()
	viewer := sysRole
	if ss.lg.system {
		q, err := sfQuery("connector.current-user", nil)
		if err != nil {
			return err
		}
		if _, err := liveSQLRows(ctx, ss.conn, q); err != nil {
			return fmt.Errorf("signed in as %s, but SELECT CURRENT_USER() failed (%v): check that the user is not disabled", ss.lg.what, vendor(err))
		}
		// USE ROLE succeeds only if the role exists and is granted to the user.
		if err := ss.useRole(ctx, sysRole); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			problems = append(problems, err.Error()+", or run the create script")
		}
	} else {
		viewer = ss.c.Role
		if err := ss.useRole(ctx, viewer); err != nil {
			return err
		}
	}
	for _, o := range ss.objects() {
		found, err := ss.find(ctx, o.objects, o.name)
		if err != nil {
			return fmt.Errorf("cannot check %s %s: %v", o.kind, sfQ(o.name), vendor(err))
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s %s does not exist (or role %s cannot see it)", o.kind, sfQ(o.name), sfQ(viewer)))
		}
	}
	if !ss.lg.system {
		user := ss.c.SystemUser(ss.auto)
		// Inline like the role walk above: the message names what was listed.
		q, err := sfQuery("connector.show-grants-to-user", sfUserData{User: user})
		if err != nil {
			return err
		}
		rows, err := liveSQLRows(ctx, ss.conn, q)
		if err != nil {
			return fmt.Errorf("cannot list the roles of user %s (%s: %v)", sfQ(user), q, vendor(err))
		}
		granted := false
		for _, r := range rows {
			if v, _ := r.get("role"); v == sysRole {
				granted = true
			}
		}
		if !granted {
			fix := sfSuggest(platforms.KindRoleMember.Template("create"), platforms.SnowflakeRoleMemberData{Role: sysRole, GranteeType: "USER", Grantee: user})
			problems = append(problems, fmt.Sprintf("role %s is not granted to user %s (%s)", sfQ(sysRole), sfQ(user), fix))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the Snowflake setup is incomplete: %s; run the create script (POST /integrations/scripts/create) as a role with the privileges it lists", strings.Join(problems, "; "))
	}
	return nil
}

func (ss *sfSession) verifyGone(ctx context.Context) error {
	var left []string
	if ss.lg.system && ss.lg.user != "" {
		left = append(left, fmt.Sprintf("user %s (it can still sign in)", sfQ(ss.lg.user)))
	}
	if !ss.lg.system {
		if err := ss.useRole(ctx, ss.c.Role); err != nil {
			return err
		}
	}
	for _, o := range ss.objects() {
		found, err := ss.find(ctx, o.objects, o.name)
		if err != nil {
			return fmt.Errorf("cannot check %s %s: %v", o.kind, sfQ(o.name), vendor(err))
		}
		if found {
			left = append(left, o.kind+" "+sfQ(o.name))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("the Snowflake setup is still in place: %s remain; run the delete script (POST /integrations/scripts/delete) as a role that %s is granted to", strings.Join(left, ", "), sfQ(ss.c.SystemRole()))
	}
	return nil
}

// liveSQLRow is one result row of a live connector's query.
type liveSQLRow struct {
	cols []string
	vals []sql.NullString
}

// get returns the value of the column named name (case-insensitive) and whether it
// is non-NULL.
func (r liveSQLRow) get(name string) (string, bool) {
	for i, c := range r.cols {
		if strings.EqualFold(c, name) {
			return r.vals[i].String, r.vals[i].Valid
		}
	}
	return "", false
}

// at returns the i-th value and whether it is non-NULL.
func (r liveSQLRow) at(i int) (string, bool) {
	if i < 0 || i >= len(r.vals) {
		return "", false
	}
	return r.vals[i].String, r.vals[i].Valid
}

// liveSQLRows runs q on conn and returns every row, each value as text.
func liveSQLRows(ctx context.Context, conn *sql.Conn, q string) ([]liveSQLRow, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, vendor(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, vendor(err)
	}
	var out []liveSQLRow
	for rows.Next() {
		r := liveSQLRow{cols: cols, vals: make([]sql.NullString, len(cols))}
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = &r.vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, vendor(rows.Err())
}

// liveSQLFinish returns a Check or Verify result with every secret removed, keeping
// context errors and warnings recognisable.
func liveSQLFinish(ctx context.Context, err error, secrets []string) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	clean := Scrub(err, secrets)
	if errors.Is(err, ErrWarning) {
		return &warning{clean.Error()}
	}
	return clean
}

// liveSQLPasswords returns the passwords a script sets (the literal after "PASSWORD ="
// in its statements), so that Run can remove them from errors: the generated system
// password of an automatic setup is in the script but not in the payload. backslash
// says that the dialect's string literals escape with backslashes (Snowflake).
func liveSQLPasswords(s *render.Script, backslash bool) []string {
	var out []string
	for _, ph := range s.Phases {
		for _, st := range ph.Statements {
			rest := st.SQL
			for {
				i := strings.Index(rest, "PASSWORD = ")
				if i < 0 {
					break
				}
				rest = rest[i+len("PASSWORD = "):]
				lit := strings.TrimPrefix(rest, "N")
				if !strings.HasPrefix(lit, "'") {
					continue
				}
				if v, ok := liveSQLUnquote(lit[1:], backslash); ok && v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// liveSQLUnquote reads a string literal's body up to its closing quote.
func liveSQLUnquote(s string, backslash bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case backslash && s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
			b.WriteByte('\'')
		case s[i] == '\'':
			return b.String(), true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", false
}

// liveSQLQuery renders a statement of templates/<platform> that a connector runs
// (render.Engine.Query: checked against the connector shapes).
func liveSQLQuery(platform, name string, data any) (string, error) {
	eng, err := render.Default()
	if err != nil {
		return "", err
	}
	return eng.Query(platform, name, data)
}

// liveSQLSuggest renders, for a message, a statement of templates/<platform> that the
// message suggests the user run (render.Engine.Suggest). If it cannot be rendered (a
// name that cannot be quoted), the message gets a phrase saying so instead.
func liveSQLSuggest(platform, name string, data any) string {
	eng, err := render.Default()
	if err == nil {
		var st string
		if st, err = eng.Suggest(platform, name, data); err == nil {
			return st
		}
	}
	return "the statement " + name + " of the create script (it cannot be shown for these names)"
}

// liveSQLSeconds is d in whole seconds, at least 1.
func liveSQLSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
