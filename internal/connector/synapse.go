package connector

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	mssql "github.com/microsoft/go-mssqldb"
	"github.com/microsoft/go-mssqldb/msdsn"

	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// The Azure Synapse Analytics test catalogue's names (registered in init).
const (
	synTestConnection          = "Initial Validation: Basic Connection Test"
	synTestPool                = "Initial Validation: Dedicated SQL Pool Access Test"
	synTestSchema              = "Validate Automatic: Schema Does Not Exist"
	synTestImpersonationAbsent = "Validate Automatic: Impersonation Role Does Not Exist"
	synTestGrants              = "Validate Automatic Bootstrap User Grants"
	synTestPermissions         = "Validate Manual: System Account Permissions"
	synTestImpersonationExists = "Validate Manual: Impersonation Role Exists"
)

// Every connector file registers itself like this: the catalogue is data each platform
// states beside its checks.
func init() {
	register(Registration{Type: "Azure Synapse Analytics", Tests: []Spec{
		{Name: synTestConnection, Recurring: true, Connection: true},
		{Name: synTestPool, Recurring: true},
		{Name: synTestSchema, Applies: AutomaticOnly, CreateOnly: true},
		{Name: synTestImpersonationAbsent, Applies: AutomaticOnly, Impersonation: true, CreateOnly: true},
		{Name: synTestGrants, Applies: AutomaticOnly},
		{Name: synTestPermissions, Applies: ManualOnly},
		{Name: synTestImpersonationExists, Applies: ManualOnly, Impersonation: true},
	}, New: func(o Options) Connector { return NewSynapse(o) }})
}

// synMaster is the database of the login phases (initial-create, post-cleanup).
const synMaster = "master"

// synDedicatedEdition is DATABASEPROPERTYEX(..., 'Edition') of a dedicated SQL pool.
const synDedicatedEdition = "DataWarehouse"

// SQL Server error numbers of a refused sign-in and of a database that cannot be
// opened.
const (
	synErrLoginFailed  = 18456
	synErrCannotOpenDB = 4060
)

// Synapse is the live Connector of Azure Synapse Analytics (dedicated SQL pools), over
// go-mssqldb. Connections are built from an msdsn.Config parsed from a URL that holds
// no secret (host, port, database, encrypt, timeouts); the credentials are set on the
// parsed config. TLS is required (encrypt=true, the certificate verified against
// config.host) unless Options.DisableTLS (encrypt=disable); the dial and connect
// timeouts are Options.ConnectTimeout, the connection's read/write timeout
// Options.StatementTimeout.
//
// Who signs in is decided as for Snowflake: the payload's credentials (for an
// automatic setup, the bootstrap login's) for Run and for Check of a create or edit;
// the system account <database>_SYSTEM_ACCOUNT (or sys.Username) with sys.Password when
// an automatic setup's sys holds a password; the payload's (the system account's) for
// Verify of a manual setup. authenticationType userPassword is a SQL login;
// oAuthClientSecret signs in as the Microsoft Entra application clientId with its
// clientSecret (the flow of go-mssqldb's azuread ActiveDirectoryServicePrincipal,
// without a connection string: the token comes from azidentity's client secret
// credential for the tenant and authority host of config.oAuthClientConfig.authorityUrl
// (https://login.microsoftonline.com/<tenant>), for the scope
// config.oAuthClientConfig.resource, or by default the server's, + "/.default").
//
// The tests (Check), each on its own connection:
//   - Basic Connection Test: the session's login name (SUSER_SNAME), in master for the bootstrap login of
//     an automatic setup (where initial-create runs), else in config.database.
//   - Dedicated SQL Pool Access Test: in config.database, its edition
//     (DATABASEPROPERTYEX Edition): anything but DataWarehouse is a warning.
//   - Schema Does Not Exist: none of config.schema and Immuta's schemas (from the
//     platform's Model) is in sys.schemas.
//   - Impersonation Role Does Not Exist: no database principal is named
//     config.impersonation.role.
//   - Bootstrap User Grants: in master, the login is the workspace SQL admin (dbo
//     there) or a member of loginmanager (initial-create makes a login); in the
//     database, it is a member of db_owner (create adds the system account to
//     db_datareader, which only db_owner members may do, grants it database
//     permissions, and makes schemas, a role and a table).
//   - System Account Permissions: in the database, as the system account, what the
//     create script grants it (from the Model): membership of db_datareader
//     (IS_ROLEMEMBER), CREATE TABLE, VIEW, PROCEDURE and FUNCTION on the database
//     (class 0 in sys.database_permissions), and CONTROL on Immuta's schemas and config.schema
//     (granted to it in sys.database_permissions, or implied by CONTROL on the schema
//     or the database, or by membership of db_owner).
//   - Impersonation Role Exists: the role exists and is a database role, the system
//     account has ALTER on it (or ALTER ANY ROLE, CONTROL, db_owner); the role itself
//     is granted nothing (setting the session context needs no permission).
//
// Dedicated SQL pools have neither HAS_PERMS_BY_NAME nor fn_my_permissions, so the
// checks read catalog views (sys.database_permissions, sys.database_principals,
// sys.schemas) and scalar functions (IS_ROLEMEMBER, SCHEMA_ID, OBJECT_ID,
// DATABASE_PRINCIPAL_ID, USER_NAME). Permissions inherited through a user-defined role
// are not seen: grant them as the create script does.
//
// Every failure names what is missing and the statement that grants it.
//
// Every statement the connector runs is a definition of
// templates/synapse/connector.sql.tmpl rendered with typed data by render.Engine.Query
// (checked against the connector shapes of sqlcheck); every statement a message
// suggests is a definition of the script's templates (or one of the two connector
// fixes there) rendered by render.Engine.Suggest and checked like a script's. No SQL is
// built in Go.
//
// Verify of create or edit runs the last two checks and that immuta_system.metadata
// exists, as the system account; Verify of delete passes when the system account can
// no longer sign in to the database (login failed or cannot open the database) and
// fails while it can. Signed in as the bootstrap login (an automatic setup without a
// sys password), both look the objects up by name (sys.sql_logins in master,
// sys.database_principals, sys.schemas, OBJECT_ID); config.schema is not required to be
// gone after a delete (the delete drops it only when empty).
//
// Every error has the payload's secrets, sys.Password and the passwords found in the
// script removed.
type Synapse struct {
	// Open, when set, replaces the real connection: it returns a pool to the database
	// connectTo ("master" or config.database) signed in as the rules above say. Tests
	// set it to open pools on a recording driver.
	Open func(ctx context.Context, p *platforms.Payload, sys Credentials, connectTo string) (*sql.DB, error)
	opts Options
}

// NewSynapse returns the Azure Synapse Analytics connector configured by o.
func NewSynapse(o Options) *Synapse { return &Synapse{opts: o} }

var _ Connector = (*Synapse)(nil)

// synLogin is who a Synapse call signs in as.
type synLogin struct {
	user   string // login name, or the application's clientId
	system bool   // the system account (not the bootstrap login)
	held   bool   // the server-held system account credentials (sys)
	oauth  bool   // a Microsoft Entra application
	what   string // for messages
}

func synLoginOf(c *platforms.Synapse, auto bool, sys Credentials) synLogin {
	if auto && sys.Password != "" {
		u := sys.Username
		if u == "" {
			u = c.SystemUser(true)
		}
		return synLogin{user: u, system: true, held: true,
			what: fmt.Sprintf("the system account %s (with the password the server holds)", synQ(u))}
	}
	lg := synLogin{user: c.Username, system: !auto}
	if c.AuthenticationType == "oAuthClientSecret" && c.OAuthClientConfig != nil {
		lg.user, lg.oauth = c.OAuthClientConfig.ClientID, true
	}
	role := "the system account"
	if auto {
		role = "the bootstrap login"
	}
	if lg.oauth {
		lg.what = fmt.Sprintf("%s (Microsoft Entra application %s)", role, lg.user)
	} else {
		lg.what = role + " " + synQ(lg.user)
	}
	return lg
}

// synQ quotes a name for a message as the scripts quote it.
func synQ(name string) string {
	q, err := platforms.SynapseQuoting.Ident(name)
	if err != nil {
		return fmt.Sprintf("%q", name)
	}
	return q
}

// synPlatform is the key of templates/synapse, whose connector.sql.tmpl holds every
// statement the connector runs and whose definitions render every fix it suggests.
const synPlatform = "synapse"

// synQuery renders a statement the connector runs (render.Engine.Query: checked
// against the Synapse connector shapes).
func synQuery(name string, data any) (string, error) {
	return liveSQLQuery(synPlatform, name, data)
}

// synSuggest renders a statement a message suggests (render.Engine.Suggest).
func synSuggest(name string, data any) string { return liveSQLSuggest(synPlatform, name, data) }

// The data of the connector's definitions (templates/synapse/connector.sql.tmpl); the
// script definitions its messages suggest take the kinds' data types of package
// platforms.
type (
	synNameData  struct{ Name string }
	synNamesData struct{ Names []string }
	synLoginData struct{ Login string }
	synTable     struct{ Schema, Name string }
	// synSetupData is connector.setup: one column per fact, in this order.
	synSetupData struct {
		Members, Schemas []string
		Tables           []synTable
		Role             string // "": no DATABASE_PRINCIPAL_ID column
	}
	// synPermsData is connector.permissions: Principal "" is the current user.
	synPermsData struct{ Principal string }
)

// rows renders the connector definition name with data and runs it; fail explains a
// failure to run it (a render failure is returned as it is).
func (ss *synSession) rows(ctx context.Context, name string, data any, fail func(error) error) ([]liveSQLRow, error) {
	q, err := synQuery(name, data)
	if err != nil {
		return nil, err
	}
	rows, err := liveSQLRows(ctx, ss.conn, q)
	if err != nil {
		return nil, fail(err)
	}
	return rows, nil
}

// synKeyword guards the privilege names taken from the Model.
var synKeyword = regexp.MustCompile(`^[A-Z][A-Z ]*$`)

func synConfigOf(p *platforms.Payload) (*platforms.Synapse, error) {
	if p == nil {
		return nil, errors.New("no payload")
	}
	c, ok := p.Config.(*platforms.Synapse)
	if !ok || c == nil {
		return nil, fmt.Errorf("the Azure Synapse Analytics connector cannot handle a payload of type %q", p.Type)
	}
	return c, nil
}

// synDSN is the connection configuration without credentials.
func synDSN(c *platforms.Synapse, database string, o Options) (msdsn.Config, error) {
	port := c.Port
	if port == 0 {
		port = platforms.SynapseDefaultPort
	}
	q := url.Values{}
	q.Set("database", database)
	if o.DisableTLS {
		q.Set("encrypt", "disable")
	} else {
		q.Set("encrypt", "true")
	}
	q.Set("dial timeout", strconv.Itoa(liveSQLSeconds(o.connectTimeout())))
	q.Set("connection timeout", strconv.Itoa(liveSQLSeconds(o.statementTimeout())))
	q.Set("app name", "integrations")
	u := url.URL{Scheme: "sqlserver", Host: net.JoinHostPort(c.Host, strconv.Itoa(port)), RawQuery: q.Encode()}
	cfg, err := msdsn.Parse(u.String())
	if err != nil {
		return msdsn.Config{}, fmt.Errorf("config.host %q and config.port %d do not make a connection address: %v", c.Host, port, err)
	}
	return cfg, nil
}

// synConnector returns the go-mssqldb connector of a sign-in (see Synapse).
func synConnector(c *platforms.Synapse, auto bool, sys Credentials, database string, o Options) (driver.Connector, error) {
	cfg, err := synDSN(c, database, o)
	if err != nil {
		return nil, err
	}
	lg := synLoginOf(c, auto, sys)
	var conn *mssql.Connector
	switch {
	case lg.held:
		cfg.User, cfg.Password = lg.user, sys.Password
		conn = mssql.NewConnectorConfig(cfg)
	case lg.oauth:
		provide, err := synTokenProvider(c.OAuthClientConfig, o.egress())
		if err != nil {
			return nil, err
		}
		if conn, err = mssql.NewActiveDirectoryTokenConnector(cfg, mssql.FedAuthADALWorkflowPassword, provide); err != nil {
			return nil, err
		}
	case c.AuthenticationType == "userPassword":
		cfg.User, cfg.Password = c.Username, c.Password
		conn = mssql.NewConnectorConfig(cfg)
	default:
		return nil, fmt.Errorf("config.authenticationType %q is not one of userPassword, oAuthClientSecret", c.AuthenticationType)
	}
	// Every dial, a gateway redirect's included, goes through the egress policy, which
	// also resolves the host (see synDialer).
	conn.Dialer = synDialer{o.egress()}
	return &synTimeoutConnector{Connector: conn, timeout: o.connectTimeout()}, nil
}

// synDialer dials through the egress policy. It is a go-mssqldb HostDialer, so the
// driver hands it the host name instead of resolving it with the system resolver: the
// policy resolves it once and checks the addresses it dials.
type synDialer struct{ *egress.Policy }

// HostName implements mssql.HostDialer; go-mssqldb v1.11 only tests for the interface.
func (synDialer) HostName() string { return "" }

var _ mssql.HostDialer = synDialer{}

// synTimeoutConnector bounds each sign-in (dial, TLS, token, login) by a timeout.
type synTimeoutConnector struct {
	*mssql.Connector
	timeout time.Duration
}

func (t *synTimeoutConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.Connector.Connect(ctx)
}

// synTokenProvider returns the Microsoft Entra token source of the application.
func synTokenProvider(oc *platforms.SynapseOAuth, pol *egress.Policy) (func(ctx context.Context, serverSPN, stsURL string) (string, error), error) {
	u, err := url.Parse(oc.AuthorityURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("config.oAuthClientConfig.authorityUrl %q must be the tenant's authority, https://login.microsoftonline.com/<tenant id>", oc.AuthorityURL)
	}
	tenant, _, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	authorityHost := u.Scheme + "://" + u.Host + "/"
	id, secret, resource := oc.ClientID, oc.ClientSecret, oc.Resource
	return func(ctx context.Context, serverSPN, stsURL string) (string, error) {
		t := tenant
		if t == "" {
			t = stsURL[strings.LastIndex(stsURL, "/")+1:]
		}
		cred, err := azidentity.NewClientSecretCredential(t, id, secret, &azidentity.ClientSecretCredentialOptions{
			// The token request goes through the egress policy, and only to the
			// authority the payload names: no instance discovery request to another
			// host (https://learn.microsoft.com/en-us/entra/identity-platform/msal-client-application-configuration).
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: authorityHost},
				Transport: pol.Client(),
			},
			DisableInstanceDiscovery: true,
		})
		if err != nil {
			return "", err
		}
		scope := serverSPN
		if resource != "" {
			scope = resource
		}
		if !strings.HasSuffix(scope, "/.default") {
			scope += "/.default"
		}
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			return "", err
		}
		return tok.Token, nil
	}, nil
}

// open returns a pool to the database connectTo.
func (s *Synapse) open(ctx context.Context, p *platforms.Payload, sys Credentials, connectTo string) (*sql.DB, error) {
	if s.Open != nil {
		return s.Open(ctx, p, sys, connectTo)
	}
	c, err := synConfigOf(p)
	if err != nil {
		return nil, own(err)
	}
	conn, err := synConnector(c, p.Auto(), sys, connectTo, s.opts)
	if err != nil {
		return nil, own(err)
	}
	authority := ""
	if oc := c.OAuthClientConfig; oc != nil && c.AuthenticationType == "oAuthClientSecret" {
		authority = oc.AuthorityURL
	}
	if err := s.opts.refused(ctx, c.Host, authority); err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	return db, nil
}

// synSession is one connection of a Check or Verify.
type synSession struct {
	conn   *sql.Conn
	c      *platforms.Synapse
	lg     synLogin
	target string
}

// with runs fn on a new connection to target.
func (s *Synapse) with(ctx context.Context, p *platforms.Payload, c *platforms.Synapse, sys Credentials, target string, fn func(ss *synSession) error) error {
	lg := synLoginOf(c, p.Auto(), sys)
	db, err := s.open(ctx, p, sys, target)
	if err != nil {
		return synConnectError(c, lg, target, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return synConnectError(c, lg, target, err)
	}
	defer conn.Close()
	return fn(&synSession{conn: conn, c: c, lg: lg, target: target})
}

func synNumber(err error) int32 {
	var me mssql.Error
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// synGone reports a sign-in refused because the login or its database user is gone.
func synGone(err error) bool {
	n := synNumber(err)
	return n == synErrLoginFailed || n == synErrCannotOpenDB
}

// synConnectError explains a failed connection to target.
func synConnectError(c *platforms.Synapse, lg synLogin, target string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if kept := keptAsIs(err); kept != nil {
		return kept
	}
	db := synQ(target)
	switch synNumber(err) {
	case synErrLoginFailed:
		var fix string
		switch {
		case lg.held:
			fix = "the system account's password was changed or its login was dropped; edit the integration to run its setup again"
		case lg.oauth:
			fix = fmt.Sprintf("check config.oAuthClientConfig (clientId, clientSecret, authorityUrl), and that the application has a user in %s (%s run there by a Microsoft Entra admin)", db, synSuggest(platforms.KindExternalUser.Template("create"), platforms.NameData{Name: lg.user}))
		case target == synMaster:
			fix = "check config.username and config.password; the bootstrap login must be the workspace SQL admin (or a login with a user in master)"
		default:
			fix = fmt.Sprintf("check config.username and config.password, and that the login has a user in %s (%s run there)", db, synSuggest(platforms.KindUser.Template("create"), platforms.SynapseUserData{Name: lg.user, Login: lg.user}))
		}
		return fmt.Errorf("synapse refused the sign-in of %s to database %s (%v): %s", lg.what, db, vendor(err), fix)
	case synErrCannotOpenDB:
		return fmt.Errorf("%s cannot open database %s (%v): check that config.database names a dedicated SQL pool of the workspace, that the pool is online (resume it if it is paused), and that the login has a user in it", lg.what, db, vendor(err))
	}
	if lg.oauth && strings.Contains(err.Error(), "AADSTS") {
		return fmt.Errorf("the Microsoft Entra ID sign-in of application %s failed (%v): check config.oAuthClientConfig.clientId, clientSecret and authorityUrl (https://login.microsoftonline.com/<tenant id>)", lg.user, vendor(err))
	}
	port := c.Port
	if port == 0 {
		port = platforms.SynapseDefaultPort
	}
	return fmt.Errorf("cannot connect to Synapse at %s:%d (database %s) as %s (%v): check config.host (the workspace's dedicated SQL endpoint, <workspace>.sql.azuresynapse.net), config.port and the workspace firewall rules that must let the server in", c.Host, port, db, lg.what, vendor(err))
}

// Check implements Connector.
func (s *Synapse) Check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	return liveSQLFinish(ctx, s.check(ctx, test, p, sys), Secrets(p, sys))
}

func (s *Synapse) check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	c, err := synConfigOf(p)
	if err != nil {
		return err
	}
	lg := synLoginOf(c, p.Auto(), sys)
	exp, err := synExpectOf(c, p.Auto(), lg)
	if err != nil {
		return err
	}
	db := c.Database
	switch test {
	case synTestConnection:
		target := db
		if p.Auto() && !lg.held {
			target = synMaster
		}
		return s.with(ctx, p, c, sys, target, func(ss *synSession) error { return ss.checkConnection(ctx) })
	case synTestPool:
		return s.with(ctx, p, c, sys, db, func(ss *synSession) error { return ss.checkPool(ctx) })
	case synTestSchema:
		return s.with(ctx, p, c, sys, db, func(ss *synSession) error { return ss.checkSchemasAbsent(ctx, exp) })
	case synTestImpersonationAbsent:
		return s.with(ctx, p, c, sys, db, func(ss *synSession) error { return ss.checkPrincipalAbsent(ctx, c.Impersonation.Role) })
	case synTestGrants:
		if err := s.with(ctx, p, c, sys, synMaster, func(ss *synSession) error { return ss.checkLoginCreation(ctx) }); err != nil {
			return err
		}
		return s.with(ctx, p, c, sys, db, func(ss *synSession) error { return ss.checkDBOwner(ctx) })
	case synTestPermissions:
		return s.with(ctx, p, c, sys, db, func(ss *synSession) error { return ss.checkPermissions(ctx, exp) })
	case synTestImpersonationExists:
		return s.with(ctx, p, c, sys, db, func(ss *synSession) error { return ss.checkRole(ctx, exp) })
	}
	return fmt.Errorf("there is no Azure Synapse Analytics test %q", test)
}

func (ss *synSession) checkConnection(ctx context.Context) error {
	rows, err := ss.rows(ctx, "connector.login-name", nil, func(err error) error {
		return fmt.Errorf("signed in to %s as %s, but reading the session's login name (SUSER_SNAME) failed (%v): check that the login is enabled (%s)", synQ(ss.target), ss.lg.what, vendor(err),
			synSuggest("connector.fix-enable-login", synLoginData{Login: ss.lg.user}))
	})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("signed in to %s as %s, but reading the session's login name (SUSER_SNAME) returned nothing", synQ(ss.target), ss.lg.what)
	}
	return nil
}

func (ss *synSession) checkPool(ctx context.Context) error {
	rows, err := ss.rows(ctx, "connector.pool-edition", nil, func(err error) error {
		return fmt.Errorf("cannot read the properties of database %s as %s (%v): the login needs a user in the database (%s run there)", synQ(ss.target), ss.lg.what, vendor(err),
			synSuggest(platforms.KindUser.Template("create"), platforms.SynapseUserData{Name: ss.lg.user, Login: ss.lg.user}))
	})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("database %s returned no properties: check config.database", synQ(ss.target))
	}
	if ed, _ := rows[0].get("edition"); ed != synDedicatedEdition {
		return &warning{fmt.Sprintf("database %s is not a dedicated SQL pool (its edition is %q, not %s): Immuta's Synapse integration needs one; set config.database to a dedicated SQL pool of the workspace", synQ(ss.target), ed, synDedicatedEdition)}
	}
	return nil
}

func (ss *synSession) checkSchemasAbsent(ctx context.Context, exp *synExpect) error {
	names := append([]string{ss.c.Schema}, exp.schemas...)
	rows, err := ss.rows(ctx, "connector.schema-names", synNamesData{Names: names}, func(err error) error {
		return fmt.Errorf("cannot list the schemas of database %s (%v): the login needs a user in it", synQ(ss.target), vendor(err))
	})
	if err != nil {
		return err
	}
	var problems []string
	var immuta []string
	for _, r := range rows {
		n, _ := r.get("name")
		if strings.EqualFold(n, ss.c.Schema) {
			problems = append(problems, fmt.Sprintf("schema %s (config.schema) already exists in database %s, but the create script makes it: set config.schema to a schema that does not exist yet", synQ(n), synQ(ss.target)))
		} else {
			immuta = append(immuta, synQ(n))
		}
	}
	if len(immuta) > 0 {
		problems = append(problems, fmt.Sprintf("the Immuta schema %s already exists in database %s: an earlier Immuta setup left it; run that setup's cleanup script (POST /integrations/scripts/cleanup) or drop the schema once it is empty", strings.Join(immuta, ", "), synQ(ss.target)))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (ss *synSession) checkPrincipalAbsent(ctx context.Context, role string) error {
	rows, err := ss.rows(ctx, "connector.principal", synNameData{Name: role}, func(err error) error {
		return fmt.Errorf("cannot list the principals of database %s (%v): the login needs a user in it", synQ(ss.target), vendor(err))
	})
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		typ, _ := rows[0].get("type_desc")
		fix := fmt.Sprintf("drop it (%s) if an earlier Immuta setup made it", synSuggest("connector.fix-drop-role", synNameData{Name: role}))
		if typ != "DATABASE_ROLE" {
			fix = "roles and users share one namespace"
		}
		return fmt.Errorf("a database principal named %s (%s) already exists in database %s, but the create script makes role %s: set config.impersonation.role to a new name, or %s", synQ(role), strings.ToLower(typ), synQ(ss.target), synQ(role), fix)
	}
	return nil
}

func (ss *synSession) checkLoginCreation(ctx context.Context) error {
	rows, err := ss.rows(ctx, "connector.login-manager", nil, func(err error) error {
		return fmt.Errorf("cannot read the role memberships of %s in master (%v): sign in as the workspace SQL admin", ss.lg.what, vendor(err))
	})
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		if v, _ := rows[0].get("loginmanager"); v == "1" {
			return nil
		}
		// The workspace SQL admin is dbo in master.
		if v, _ := rows[0].get("user_name"); strings.EqualFold(v, "dbo") {
			return nil
		}
	}
	return fmt.Errorf("%s cannot create logins in master (it is neither the workspace SQL admin nor a member of loginmanager), which the initial-create phase needs to make the system account's login: set config.username to the workspace SQL admin, or, as that admin in master, run %s %s",
		ss.lg.what, synSuggest(platforms.KindUser.Template("create"), platforms.SynapseUserData{Name: ss.lg.user, Login: ss.lg.user}),
		synSuggest(platforms.KindRoleMember.Template("create"), platforms.SynapseRoleMemberData{Role: "loginmanager", Member: ss.lg.user}))
}

func (ss *synSession) checkDBOwner(ctx context.Context) error {
	rows, err := ss.rows(ctx, "connector.db-owner", nil, func(err error) error {
		return fmt.Errorf("cannot read the role memberships of %s in database %s (%v)", ss.lg.what, synQ(ss.target), vendor(err))
	})
	if err != nil {
		return err
	}
	user := ss.lg.user
	if len(rows) > 0 {
		if v, _ := rows[0].get("db_owner"); v == "1" {
			return nil
		}
		if n, ok := rows[0].get("user_name"); ok && n != "" {
			user = n
		}
	}
	return fmt.Errorf("%s is not a member of db_owner in database %s, which the create phase needs (it adds the system account to db_datareader, which only db_owner members may do, grants it the CREATE permissions on tables, views, procedures and functions, and creates schemas, a role and a table): as the workspace SQL admin, in %s run %s or set config.username to the workspace SQL admin",
		ss.lg.what, synQ(ss.target), synQ(ss.target), synSuggest(platforms.KindRoleMember.Template("create"), platforms.SynapseRoleMemberData{Role: "db_owner", Member: user}))
}

// synGrant is a permission the create script grants.
type synGrant struct{ priv, on, grantee string }

// synExpect is what the create script makes, from the platform's Model.
type synExpect struct {
	user       string
	login      bool
	members    []string
	dbGrants   []string   // database permissions of the system account (CREATE VIEW, ...)
	grants     []synGrant // on schemas
	roleGrants []synGrant // on roles
	schemas    []string   // Immuta's own schemas
	viewSchema string
	roles      []string
	tables     [][2]string
}

func synExpectOf(c *platforms.Synapse, auto bool, lg synLogin) (*synExpect, error) {
	m, err := c.Model(platforms.ModelOptions{AutoBootstrap: auto, SystemPassword: "unused"})
	if err != nil {
		return nil, err
	}
	e := &synExpect{user: c.SystemUser(auto)}
	if lg.held {
		e.user = lg.user
	}
	for _, o := range m.Objects {
		switch o.Kind {
		case platforms.KindLogin:
			e.login = true
		case platforms.KindRoleMember:
			e.members = append(e.members, objectData[platforms.SynapseRoleMemberData](o).Role)
		case platforms.KindDatabaseGrant:
			e.dbGrants = append(e.dbGrants, objectData[platforms.SynapseDatabaseGrantData](o).Privilege)
		case platforms.KindSchemaGrant:
			d := objectData[platforms.SynapseSchemaGrantData](o)
			e.grants = append(e.grants, synGrant{d.Privilege, d.Schema, d.Grantee})
		case platforms.KindRoleGrant:
			d := objectData[platforms.SynapseRoleGrantData](o)
			e.roleGrants = append(e.roleGrants, synGrant{d.Privilege, d.Role, d.Grantee})
		case platforms.KindSchema:
			e.schemas = append(e.schemas, objectData[platforms.OwnedData](o).Name)
		case platforms.KindViewSchema:
			e.viewSchema = objectData[platforms.OwnedData](o).Name
		case platforms.KindRole:
			e.roles = append(e.roles, objectData[platforms.OwnedData](o).Name)
		case platforms.KindMetadataTable:
			d := objectData[platforms.SynapseTableData](o)
			e.tables = append(e.tables, [2]string{d.Schema, d.Name})
		}
	}
	return e, nil
}

// synPerm is one row of sys.database_permissions: a permission granted (or granted
// with grant option) on a securable (class 0 database, 3 schema, 4 database principal).
type synPerm struct{ class, major, perm string }

// synFacts is what the system account sees of its own setup in the database.
type synFacts struct {
	owner    bool            // member of db_owner (implies every permission)
	member   map[string]bool // role name -> IS_ROLEMEMBER is 1
	schemaID map[string]string
	tables   map[string]bool // "schema.name" -> exists
	roleID   string          // DATABASE_PRINCIPAL_ID of the impersonation role ("" absent)
	roleType string          // its type_desc
	mine     []synPerm       // granted to the current user
	role     []synPerm       // granted to the impersonation role
}

// facts reads, with catalog views and scalar functions that dedicated SQL pools
// support (IS_ROLEMEMBER, SCHEMA_ID, OBJECT_ID, DATABASE_PRINCIPAL_ID,
// sys.database_permissions; HAS_PERMS_BY_NAME and fn_my_permissions are not
// available there), what the create script should have set up for the signed-in
// system account; with tables, also the tables it makes; with role, also the
// impersonation role. The statements are connector.setup, connector.permissions and
// connector.principal-type of templates/synapse/connector.sql.tmpl.
func (ss *synSession) facts(ctx context.Context, exp *synExpect, tables, role bool) (*synFacts, error) {
	f := &synFacts{member: map[string]bool{}, schemaID: map[string]string{}, tables: map[string]bool{}}
	// The setters of the columns of connector.setup, in its order.
	set := []func(v string, ok bool){func(v string, _ bool) { f.owner = v == "1" }}
	data := synSetupData{Members: exp.members, Schemas: exp.allSchemas()}
	for _, r := range data.Members {
		r := r
		set = append(set, func(v string, _ bool) { f.member[r] = v == "1" })
	}
	for _, sc := range data.Schemas {
		sc := sc
		set = append(set, func(v string, ok bool) {
			if ok {
				f.schemaID[sc] = v
			}
		})
	}
	if tables {
		for _, t := range exp.tables {
			key := t[0] + "." + t[1]
			data.Tables = append(data.Tables, synTable{Schema: t[0], Name: t[1]})
			set = append(set, func(_ string, ok bool) { f.tables[key] = ok })
		}
	}
	if role {
		data.Role = ss.c.Impersonation.Role
		set = append(set, func(v string, ok bool) {
			if ok {
				f.roleID = v
			}
		})
	}
	rows, err := ss.rows(ctx, "connector.setup", data, func(err error) error {
		return fmt.Errorf("cannot read the setup of %s in database %s (%w)", ss.lg.what, synQ(ss.target), vendor(err))
	})
	if err != nil {
		return nil, err
	}
	for i, fn := range set {
		var v string
		var ok bool
		if len(rows) > 0 {
			v, ok = rows[0].at(i)
		}
		fn(v, ok)
	}
	perms := func(principal string) ([]synPerm, error) {
		rows, err := ss.rows(ctx, "connector.permissions", synPermsData{Principal: principal}, func(err error) error {
			return fmt.Errorf("cannot list the permissions in database %s (%w)", synQ(ss.target), vendor(err))
		})
		if err != nil {
			return nil, err
		}
		out := make([]synPerm, 0, len(rows))
		for _, r := range rows {
			c, _ := r.at(0)
			m, _ := r.at(1)
			p, _ := r.at(2)
			out = append(out, synPerm{c, m, strings.ToUpper(strings.TrimSpace(p))})
		}
		return out, nil
	}
	if f.mine, err = perms(""); err != nil {
		return nil, err
	}
	if role {
		rows, err := ss.rows(ctx, "connector.principal-type", synNameData{Name: ss.c.Impersonation.Role}, func(err error) error {
			return fmt.Errorf("cannot look up role %s in database %s (%w)", synQ(ss.c.Impersonation.Role), synQ(ss.target), vendor(err))
		})
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			f.roleType, _ = rows[0].at(0)
		}
		if f.roleID != "" {
			if f.role, err = perms(ss.c.Impersonation.Role); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

// has reports a permission in perms on the securable (class, major), or CONTROL on
// it, or CONTROL on the database.
func synHas(perms []synPerm, class, major, perm string) bool {
	for _, p := range perms {
		switch {
		case p.class == "0" && p.perm == "CONTROL":
			return true
		case major != "" && p.class == class && p.major == major && (p.perm == perm || p.perm == "CONTROL"):
			return true
		}
	}
	return false
}

func (e *synExpect) allSchemas() []string {
	out := append([]string(nil), e.schemas...)
	if e.viewSchema != "" {
		out = append(out, e.viewSchema)
	}
	return out
}

// userProblems lists what the system account lacks of what the create script grants
// it (membership of db_owner stands for every permission), with the statements that
// grant it; tables adds the tables the script makes.
func (e *synExpect) userProblems(f *synFacts, tables bool) (missing, fixes []string) {
	for _, r := range e.members {
		if !f.member[r] && !f.owner {
			missing = append(missing, "membership of "+r)
			fixes = append(fixes, synSuggest(platforms.KindRoleMember.Template("create"), platforms.SynapseRoleMemberData{Role: r, Member: e.user}))
		}
	}
	for _, priv := range e.dbGrants {
		// Database permissions are class 0, major_id 0 in sys.database_permissions.
		if f.owner || !synKeyword.MatchString(priv) || synHas(f.mine, "0", "0", priv) {
			continue
		}
		missing = append(missing, priv+" on the database")
		fixes = append(fixes, synSuggest(platforms.KindDatabaseGrant.Template("create"), platforms.SynapseDatabaseGrantData{Privilege: priv, Grantee: e.user}))
	}
	for _, g := range e.grants {
		if g.grantee != e.user || !synKeyword.MatchString(g.priv) {
			continue
		}
		qi := synQ(g.on)
		id, ok := f.schemaID[g.on]
		switch {
		case !ok:
			missing = append(missing, "schema "+qi+" (it does not exist, or the system account cannot see it)")
		case f.owner || synHas(f.mine, "3", id, g.priv):
			continue
		default:
			missing = append(missing, g.priv+" on schema "+qi)
		}
		fixes = append(fixes, synSuggest(platforms.KindSchemaGrant.Template("create"), platforms.SynapseSchemaGrantData{Privilege: g.priv, Schema: g.on, Grantee: e.user}))
	}
	if tables {
		for _, t := range e.tables {
			if !f.tables[t[0]+"."+t[1]] {
				missing = append(missing, "table "+synQ(t[0])+"."+synQ(t[1])+" (it does not exist, or the system account cannot see it)")
			}
		}
	}
	return missing, fixes
}

// roleProblems lists what is wrong with the impersonation role.
func (e *synExpect) roleProblems(f *synFacts, role string) (missing, fixes []string) {
	ri := synQ(role)
	var grantFixes []string
	for _, g := range e.roleGrants {
		if g.grantee == e.user && strings.EqualFold(g.on, role) && synKeyword.MatchString(g.priv) {
			fix := synSuggest(platforms.KindRoleGrant.Template("create"), platforms.SynapseRoleGrantData{Privilege: g.priv, Role: role, Grantee: e.user})
			grantFixes = append(grantFixes, fix)
			if f.roleID != "" && !f.owner && !synHas(f.mine, "4", f.roleID, g.priv) && !synHas(f.mine, "0", "", "ALTER ANY ROLE") {
				missing = append(missing, g.priv+" on role "+ri)
				fixes = append(fixes, fix)
			}
		}
	}
	for _, g := range e.grants {
		if !strings.EqualFold(g.grantee, role) || !synKeyword.MatchString(g.priv) {
			continue
		}
		fix := synSuggest(platforms.KindSchemaGrant.Template("create"), platforms.SynapseSchemaGrantData{Privilege: g.priv, Schema: g.on, Grantee: role})
		grantFixes = append(grantFixes, fix)
		if f.roleID != "" && !synHas(f.role, "3", f.schemaID[g.on], g.priv) {
			missing = append(missing, g.priv+" on schema "+synQ(g.on)+" for role "+ri)
			fixes = append(fixes, fix)
		}
	}
	switch {
	case f.roleID == "":
		return []string{"role " + ri + " (config.impersonation.role; it does not exist, or the system account cannot see it)"},
			append([]string{synSuggest(platforms.KindRole.Template("create"), platforms.OwnedData{Name: role, Owner: "dbo"})}, grantFixes...)
	case f.roleType != "" && f.roleType != "DATABASE_ROLE":
		return []string{fmt.Sprintf("role %s (%s is a %s, not a database role: set config.impersonation.role to another name)", ri, ri, strings.ToLower(f.roleType))}, nil
	}
	return missing, fixes
}

// problems fails with what the system account lacks.
func (ss *synSession) problems(user string, missing, fixes []string) error {
	if len(missing) == 0 {
		return nil
	}
	msg := fmt.Sprintf("the system account %s lacks what the create script sets up in database %s: %s; run the create script (POST /integrations/scripts/create: initial-create in master, then create in %s)",
		synQ(user), synQ(ss.target), strings.Join(missing, ", "), synQ(ss.target))
	if len(fixes) > 0 {
		msg += fmt.Sprintf(", or as a db_owner member in %s run: %s", synQ(ss.target), strings.Join(fixes, " "))
	}
	return errors.New(msg)
}

// checkPermissions is the System Account Permissions test.
func (ss *synSession) checkPermissions(ctx context.Context, exp *synExpect) error {
	f, err := ss.facts(ctx, exp, false, false)
	if err != nil {
		return err
	}
	missing, fixes := exp.userProblems(f, false)
	return ss.problems(exp.user, missing, fixes)
}

// checkRole is the Impersonation Role Exists test.
func (ss *synSession) checkRole(ctx context.Context, exp *synExpect) error {
	f, err := ss.facts(ctx, exp, false, true)
	if err != nil {
		return err
	}
	missing, fixes := exp.roleProblems(f, ss.c.Impersonation.Role)
	return ss.problems(exp.user, missing, fixes)
}

// Run implements Connector.
func (s *Synapse) Run(ctx context.Context, script *render.Script, p *platforms.Payload, sys Credentials) error {
	if _, err := synConfigOf(p); err != nil {
		return err
	}
	return runLive(ctx, script, p, sys, s.opts, false, func(ctx context.Context, connectTo string) (*sql.DB, error) {
		return s.open(ctx, p, sys, connectTo)
	})
}

// Verify and verify have the outline of Snowflake's; see there.
// Verify implements Connector.
func (s *Synapse) Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	return liveSQLFinish(ctx, s.verify(ctx, op, p, sys), Secrets(p, sys))
}

func (s *Synapse) verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	c, err := synConfigOf(p)
	if err != nil {
		return err
	}
	if err := verifiable(op); err != nil {
		return err
	}
	lg := synLoginOf(c, p.Auto(), sys)
	exp, err := synExpectOf(c, p.Auto(), lg)
	if err != nil {
		return err
	}
	if !lg.system {
		return s.verifyByName(ctx, op, p, c, sys, exp)
	}
	if op == platforms.OpDelete {
		db, err := s.open(ctx, p, sys, c.Database)
		if err != nil {
			return synConnectError(c, lg, c.Database, err)
		}
		defer db.Close()
		conn, err := db.Conn(ctx)
		if err == nil {
			conn.Close()
			return fmt.Errorf("%s can still sign in to database %s: the delete has not run (or not completely); run the delete script (POST /integrations/scripts/delete: cleanup in %s, then post-cleanup in master)", lg.what, synQ(c.Database), synQ(c.Database))
		}
		if synGone(err) {
			return nil
		}
		return synConnectError(c, lg, c.Database, err)
	}
	return s.with(ctx, p, c, sys, c.Database, func(ss *synSession) error {
		f, err := ss.facts(ctx, exp, true, c.Impersonation.Enabled)
		if err != nil {
			return err
		}
		missing, fixes := exp.userProblems(f, true)
		if c.Impersonation.Enabled {
			m, fx := exp.roleProblems(f, c.Impersonation.Role)
			missing, fixes = append(missing, m...), append(fixes, fx...)
		}
		return ss.problems(exp.user, missing, fixes)
	})
}

// verifyByName looks up, as the bootstrap login, the objects the create script makes
// and checks that they are all there (create, edit) or gone (delete).
func (s *Synapse) verifyByName(ctx context.Context, op platforms.Operation, p *platforms.Payload, c *platforms.Synapse, sys Credentials, exp *synExpect) error {
	type object struct {
		what    string
		found   bool
		mayStay bool
	}
	var objs []*object
	add := func(what string, mayStay bool) *object {
		o := &object{what: what, mayStay: mayStay}
		objs = append(objs, o)
		return o
	}
	if exp.login {
		login := add("login "+synQ(exp.user)+" in master", false)
		if err := s.with(ctx, p, c, sys, synMaster, func(ss *synSession) error {
			rows, err := ss.rows(ctx, "connector.login-names", synNameData{Name: exp.user}, func(err error) error {
				return fmt.Errorf("cannot list the logins in master (%w)", err)
			})
			if err != nil {
				return err
			}
			login.found = len(rows) > 0
			return nil
		}); err != nil {
			return err
		}
	}
	err := s.with(ctx, p, c, sys, c.Database, func(ss *synSession) error {
		principals := append([]string{exp.user}, exp.roles...)
		byName := map[string]*object{}
		for _, n := range principals {
			byName[strings.ToLower(n)] = add("database principal "+synQ(n), false)
		}
		rows, err := ss.rows(ctx, "connector.principal-names", synNamesData{Names: principals}, func(err error) error {
			return fmt.Errorf("cannot list the principals of database %s (%w)", synQ(ss.target), vendor(err))
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			n, _ := r.get("name")
			if o := byName[strings.ToLower(n)]; o != nil {
				o.found = true
			}
		}
		schemas := append(append([]string(nil), exp.schemas...), exp.viewSchema)
		byName = map[string]*object{}
		for _, n := range schemas {
			byName[strings.ToLower(n)] = add("schema "+synQ(n), n == exp.viewSchema)
		}
		if rows, err = ss.rows(ctx, "connector.schema-names", synNamesData{Names: schemas}, func(err error) error {
			return fmt.Errorf("cannot list the schemas of database %s (%w)", synQ(ss.target), vendor(err))
		}); err != nil {
			return err
		}
		for _, r := range rows {
			n, _ := r.get("name")
			if o := byName[strings.ToLower(n)]; o != nil {
				o.found = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var bad []string
	for _, o := range objs {
		switch {
		case op == platforms.OpDelete && o.found && !o.mayStay:
			bad = append(bad, o.what)
		case op != platforms.OpDelete && !o.found:
			bad = append(bad, o.what)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if op == platforms.OpDelete {
		return fmt.Errorf("the Synapse setup is still in place: %s remain; run the delete script (POST /integrations/scripts/delete: cleanup in %s, then post-cleanup in master)", strings.Join(bad, ", "), synQ(c.Database))
	}
	return fmt.Errorf("the Synapse setup is incomplete: %s missing; run the create script (initial-create in master, then create in %s)", strings.Join(bad, ", "), synQ(c.Database))
}
