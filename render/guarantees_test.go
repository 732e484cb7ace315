package render_test

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// platformState is the engine's model of a platform: the objects that exist, each with
// the parents whose drop removes it. It applies statements the way the platform would,
// failing where the platform would fail.
type platformState struct {
	objects map[string][]string // id -> parents
}

func newState() *platformState { return &platformState{objects: map[string][]string{}} }

var (
	guardedDrop   = regexp.MustCompile(`(?is)\bIF\s+EXISTS\b|^IF\s+(OBJECT_ID|SCHEMA_ID|DATABASE_PRINCIPAL_ID|SUSER_ID|USER_ID)\s*\(.*\)\s+IS\s+NOT\s+NULL\b`)
	guardedCreate = regexp.MustCompile(`(?is)\bIF\s+NOT\s+EXISTS\b|\bOR\s+REPLACE\b|^IF\s+(OBJECT_ID|SCHEMA_ID|DATABASE_PRINCIPAL_ID|SUSER_ID|USER_ID)\s*\(.*\)\s+IS\s+NULL\b`)
	idempotent    = regexp.MustCompile(`(?is)^(GRANT|REVOKE|ALTER)\b|^EXEC(UTE)?\s+sp_addrolemember\b`)
)

// apply runs one statement; ids are the IDs of the model (parents outside it are
// external objects that always exist).
func (s *platformState) apply(st render.Statement, ids map[string]bool) error {
	e := render.EffectOf(st)
	if e.Guard {
		return nil // a guard checks names and makes nothing
	}
	_, exists := s.objects[e.Object]
	switch e.Op {
	case "create":
		if exists && !guardedCreate.MatchString(st.SQL) && !idempotent.MatchString(st.SQL) {
			return fmt.Errorf("%q: %s already exists", st.SQL, e.Object)
		}
		for _, p := range e.Parents {
			if _, ok := s.objects[p]; ids[p] && !ok {
				return fmt.Errorf("%q: needs %s, which does not exist yet", st.SQL, p)
			}
		}
		s.objects[e.Object] = e.Parents
	case "drop":
		if !exists {
			if guardedDrop.MatchString(st.SQL) || e.TolerateMissing {
				return nil
			}
			return fmt.Errorf("%q: %s does not exist (unguarded drop)", st.SQL, e.Object)
		}
		s.drop(e.Object)
	case "alter":
		if !exists && ids[e.Object] {
			return fmt.Errorf("%q: %s does not exist", st.SQL, e.Object)
		}
		// An object no create statement names renders nothing at create (a property its
		// parent's create sets, such as a Redshift user's password): it exists exactly
		// when its parents do.
		for _, p := range e.Parents {
			if _, ok := s.objects[p]; !exists && ids[p] && !ok {
				return fmt.Errorf("%q: needs %s, which does not exist", st.SQL, p)
			}
		}
	default:
		return fmt.Errorf("unknown effect %q", e.Op)
	}
	return nil
}

// drop removes id and, transitively, everything whose parents include it.
func (s *platformState) drop(id string) {
	delete(s.objects, id)
	for other, parents := range s.objects {
		for _, p := range parents {
			if p == id {
				s.drop(other)
				break
			}
		}
	}
}

func (s *platformState) ids() []string {
	out := make([]string, 0, len(s.objects))
	for id := range s.objects {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func statements(phases []render.Phase) []render.Statement {
	var out []render.Statement
	for _, ph := range phases {
		out = append(out, ph.Statements...)
	}
	return out
}

func modelIDs(sts []render.Statement) map[string]bool {
	ids := map[string]bool{}
	for _, st := range sts {
		ids[render.EffectOf(st).Object] = true
	}
	return ids
}

// payloads returns every successful golden input (and edit from-payload) by platform.
func payloads(t *testing.T) map[string][]namedPayload {
	t.Helper()
	out := map[string][]namedPayload{}
	seen := map[string]bool{}
	for _, c := range loadCases(t) {
		if c.wantErr {
			continue
		}
		for _, f := range []string{c.input, c.from} {
			if f == "" || seen[f] {
				continue
			}
			seen[f] = true
			p, err := decodeFile(t, f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if p.Config != nil && len(platforms.RedactedPaths(p.Config)) > 0 {
				continue // a placeholder secret: only an edit from a real one renders
			}
			out[c.platform] = append(out[c.platform], namedPayload{f, p})
		}
	}
	return out
}

type namedPayload struct {
	name string
	p    *platforms.Payload
}

// eachPayload runs f as a subtest for every successful golden payload.
func eachPayload(t *testing.T, f func(t *testing.T, np namedPayload)) {
	t.Helper()
	for _, list := range payloads(t) {
		for _, np := range list {
			t.Run(np.name, func(t *testing.T) { f(t, np) })
		}
	}
}

func mustRender(t *testing.T, eng *render.Engine, op platforms.Operation, p *platforms.Payload) *render.Script {
	t.Helper()
	s, err := eng.Render(render.Request{Operation: op, Payload: p, SystemPassword: systemPassword(p)})
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return s
}

// teardownAll is every teardown statement of a platform: cleanup (+ post-cleanup).
func teardownAll(t *testing.T, eng *render.Engine, p *platforms.Payload) []render.Statement {
	sts := statements(mustRender(t, eng, platforms.OpCleanup, p).Phases)
	if p.Platform.Supports(platforms.OpPostCleanup) {
		sts = append(sts, statements(mustRender(t, eng, platforms.OpPostCleanup, p).Phases)...)
	}
	return sts
}

func createAll(t *testing.T, eng *render.Engine, p *platforms.Payload) []render.Statement {
	t.Helper()
	phases, err := eng.CreateAll(p, systemPassword(p))
	if err != nil {
		t.Fatal(err)
	}
	return statements(phases)
}

// TestSymmetry: delete(create(c)) leaves nothing, for every golden config; and delete
// equals cleanup (+ post-cleanup) statement for statement.
func TestSymmetry(t *testing.T) {
	eng := engine(t)
	eachPayload(t, func(t *testing.T, np namedPayload) {
		create := createAll(t, eng, np.p)
		if len(create) == 0 {
			t.Fatal("create makes nothing")
		}
		ids := modelIDs(create)
		st := newState()
		for _, s := range create {
			if err := st.apply(s, ids); err != nil {
				t.Fatalf("create: %v", err)
			}
		}
		del := statements(mustRender(t, eng, platforms.OpDelete, np.p).Phases)
		for _, s := range del {
			if err := st.apply(s, ids); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
		if left := st.ids(); len(left) > 0 {
			t.Fatalf("delete left %v behind", left)
		}
		td := teardownAll(t, eng, np.p)
		if len(td) != len(del) {
			t.Fatalf("cleanup (+ post-cleanup) has %d statements, delete %d", len(td), len(del))
		}
	})
}

// TestCleanupAfterAnyFailure: for every prefix of the create statements, cleanup (+
// post-cleanup) succeeds and removes everything the prefix made.
func TestCleanupAfterAnyFailure(t *testing.T) {
	eng := engine(t)
	eachPayload(t, func(t *testing.T, np namedPayload) {
		create := createAll(t, eng, np.p)
		ids := modelIDs(create)
		cleanup := teardownAll(t, eng, np.p)
		for k := 0; k <= len(create); k++ {
			st := newState()
			for _, s := range create[:k] {
				if err := st.apply(s, ids); err != nil {
					t.Fatalf("create prefix %d: %v", k, err)
				}
			}
			for _, s := range cleanup {
				if err := st.apply(s, ids); err != nil {
					t.Fatalf("after %d create statements, cleanup fails: %v", k, err)
				}
			}
			if left := st.ids(); len(left) > 0 {
				t.Fatalf("after %d create statements, cleanup left %v", k, left)
			}
		}
	})
}

// TestEditEquivalence: create(old) + edit(old -> new) leaves the objects create(new)
// leaves, for every ordered pair of golden configs of a platform that may be edited
// into each other; an edit of nothing is empty.
func TestEditEquivalence(t *testing.T) {
	eng := engine(t)
	pairs := 0
	for _, list := range payloads(t) {
		for _, a := range list {
			for _, b := range list {
				s, err := eng.Render(render.Request{Operation: platforms.OpEdit, From: a.p, Payload: b.p, SystemPassword: systemPassword(b.p)})
				if err != nil {
					if errors.Is(err, platforms.ErrInvalid) {
						continue // immutable field differs: not an edit
					}
					t.Fatalf("%s -> %s: %v", a.name, b.name, err)
				}
				pairs++
				edit := statements(s.Phases)
				if a.name == b.name && len(edit) != 0 {
					t.Errorf("%s: an edit of nothing has %d statements", a.name, len(edit))
				}
				oldCreate, newCreate := createAll(t, eng, a.p), createAll(t, eng, b.p)
				ids := modelIDs(append(append([]render.Statement{}, oldCreate...), newCreate...))
				got := newState()
				for _, st := range append(append([]render.Statement{}, oldCreate...), edit...) {
					if err := got.apply(st, ids); err != nil {
						t.Fatalf("%s -> %s: %v", a.name, b.name, err)
					}
				}
				want := newState()
				for _, st := range newCreate {
					if err := want.apply(st, ids); err != nil {
						t.Fatal(err)
					}
				}
				if g, w := strings.Join(got.ids(), "\n"), strings.Join(want.ids(), "\n"); g != w {
					t.Errorf("%s -> %s: create(old)+edit leaves\n%s\nwant (create(new))\n%s", a.name, b.name, g, w)
				}
			}
		}
	}
	if pairs == 0 {
		t.Fatal("no edit pairs")
	}
}

// TestRerunnable: running create twice fails only on statements the platform cannot
// guard, and then the header says the script is not re-runnable.
func TestRerunnable(t *testing.T) {
	eng := engine(t)
	eachPayload(t, func(t *testing.T, np namedPayload) {
		create := createAll(t, eng, np.p)
		ids := modelIDs(create)
		st := newState()
		for _, s := range create {
			if err := st.apply(s, ids); err != nil {
				t.Fatal(err)
			}
		}
		notRerunnable := false
		for _, s := range create {
			if err := st.apply(s, ids); err != nil {
				if !render.EffectOf(s).NotRerunnable {
					t.Errorf("second run fails on a statement not marked not re-runnable: %v", err)
				}
				notRerunnable = true
			}
		}
		if notRerunnable {
			for _, op := range []platforms.Operation{platforms.OpCreate, platforms.OpInitialCreate} {
				if !np.p.Platform.Supports(op) {
					continue
				}
				if s := mustRender(t, eng, op, np.p); !strings.Contains(strings.ToLower(s.Script), "not re-runnable") {
					t.Errorf("%s header does not say the script is not re-runnable", op)
				}
			}
		}
		// Create's notes are create's: a teardown or an edit script does not carry them.
		for _, op := range []platforms.Operation{platforms.OpEdit, platforms.OpDelete, platforms.OpCleanup, platforms.OpPostCleanup} {
			if !np.p.Platform.Supports(op) {
				continue
			}
			s, err := eng.Render(render.Request{Operation: op, Payload: np.p, From: np.p, SystemPassword: systemPassword(np.p)})
			if err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			if strings.Contains(strings.ToLower(s.Script), "not re-runnable") {
				t.Errorf("%s header carries create's re-runnability note", op)
			}
		}
	})
}

// TestDeterministic: the same input gives the same bytes, also from parallel renders.
func TestDeterministic(t *testing.T) {
	eng := engine(t)
	for _, c := range loadCases(t) {
		if c.wantErr {
			continue
		}
		first, err := renderCase(t, eng, c)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := renderCase(t, eng, c)
				if err != nil {
					t.Error(err)
					return
				}
				if s.Script != first.Script {
					t.Errorf("%s: two renders differ", c.name())
				}
			}()
		}
		wg.Wait()
	}
}

// TestUndo: every create statement's undo is empty only when a parent in the same
// model covers it, and every statement's undo passes the checks (render checks it).
func TestUndo(t *testing.T) {
	eng := engine(t)
	for _, list := range payloads(t) {
		for _, np := range list {
			create := createAll(t, eng, np.p)
			ids := modelIDs(create)
			for _, s := range create {
				if render.EffectOf(s).Guard {
					continue // makes nothing, so there is nothing to undo
				}
				covered := false
				for _, p := range render.EffectOf(s).Parents {
					covered = covered || ids[p]
				}
				if render.EffectOf(s).Guard {
					// A guard makes nothing: there is nothing to undo.
					covered = true
				}
				if (s.Undo == "") != covered {
					t.Errorf("%s: %q: undo %q, covered by a parent: %v", np.name, s.SQL, s.Undo, covered)
				}
				if s.Why == "" {
					t.Errorf("%s: %q has no why", np.name, s.SQL)
				}
			}
		}
	}
}

// TestEveryStatementNeeds: the header's privileges come from the statements, so every
// statement of every golden script must say what its runner needs (platforms.Needs);
// a kind added without its needs fails here.
func TestEveryStatementNeeds(t *testing.T) {
	eng := engine(t)
	for _, c := range loadCases(t) {
		if c.wantErr {
			continue
		}
		t.Run(c.name(), func(t *testing.T) {
			s, err := renderCase(t, eng, c)
			if err != nil {
				t.Fatal(err)
			}
			p, err := decodeFile(t, c.input)
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.Config.(platforms.Scripted).Model(platforms.ModelOptions{AutoBootstrap: p.Auto(), SystemPassword: systemPassword(p)})
			if err != nil {
				t.Fatal(err)
			}
			for _, ph := range s.Phases {
				for _, st := range ph.Statements {
					if len(m.Needs[render.EffectOf(st).Kind].For(render.EffectOf(st).Op)) == 0 {
						t.Errorf("%s of kind %q says nothing about what its runner needs: %s", render.EffectOf(st).Op, render.EffectOf(st).Kind, st.SQL)
					}
				}
				if len(ph.Statements) > 0 && !strings.Contains(s.Script, "--   "+ph.Name+": ") {
					t.Errorf("the header lists no privileges for phase %s", ph.Name)
				}
			}
		})
	}
}
