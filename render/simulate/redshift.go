package simulate

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Vendor pages of the Redshift rules.
const (
	rsDocDropUser       = "https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_USER.html"
	rsDocCreateUser     = "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html"
	rsDocCreateDatabase = "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_DATABASE.html"
	rsDocDropDatabase   = "https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_DATABASE.html"
	rsDocCreateGroup    = "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_GROUP.html"
	rsDocDropGroup      = "https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_GROUP.html"
	rsDocCreateSchema   = "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_SCHEMA.html"
	rsDocCast           = "https://docs.aws.amazon.com/redshift/latest/dg/c_Supported_data_types.html"
	rsDocAlterUser      = "https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_USER.html"
	rsDocUsers          = "https://docs.aws.amazon.com/redshift/latest/dg/r_Users-creatingaltering-and-deleting-users.html"
	rsDocDropSchema     = "https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_SCHEMA.html"
	rsDocCreateProc     = "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_PROCEDURE.html"
	rsDocDropProc       = "https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_PROCEDURE.html"
	rsDocGrant          = "https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html"
	rsDocRevoke         = "https://docs.aws.amazon.com/redshift/latest/dg/r_REVOKE.html"
	rsDocDefaultPrivs   = "https://docs.aws.amazon.com/redshift/latest/dg/r_Privileges.html"
)

// Redshift is the model of a Redshift cluster: users, groups and databases are
// cluster-wide; schemas, tables and procedures belong to one database.
type Redshift struct{ catalog }

// NewRedshift returns a cluster with the superuser ADMIN and the databases dev and
// initial (if another name).
func NewRedshift(initial string) *Redshift {
	a := &Redshift{newCatalog()}
	a.add("user", "admin", "", nil, map[string]string{"superuser": "true"})
	for _, d := range []string{"dev", initial} {
		if a.get("database", d) == nil {
			a.newDatabase(d, "admin")
		}
	}
	return a
}

// newDatabase makes database d with its public schema. PUBLIC has TEMP on a new
// database, and USAGE and CREATE on its public schema (rsDocDefaultPrivs).
func (a *Redshift) newDatabase(d, owner string) {
	dk := a.add("database", d, owner, nil, nil).key
	a.grants[grant{"TEMP", dk, key{"public", ""}}] = true
	sk := a.add("schema", d+".public", owner, &dk, nil).key
	a.grants[grant{"USAGE", sk, key{"public", ""}}] = true
	a.grants[grant{"CREATE", sk, key{"public", ""}}] = true
}

// Clone implements Account.
func (a *Redshift) Clone() Account { return &Redshift{a.clone()} }

// Connect opens a session of user on database.
func (a *Redshift) Connect(database, user, _ string) (*Session, error) {
	if a.get("user", user) == nil {
		return nil, fmt.Errorf("user %s does not exist", user)
	}
	if a.get("database", database) == nil {
		return nil, fmt.Errorf("database %s does not exist", database)
	}
	return a.open(&Session{Database: database, Principal: user}), nil
}

func (a *Redshift) superuser(s *Session) bool {
	u := a.get("user", s.Principal)
	return u != nil && u.attrs["superuser"] == "true"
}

// Exec implements Account: one statement per call.
func (a *Redshift) Exec(s *Session, batch ...string) error {
	return execEach(sqlcheck.Redshift, batch, func(p *sqlcheck.Parsed) error { return a.exec(s, p) })
}

func (a *Redshift) exec(s *Session, p *sqlcheck.Parsed) error {
	r := refuser{p.SQL}
	db := s.Database
	super := a.superuser(s)
	inDB := func(name string) string { return db + "." + name }
	switch p.Shape {
	case "guard-names":
		// The guard's SELECT casts one text row per taken name to INTEGER; a string that
		// is not a number cannot be cast, so it fails naming the first taken name, and
		// with no row it changes nothing and succeeds (rsDocCast). The labels and names
		// alternate in Strings: database, user, then the group if any.
		kinds := []string{"database", "user", "group"}
		for i := 1; i < len(p.Strings); i += 2 {
			kind, name := kinds[i/2], p.Strings[i]
			if a.get(kind, name) != nil {
				return r.refuse(rsDocCast, "invalid input syntax for integer: %s already exists: %s", kind, name)
			}
		}
	case "create-user-password", "create-user-password-disable":
		if !super {
			return r.refuse(rsDocCreateUser, "CREATE USER needs a superuser or CREATEUSER")
		}
		// No IF NOT EXISTS: an existing name fails (rsDocCreateUser).
		if a.get("user", p.Idents[0]) != nil {
			return r.refuse(rsDocCreateUser, "user %s already exists", p.Idents[0])
		}
		a.add("user", p.Idents[0], s.Principal, nil, map[string]string{"password": passwordAttr(p)})
	case "alter-user-password", "alter-user-password-disable":
		u := a.get("user", p.Idents[0])
		if u == nil {
			return r.refuse(rsDocCreateUser, "user %s does not exist", p.Idents[0])
		}
		u.attrs["password"] = passwordAttr(p)
	case "alter-user-rename":
		from, to := p.Idents[0], p.Idents[1]
		u := a.get("user", from)
		switch {
		case !super:
			return r.refuse(rsDocAlterUser, "renaming a user needs a superuser or the ALTER USER privilege")
		case u == nil:
			return r.refuse(rsDocAlterUser, "user %s does not exist", from)
		case a.get("user", to) != nil:
			// Users are global to the cluster and their names unique (rsDocUsers).
			return r.refuse(rsDocUsers, "user %s already exists", to)
		}
		a.renameUser(from, to)
		// The user name is part of the password hash: a rename clears the password,
		// and the user cannot sign in until it is set again (rsDocAlterUser).
		if nu := a.get("user", to); nu.attrs["password"] == "set" {
			nu.attrs["password"] = "cleared"
		}
	case "drop-user":
		u := a.get("user", p.Idents[0])
		if u == nil {
			return nil // IF EXISTS
		}
		// DROP USER fails while the user owns objects or holds privileges on them, but
		// only in the database the session is connected to; objects the user owns in
		// other databases are left with an unknown owner (rsDocDropUser).
		uk := u.key
		for _, o := range a.objects {
			if o.owner == u.name && (o.kind == "database" || a.inDatabase(o, db)) {
				return r.refuse(rsDocDropUser, "user %s owns %s: drop it or change its owner first", u.name, o.key)
			}
		}
		for g := range a.grants {
			if g.to == uk && (g.on.kind == "database" || a.objects[g.on] != nil && a.inDatabase(a.objects[g.on], db)) {
				return r.refuse(rsDocDropUser, "user %s holds %s on %s: revoke it first", u.name, g.priv, g.on)
			}
		}
		for _, o := range a.objects {
			if o.owner == u.name {
				o.owner = "unknown"
			}
		}
		a.remove(uk)
	case "create-database":
		if s.InTx {
			return r.refuse(rsDocCreateDatabase, "CREATE DATABASE cannot run inside a transaction block")
		}
		if !super {
			return r.refuse(rsDocCreateDatabase, "CREATE DATABASE needs a superuser or CREATEDB")
		}
		if a.get("database", p.Idents[0]) != nil {
			return r.refuse(rsDocCreateDatabase, "database %s already exists", p.Idents[0])
		}
		a.newDatabase(p.Idents[0], s.Principal)
	case "drop-database-force":
		name := p.Idents[0]
		d := a.get("database", name)
		switch {
		case s.InTx:
			return r.refuse(rsDocDropDatabase, "DROP DATABASE cannot run inside a transaction block")
		case d == nil:
			return r.refuse(rsDocDropDatabase, "database %s does not exist", name)
		case name == db:
			return r.refuse(rsDocDropDatabase, "cannot drop the database the session is connected to")
		case !super && d.owner != s.Principal:
			return r.refuse(rsDocDropDatabase, "only the owner or a superuser may drop database %s", name)
		}
		// Without FORCE, DROP DATABASE fails while other sessions are connected; the
		// scripts always write FORCE, which ends them first (rsDocDropDatabase). That
		// FORCE can still fail when a session does not end within Redshift's timeout is
		// not modelled: the page does not say when that happens.
		for _, o := range a.sessions {
			if o.Database == name {
				o.closed = true
			}
		}
		a.remove(d.key)
	case "grant-database", "revoke-database":
		d := a.get("database", p.Idents[0])
		if d == nil {
			return r.refuse(rsDocGrant, "database %s does not exist", p.Idents[0])
		}
		if !super && d.owner != s.Principal {
			return r.refuse(rsDocGrant, "only the owner or a superuser may grant on database %s", d.name)
		}
		to, err := a.grantee(r, p.Idents[1])
		if err != nil {
			return err
		}
		for _, priv := range []string{"TEMP", "CREATE"} {
			g := grant{priv, d.key, to}
			if p.Words[0] == "GRANT" {
				a.grants[g] = true
			} else {
				delete(a.grants, g)
			}
		}
	case "create-schema":
		name, owner := p.Idents[0], p.Idents[1]
		if a.get("user", owner) == nil {
			return r.refuse(rsDocCreateSchema, "user %s does not exist", owner)
		}
		if a.get("schema", inDB(name)) != nil {
			return nil // IF NOT EXISTS
		}
		d := a.get("database", db)
		a.add("schema", inDB(name), owner, &d.key, nil)
	case "drop-schema":
		sc := a.get("schema", inDB(p.Idents[0]))
		if sc == nil {
			return nil // IF EXISTS
		}
		if !super && sc.owner != s.Principal {
			return r.refuse(rsDocDropSchema, "only the owner or a superuser may drop schema %s", sc.name)
		}
		// CASCADE drops everything in the schema (rsDocDropSchema).
		a.remove(sc.key)
	case "grant-schema-usage-public":
		sc := a.get("schema", inDB(p.Idents[0]))
		if sc == nil {
			return r.refuse(rsDocGrant, "schema %s does not exist in %s", p.Idents[0], db)
		}
		// Only the owner, a superuser or a holder of the grant option may grant
		// (rsDocGrant); PUBLIC is every user, present and future.
		if !super && sc.owner != s.Principal {
			return r.refuse(rsDocGrant, "only the owner or a superuser may grant on schema %s", sc.name)
		}
		a.grants[grant{"USAGE", sc.key, key{"public", ""}}] = true
	case "create-group":
		if !super {
			return r.refuse(rsDocCreateGroup, "CREATE GROUP needs a superuser")
		}
		if a.get("group", p.Idents[0]) != nil {
			return r.refuse(rsDocCreateGroup, "group %s already exists", p.Idents[0])
		}
		a.add("group", p.Idents[0], s.Principal, nil, nil)
	case "drop-group":
		g := a.get("group", p.Idents[0])
		if g == nil {
			return r.refuse(rsDocDropGroup, "group %s does not exist", p.Idents[0])
		}
		// A group that holds privileges on an object cannot be dropped: revoke them
		// first (rsDocDropGroup).
		for gr := range a.grants {
			if gr.to == g.key {
				return r.refuse(rsDocDropGroup, "group %s holds %s on %s", g.name, gr.priv, gr.on)
			}
		}
		a.remove(g.key)
	case "create-procedure":
		sc := a.get("schema", inDB(p.Idents[0]))
		if sc == nil {
			return r.refuse(rsDocCreateProc, "schema %s does not exist in %s", p.Idents[0], db)
		}
		name := inDB(p.Idents[0] + "." + p.Idents[1])
		if old := a.get("procedure", name); old != nil {
			// OR REPLACE keeps the procedure (its owner and grants); only its owner or a
			// superuser may replace it (rsDocCreateProc).
			if !super && old.owner != s.Principal {
				return r.refuse(rsDocCreateProc, "only the owner of %s may replace it", name)
			}
			old.attrs["definer"], old.attrs["body"] = "true", bodyOf(p.SQL)
			return nil
		}
		pk := a.add("procedure", name, s.Principal, &sc.key, map[string]string{"definer": "true", "body": bodyOf(p.SQL)}).key
		// New procedures are executable by PUBLIC (rsDocCreateProc).
		a.grants[grant{"EXECUTE", pk, key{"public", ""}}] = true
	case "drop-procedure":
		pr := a.get("procedure", inDB(p.Idents[0]+"."+p.Idents[1]))
		if pr == nil {
			return nil // IF EXISTS
		}
		if !super && pr.owner != s.Principal {
			return r.refuse(rsDocDropProc, "only the owner or a superuser may drop %s", pr.name)
		}
		a.remove(pr.key)
	case "revoke-procedure-public", "grant-procedure", "revoke-procedure":
		pr := a.get("procedure", inDB(p.Idents[0]+"."+p.Idents[1]))
		if pr == nil {
			return r.refuse(rsDocGrant, "procedure %s.%s does not exist in %s", p.Idents[0], p.Idents[1], db)
		}
		to := key{"public", ""}
		if p.Shape != "revoke-procedure-public" {
			var err error
			if to, err = a.grantee(r, p.Idents[2]); err != nil {
				return err
			}
		}
		if p.Words[0] == "GRANT" {
			a.grants[grant{"EXECUTE", pr.key, to}] = true
		} else {
			delete(a.grants, grant{"EXECUTE", pr.key, to})
		}
	default:
		return r.refuse("", "the Redshift model has no rule for shape %s", p.Shape)
	}
	return nil
}

// renameUser gives user from the name to: it is the same user, so it keeps every object
// it owns (in every database), its privileges and its group memberships
// (rsDocAlterUser).
func (a *Redshift) renameUser(from, to string) {
	fk, tk := key{"user", from}, key{"user", to}
	u := a.objects[fk]
	delete(a.objects, fk)
	u.key = tk
	a.objects[tk] = u
	for _, o := range a.objects {
		if o.owner == from {
			o.owner = to
		}
	}
	rekey(a.grants, func(g grant) bool { return g.to == fk }, func(g grant) grant { g.to = tk; return g })
	rekey(a.members, func(m membership) bool { return m.member == fk }, func(m membership) membership { m.member = tk; return m })
	for _, s := range a.sessions {
		if s.Principal == from {
			s.Principal = to
		}
	}
}

func passwordAttr(p *sqlcheck.Parsed) string {
	if p.Has("DISABLE") {
		return "disabled"
	}
	return "set"
}

// grantee resolves a grantee name: a user (groups are written GROUP name, which the
// scripts do not use).
func (a *Redshift) grantee(r refuser, name string) (key, error) {
	if a.get("user", name) == nil {
		return key{}, r.refuse(rsDocGrant, "user %s does not exist", name)
	}
	return key{"user", name}, nil
}

// inDatabase reports whether o lives in database db.
func (a *Redshift) inDatabase(o *object, db string) bool {
	return strings.HasPrefix(o.name, db+".") && o.kind != "database"
}

// ServiceCreate is the governance service, as session s, making a table in schema (of
// the session's database): it needs CREATE on the schema or its ownership (rsDocGrant).
func (a *Redshift) ServiceCreate(s *Session, kind, schema, name string) error {
	r := refuser{fmt.Sprintf("CREATE %s %s.%s", strings.ToUpper(kind), schema, name)}
	sc := a.get("schema", s.Database+"."+schema)
	if sc == nil {
		return r.refuse(rsDocCreateSchema, "schema %s does not exist in %s", schema, s.Database)
	}
	if sc.owner != s.Principal && !a.superuser(s) && !a.grants[grant{"CREATE", sc.key, key{"user", s.Principal}}] {
		return r.refuse(rsDocGrant, "user %s has no CREATE on schema %s", s.Principal, schema)
	}
	a.add(kind, sc.name+"."+name, s.Principal, &sc.key, nil)
	return nil
}

// ServiceCall is the service calling procedure schema.name(arg) as session s: it
// needs EXECUTE (to the user or PUBLIC). The impersonation procedures run ALTER GROUP
// as their owner (SECURITY DEFINER), which must be a superuser (rsDocCreateProc).
func (a *Redshift) ServiceCall(s *Session, schema, name, group, action, user string) error {
	r := refuser{fmt.Sprintf("CALL %s.%s('%s')", schema, name, user)}
	pr := a.get("procedure", s.Database+"."+schema+"."+name)
	if pr == nil {
		return r.refuse(rsDocCreateProc, "procedure %s.%s does not exist", schema, name)
	}
	if !a.grants[grant{"EXECUTE", pr.key, key{"user", s.Principal}}] && !a.grants[grant{"EXECUTE", pr.key, key{"public", ""}}] && !a.superuser(s) {
		return r.refuse(rsDocGrant, "user %s has no EXECUTE on %s", s.Principal, pr.name)
	}
	owner := a.get("user", pr.owner)
	if owner == nil || owner.attrs["superuser"] != "true" {
		return r.refuse(rsDocCreateProc, "the definer %s of %s is not a superuser: ALTER GROUP fails", pr.owner, pr.name)
	}
	g, u := a.get("group", group), a.get("user", user)
	if g == nil || u == nil {
		return r.refuse(rsDocCreateGroup, "group %s or user %s does not exist", group, user)
	}
	m := membership{g.key, u.key}
	if action == "ADD" {
		a.members[m] = true
	} else {
		delete(a.members, m)
	}
	return nil
}

// AddUser adds a user of the cluster (a person, not made by any script).
func (a *Redshift) AddUser(name string) { a.add("user", name, "admin", nil, nil) }

// AddExisting adds an object that exists before any script runs: a user, group or
// database of the same name as one the scripts make.
func (a *Redshift) AddExisting(kind, name, owner string) {
	if kind == "database" {
		a.newDatabase(name, owner)
		return
	}
	a.add(kind, name, owner, nil, nil)
}

// bodyOf identifies the body of a CREATE PROCEDURE (the text between its first and
// last $$) by a hash, so that a snapshot shows a replaced body without printing it.
func bodyOf(sql string) string {
	i, j := strings.Index(sql, "$$"), strings.LastIndex(sql, "$$")
	if i < 0 || j <= i {
		return ""
	}
	h := fnv.New64a()
	h.Write([]byte(sql[i+2 : j]))
	return strconv.FormatUint(h.Sum64(), 16)
}
