// Package simulate is an executable model of the platform rules that decide whether a
// generated statement succeeds on Snowflake, Amazon Redshift or an Azure Synapse
// dedicated SQL pool, and what it leaves behind. The engine's guarantees (create runs
// on an empty account, delete and cleanup return the account to what it was, an edit
// leaves what a fresh create leaves, nothing that existed before is adopted or dropped)
// are tested on it over the whole golden corpus.
//
// What it tracks: objects (databases, schemas, users, logins, roles and groups,
// procedures, tables), their owners, grants, role and group membership, each session's
// database, principal and role, open sessions, transactions (Redshift) and batches
// (Synapse GO).
//
// How it reads statements: through sqlcheck.Parse, so a statement form exists only in
// its template and its closed-grammar shape; the model dispatches on the shape's name
// and reads the names the shape captured.
//
// Where its rules come from: every rule cites the vendor page it is derived from (a
// comment, and the Source of the Refusal it returns). What it cannot know is anything
// the vendors do not document, and whatever differs on a given account (network
// policies, custom privileges, object tags, running queries): a statement it accepts may
// still fail there, but one it refuses fails for the documented reason.
//
// It is a test dependency of the engine: the server and the CLI do not import it, and
// like the engine it must never import net/http, database/sql, os/exec or an internal
// package.
package simulate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Refusal is a statement the platform would refuse: the rule that refuses it and the
// vendor page the rule comes from.
type Refusal struct {
	SQL    string
	Rule   string
	Source string
}

// Error formats the refusal as "rule (source): sql".
func (r *Refusal) Error() string {
	return fmt.Sprintf("%s (%s): %s", r.Rule, r.Source, firstLine(r.SQL))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// Session is one connection: the database it is connected to ("account" on
// Snowflake), the principal it signed in as, its current role (Snowflake) and whether a
// transaction block is open (Redshift).
type Session struct {
	Database  string
	Principal string
	Role      string
	InTx      bool
	closed    bool
}

// key names an object: its kind and its full name (database-qualified where the
// platform scopes it to a database).
type key struct{ kind, name string }

func (k key) String() string { return k.kind + " " + k.name }

type object struct {
	key
	owner string
	// parent is the containing object (a schema's database, a table's schema).
	parent *key
	attrs  map[string]string
}

// grant is one privilege on an object (or the account) to a grantee.
type grant struct {
	priv string
	on   key
	to   key
}

// membership is member in role (or group).
type membership struct{ role, member key }

// catalog is the state every platform model keeps.
type catalog struct {
	objects  map[key]*object
	grants   map[grant]bool
	members  map[membership]bool
	sessions []*Session
}

func newCatalog() catalog {
	return catalog{objects: map[key]*object{}, grants: map[grant]bool{}, members: map[membership]bool{}}
}

func (c *catalog) clone() catalog {
	n := newCatalog()
	for k, o := range c.objects {
		cp := *o
		cp.attrs = map[string]string{}
		for a, v := range o.attrs {
			cp.attrs[a] = v
		}
		n.objects[k] = &cp
	}
	for g := range c.grants {
		n.grants[g] = true
	}
	for m := range c.members {
		n.members[m] = true
	}
	return n
}

func (c *catalog) get(kind, name string) *object { return c.objects[key{kind, name}] }

func (c *catalog) add(kind, name, owner string, parent *key, attrs map[string]string) *object {
	if attrs == nil {
		attrs = map[string]string{}
	}
	o := &object{key: key{kind, name}, owner: owner, parent: parent, attrs: attrs}
	c.objects[o.key] = o
	return o
}

// remove deletes k, everything it contains, and every grant and membership that names
// any of them.
func (c *catalog) remove(k key) {
	delete(c.objects, k)
	for _, o := range c.objects {
		if o.parent != nil && *o.parent == k {
			c.remove(o.key)
		}
	}
	for g := range c.grants {
		if g.on == k || g.to == k {
			delete(c.grants, g)
		}
	}
	for m := range c.members {
		if m.role == k || m.member == k {
			delete(c.members, m)
		}
	}
}

// children returns the objects directly inside k.
func (c *catalog) children(k key) []*object {
	var out []*object
	for _, o := range c.objects {
		if o.parent != nil && *o.parent == k {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key.String() < out[j].key.String() })
	return out
}

// rekey replaces each key k of set m for which match(k) holds by change(k).
func rekey[K comparable](m map[K]bool, match func(K) bool, change func(K) K) {
	for k := range m {
		if match(k) {
			delete(m, k)
			m[change(k)] = true
		}
	}
}

// execEach parses each statement of batch in dialect d and runs it with exec, in
// order, stopping at the first refusal: a batch whose statements are independent.
func execEach(d sqlcheck.Dialect, batch []string, exec func(*sqlcheck.Parsed) error) error {
	for _, sql := range batch {
		p, err := sqlcheck.Parse(d, sql)
		if err != nil {
			return err
		}
		if err := exec(p); err != nil {
			return err
		}
	}
	return nil
}

// Has implements Account for every platform's model (they embed catalog).
func (c *catalog) Has(kind, name string) bool { return c.get(kind, name) != nil }

// Snapshot implements Account for every platform's model: a canonical listing of
// objects, owners, attributes, grants and memberships; two catalogs are the same
// account exactly when their snapshots are equal.
func (c *catalog) Snapshot() string {
	var lines []string
	for _, o := range c.objects {
		var attrs []string
		for a, v := range o.attrs {
			attrs = append(attrs, a+"="+v)
		}
		sort.Strings(attrs)
		lines = append(lines, fmt.Sprintf("%s owner=%s %s", o.key, o.owner, strings.Join(attrs, " ")))
	}
	for g := range c.grants {
		lines = append(lines, fmt.Sprintf("grant %s on %s to %s", g.priv, g.on, g.to))
	}
	for m := range c.members {
		lines = append(lines, fmt.Sprintf("member %s of %s", m.member, m.role))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (c *catalog) open(s *Session) *Session {
	c.sessions = append(c.sessions, s)
	return s
}

// Close ends a session.
func (s *Session) Close() { s.closed = true }

// Account is the model of one platform account (a Snowflake account, a Redshift
// cluster, a Synapse workspace's server).
type Account interface {
	// Connect opens a session connected to database as principal (role is the
	// Snowflake role it uses; "" elsewhere). It fails where the platform refuses the
	// sign-in (an unknown principal or database, a role not granted).
	Connect(database, principal, role string) (*Session, error)
	// Exec runs one batch (Synapse; one statement elsewhere) in s. The error is a
	// *Refusal when the platform would refuse it, or the checker's error when the
	// statement is not in the closed grammar.
	Exec(s *Session, batch ...string) error
	// Snapshot is a canonical listing of the account's objects, owners, grants and
	// memberships (not its sessions).
	Snapshot() string
	// Clone copies the account (sessions excluded).
	Clone() Account
	// Has reports whether an object of kind (database, schema, user, login, role,
	// group, procedure, table, view) and name exists; database-scoped names are
	// "database.name" (Redshift, Synapse) or "DATABASE.SCHEMA" (Snowflake).
	Has(kind, name string) bool
}

// refuser builds the refusals of one statement.
type refuser struct{ sql string }

func (r refuser) refuse(source, format string, args ...any) *Refusal {
	return &Refusal{SQL: r.sql, Rule: fmt.Sprintf(format, args...), Source: source}
}
