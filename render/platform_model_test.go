package render_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/simulate"
)

// The tests in this file run the golden corpus on render/simulate, the executable model
// of each platform's documented rules, rather than on the engine's own object model.

// names are the objects of a payload's model that the properties need.
type names struct {
	database, initial, user, sysRole, impRole, viewSchema, warehouse, clientID string
	users, roles, groups, logins, databases                                    []string
}

func modelNames(t *testing.T, p *platforms.Payload) names {
	t.Helper()
	m, err := p.Config.(platforms.Scripted).Model(platforms.ModelOptions{AutoBootstrap: p.Auto(), SystemPassword: systemPassword(p)})
	if err != nil {
		t.Fatal(err)
	}
	var n names
	n.initial = m.Create[0].ConnectTo
	for _, o := range m.Objects {
		name, _ := dataField(o.Data, "Name").(string)
		switch o.Kind {
		case "database":
			n.database = name
			n.databases = append(n.databases, name)
		case "user", "external-user":
			n.user = name
			n.users = append(n.users, name)
			if w, ok := dataField(o.Data, "Warehouse").(string); ok {
				n.warehouse = w
			}
		case "role":
			n.roles = append(n.roles, name)
		case "group":
			n.groups = append(n.groups, name)
			n.impRole = name
		case "login":
			n.logins = append(n.logins, name)
		case "view-schema":
			n.viewSchema = name
		}
	}
	switch c := p.Config.(type) {
	case *platforms.Snowflake:
		n.sysRole = c.SystemRole()
		for _, r := range n.roles {
			if r != n.sysRole {
				n.impRole = r
			}
		}
	case *platforms.Synapse:
		n.database = c.Database
		if c.Impersonation.Enabled {
			n.impRole = c.Impersonation.Role
		}
		if c.OAuthClientConfig != nil {
			n.clientID = c.OAuthClientConfig.ClientID
		}
	}
	return n
}

// world is one account of a payload's platform with the runner and the service.
type world struct {
	acct simulate.Account
	n    names
	p    *platforms.Payload
	// service is the governance service's open session after normal use.
	service *simulate.Session
}

// newWorld is an account for p; the warehouses of also exist too (the new config of an
// edit).
func newWorld(t *testing.T, p *platforms.Payload, also ...*platforms.Payload) *world {
	t.Helper()
	n := modelNames(t, p)
	w := &world{n: n, p: p}
	switch p.Platform.Dialect {
	case "snowflake":
		var whs []string
		for _, q := range append([]*platforms.Payload{p}, also...) {
			m, err := q.Config.(platforms.Scripted).Model(platforms.ModelOptions{AutoBootstrap: q.Auto(), SystemPassword: systemPassword(q)})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range m.Objects {
				if wh, ok := dataField(o.Data, "Warehouse").(string); ok && o.Kind == "warehouse-grant" {
					whs = append(whs, wh)
				}
			}
		}
		a := simulate.NewSnowflake(whs...)
		a.AddUser("ALICE")
		w.acct = a
	case "redshift":
		a := simulate.NewRedshift(n.initial)
		a.AddUser("alice")
		w.acct = a
	case "synapse":
		entra := map[string]string{}
		if n.clientID != "" {
			// The tenant's application: Entra names it by its display name.
			entra["immuta-app"] = n.clientID
		}
		a := simulate.NewSynapse(n.database, entra)
		a.AddUser(n.database, "alice")
		w.acct = a
	default:
		t.Fatalf("no platform model for %s", p.Platform.Dialect)
	}
	return w
}

// runner opens the session a phase runs in: the runner its header names.
func (w *world) runner(ph render.Phase) (*simulate.Session, error) {
	switch w.p.Platform.Dialect {
	case "snowflake":
		return w.acct.Connect("account", "ADMIN", "ACCOUNTADMIN")
	case "redshift":
		return w.acct.Connect(ph.ConnectTo, "admin", "")
	default:
		return w.acct.Connect(ph.ConnectTo, simulate.SynapseAdmin, "")
	}
}

// run runs phases in order, each on its own runner session; a Synapse statement is a
// batch of its own (the script puts GO after each).
func (w *world) run(phases []render.Phase) error {
	for _, ph := range phases {
		s, err := w.runner(ph)
		if err != nil && w.p.Platform.Dialect == "redshift" && ph.Name == "cleanup" && !w.acct.Has("database", ph.ConnectTo) {
			// The header says so: when initial-create never made the database, skip
			// cleanup and run post-cleanup only.
			continue
		}
		if err != nil {
			return fmt.Errorf("phase %s: %w", ph.Name, err)
		}
		for _, st := range ph.Statements {
			err := w.acct.Exec(s, st.SQL)
			var ref *simulate.Refusal
			if err != nil && render.EffectOf(st).TolerateMissing && errors.As(err, &ref) && strings.HasSuffix(ref.Rule, "does not exist") {
				// The script says above it that "does not exist" is safe to ignore.
				continue
			}
			if err != nil {
				s.Close()
				return &stmtError{phase: ph.Name, st: st, err: err}
			}
		}
		s.Close()
	}
	return nil
}

// stmtError is a statement the model refused.
type stmtError struct {
	phase string
	st    render.Statement
	err   error
}

func (e *stmtError) Error() string { return fmt.Sprintf("phase %s: %v", e.phase, e.err) }
func (e *stmtError) Unwrap() error { return e.err }

// stoppedAtGuard reports whether err is a refusal of a guard statement.
func stoppedAtGuard(err error) bool {
	var se *stmtError
	return errors.As(err, &se) && render.EffectOf(se.st).Guard
}

func (w *world) runStatements(sts []phaseStatement) error {
	for _, ps := range sts {
		if err := w.run([]render.Phase{{Name: ps.phase.Name, ConnectTo: ps.phase.ConnectTo, Statements: []render.Statement{ps.st}}}); err != nil {
			return err
		}
	}
	return nil
}

type phaseStatement struct {
	phase render.Phase
	st    render.Statement
}

func flatten(phases []render.Phase) []phaseStatement {
	var out []phaseStatement
	for _, ph := range phases {
		for _, st := range ph.Statements {
			out = append(out, phaseStatement{ph, st})
		}
	}
	return out
}

// normalUse is what the governance service does once the integration is enabled: it
// signs in as the system account, makes objects inside its schemas, adds members to its
// roles and groups, makes per-user roles for table grants (Snowflake), and keeps its
// session open. Before the integration is deleted, the service itself removes the
// table-grant roles it made (it knows their names; a script cannot).
func (w *world) normalUse() (cleanupService func() error, err error) {
	n := w.n
	none := func() error { return nil }
	switch a := w.acct.(type) {
	case *simulate.Snowflake:
		if n.user == "" {
			return none, nil // OAuth: the DBA grants the role to the OAuth client's user
		}
		s, err := a.Connect("account", n.user, n.sysRole)
		if err != nil {
			return nil, err
		}
		w.service = s
		if err := a.ServiceCreate(s, "table", n.database+".IMMUTA_SYSTEM", "STATE"); err != nil {
			return nil, err
		}
		tg := "IMMUTA_ALICE"
		if err := a.ServiceCreate(s, "role", "", tg); err != nil {
			return nil, err
		}
		if err := a.ServiceGrantRole(s, tg, "ALICE"); err != nil {
			return nil, err
		}
		if n.impRole != "" {
			if err := a.ServiceGrantRole(s, n.impRole, "ALICE"); err != nil {
				return nil, err
			}
		}
		return func() error { return a.Exec(s, `DROP ROLE IF EXISTS "`+tg+`"`) }, nil
	case *simulate.Redshift:
		if err := w.serviceObjects(); err != nil {
			return nil, err
		}
		s := w.service
		if n.impRole != "" {
			if err := a.ServiceCall(s, "immuta_procedures", "grant_impersonation", n.impRole, "ADD", "alice"); err != nil {
				return nil, err
			}
		}
		return none, nil
	case *simulate.Synapse:
		s, err := a.Connect(n.database, n.user, "")
		if err != nil {
			return nil, err
		}
		w.service = s
		for _, o := range [][2]string{{"table", "immuta_system"}, {"procedure", "immuta_procedures"}, {"function", "immuta_functions"}, {"view", n.viewSchema}} {
			if err := a.ServiceCreate(s, o[0], o[1], "immuta_"+o[0]); err != nil {
				return nil, err
			}
		}
		if n.impRole != "" {
			if err := a.ServiceAddMember(s, n.impRole, "alice"); err != nil {
				return nil, err
			}
		}
		// config.schema may hold the customer's objects, so teardown drops it only when
		// empty: the service itself drops the policy views it made there (it knows
		// their names; a script cannot tell them from the customer's).
		return func() error { return a.ServiceDrop(s, "view", n.viewSchema, "immuta_view") }, nil
	}
	return none, nil
}

// serviceObjects is the part of normalUse that an edit must carry over: the service,
// signed in as the system user, makes objects in its schemas, which that user owns
// (Redshift: a table in immuta_system, a function in immuta_functions). Other platforms
// do not model it here yet.
func (w *world) serviceObjects() error {
	a, ok := w.acct.(*simulate.Redshift)
	if !ok {
		return nil
	}
	s, err := a.Connect(w.n.database, w.n.user, "")
	if err != nil {
		return err
	}
	w.service = s
	for _, o := range [][3]string{{"table", "immuta_system", "state"}, {"function", "immuta_functions", "mask"}} {
		if err := a.ServiceCreate(s, o[0], o[1], o[2]); err != nil {
			return err
		}
	}
	return nil
}

// knownGap is a defect the platform model finds that is not fixed yet (issue 15): the
// failures of test whose message contains contains. Each entry must still show: the
// test fails when it does not, so that the list only shrinks.
type knownGap struct{ test, contains, why string }

var modelGaps = []knownGap{}

var gapHits = map[string]int{}

// gap reports whether err is a known gap of test (and logs it).
func gap(t *testing.T, test string, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	for _, g := range modelGaps {
		if g.test == test && strings.Contains(err.Error(), g.contains) {
			gapHits[g.test+"\x00"+g.contains]++
			t.Logf("known gap (%s): %v", g.why, err)
			return true
		}
	}
	return false
}

// checkGaps fails test if one of its known gaps did not show.
func checkGaps(t *testing.T, test string) {
	t.Helper()
	for _, g := range modelGaps {
		if g.test == test && gapHits[g.test+"\x00"+g.contains] == 0 {
			t.Errorf("known gap %q of %s no longer shows (%s): remove it from modelGaps", g.contains, test, g.why)
		}
	}
}

func eachModelPayload(t *testing.T, f func(t *testing.T, np namedPayload)) {
	eachPayload(t, func(t *testing.T, np namedPayload) {
		if !np.p.Platform.HasScripts() {
			return
		}
		f(t, np)
	})
}

// TestModelCreate: create, run from an empty account as the runner its header names,
// succeeds.
func TestModelCreate(t *testing.T) {
	eng := engine(t)
	defer checkGaps(t, "create")
	eachModelPayload(t, func(t *testing.T, np namedPayload) {
		w := newWorld(t, np.p)
		phases, err := eng.CreateAll(np.p, systemPassword(np.p))
		if err != nil {
			t.Fatal(err)
		}
		err = w.run(phases)
		if gap(t, "create", err) {
			return
		}
		if err != nil {
			t.Fatalf("create fails on the platform model: %v", err)
		}
	})
}

// TestModelDelete: create, then the service's normal use, then delete: the account ends
// as it was before create.
func TestModelDelete(t *testing.T) {
	eng := engine(t)
	defer checkGaps(t, "delete")
	eachModelPayload(t, func(t *testing.T, np namedPayload) {
		w := newWorld(t, np.p)
		before := w.acct.Snapshot()
		phases, err := eng.CreateAll(np.p, systemPassword(np.p))
		if err != nil {
			t.Fatal(err)
		}
		err = func() error {
			if err := w.run(phases); err != nil {
				return fmt.Errorf("create: %w", err)
			}
			done, err := w.normalUse()
			if err != nil {
				return fmt.Errorf("normal use: %w", err)
			}
			if err := done(); err != nil {
				return fmt.Errorf("the service's own disable: %w", err)
			}
			if err := w.run(mustRender(t, eng, platforms.OpDelete, np.p).Phases); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			if after := w.acct.Snapshot(); after != before {
				return fmt.Errorf("delete leaves the account changed:\n%s", diffLines(before, after))
			}
			return nil
		}()
		if gap(t, "delete", err) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

// teardownPhases are cleanup (+ post-cleanup) of a payload.
func teardownPhases(t *testing.T, eng *render.Engine, p *platforms.Payload) []render.Phase {
	phases := mustRender(t, eng, platforms.OpCleanup, p).Phases
	if p.Platform.Supports(platforms.OpPostCleanup) {
		phases = append(phases, mustRender(t, eng, platforms.OpPostCleanup, p).Phases...)
	}
	return phases
}

// TestModelCleanupPrefixes: for every prefix of create (a run that died after statement
// k), cleanup (+ post-cleanup) succeeds and the account ends as it was before.
func TestModelCleanupPrefixes(t *testing.T) {
	eng := engine(t)
	defer checkGaps(t, "cleanup")
	eachModelPayload(t, func(t *testing.T, np namedPayload) {
		phases, err := eng.CreateAll(np.p, systemPassword(np.p))
		if err != nil {
			t.Fatal(err)
		}
		create := flatten(phases)
		cleanup := teardownPhases(t, eng, np.p)
		var first error
		for k := 0; k <= len(create) && first == nil; k++ {
			w := newWorld(t, np.p)
			before := w.acct.Snapshot()
			if err := w.runStatements(create[:k]); err != nil {
				first = fmt.Errorf("create prefix %d: %w", k, err)
				break
			}
			if err := w.run(cleanup); err != nil {
				first = fmt.Errorf("after %d create statements, cleanup fails: %w", k, err)
				break
			}
			if after := w.acct.Snapshot(); after != before {
				first = fmt.Errorf("after %d create statements, cleanup leaves:\n%s", k, diffLines(before, after))
			}
		}
		if gap(t, "cleanup", first) {
			return
		}
		if first != nil {
			t.Fatal(first)
		}
	})
}

// TestModelEdit: create(old) + edit(old -> new) leaves what create(new) leaves, for
// every ordered pair of golden payloads of a platform that may be edited into each
// other.
func TestModelEdit(t *testing.T) {
	eng := engine(t)
	defer checkGaps(t, "edit")
	for _, list := range payloads(t) {
		for _, a := range list {
			for _, b := range list {
				if !a.p.Platform.HasScripts() || a.name == b.name {
					continue
				}
				s, err := eng.Render(render.Request{Operation: platforms.OpEdit, From: a.p, Payload: b.p, SystemPassword: systemPassword(b.p)})
				if err != nil {
					continue // not an edit (immutable fields), covered by TestEditEquivalence
				}
				name := a.name + " -> " + b.name
				t.Run(name, func(t *testing.T) {
					got, want := newWorld(t, a.p, b.p), newWorld(t, b.p, a.p)
					err := func() error {
						oldCreate, _ := eng.CreateAll(a.p, systemPassword(a.p))
						newCreate, _ := eng.CreateAll(b.p, systemPassword(b.p))
						if err := got.run(oldCreate); err != nil {
							return fmt.Errorf("create(old): %w", err)
						}
						// The service's objects, made by the old user, must end as the
						// new user's, as if it had made them.
						if err := got.serviceObjects(); err != nil {
							return fmt.Errorf("service objects after create(old): %w", err)
						}
						if err := got.run(s.Phases); err != nil {
							return fmt.Errorf("edit: %w", err)
						}
						if err := want.run(newCreate); err != nil {
							return fmt.Errorf("create(new): %w", err)
						}
						if err := want.serviceObjects(); err != nil {
							return fmt.Errorf("service objects after create(new): %w", err)
						}
						if g, w := got.acct.Snapshot(), want.acct.Snapshot(); g != w {
							return fmt.Errorf("create(old)+edit differs from create(new) (- create(new), + create(old)+edit):\n%s", diffLines(w, g))
						}
						return nil
					}()
					if gap(t, "edit", err) {
						return
					}
					if err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

// TestModelPreexisting: on an account that already holds a database, role, user or
// login of a name create makes, create fails before it changes anything (or the render
// refuses), and neither delete nor cleanup drops the object that was there.
func TestModelPreexisting(t *testing.T) {
	eng := engine(t)
	defer checkGaps(t, "preexisting")
	eachModelPayload(t, func(t *testing.T, np namedPayload) {
		w0 := newWorld(t, np.p)
		n := w0.n
		type existing struct{ kind, name, owner string }
		var list []existing
		switch np.p.Platform.Dialect {
		case "snowflake":
			for _, d := range n.databases {
				list = append(list, existing{"database", d, "SYSADMIN"})
			}
			for _, r := range n.roles {
				list = append(list, existing{"role", r, "USERADMIN"})
			}
			for _, u := range n.users {
				list = append(list, existing{"user", u, "USERADMIN"})
			}
		case "redshift":
			for _, d := range n.databases {
				list = append(list, existing{"database", d, "admin"})
			}
			for _, u := range n.users {
				list = append(list, existing{"user", u, "admin"})
			}
			for _, g := range n.groups {
				list = append(list, existing{"group", g, "admin"})
			}
		case "synapse":
			for _, l := range n.logins {
				list = append(list, existing{"login", l, ""})
			}
			for _, u := range n.users {
				list = append(list, existing{"user", n.database + "." + u, "dbo"})
			}
			for _, r := range n.roles {
				list = append(list, existing{"role", n.database + "." + r, "dbo"})
			}
		}
		phases, err := eng.CreateAll(np.p, systemPassword(np.p))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			t.Run(e.kind+"="+e.name, func(t *testing.T) {
				err := func() error {
					// A create that stops at its guard made nothing: the cleanup header
					// says not to run cleanup then, and there is no integration to
					// delete. Otherwise delete and cleanup run on the account too.
					for _, op := range []platforms.Operation{"create", platforms.OpDelete, platforms.OpCleanup} {
						w := newWorld(t, np.p)
						switch a := w.acct.(type) {
						case *simulate.Snowflake:
							a.AddExisting(e.kind, e.name, e.owner)
						case *simulate.Redshift:
							a.AddExisting(e.kind, e.name, e.owner)
						case *simulate.Synapse:
							a.AddExisting(e.kind, e.name, e.owner)
						}
						before := w.acct.Snapshot()
						var run []render.Phase
						switch op {
						case "create":
							run = phases
						case platforms.OpCleanup:
							run = teardownPhases(t, eng, np.p)
						default:
							run = mustRender(t, eng, op, np.p).Phases
						}
						err := w.run(run)
						if op == "create" {
							if err == nil {
								return fmt.Errorf("create succeeds on an account that already has %s %s: it adopts it", e.kind, e.name)
							}
							var ref *simulate.Refusal
							if !errors.As(err, &ref) {
								return err
							}
						}
						if op == "create" && stoppedAtGuard(err) {
							if w.acct.Snapshot() != before {
							}
							return nil
						}
						if !w.acct.Has(e.kind, e.name) {
							return fmt.Errorf("%s drops the %s %s that existed before", op, e.kind, e.name)
						}
						if op == "create" && w.acct.Snapshot() != before {
							return fmt.Errorf("create fails on the existing %s %s only after changing the account:\n%s", e.kind, e.name, diffLines(before, w.acct.Snapshot()))
						}
					}
					return nil
				}()
				if gap(t, "preexisting", err) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// diffLines lists the lines only in a (-) and only in b (+).
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	am, bm := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !bm[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !am[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// dataField returns the field name of an object's template data (nil when it has none).
func dataField(d any, name string) any {
	v := reflect.ValueOf(d)
	if v.Kind() != reflect.Struct {
		return nil
	}
	if f := v.FieldByName(name); f.IsValid() {
		return f.Interface()
	}
	return nil
}
