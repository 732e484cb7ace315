package simulate

import (
	"fmt"
	"strings"

	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Vendor pages of the Synapse (dedicated SQL pool) rules.
const (
	syDocCreateLogin  = "https://learn.microsoft.com/en-us/sql/t-sql/statements/create-login-transact-sql"
	syDocDropLogin    = "https://learn.microsoft.com/en-us/sql/t-sql/statements/drop-login-transact-sql"
	syDocCreateUser   = "https://learn.microsoft.com/en-us/sql/t-sql/statements/create-user-transact-sql"
	syDocDropUser     = "https://learn.microsoft.com/en-us/sql/t-sql/statements/drop-user-transact-sql"
	syDocCreateRole   = "https://learn.microsoft.com/en-us/sql/t-sql/statements/create-role-transact-sql"
	syDocDropRole     = "https://learn.microsoft.com/en-us/sql/t-sql/statements/drop-role-transact-sql"
	syDocAddMember    = "https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-addrolemember-transact-sql"
	syDocCreateSchema = "https://learn.microsoft.com/en-us/sql/t-sql/statements/create-schema-transact-sql"
	syDocDropSchema   = "https://learn.microsoft.com/en-us/sql/t-sql/statements/drop-schema-transact-sql"
	syDocGrantSchema  = "https://learn.microsoft.com/en-us/sql/t-sql/statements/grant-schema-permissions-transact-sql"
	syDocFixedRoles   = "https://learn.microsoft.com/en-us/sql/relational-databases/security/authentication-access/database-level-roles"
	syDocEntraUsers   = "https://learn.microsoft.com/en-us/azure/synapse-analytics/sql/active-directory-authentication"
	syDocCreateTable  = "https://learn.microsoft.com/en-us/sql/t-sql/statements/create-table-azure-sql-data-warehouse"
	syDocThrow        = "https://learn.microsoft.com/en-us/sql/t-sql/language-elements/throw-transact-sql"
	syDocDropMember   = "https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-droprolemember-transact-sql"
	syDocLoops        = "https://learn.microsoft.com/en-us/azure/synapse-analytics/sql-data-warehouse/sql-data-warehouse-develop-loops"
	syDocGrantDB      = "https://learn.microsoft.com/en-us/sql/t-sql/statements/grant-database-permissions-transact-sql"
	syDocSQLLogins    = "https://learn.microsoft.com/en-us/sql/relational-databases/system-catalog-views/sys-sql-logins-transact-sql"
	syDocKill         = "https://learn.microsoft.com/en-us/sql/t-sql/language-elements/kill-transact-sql"
	syDocPdwSessions  = "https://learn.microsoft.com/en-us/sql/relational-databases/system-dynamic-management-views/sys-dm-pdw-exec-sessions-transact-sql"
	syDocSystemViews  = "https://learn.microsoft.com/en-us/azure/synapse-analytics/sql-data-warehouse/sql-data-warehouse-reference-tsql-system-views"
)

// syKillSessionsStrings are the string literals of the kill-login-sessions shape after
// the login name: the past statuses it leaves out (syDocPdwSessions), the KILL it builds
// with the quote QUOTENAME takes (syDocKill), the login name and the statuses again. The
// model knows that form only.
var syKillSessionsStrings = []string{"CLOSED", "TERMINATED", "KILL ", "'"}

// syDropObjectsStrings are the string literals of the drop-schema-with-objects shape
// after the schema name: the sys.objects types it orders and drops
// (https://learn.microsoft.com/en-us/sql/relational-databases/system-catalog-views/sys-objects-transact-sql),
// the DROP statements it builds, and the schema name again. The model knows that form
// only.
var syDropObjectsStrings = []string{"V", "P", "U", "DROP ", "V", "VIEW ", "P", "PROCEDURE ", "U", "TABLE ", "FUNCTION ", "."}

// syDroppable are the kinds of object (of this model) the loop drops: U, V, P and the
// function types.
var syDroppable = map[string]bool{"table": true, "view": true, "procedure": true, "function": true}

// syFixedRoles are the fixed database roles of a dedicated SQL pool database
// (syDocFixedRoles).
var syFixedRoles = []string{"db_owner", "db_datareader", "db_datawriter", "db_ddladmin", "db_securityadmin", "db_accessadmin", "db_backupoperator", "db_denydatareader", "db_denydatawriter"}

// Synapse is the model of a Synapse workspace's dedicated SQL endpoint: logins in
// master; users, roles, schemas and objects per database.
type Synapse struct {
	catalog
	// entra maps the display names of the Microsoft Entra applications of the tenant
	// to their client ids.
	entra map[string]string
}

// SynapseAdmin is the server admin login: dbo in every database.
const SynapseAdmin = "sqladminuser"

// NewSynapse returns a server with master, the database db (with dbo, public, the
// fixed roles and the dbo schema), the server admin login and the Entra applications
// given as display name -> client id.
func NewSynapse(db string, entra map[string]string) *Synapse {
	a := &Synapse{catalog: newCatalog(), entra: map[string]string{}}
	for n, id := range entra {
		a.entra[n] = id
	}
	a.add("login", SynapseAdmin, "", nil, map[string]string{"admin": "true"})
	for _, d := range []string{"master", db} {
		dk := a.add("database", d, SynapseAdmin, nil, nil).key
		a.add("user", d+".dbo", "", &dk, map[string]string{"login": SynapseAdmin})
		a.add("role", d+".public", "dbo", &dk, map[string]string{"fixed": "true"})
		for _, r := range syFixedRoles {
			a.add("role", d+"."+r, "dbo", &dk, map[string]string{"fixed": "true"})
		}
		a.add("schema", d+".dbo", "dbo", &dk, nil)
	}
	return a
}

// Clone implements Account.
func (a *Synapse) Clone() Account {
	n := &Synapse{catalog: a.clone(), entra: a.entra}
	return n
}

// Connect opens a session of login (or Entra principal) on database.
func (a *Synapse) Connect(database, login, _ string) (*Session, error) {
	if a.get("database", database) == nil {
		return nil, fmt.Errorf("database %s does not exist", database)
	}
	if a.get("login", login) == nil && a.get("user", database+"."+login) == nil {
		return nil, fmt.Errorf("login %s does not exist", login)
	}
	return a.open(&Session{Database: database, Principal: login}), nil
}

// dbUser is the database user of session s: dbo for the server admin.
func (a *Synapse) dbUser(s *Session) string {
	if l := a.get("login", s.Principal); l != nil && l.attrs["admin"] == "true" {
		return "dbo"
	}
	return s.Principal
}

// Exec implements Account: the statements of one batch.
func (a *Synapse) Exec(s *Session, batch ...string) error {
	var ps []*sqlcheck.Parsed
	for _, sql := range batch {
		p, err := sqlcheck.Parse(sqlcheck.Synapse, sql)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		// CREATE LOGIN, and CREATE SCHEMA, must be the only statement of their batch:
		// not after another statement, and not inside an IF (syDocCreateLogin,
		// syDocCreateSchema).
		for _, w := range [][2]string{{"CREATE", "LOGIN"}, {"CREATE", "SCHEMA"}} {
			if p.Has(w[0], w[1]) && (len(ps) > 1 || p.Words[0] != w[0] || p.Words[1] != w[1]) {
				src := syDocCreateLogin
				if w[1] == "SCHEMA" {
					src = syDocCreateSchema
				}
				return (refuser{p.SQL}).refuse(src, "%s %s must be the only statement in its batch", w[0], w[1])
			}
		}
		if err := a.exec(s, p); err != nil {
			return err
		}
	}
	return nil
}

func (a *Synapse) exec(s *Session, p *sqlcheck.Parsed) error {
	r := refuser{p.SQL}
	db := s.Database
	me := a.dbUser(s)
	dbk := key{"database", db}
	inDB := func(n string) string { return db + "." + n }
	principal := func(n string) *object {
		if o := a.get("user", inDB(n)); o != nil {
			return o
		}
		return a.get("role", inDB(n))
	}
	switch p.Shape {
	case "create-login":
		if db != "master" {
			return r.refuse(syDocCreateLogin, "logins can be created only in master")
		}
		name := p.Idents[0]
		if a.get("login", name) != nil {
			return r.refuse(syDocCreateLogin, "login %s already exists", name)
		}
		a.add("login", name, "", nil, map[string]string{"password": "set"})
	case "alter-login":
		l := a.get("login", p.Idents[0])
		if l == nil {
			return r.refuse(syDocCreateLogin, "login %s does not exist", p.Idents[0])
		}
	case "drop-login":
		if db != "master" {
			return r.refuse(syDocDropLogin, "logins can be dropped only in master")
		}
		l := a.get("login", p.Strings[0])
		if l == nil {
			return nil // guarded
		}
		// A login that is signed in cannot be dropped (syDocDropLogin).
		for _, o := range a.sessions {
			if !o.closed && o.Principal == l.name {
				return r.refuse(syDocDropLogin, "login %s is signed in: it cannot be dropped while it has a session", l.name)
			}
		}
		a.remove(l.key)
	case "kill-login-sessions":
		name := p.Strings[0]
		want := append(append([]string{name}, syKillSessionsStrings...), name, "CLOSED", "TERMINATED")
		if strings.Join(p.Strings, "\x00") != strings.Join(want, "\x00") {
			return r.refuse(syDocKill, "the model knows this loop only in the form of templates/synapse/sessions.sql.tmpl")
		}
		// sys.dm_pdw_exec_sessions is a view of the dedicated SQL pool, not of master
		// (syDocSystemViews), and needs VIEW SERVER STATE (syDocPdwSessions), which the
		// model gives the server admin only; KILL documents no other permission for
		// Azure Synapse (syDocKill).
		if db == "master" {
			return r.refuse(syDocSystemViews, "sys.dm_pdw_exec_sessions is a view of the dedicated SQL pool, not of master")
		}
		if l := a.get("login", s.Principal); l == nil || l.attrs["admin"] != "true" {
			return r.refuse(syDocPdwSessions, "%s has no VIEW SERVER STATE: sys.dm_pdw_exec_sessions needs it", s.Principal)
		}
		// The loop runs KILL 'SIDnnn' for every open session of the login on this pool
		// other than the runner's own (syDocKill: one cannot kill one's own session);
		// each ends. A login with no open session is left as it is.
		for _, o := range a.sessions {
			if o != s && !o.closed && o.Principal == name && o.Database == db {
				o.closed = true
			}
		}
	case "guard-login":
		// sys.sql_logins lists the logins of the server, in master (syDocSQLLogins); the
		// guard's THROW ends the batch with its error (syDocThrow).
		if db != "master" {
			return r.refuse(syDocSQLLogins, "sys.sql_logins lists logins only in master")
		}
		if a.get("login", p.Strings[0]) != nil {
			return r.refuse(syDocThrow, "login %s already exists: the guard stops the script", p.Strings[0])
		}
	case "guard-principal":
		if principal(p.Strings[0]) != nil {
			return r.refuse(syDocThrow, "user or role %s already exists in %s: the guard stops the script", p.Strings[0], db)
		}
	case "guard-schema":
		if a.get("schema", inDB(p.Strings[0])) != nil {
			return r.refuse(syDocThrow, "schema %s already exists in %s: the guard stops the script", p.Strings[0], db)
		}
	case "create-user":
		name := p.Idents[0]
		if principal(name) != nil {
			return r.refuse(syDocCreateUser, "user %s already exists", name)
		}
		attrs := map[string]string{}
		if p.Has("EXTERNAL", "PROVIDER") {
			// The name of an Entra user is the application's display name; a name the
			// tenant does not know fails (syDocEntraUsers).
			if _, ok := a.entra[name]; !ok {
				return r.refuse(syDocEntraUsers, "no Microsoft Entra principal has the display name %s", name)
			}
			attrs["external"] = "true"
		} else {
			login := p.Idents[1]
			if a.get("login", login) == nil {
				return r.refuse(syDocCreateUser, "login %s does not exist", login)
			}
			attrs["login"] = login
		}
		a.add("user", inDB(name), me, &dbk, attrs)
	case "drop-user":
		u := a.get("user", inDB(p.Strings[0]))
		if u == nil {
			return nil // guarded
		}
		// A user that owns securables (schemas, roles) cannot be dropped
		// (syDocDropUser).
		for _, o := range a.objects {
			if o.owner == strings.TrimPrefix(u.name, db+".") && o.parent != nil && *o.parent == dbk {
				return r.refuse(syDocDropUser, "user %s owns %s: transfer it first", p.Strings[0], o.key)
			}
		}
		a.remove(u.key)
	case "create-role":
		if principal(p.Idents[0]) != nil {
			return r.refuse(syDocCreateRole, "role %s already exists", p.Idents[0])
		}
		// Without AUTHORIZATION the creating user owns the role (syDocCreateRole).
		owner := me
		if len(p.Idents) > 1 {
			owner = p.Idents[1]
			if principal(owner) == nil {
				return r.refuse(syDocCreateRole, "owner %s does not exist", owner)
			}
		}
		a.add("role", inDB(p.Idents[0]), owner, &dbk, nil)
	case "drop-role-with-members":
		name := p.Strings[0]
		if len(p.Strings) != 4 || p.Strings[1] != "R" || p.Strings[2] != name || p.Strings[3] != name || p.Idents[len(p.Idents)-1] != name {
			return r.refuse(syDocDropRole, "the model knows this loop only for one role named alike in every place")
		}
		ro := a.get("role", inDB(name))
		if ro == nil {
			return nil // guarded (type 'R': a role)
		}
		// sp_droprolemember needs ALTER on the role (syDocDropMember); the loop runs it
		// for every row of sys.database_role_members of the role (syDocLoops).
		if me != "dbo" && !a.members[membership{key{"role", inDB("db_owner")}, key{"user", inDB(me)}}] && !a.grants[grant{"ALTER", ro.key, key{"user", inDB(me)}}] {
			return r.refuse(syDocDropMember, "user %s has no ALTER on role %s", me, name)
		}
		for m := range a.members {
			if m.role == ro.key {
				delete(a.members, m)
			}
		}
		// A role with members, or that owns securables, cannot be dropped (syDocDropRole).
		for _, o := range a.objects {
			if o.owner == name && o.parent != nil && *o.parent == dbk {
				return r.refuse(syDocDropRole, "role %s owns %s: transfer it first", name, o.key)
			}
		}
		a.remove(ro.key)
	case "add-role-member", "drop-role-member":
		ro := a.get("role", inDB(p.Strings[0]))
		mem := principal(p.Strings[1])
		if ro == nil || mem == nil {
			return r.refuse(syDocAddMember, "role %s or principal %s does not exist in %s", p.Strings[0], p.Strings[1], db)
		}
		m := membership{ro.key, mem.key}
		if p.Shape == "add-role-member" {
			a.members[m] = true
		} else {
			delete(a.members, m)
		}
	case "create-schema-guarded":
		if a.get("schema", inDB(p.Strings[0])) != nil {
			return nil
		}
		if p.Exec == nil {
			return r.refuse(syDocCreateSchema, "no statement inside sp_executesql")
		}
		// sp_executesql runs its statement as a batch of its own.
		return a.exec(s, p.Exec)
	case "create-schema":
		name, owner := p.Idents[0], p.Idents[1]
		if a.get("schema", inDB(name)) != nil {
			return r.refuse(syDocCreateSchema, "schema %s already exists", name)
		}
		if principal(owner) == nil {
			return r.refuse(syDocCreateSchema, "principal %s does not exist", owner)
		}
		a.add("schema", inDB(name), owner, &dbk, nil)
	case "drop-schema-with-objects", "drop-schema-if-empty":
		sc := a.get("schema", inDB(p.Strings[0]))
		if p.Shape == "drop-schema-with-objects" {
			want := append(append([]string{p.Strings[0]}, syDropObjectsStrings...), p.Strings[0], "U", "V", "P", "FN", "IF", "TF")
			if strings.Join(p.Strings, "\x00") != strings.Join(want, "\x00") || p.Idents[len(p.Idents)-1] != p.Strings[0] {
				return r.refuse(syDocDropSchema, "the model knows this loop only in the form of templates/synapse/schema.sql.tmpl")
			}
		}
		if sc == nil {
			return nil // guarded
		}
		if p.Shape == "drop-schema-with-objects" {
			// The loop drops the schema's tables, views, procedures and functions, one
			// sp_executesql each (syDocLoops); objects of other types stay.
			for _, o := range a.children(sc.key) {
				if syDroppable[o.kind] {
					a.remove(o.key)
				}
			}
		}
		contents := a.children(sc.key)
		if p.Shape == "drop-schema-if-empty" && len(contents) > 0 {
			return nil
		}
		// A schema that holds objects cannot be dropped (syDocDropSchema).
		if len(contents) > 0 {
			return r.refuse(syDocDropSchema, "schema %s holds %s: drop its objects first", p.Strings[0], contents[0].key)
		}
		a.remove(sc.key)
	case "create-metadata-table":
		if a.get("table", inDB(p.Idents[0]+"."+p.Idents[1])) != nil {
			return nil // guarded
		}
		sc := a.get("schema", inDB(p.Idents[0]))
		if sc == nil {
			return r.refuse(syDocCreateTable, "schema %s does not exist", p.Idents[0])
		}
		a.add("table", inDB(p.Idents[0]+"."+p.Idents[1]), sc.owner, &sc.key, nil)
	case "drop-metadata-table":
		t := a.get("table", inDB(p.Idents[0]+"."+p.Idents[1]))
		if t != nil {
			a.remove(t.key)
		}
	case "insert-metadata-row":
		t := a.get("table", inDB(p.Idents[0]+"."+p.Idents[1]))
		if t == nil {
			return r.refuse(syDocCreateTable, "table %s.%s does not exist", p.Idents[0], p.Idents[1])
		}
		if t.attrs["rows"] == "" {
			t.attrs["rows"] = "1"
		}
	case "grant-schema", "revoke-schema", "grant-role", "revoke-role":
		kind := "schema"
		if strings.HasSuffix(p.Shape, "role") {
			kind = "role"
		}
		on := a.get(kind, inDB(p.Idents[0]))
		to := principal(p.Idents[1])
		if on == nil || to == nil {
			return r.refuse(syDocGrantSchema, "%s %s or principal %s does not exist in %s", kind, p.Idents[0], p.Idents[1], db)
		}
		g := grant{p.Words[1], on.key, to.key}
		if p.Words[0] == "GRANT" {
			a.grants[g] = true
		} else {
			delete(a.grants, g)
		}
	case "grant-database", "revoke-database":
		// CREATE TABLE, VIEW, PROCEDURE, FUNCTION are database permissions (syDocGrantDB).
		to := principal(p.Idents[0])
		if to == nil {
			return r.refuse(syDocGrantDB, "principal %s does not exist in %s", p.Idents[0], db)
		}
		g := grant{p.Words[1] + " " + p.Words[2], dbk, to.key}
		if p.Words[0] == "GRANT" {
			a.grants[g] = true
		} else {
			delete(a.grants, g)
		}
	default:
		return r.refuse("", "the Synapse model has no rule for shape %s", p.Shape)
	}
	return nil
}

// can reports whether database user u may create an object of kind in schema sc: it
// needs the CREATE permission of the kind on the database (db_ddladmin and db_owner
// have them) and ALTER (or CONTROL, or ownership) on the schema (syDocFixedRoles,
// syDocGrantSchema).
func (a *Synapse) can(db, u, kind string, sc *object) bool {
	uk := key{"user", db + "." + u}
	member := func(role string) bool { return a.members[membership{key{"role", db + "." + role}, uk}] }
	if u == "dbo" || member("db_owner") {
		return true
	}
	dbk := key{"database", db}
	create := member("db_ddladmin") || a.grants[grant{"CREATE " + strings.ToUpper(kind), dbk, uk}]
	alter := member("db_ddladmin") || sc.owner == u || a.grants[grant{"ALTER", sc.key, uk}] || a.grants[grant{"CONTROL", sc.key, uk}]
	return create && alter
}

// ServiceCreate is the governance service, as session s, making an object of kind
// (table, view, procedure) in schema of the session's database.
func (a *Synapse) ServiceCreate(s *Session, kind, schema, name string) error {
	r := refuser{fmt.Sprintf("CREATE %s [%s].[%s]", strings.ToUpper(kind), schema, name)}
	sc := a.get("schema", s.Database+"."+schema)
	if sc == nil {
		return r.refuse(syDocCreateSchema, "schema %s does not exist", schema)
	}
	if !a.can(s.Database, a.dbUser(s), kind, sc) {
		return r.refuse(syDocFixedRoles, "user %s may not create a %s in schema %s", a.dbUser(s), kind, schema)
	}
	a.add(kind, sc.name+"."+name, sc.owner, &sc.key, nil)
	return nil
}

// ServiceDrop is the governance service, as session s, dropping an object of kind it
// made in schema: the owner of the schema, CONTROL on the schema, or db_owner may
// (syDocGrantSchema).
func (a *Synapse) ServiceDrop(s *Session, kind, schema, name string) error {
	r := refuser{fmt.Sprintf("DROP %s [%s].[%s]", strings.ToUpper(kind), schema, name)}
	sc := a.get("schema", s.Database+"."+schema)
	if sc == nil {
		return r.refuse(syDocDropSchema, "schema %s does not exist", schema)
	}
	o := a.get(kind, sc.name+"."+name)
	if o == nil {
		return r.refuse(syDocGrantSchema, "%s %s.%s does not exist", kind, schema, name)
	}
	u := a.dbUser(s)
	uk := key{"user", s.Database + "." + u}
	if u != "dbo" && sc.owner != u && !a.grants[grant{"CONTROL", sc.key, uk}] && !a.members[membership{key{"role", s.Database + ".db_owner"}, uk}] {
		return r.refuse(syDocGrantSchema, "user %s may not drop %s in schema %s", u, kind, schema)
	}
	a.remove(o.key)
	return nil
}

// ServiceAddMember is the service adding member to role (impersonation): it needs
// ALTER on the role, or membership of db_securityadmin or db_owner (syDocAddMember).
func (a *Synapse) ServiceAddMember(s *Session, role, member string) error {
	db := s.Database
	r := refuser{fmt.Sprintf("EXEC sp_addrolemember N'%s', N'%s'", role, member)}
	ro := a.get("role", db+"."+role)
	mem := a.get("user", db+"."+member)
	if ro == nil || mem == nil {
		return r.refuse(syDocAddMember, "role %s or user %s does not exist", role, member)
	}
	u := a.dbUser(s)
	uk := key{"user", db + "." + u}
	if u != "dbo" && !a.grants[grant{"ALTER", ro.key, uk}] && !a.members[membership{key{"role", db + ".db_owner"}, uk}] {
		return r.refuse(syDocAddMember, "user %s has no ALTER on role %s", u, role)
	}
	a.members[membership{ro.key, mem.key}] = true
	return nil
}

// AddUser adds a database user of db without login (a person, not made by a script).
func (a *Synapse) AddUser(db, name string) {
	dk := key{"database", db}
	a.add("user", db+"."+name, "dbo", &dk, nil)
}

// AddExisting adds an object that exists before any script runs: a login (name), or a
// user, role or schema (database.name) of the same name as one the scripts make.
func (a *Synapse) AddExisting(kind, name, owner string) {
	if kind == "login" {
		a.add("login", name, "", nil, nil)
		return
	}
	db := name[:strings.IndexByte(name, '.')]
	dk := key{"database", db}
	a.add(kind, name, owner, &dk, nil)
}
