package connector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// The Redshift test catalogue's names (registered in init).
const (
	redshiftTestConnection    = "Initial Validation: Basic Connection Test"
	redshiftTestDatabase      = "Initial Validation: Database Access Test"
	redshiftTestPrivileges    = "Validate Manual: System User Privileges"
	redshiftTestImpersonation = "Validate Manual: Impersonation Group Exists"
)

// Every connector file registers itself like this: the catalogue is data each platform
// states beside its checks.
func init() {
	register(Registration{Type: "Redshift", Tests: []Spec{
		{Name: redshiftTestConnection, Recurring: true, Connection: true},
		{Name: redshiftTestDatabase, Recurring: true},
		{Name: redshiftTestPrivileges, Recurring: true},
		{Name: redshiftTestImpersonation, Impersonation: true},
	}, New: func(o Options) Connector { return NewRedshift(o) }})
}

// Redshift is the live Connector of Amazon Redshift. It speaks the PostgreSQL protocol
// through database/sql and the pgx driver, so every query it runs is one that both
// Redshift and PostgreSQL answer (pg_namespace, pg_group, pg_proc, pg_user and the
// has_*_privilege functions); its tests run against a real PostgreSQL.
//
// Connections go to config.host and config.port as config.username with
// config.password (Credentials, when given, replace them), with TLS required
// (sslmode=require: the connection is encrypted but the server certificate is not
// verified, because Redshift endpoints present certificates whose chain depends on the
// cluster's region and age; verify-full would need the Amazon Redshift CA bundle). TLS
// is off only with Options.DisableTLS. Every connection gets Options.ConnectTimeout,
// and every statement Options.StatementTimeout, both on the client (context) and on the
// server (SET statement_timeout).
//
// authenticationType accessKey is not supported yet: signing in with an AWS access key
// needs the IAM credentials flow (redshift:GetClusterCredentials, which returns a
// temporary database password for the user), which this version does not implement.
// Every test, Run and Verify of such a payload fails with a message saying so.
//
// Redshift setups are always manual (autoBootstrap is false): a DBA runs the scripts,
// so Run is only used by tests and tools that run a script on the DBA's behalf.
type Redshift struct {
	opts Options
}

// NewRedshift returns the Redshift connector configured by o.
func NewRedshift(o Options) *Redshift { return &Redshift{opts: o} }

var _ Connector = (*Redshift)(nil)

// redshiftTarget is what a Redshift payload asks the connector to sign in to and to
// find there. The names come from the platform's Model (folded the way Redshift folds
// them), so the checks look for exactly what the create script makes.
type redshiftTarget struct {
	cfg      *platforms.Redshift
	user     string // who signs in: the config's user, or Credentials
	password string
	database string
	initial  string
	group    string // empty without impersonation
	schemas  []redshiftSchema
	procs    []redshiftProc
	secrets  []string
}

type redshiftSchema struct{ name, owner string }

type redshiftProc struct{ schema, name string }

// signature is the procedure as GRANT and ALTER name it.
func (p redshiftProc) signature() string {
	return redshiftQName(p.schema, p.name) + "(varchar)"
}

// redshiftTargetOf reads the connection settings and the expected objects of p. sys,
// when it has a username, is who signs in instead of the config's user.
func redshiftTargetOf(p *platforms.Payload, sys Credentials) (*redshiftTarget, error) {
	if p == nil {
		return nil, errors.New("redshift: no payload")
	}
	c, ok := p.Config.(*platforms.Redshift)
	if !ok || c == nil {
		return nil, fmt.Errorf("redshift: the payload is a %s integration, not Redshift", p.Type)
	}
	m, err := c.Model(platforms.ModelOptions{AutoBootstrap: p.Auto()})
	if err != nil {
		return nil, err
	}
	t := &redshiftTarget{cfg: c, password: c.Password, secrets: Secrets(p, sys)}
	var system string // the config's user: the schemas' owner, the grants' grantee
	for _, ph := range m.Create {
		if ph.Name == string(platforms.OpInitialCreate) {
			t.initial = ph.ConnectTo
		}
	}
	for _, o := range m.Objects {
		switch o.Kind {
		case platforms.KindUser:
			system = objectData[platforms.RedshiftUserData](o).Name
		case platforms.KindDatabase:
			t.database = objectData[platforms.NameData](o).Name
		case platforms.KindGroup:
			t.group = objectData[platforms.NameData](o).Name
		case platforms.KindSchema:
			d := objectData[platforms.OwnedData](o)
			t.schemas = append(t.schemas, redshiftSchema{name: d.Name, owner: d.Owner})
		case platforms.KindProcedure:
			d := objectData[platforms.RedshiftProcedureData](o)
			t.procs = append(t.procs, redshiftProc{schema: d.Schema, name: d.Name})
		}
	}
	if system == "" || t.database == "" || t.initial == "" {
		return nil, errors.New("redshift: the platform model has no user, database or initial database")
	}
	t.user = system
	if sys.Username != "" {
		t.user, t.password = sys.Username, sys.Password
	}
	return t, nil
}

// redshiftAccessKeyMessage is the failure of everything a Redshift connector would do
// for an accessKey payload.
func redshiftAccessKeyMessage(user string) string {
	return fmt.Sprintf("authenticationType accessKey cannot be validated yet: signing in to Redshift with an AWS access key "+
		"needs the IAM credentials flow (redshift:GetClusterCredentials for database user %s), which this version does not do; "+
		"use authenticationType userPassword to have the setup validated, or check it yourself after running the scripts",
		redshiftIdent(user))
}

// redshiftIdent quotes a name for messages and suggested statements.
func redshiftIdent(s string) string {
	if q, err := platforms.RedshiftIdent(s); err == nil {
		return q
	}
	return strconv.Quote(s)
}

func redshiftQName(schema, name string) string {
	return redshiftIdent(schema) + "." + redshiftIdent(name)
}

// redshiftPlatform is the folder of the Redshift templates (templates/redshift).
const redshiftPlatform = "redshift"

// The typed data of the connector's own definitions (templates/redshift/
// connector.sql.tmpl); the script definitions its messages suggest take the kinds'
// data types of package platforms.
type (
	redshiftTimeoutData    struct{ Milliseconds int64 }
	redshiftSchemasData    struct{ Schemas []string }
	redshiftGroupData      struct{ Group string }
	redshiftProcsData      struct{ Schemas, Names []string }
	redshiftSchemaOwner    struct{ Schema, Owner string }
	redshiftSchemaPrivData struct{ Schema, User string }
)

// redshiftQuery renders a statement the connector runs (render.Engine.Query: checked
// against the connector shapes and pg_query).
func redshiftQuery(name string, data any) (string, error) {
	return liveSQLQuery(redshiftPlatform, name, data)
}

// redshiftSuggest renders a statement a message suggests (render.Engine.Suggest).
func redshiftSuggest(name string, data any) string {
	return liveSQLSuggest(redshiftPlatform, name, data)
}

// redshiftDSNValue quotes a value of a keyword/value connection string.
func redshiftDSNValue(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// connConfig builds the pgx configuration of one connection. The password is set on
// the parsed configuration, never written into a connection string.
func (r *Redshift) connConfig(t *redshiftTarget, database string) (*pgx.ConnConfig, error) {
	mode := "require"
	if r.opts.DisableTLS {
		mode = "disable"
	}
	dsn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=%s",
		redshiftDSNValue(t.cfg.Host), t.cfg.Port, redshiftDSNValue(database), redshiftDSNValue(t.user), mode)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("redshift: connection settings: %w", err)
	}
	cfg.Password = t.password
	cfg.ConnectTimeout = r.opts.connectTimeout()
	// The egress policy resolves the host (refusing it when none of its addresses is
	// allowed), and checks again each address pgx dials.
	pol := r.opts.egress()
	cfg.LookupFunc = func(ctx context.Context, host string) ([]string, error) {
		addrs, err := pol.Resolve(ctx, host)
		out := make([]string, len(addrs))
		for i, a := range addrs {
			out[i] = a.String()
		}
		return out, err
	}
	cfg.DialFunc = pol.DialContext
	// One round trip per query, no server-side prepared statements: what Redshift's
	// leader node handles best.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, nil
}

// connect opens a connection to database as t's user. Its errors say what is wrong and
// how to fix it, with every secret removed.
func (r *Redshift) connect(ctx context.Context, t *redshiftTarget, database string) (*sql.DB, *sql.Conn, error) {
	cfg, err := r.prepare(t, database)
	if err != nil {
		return nil, nil, err
	}
	db, conn, err := r.dial(ctx, cfg)
	if err != nil {
		return nil, nil, r.connectError(ctx, err, t, database)
	}
	return db, conn, nil
}

// prepare is the configuration of a connection to database as t's user, or the reason
// there can be none (accessKey authentication).
func (r *Redshift) prepare(t *redshiftTarget, database string) (*pgx.ConnConfig, error) {
	if t.cfg.AuthenticationType == "accessKey" && t.password == "" {
		return nil, errors.New(redshiftAccessKeyMessage(t.user))
	}
	cfg, err := r.connConfig(t, database)
	if err != nil {
		return nil, Scrub(err, t.secrets)
	}
	return cfg, nil
}

// dial opens the connection; its error is the driver's.
func (r *Redshift) dial(ctx context.Context, cfg *pgx.ConnConfig) (*sql.DB, *sql.Conn, error) {
	set, err := redshiftQuery("connector.set-statement-timeout", redshiftTimeoutData{Milliseconds: r.opts.statementTimeout().Milliseconds()})
	if err != nil {
		return nil, nil, err
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, set)
		return err
	}))
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, conn, nil
}

// connectError explains a failed connection.
func (r *Redshift) connectError(ctx context.Context, err error, t *redshiftTarget, database string) error {
	addr := net.JoinHostPort(t.cfg.Host, strconv.Itoa(t.cfg.Port))
	user, db := redshiftIdent(t.user), redshiftIdent(database)
	if ctx.Err() != nil {
		// A context error holds no secret: keep it wrapped for errors.Is.
		return fmt.Errorf("connecting to Redshift at %s (database %s) did not finish: %w", addr, db, ctx.Err())
	}
	var msg string
	var pgErr *pgconn.PgError
	var refused *egress.RefusedError
	switch {
	case errors.As(err, &refused):
		return refused
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code == "28P01":
			msg = fmt.Sprintf("password authentication failed for user %s at %s: check config.username and config.password "+
				"(the password must be the one the initial-create script set; a superuser can set it again with the edit script, or with ALTER USER and the user's new password)",
				user, addr)
		case pgErr.Code == "3D000":
			msg = fmt.Sprintf("database %s does not exist on %s: run the initial-create script (POST /integrations/scripts/initial-create) "+
				"as a superuser connected to database %s; it runs %s", db, addr, redshiftIdent(t.initial),
				redshiftSuggest(platforms.KindDatabase.Template("create"), platforms.NameData{Name: database}))
		case pgErr.Code == "28000" && strings.Contains(pgErr.Message, "does not exist"):
			msg = fmt.Sprintf("user %s does not exist on %s: run the initial-create script (POST /integrations/scripts/initial-create) "+
				"as a superuser connected to database %s; it creates the user", user, addr, redshiftIdent(t.initial))
		case pgErr.Code == "28000":
			msg = fmt.Sprintf("user %s may not sign in to database %s at %s: %s; check config.username and config.password",
				user, db, addr, short(pgErr.Message))
		case pgErr.Code == "42501":
			msg = fmt.Sprintf("user %s may not connect to database %s at %s: %s; a superuser must give the user access to the database", user, db, addr, short(pgErr.Message))
		default:
			msg = fmt.Sprintf("Redshift at %s refused the connection of user %s to database %s: %s (SQLSTATE %s)",
				addr, user, db, short(pgErr.Message), short(pgErr.Code))
		}
	case errors.Is(err, context.DeadlineExceeded) || redshiftTimeout(err):
		msg = fmt.Sprintf("Redshift at %s did not answer within the connect timeout (%s): check config.host and config.port, "+
			"that the cluster is reachable from the server (publicly accessible or in a peered network) and that its security group "+
			"allows inbound TCP on port %d (%v)", addr, r.opts.connectTimeout(), t.cfg.Port, vendor(err))
	case strings.Contains(err.Error(), "refused TLS"):
		msg = fmt.Sprintf("the server at %s refused TLS, which the connector requires (Redshift always offers it): "+
			"check that config.host and config.port name a Redshift endpoint", addr)
	default:
		msg = fmt.Sprintf("cannot connect to Redshift at %s: %v; check config.host and config.port, that the cluster is reachable "+
			"from the server and that its security group allows inbound TCP on port %d", addr, vendor(err), t.cfg.Port)
	}
	return Scrub(errors.New(msg), t.secrets)
}

func redshiftTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Check runs one test of the Redshift catalogue:
//
//   - Initial Validation: Basic Connection Test: the user signs in to config.database
//     and runs SELECT 1.
//   - Initial Validation: Database Access Test: the user has CREATE and TEMP on
//     config.database (the create script's GRANT TEMP, CREATE ON DATABASE).
//   - Validate Manual: System User Privileges: the schemas the create script makes
//     exist in config.database, are owned by the user, and the user has USAGE and CREATE
//     on them.
//   - Validate Manual: Impersonation Group Exists: the group config.impersonation.role
//     exists, and the user can manage its members: the SECURITY DEFINER procedures
//     grant_impersonation and revoke_impersonation exist, are owned by a superuser and
//     the user may EXECUTE them.
//
// A failure names what is missing and the statement or script that makes it.
func (r *Redshift) Check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error {
	var run redshiftCheck
	switch test {
	case redshiftTestConnection:
		run = r.checkConnection
	case redshiftTestDatabase:
		run = r.checkDatabase
	case redshiftTestPrivileges:
		run = r.checkSchemas
	case redshiftTestImpersonation:
		run = r.checkImpersonation
	default:
		return fmt.Errorf("redshift has no test %q", test)
	}
	return r.runChecks(ctx, p, sys, run)
}

// redshiftCheck is one check on a connection to config.database: the problems it
// found, or the error that stopped it.
type redshiftCheck func(ctx context.Context, conn *sql.Conn, t *redshiftTarget) ([]string, error)

// runChecks connects to config.database and runs checks in order, stopping at the
// first error; the outcome names every problem found.
func (r *Redshift) runChecks(ctx context.Context, p *platforms.Payload, sys Credentials, checks ...redshiftCheck) error {
	t, err := redshiftTargetOf(p, sys)
	if err != nil {
		return Scrub(err, Secrets(p, sys))
	}
	db, conn, err := r.connect(ctx, t, t.database)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	var problems []string
	for _, check := range checks {
		found, err := check(ctx, conn, t)
		if err != nil {
			return r.outcome(ctx, t, nil, err)
		}
		problems = append(problems, found...)
	}
	return r.outcome(ctx, t, problems, nil)
}

// outcome turns a check's problems (or the error that stopped it) into Check's result.
func (r *Redshift) outcome(ctx context.Context, t *redshiftTarget, problems []string, err error) error {
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("checking Redshift did not finish: %w", ctx.Err())
		}
		return Scrub(fmt.Errorf("querying the system catalogs of database %s as user %s failed: %w; the user must be able to read "+
			"pg_namespace, pg_proc, pg_group and pg_user (every Redshift user can, unless a superuser revoked it)",
			redshiftIdent(t.database), redshiftIdent(t.user), err), t.secrets)
	}
	if len(problems) == 0 {
		return nil
	}
	return Scrub(errors.New(strings.Join(problems, "; ")), t.secrets)
}

// query renders the definition name of templates/redshift/connector.sql.tmpl with data,
// runs it with the statement timeout and calls scan for each row.
func (r *Redshift) query(ctx context.Context, conn *sql.Conn, scan func(*sql.Rows) error, name string, data any) error {
	q, err := redshiftQuery(name, data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.statementTimeout())
	defer cancel()
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return vendor(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return vendor(rows.Err())
}

func (r *Redshift) checkConnection(ctx context.Context, conn *sql.Conn, _ *redshiftTarget) ([]string, error) {
	var one int
	err := r.query(ctx, conn, func(rows *sql.Rows) error { return rows.Scan(&one) }, "connector.select-one", nil)
	if err == nil && one != 1 {
		err = fmt.Errorf("SELECT 1 returned %d", one)
	}
	return nil, err
}

func (r *Redshift) checkDatabase(ctx context.Context, conn *sql.Conn, t *redshiftTarget) ([]string, error) {
	var create, temp bool
	err := r.query(ctx, conn, func(rows *sql.Rows) error { return rows.Scan(&create, &temp) },
		"connector.database-privileges", nil)
	if err != nil {
		return nil, err
	}
	user, db := redshiftIdent(t.user), redshiftIdent(t.database)
	var missing []string
	if !temp {
		missing = append(missing, "TEMP")
	}
	if !create {
		missing = append(missing, "CREATE")
	}
	if len(missing) == 0 {
		return nil, nil
	}
	what := map[string]string{
		"CREATE":       "cannot CREATE in database",
		"TEMP":         "cannot create TEMP tables in database",
		"TEMP, CREATE": "has neither TEMP nor CREATE on database",
	}[strings.Join(missing, ", ")]
	fix := redshiftSuggest(platforms.KindDatabaseGrant.Template("create"), platforms.RedshiftDatabaseGrantData{Database: t.database, User: t.user})
	return []string{fmt.Sprintf("user %s %s %s: run %s as a superuser (part of the create script)",
		user, what, db, fix)}, nil
}

func (r *Redshift) checkSchemas(ctx context.Context, conn *sql.Conn, t *redshiftTarget) ([]string, error) {
	type found struct {
		owner         string
		usage, create bool
	}
	seen := map[string]found{}
	names := make([]string, len(t.schemas))
	for i, s := range t.schemas {
		names[i] = s.name
	}
	err := r.query(ctx, conn, func(rows *sql.Rows) error {
		var name string
		var f found
		if err := rows.Scan(&name, &f.owner, &f.usage, &f.create); err != nil {
			return err
		}
		seen[name] = f
		return nil
	}, "connector.schemas", redshiftSchemasData{Schemas: names})
	if err != nil {
		return nil, err
	}
	var problems []string
	db := redshiftIdent(t.database)
	for _, s := range t.schemas {
		name, owner := redshiftIdent(s.name), redshiftIdent(s.owner)
		f, ok := seen[s.name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("schema %s does not exist in database %s: run %s "+
				"as a superuser connected to database %s (part of the create script)", name, db,
				redshiftSuggest(platforms.KindSchema.Template("create"), platforms.OwnedData{Name: s.name, Owner: s.owner}), db))
			continue
		case f.owner != s.owner:
			problems = append(problems, fmt.Sprintf("schema %s in database %s is owned by %s, not by user %s: run %s "+
				"as a superuser (the create script makes %s its owner)", name, db, redshiftIdent(f.owner), owner,
				redshiftSuggest("connector.fix-schema-owner", redshiftSchemaOwner{Schema: s.name, Owner: s.owner}), owner))
			continue
		}
		var missing []string
		if !f.usage {
			missing = append(missing, "USAGE")
		}
		if !f.create {
			missing = append(missing, "CREATE")
		}
		if len(missing) > 0 {
			privs := strings.Join(missing, ", ")
			problems = append(problems, fmt.Sprintf("user %s lacks %s on schema %s in database %s: run %s as a superuser",
				redshiftIdent(t.user), privs, name, db, redshiftSuggest("connector.fix-schema-privileges", redshiftSchemaPrivData{Schema: s.name, User: t.user})))
		}
	}
	return problems, nil
}

func (r *Redshift) checkImpersonation(ctx context.Context, conn *sql.Conn, t *redshiftTarget) ([]string, error) {
	if t.group == "" {
		return nil, nil // impersonation is off: nothing to manage
	}
	group, user, db := redshiftIdent(t.group), redshiftIdent(t.user), redshiftIdent(t.database)
	var problems []string
	var groups int64
	err := r.query(ctx, conn, func(rows *sql.Rows) error { return rows.Scan(&groups) },
		"connector.group-count", redshiftGroupData{Group: t.group})
	if err != nil {
		return nil, err
	}
	if groups == 0 {
		problems = append(problems, fmt.Sprintf("impersonation group %s does not exist: run %s as a superuser connected to database %s "+
			"(part of the create script)", group, redshiftSuggest(platforms.KindGroup.Template("create"), platforms.NameData{Name: t.group}), db))
	}
	if len(t.procs) == 0 {
		return problems, nil
	}
	type found struct {
		secdef, superOwner, execute bool
		owner                       string
	}
	seen := map[redshiftProc]found{}
	var schemas, names []string
	for _, p := range t.procs {
		schemas, names = append(schemas, p.schema), append(names, p.name)
	}
	err = r.query(ctx, conn, func(rows *sql.Rows) error {
		var p redshiftProc
		var f found
		if err := rows.Scan(&p.schema, &p.name, &f.secdef, &f.superOwner, &f.owner, &f.execute); err != nil {
			return err
		}
		seen[p] = f
		return nil
	}, "connector.procedures", redshiftProcsData{Schemas: schemas, Names: names})
	if err != nil {
		return nil, err
	}
	for _, p := range t.procs {
		sig := p.signature()
		f, ok := seen[p]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("procedure %s, which lets user %s manage the members of group %s, does not exist in database %s: "+
				"run its CREATE OR REPLACE PROCEDURE statement and the REVOKE and GRANT EXECUTE statements that follow it from the create script, "+
				"as a superuser connected to database %s", sig, user, group, db, db))
			continue
		case !f.secdef:
			problems = append(problems, fmt.Sprintf("procedure %s is not SECURITY DEFINER, so user %s cannot change the members of group %s with it: "+
				"run its CREATE OR REPLACE PROCEDURE statement from the create script again as a superuser", sig, user, group))
		case !f.superOwner:
			problems = append(problems, fmt.Sprintf("procedure %s is owned by %s, who is not a superuser, so it cannot change the members of group %s: "+
				"have a superuser take it over (ALTER PROCEDURE with OWNER TO that superuser; the create script runs as a superuser and makes it the owner)",
				sig, redshiftIdent(f.owner), group))
		}
		if !f.execute {
			problems = append(problems, fmt.Sprintf("user %s cannot EXECUTE procedure %s: run %s as a superuser "+
				"(part of the create script)", user, sig, redshiftSuggest(platforms.KindProcedureGrant.Template("create"), platforms.RedshiftProcedureGrantData{Schema: p.schema, Name: p.name, User: t.user})))
		}
	}
	return problems, nil
}

// Run executes the script's phases in order, each on its own connection to the phase's
// database (Phase.ConnectTo) signed in as the payload's user (config.username and
// config.password), through RunPhases: it stops at the first failing statement and
// returns a *RunError without secrets. Redshift scripts need a superuser, so the
// payload given to Run names the DBA's account, not the system user the script makes.
func (r *Redshift) Run(ctx context.Context, s *render.Script, p *platforms.Payload, sys Credentials) error {
	if s == nil {
		return errors.New("redshift: no script")
	}
	t, err := redshiftTargetOf(p, sys)
	if err != nil {
		return Scrub(err, Secrets(p, sys))
	}
	open := func(ctx context.Context, connectTo string) (*sql.DB, error) {
		db, conn, err := r.connect(ctx, t, connectTo)
		if err != nil {
			return nil, err
		}
		conn.Close() // back to the pool, for RunPhases to take again
		return db, nil
	}
	return RunPhases(ctx, s, open, r.opts.statementTimeout(), t.secrets)
}

// Verify checks a manual setup as the system user (sys, or the payload's user). For op
// create or edit it runs every applicable check of the catalogue (connection, database
// privileges, schemas and, with impersonation, the group and its procedures) and
// reports every problem. For op delete (or cleanup) it checks that the delete script
// ran: a system user that can no longer sign in (dropped) or a database that no longer
// exists counts as gone; otherwise it reports what is still there (schemas, group,
// database, user) and which phase of the delete script removes it.
func (r *Redshift) Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error {
	switch op {
	case platforms.OpCreate, platforms.OpEdit:
		return r.verifyCreate(ctx, p, sys)
	case platforms.OpDelete, platforms.OpCleanup:
		return r.verifyDelete(ctx, p, sys)
	}
	return fmt.Errorf("redshift: cannot verify operation %q (want create, edit or delete)", op)
}

func (r *Redshift) verifyCreate(ctx context.Context, p *platforms.Payload, sys Credentials) error {
	return r.runChecks(ctx, p, sys, r.checkConnection, r.checkDatabase, r.checkSchemas, r.checkImpersonation)
}

// redshiftGone reports whether a connection error means the delete script removed what
// the connection needed: the database (3D000) or the user (it does not exist, or its
// password is refused: Redshift says "password authentication failed" for a user that
// does not exist). Other refusals (28000 for a host rule, say) are not taken as gone.
func redshiftGone(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "3D000", "28P01":
		return true
	case "28000":
		return strings.Contains(pgErr.Message, "does not exist") || strings.Contains(pgErr.Message, "authentication failed")
	}
	return false
}

func (r *Redshift) verifyDelete(ctx context.Context, p *platforms.Payload, sys Credentials) error {
	t, err := redshiftTargetOf(p, sys)
	if err != nil {
		return Scrub(err, Secrets(p, sys))
	}
	const script = "run the delete script (POST /integrations/{id}/scripts/delete) as a superuser"
	cfg, err := r.prepare(t, t.database)
	if err != nil {
		return err
	}
	db, conn, err := r.dial(ctx, cfg)
	var leftovers []string
	dbQ := redshiftIdent(t.database)
	switch {
	case err == nil:
		defer db.Close()
		defer conn.Close()
		var schemas []string
		names := make([]string, len(t.schemas))
		for i, s := range t.schemas {
			names[i] = s.name
		}
		err := r.query(ctx, conn, func(rows *sql.Rows) error {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			schemas = append(schemas, redshiftIdent(s))
			return nil
		}, "connector.schema-names", redshiftSchemasData{Schemas: names})
		if err != nil {
			return r.outcome(ctx, t, nil, err)
		}
		if len(schemas) > 0 {
			leftovers = append(leftovers, fmt.Sprintf("schemas %s still exist in database %s (the delete script's cleanup phase, connected to database %s, drops them)",
				strings.Join(schemas, ", "), dbQ, dbQ))
		}
		leftovers = append(leftovers, fmt.Sprintf("database %s still exists (the delete script's post-cleanup phase, connected to database %s, drops it)",
			dbQ, redshiftIdent(t.initial)))
	case redshiftGone(err):
		// The database is gone, or the user cannot sign in any more. If the user can
		// still sign in to the initial database, it was not dropped.
		if cfg, err = r.prepare(t, t.initial); err != nil {
			return err
		}
		db, conn, err = r.dial(ctx, cfg)
		if err != nil {
			if redshiftGone(err) {
				return nil
			}
			return r.connectError(ctx, err, t, t.initial)
		}
		defer db.Close()
		defer conn.Close()
	default:
		return r.connectError(ctx, err, t, t.database)
	}
	leftovers = append(leftovers, fmt.Sprintf("user %s still exists and can sign in (the post-cleanup phase drops it)", redshiftIdent(t.user)))
	if t.group != "" {
		var groups int64
		err := r.query(ctx, conn, func(rows *sql.Rows) error { return rows.Scan(&groups) },
			"connector.group-count", redshiftGroupData{Group: t.group})
		if err != nil {
			return r.outcome(ctx, t, nil, err)
		}
		if groups > 0 {
			leftovers = append(leftovers, fmt.Sprintf("group %s still exists (the post-cleanup phase drops it)", redshiftIdent(t.group)))
		}
	}
	return Scrub(fmt.Errorf("the Redshift setup is still there: %s; %s", strings.Join(leftovers, "; "), script), t.secrets)
}
