package simulate

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Vendor pages of the Snowflake rules.
const (
	sfDocAccessControl  = "https://docs.snowflake.com/en/user-guide/security-access-control-overview"
	sfDocConsiderations = "https://docs.snowflake.com/en/user-guide/security-access-control-considerations"
	sfDocDropRole       = "https://docs.snowflake.com/en/sql-reference/sql/drop-role"
	sfDocDropDatabase   = "https://docs.snowflake.com/en/sql-reference/sql/drop-database"
	sfDocDropUser       = "https://docs.snowflake.com/en/sql-reference/sql/drop-user"
	sfDocGrantOwnership = "https://docs.snowflake.com/en/sql-reference/sql/grant-ownership"
	sfDocCreateDatabase = "https://docs.snowflake.com/en/sql-reference/sql/create-database"
	sfDocCreateRole     = "https://docs.snowflake.com/en/sql-reference/sql/create-role"
	sfDocCreateUser     = "https://docs.snowflake.com/en/sql-reference/sql/create-user"
	sfDocAlterUser      = "https://docs.snowflake.com/en/sql-reference/sql/alter-user"
	sfDocCreateSchema   = "https://docs.snowflake.com/en/sql-reference/sql/create-schema"
	sfDocGrantRole      = "https://docs.snowflake.com/en/sql-reference/sql/grant-role"
	sfDocGrantPrivilege = "https://docs.snowflake.com/en/sql-reference/sql/grant-privilege"
	sfDocSharedDB       = "https://docs.snowflake.com/en/sql-reference/snowflake-db"
	sfDocSampleData     = "https://docs.snowflake.com/en/user-guide/sample-data"
	sfDocPassword       = "https://docs.snowflake.com/en/sql-reference/sql/create-password-policy"
	sfDocUseRole        = "https://docs.snowflake.com/en/sql-reference/sql/use-role"
	sfDocExecute        = "https://docs.snowflake.com/en/sql-reference/sql/execute-immediate"
	sfDocRaise          = "https://docs.snowflake.com/en/sql-reference/snowflake-scripting/raise"
	sfDocShowRoles      = "https://docs.snowflake.com/en/sql-reference/sql/show-roles"
	sfDocShowDatabases  = "https://docs.snowflake.com/en/sql-reference/sql/show-databases"
	sfDocShowUsers      = "https://docs.snowflake.com/en/release-notes/bcr-bundles/2023_06/bcr-975"
	sfDocResultScan     = "https://docs.snowflake.com/en/sql-reference/functions/result_scan"
)

// sfSystemRoles are Snowflake's built-in roles, and the roles each inherits (its
// place in the system hierarchy): ACCOUNTADMIN above SECURITYADMIN and SYSADMIN,
// SECURITYADMIN above USERADMIN (sfDocAccessControl).
var sfSystemRoles = map[string][]string{
	"ACCOUNTADMIN":  {"SECURITYADMIN", "SYSADMIN"},
	"SECURITYADMIN": {"USERADMIN"},
	"USERADMIN":     nil,
	"SYSADMIN":      nil,
	"ORGADMIN":      nil,
	"PUBLIC":        nil,
}

// sfSystemPrivileges are the account privileges of the system roles
// (sfDocAccessControl): ACCOUNTADMIN has them all; SECURITYADMIN has MANAGE GRANTS;
// USERADMIN CREATE USER and CREATE ROLE; SYSADMIN CREATE DATABASE and CREATE
// WAREHOUSE.
var sfSystemPrivileges = map[string][]string{
	"ACCOUNTADMIN":  {"ALL"},
	"SECURITYADMIN": {"MANAGE GRANTS"},
	"USERADMIN":     {"CREATE USER", "CREATE ROLE"},
	"SYSADMIN":      {"CREATE DATABASE", "CREATE WAREHOUSE"},
}

// Snowflake is the model of a Snowflake account.
type Snowflake struct{ catalog }

// NewSnowflake returns an account with the system roles, a user ADMIN granted
// ACCOUNTADMIN, the warehouses named, and the shared databases SNOWFLAKE and
// SNOWFLAKE_SAMPLE_DATA (sfDocSharedDB, sfDocSampleData).
func NewSnowflake(warehouses ...string) *Snowflake {
	a := &Snowflake{newCatalog()}
	for r, inherits := range sfSystemRoles {
		a.add("role", r, "ACCOUNTADMIN", nil, map[string]string{"system": "true"})
		for _, in := range inherits {
			a.grants[grant{"USAGE", key{"role", in}, key{"role", r}}] = true
		}
	}
	for r, privs := range sfSystemPrivileges {
		for _, p := range privs {
			a.grants[grant{p, key{"account", ""}, key{"role", r}}] = true
		}
	}
	a.add("user", "ADMIN", "ACCOUNTADMIN", nil, nil)
	a.grants[grant{"USAGE", key{"role", "ACCOUNTADMIN"}, key{"user", "ADMIN"}}] = true
	for _, w := range warehouses {
		a.add("warehouse", w, "SYSADMIN", nil, nil)
	}
	for _, d := range []string{"SNOWFLAKE", "SNOWFLAKE_SAMPLE_DATA"} {
		a.add("database", d, "ACCOUNTADMIN", nil, map[string]string{"shared": "true"})
	}
	return a
}

// Clone implements Account.
func (a *Snowflake) Clone() Account { return &Snowflake{a.clone()} }

// Connect opens a session of user as role. USE ROLE, and so a session's role, needs the
// role granted to the user, directly or through the hierarchy (sfDocUseRole).
func (a *Snowflake) Connect(database, user, role string) (*Session, error) {
	if a.get("user", user) == nil {
		return nil, fmt.Errorf("user %s does not exist", user)
	}
	if !a.inherits(key{"user", user}, role) {
		return nil, &Refusal{SQL: "USE ROLE " + role, Rule: fmt.Sprintf("role %s is not granted to user %s", role, user), Source: sfDocUseRole}
	}
	return a.open(&Session{Database: database, Principal: user, Role: role}), nil
}

// inherits reports whether grantee (a user or role) has role r, directly or through
// role grants (sfDocAccessControl: a role inherits the privileges of the roles granted
// to it).
func (a *Snowflake) inherits(grantee key, r string) bool {
	if grantee.kind == "role" && grantee.name == r {
		return true
	}
	seen := map[key]bool{}
	var walk func(k key) bool
	walk = func(k key) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		for g := range a.grants {
			if g.to == k && g.on.kind == "role" && g.priv == "USAGE" {
				if g.on.name == r || walk(g.on) {
					return true
				}
			}
		}
		return false
	}
	return walk(grantee)
}

// accountPriv reports whether role (or a role it inherits) holds the account
// privilege p.
func (a *Snowflake) accountPriv(role, p string) bool {
	for g := range a.grants {
		if g.on.kind == "account" && (g.priv == p || g.priv == "ALL") && g.to.kind == "role" && a.inherits(key{"role", role}, g.to.name) {
			return true
		}
	}
	return false
}

// owns reports whether role is the owner of o or a role above the owner. Only that, not
// ACCOUNTADMIN as such, allows a DROP: ACCOUNTADMIN is not a superuser, it owns what
// its hierarchy owns (sfDocConsiderations, sfDocDropRole).
func (a *Snowflake) owns(role string, o *object) bool {
	return a.inherits(key{"role", role}, o.owner)
}

// Exec implements Account: one statement per call.
func (a *Snowflake) Exec(s *Session, batch ...string) error {
	return execEach(sqlcheck.Snowflake, batch, func(p *sqlcheck.Parsed) error { return a.exec(s, p) })
}

func sfKind(w string) string { return strings.ToLower(w) }

func (a *Snowflake) exec(s *Session, p *sqlcheck.Parsed) error {
	r := refuser{p.SQL}
	role := s.Role
	ifNotExists := p.Has("IF", "NOT", "EXISTS")
	ifExists := p.Has("IF", "EXISTS") && !ifNotExists
	need := func(o *object, verb, source string) error {
		if o == nil || a.owns(role, o) {
			return nil
		}
		return r.refuse(source, "%s %s needs its owner role %s (or a role above it); the current role %s is neither", verb, o.key, o.owner, role)
	}
	needPriv := func(priv, source string) error {
		if a.accountPriv(role, priv) {
			return nil
		}
		return r.refuse(source, "role %s lacks %s ON ACCOUNT", role, priv)
	}
	switch p.Shape {
	case "create-role", "create-database", "create-user":
		kind := sfKind(p.Words[1])
		name := p.Idents[0]
		src := map[string]string{"role": sfDocCreateRole, "database": sfDocCreateDatabase, "user": sfDocCreateUser}[kind]
		if err := needPriv("CREATE "+strings.ToUpper(kind), src); err != nil {
			return err
		}
		if a.get(kind, name) != nil {
			// IF NOT EXISTS on an existing object succeeds and changes nothing; without
			// it the statement fails (sfDocCreateDatabase, sfDocCreateRole).
			if ifNotExists {
				return nil
			}
			return r.refuse(src, "%s %s already exists", kind, name)
		}
		// The role that creates an object owns it (sfDocAccessControl).
		attrs := map[string]string{}
		if kind == "user" {
			attrs["default_role"], attrs["default_warehouse"], attrs["default_namespace"] = p.Idents[1], p.Idents[2], p.Idents[3]
			attrs["type"] = "PERSON"
			if i := indexWord(p.Words, "TYPE"); i >= 0 && i+1 < len(p.Words) {
				attrs["type"] = p.Words[i+1]
			}
		}
		a.add(kind, name, role, nil, attrs)
		if kind == "database" {
			// Every new database has the schema PUBLIC, owned by its creator
			// (sfDocCreateDatabase).
			dk := key{"database", name}
			a.add("schema", name+".PUBLIC", role, &dk, nil)
		}
	case "drop-role", "drop-database", "drop-user", "drop-schema":
		kind := sfKind(p.Words[1])
		name := strings.Join(p.Idents, ".")
		o := a.get(kind, name)
		if o == nil {
			if ifExists {
				return nil
			}
			return r.refuse(sfDocDropDatabase, "%s %s does not exist", kind, name)
		}
		src := map[string]string{"role": sfDocDropRole, "database": sfDocDropDatabase, "user": sfDocDropUser, "schema": sfDocDropDatabase}[kind]
		if o.attrs["system"] == "true" {
			return r.refuse(sfDocDropRole, "%s is a system role and cannot be dropped", name)
		}
		if kind == "database" && o.attrs["shared"] == "true" && name == "SNOWFLAKE" {
			return r.refuse(sfDocSharedDB, "the shared database SNOWFLAKE cannot be dropped")
		}
		if err := need(o, "DROP", src); err != nil {
			return err
		}
		if kind == "role" {
			// Objects owned by a dropped role pass to the role that ran DROP ROLE
			// (sfDocDropRole).
			for _, other := range a.objects {
				if other.owner == name {
					other.owner = role
				}
			}
		}
		a.remove(o.key)
	case "create-schema":
		db := a.get("database", p.Idents[0])
		name := p.Idents[0] + "." + p.Idents[1]
		if db == nil {
			return r.refuse(sfDocCreateSchema, "database %s does not exist", p.Idents[0])
		}
		if db.attrs["shared"] == "true" {
			// Shared databases are read-only (sfDocSharedDB).
			return r.refuse(sfDocSharedDB, "database %s is shared (imported): read-only", db.name)
		}
		if !a.owns(role, db) && !a.holds(role, "CREATE SCHEMA", db.key) {
			return r.refuse(sfDocCreateSchema, "CREATE SCHEMA in %s needs ownership of the database or CREATE SCHEMA on it; role %s has neither", db.name, role)
		}
		if a.get("schema", name) != nil {
			if ifNotExists {
				return nil
			}
			return r.refuse(sfDocCreateSchema, "schema %s already exists", name)
		}
		a.add("schema", name, role, &db.key, nil)
	case "grant-ownership":
		kind := sfKind(p.Words[3])
		name := strings.Join(p.Idents[:len(p.Idents)-1], ".")
		to := p.Idents[len(p.Idents)-1]
		o := a.get(kind, name)
		if o == nil {
			return r.refuse(sfDocGrantOwnership, "%s %s does not exist", kind, name)
		}
		if a.get("role", to) == nil {
			return r.refuse(sfDocGrantOwnership, "role %s does not exist", to)
		}
		if o.attrs["shared"] == "true" || o.parent != nil && a.objects[*o.parent] != nil && a.objects[*o.parent].attrs["shared"] == "true" {
			return r.refuse(sfDocSharedDB, "%s is in a shared (imported) database: read-only", o.key)
		}
		// Transferring ownership needs the current owner role or MANAGE GRANTS
		// (sfDocGrantOwnership).
		if !a.owns(role, o) && !a.accountPriv(role, "MANAGE GRANTS") {
			return r.refuse(sfDocGrantOwnership, "GRANT OWNERSHIP on %s needs its owner role %s or MANAGE GRANTS; role %s has neither", o.key, o.owner, role)
		}
		o.owner = to
	case "alter-user-warehouse", "alter-user-set-credential", "alter-user-unset-credential":
		o := a.get("user", p.Idents[0])
		if o == nil {
			return nil // IF EXISTS
		}
		if !a.owns(role, o) && !a.accountPriv(role, "MANAGE GRANTS") {
			return r.refuse(sfDocAlterUser, "ALTER USER %s needs its owner role %s; role %s is not above it", o.name, o.owner, role)
		}
		switch p.Shape {
		case "alter-user-warehouse":
			o.attrs["default_warehouse"] = p.Idents[1]
		case "alter-user-set-credential":
			cred := strings.ToLower(p.Words[len(p.Words)-1])
			if i := indexWord(p.Words, "TYPE"); i >= 0 {
				o.attrs["type"] = p.Words[i+1]
			}
			if cred == "password" {
				if o.attrs["type"] == "SERVICE" {
					// SERVICE users cannot have a password (sfDocCreateUser).
					return r.refuse(sfDocCreateUser, "user %s has TYPE = SERVICE, which cannot have a password", o.name)
				}
				if msg := sfPasswordPolicy(p.Strings[0]); msg != "" {
					return r.refuse(sfDocPassword, "the password breaks Snowflake's password policy: %s", msg)
				}
				o.attrs["password"] = "set"
			} else {
				o.attrs["rsa_public_key"] = "set"
			}
		default:
			delete(o.attrs, strings.ToLower(p.Words[len(p.Words)-1]))
		}
	case "grant-role", "revoke-role":
		granted := a.get("role", p.Idents[0])
		kind := sfKind(p.Words[3])
		grantee := a.get(kind, p.Idents[1])
		if granted == nil || grantee == nil {
			return r.refuse(sfDocGrantRole, "role %s or %s %s does not exist", p.Idents[0], kind, p.Idents[1])
		}
		// Granting a role needs its ownership or MANAGE GRANTS (sfDocGrantRole).
		if !a.owns(role, granted) && !a.accountPriv(role, "MANAGE GRANTS") {
			return r.refuse(sfDocGrantRole, "GRANT ROLE %s needs its owner role %s or MANAGE GRANTS", granted.name, granted.owner)
		}
		g := grant{"USAGE", granted.key, grantee.key}
		if p.Shape == "revoke-role" {
			delete(a.grants, g)
			return nil
		}
		if kind == "role" && a.inherits(key{"role", granted.name}, grantee.name) {
			return r.refuse(sfDocGrantRole, "granting role %s to role %s would make a cycle", granted.name, grantee.name)
		}
		a.grants[g] = true
	case "grant-warehouse-usage", "revoke-warehouse-usage":
		return a.privilege(r, role, p, "USAGE", key{"warehouse", p.Idents[0]}, p.Idents[1])
	case "grant-account-privilege", "revoke-account-privilege":
		priv := strings.Join(p.Words[1:indexWord(p.Words, "ON")], " ")
		return a.privilege(r, role, p, priv, key{"account", ""}, p.Idents[0])
	case "grant-imported-privileges", "revoke-imported-privileges":
		db := a.get("database", p.Idents[0])
		if db == nil {
			return r.refuse(sfDocSharedDB, "database %s does not exist", p.Idents[0])
		}
		// IMPORTED PRIVILEGES exist only on databases created from a share, such as
		// SNOWFLAKE (sfDocSharedDB).
		if db.attrs["shared"] != "true" {
			return r.refuse(sfDocSharedDB, "IMPORTED PRIVILEGES apply to shared databases only; %s is not one", db.name)
		}
		return a.privilege(r, role, p, "IMPORTED PRIVILEGES", db.key, p.Idents[1])
	case "execute-guard":
		return a.guard(r, role, p.Exec)
	default:
		return r.refuse("", "the Snowflake model has no rule for shape %s", p.Shape)
	}
	return nil
}

// guard runs the guard block of EXECUTE IMMEDIATE $$ ... $$ (sfDocExecute): SHOW
// <kind> LIKE '<pattern>' lists the objects the current role can see whose names match
// the case-insensitive pattern (sfDocShowRoles); the block counts the rows of
// RESULT_SCAN(LAST_QUERY_ID()) whose "name" is exactly the name (sfDocResultScan) and
// RAISEs its declared exception when there is one, which ends the statement with that
// error (sfDocRaise). It changes nothing either way.
func (a *Snowflake) guard(r refuser, role string, b *sqlcheck.Parsed) error {
	if b == nil || b.Shape != "guard-block" || len(b.Strings) != 3 || len(b.Idents) != 1 {
		return r.refuse(sfDocExecute, "EXECUTE IMMEDIATE of a block the model does not know")
	}
	if b.Idents[0] != "name" {
		// SHOW output columns are lower-case: "NAME" or "Name" is no column of it.
		return r.refuse(sfDocResultScan, "RESULT_SCAN of SHOW output has no column %q", b.Idents[0])
	}
	kind := strings.ToLower(strings.TrimSuffix(b.Words[indexWord(b.Words, "SHOW")+1], "S"))
	pattern, name := b.Strings[1], b.Strings[2]
	if !sfLike(pattern, name) {
		// The exact name cannot be in a listing its pattern does not match: the guard
		// would pass over a taken name.
		return r.refuse(sfDocShowRoles, "LIKE %q does not list %q", pattern, name)
	}
	o := a.get(kind, name)
	if o == nil || !a.visible(role, o) {
		// A name hidden from the current role passes; the plain CREATE still fails
		// on it later (sfDocCreateDatabase).
		return nil
	}
	return r.refuse(sfDocRaise, "guard: %s %s is taken (NAME_TAKEN raised: %s)", kind, name, b.Strings[0])
}

// visible reports whether SHOW lists o for role: SHOW USERS lists every user for a role
// with CREATE USER on the account, else the users it owns (sfDocShowUsers); SHOW
// DATABASES and SHOW ROLES list what the role owns or holds a privilege on
// (sfDocShowDatabases, sfDocShowRoles: "the roles which you can view"; the safe
// reading lists no more than that).
func (a *Snowflake) visible(role string, o *object) bool {
	if a.owns(role, o) {
		return true
	}
	if o.kind == "user" {
		return a.accountPriv(role, "CREATE USER")
	}
	for g := range a.grants {
		if g.on == o.key && g.to.kind == "role" && a.inherits(key{"role", role}, g.to.name) {
			return true
		}
	}
	return o.kind == "role" && a.inherits(key{"role", role}, o.name)
}

// sfLike is SHOW's LIKE: a case-insensitive match in which _ is any one character and
// % any run of characters (sfDocShowRoles).
func sfLike(pattern, s string) bool {
	p, v := []rune(strings.ToUpper(pattern)), []rune(strings.ToUpper(s))
	var m func(i, j int) bool
	m = func(i, j int) bool {
		for i < len(p) {
			switch p[i] {
			case '%':
				for k := j; k <= len(v); k++ {
					if m(i+1, k) {
						return true
					}
				}
				return false
			case '_':
				if j >= len(v) {
					return false
				}
			default:
				if j >= len(v) || p[i] != v[j] {
					return false
				}
			}
			i, j = i+1, j+1
		}
		return j == len(v)
	}
	return m(0, 0)
}

// privilege grants or revokes priv on `on` to role `to`. Granting needs ownership of the
// object or MANAGE GRANTS (account privileges: MANAGE GRANTS) (sfDocGrantPrivilege).
func (a *Snowflake) privilege(r refuser, role string, p *sqlcheck.Parsed, priv string, on key, to string) error {
	if on.kind != "account" && a.objects[on] == nil {
		return r.refuse(sfDocGrantPrivilege, "%s does not exist", on)
	}
	if a.get("role", to) == nil {
		return r.refuse(sfDocGrantPrivilege, "role %s does not exist", to)
	}
	o := a.objects[on]
	if (o == nil || !a.owns(role, o)) && !a.accountPriv(role, "MANAGE GRANTS") {
		return r.refuse(sfDocGrantPrivilege, "granting %s on %s needs ownership of it or MANAGE GRANTS; role %s has neither", priv, on, role)
	}
	g := grant{priv, on, key{"role", to}}
	if p.Words[0] == "REVOKE" {
		delete(a.grants, g)
	} else {
		a.grants[g] = true
	}
	return nil
}

// holds reports whether role (or a role it inherits) holds priv on object k.
func (a *Snowflake) holds(role, priv string, k key) bool {
	for g := range a.grants {
		if g.on == k && g.priv == priv && g.to.kind == "role" && a.inherits(key{"role", role}, g.to.name) {
			return true
		}
	}
	return false
}

// sfPasswordPolicy checks a password against Snowflake's default password policy: 14 to
// 256 characters with at least one upper-case letter, one lower-case letter and one
// digit (sfDocPassword). It returns what is wrong, or "".
func sfPasswordPolicy(pw string) string {
	n := len([]rune(pw))
	var up, low, dig bool
	for _, c := range pw {
		up = up || unicode.IsUpper(c)
		low = low || unicode.IsLower(c)
		dig = dig || unicode.IsDigit(c)
	}
	switch {
	case n < 14 || n > 256:
		return "it must be 14 to 256 characters"
	case !up || !low || !dig:
		return "it needs an upper-case letter, a lower-case letter and a digit"
	}
	return ""
}

func indexWord(ws []string, w string) int {
	for i, x := range ws {
		if x == w {
			return i
		}
	}
	return -1
}

// ServiceCreate is what the governance service does in normal use as session s: make
// an object of kind (table, role) named name, in schema (DATABASE.SCHEMA; "" for a
// role). A table needs ownership of its schema or CREATE TABLE on it; a role needs
// CREATE ROLE on the account (sfDocAccessControl, sfDocCreateRole).
func (a *Snowflake) ServiceCreate(s *Session, kind, schema, name string) error {
	r := refuser{fmt.Sprintf("CREATE %s %s", strings.ToUpper(kind), name)}
	switch kind {
	case "role":
		if !a.accountPriv(s.Role, "CREATE ROLE") {
			return r.refuse(sfDocCreateRole, "role %s lacks CREATE ROLE ON ACCOUNT", s.Role)
		}
		a.add("role", name, s.Role, nil, nil)
		return nil
	default:
		sc := a.get("schema", schema)
		if sc == nil {
			return r.refuse(sfDocCreateSchema, "schema %s does not exist", schema)
		}
		if !a.owns(s.Role, sc) && !a.holds(s.Role, "CREATE "+strings.ToUpper(kind), sc.key) {
			return r.refuse(sfDocAccessControl, "role %s may not create a %s in %s", s.Role, kind, schema)
		}
		a.add(kind, schema+"."+name, s.Role, &sc.key, nil)
		return nil
	}
}

// ServiceGrantRole is the service granting role to user as session s (impersonation,
// table grants): it needs the role's ownership or MANAGE GRANTS (sfDocGrantRole).
func (a *Snowflake) ServiceGrantRole(s *Session, role, user string) error {
	o := a.get("role", role)
	r := refuser{fmt.Sprintf("GRANT ROLE %s TO USER %s", role, user)}
	if o == nil || a.get("user", user) == nil {
		return r.refuse(sfDocGrantRole, "role %s or user %s does not exist", role, user)
	}
	if !a.owns(s.Role, o) && !a.accountPriv(s.Role, "MANAGE GRANTS") {
		return r.refuse(sfDocGrantRole, "GRANT ROLE %s needs its owner role %s or MANAGE GRANTS; role %s has neither", role, o.owner, s.Role)
	}
	a.grants[grant{"USAGE", o.key, key{"user", user}}] = true
	return nil
}

// AddUser adds a user (a person of the account, not made by any script).
func (a *Snowflake) AddUser(name string) { a.add("user", name, "USERADMIN", nil, nil) }

// AddExisting adds an object that exists before any script runs, owned by owner: a
// database, role or user of the same name as one the scripts make.
func (a *Snowflake) AddExisting(kind, name, owner string) {
	a.add(kind, name, owner, nil, nil)
}
