package render

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/template"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render/sqlcheck"
)

// Request is one render: an operation on a payload (and, for edit, the old payload).
type Request struct {
	Operation platforms.Operation
	// Payload is the config to render (for edit: the new one).
	Payload *platforms.Payload
	// From is the old payload of an edit.
	From *platforms.Payload
	// Redact renders secrets as the <REDACTED> placeholder (review copies).
	Redact bool
	// SystemPassword is the generated system-account password of an automatic setup.
	// Without it, payloads with autoBootstrap true are refused: the caller of a script
	// endpoint runs the script itself.
	SystemPassword string
	// FromState is the applied state of the integration, when it has one. An edit
	// renders from it instead of From's model (From may then be nil): with the unchanged
	// config, that is the migration from the state's bundle to the current one. A delete,
	// cleanup or post-cleanup drops the state's objects instead of the current model's.
	FromState *State
	// NoState notes in the header of a delete, cleanup or edit that the integration has
	// no applied state (it was stored before states were), so the script assumes it was
	// made by the current bundle.
	NoState bool
}

// Script is a rendered script: the API's JSON body of a script response.
type Script struct {
	Type      string  `json:"type"`
	Operation string  `json:"operation"`
	Script    string  `json:"script"`
	Phases    []Phase `json:"phases"`
}

// Phase is one connection's worth of statements.
type Phase struct {
	Name       string      `json:"name"`
	ConnectTo  string      `json:"connectTo"`
	RunAs      string      `json:"runAs"`
	Statements []Statement `json:"statements"`
}

// Statement is one SQL statement with what produced it and what reverses it.
type Statement struct {
	SQL string `json:"sql"`
	// Why names the feature or config field that produced the statement.
	Why string `json:"why"`
	// Undo is the statement that reverses this one; empty where a drop of a containing
	// object covers it.
	Undo string `json:"undo"`
	// effect is the engine's model of what the statement does: the header's notes
	// and the runner's needs come from it, and the guarantee tests read it
	// (export_test.go).
	effect effect
	// line is the statement's first line in Script.Script, where a check failure is
	// placed.
	line int
}

// effect is what a statement does to the engine's model of the platform.
type effect struct {
	// Op is "create", "drop" or "alter".
	Op string
	// Object is the platforms.Object ID.
	Object string
	// Kind is the object's kind (its templates).
	Kind platforms.Kind
	// Parents are the IDs whose drop removes the object too.
	Parents []string
	// TolerateMissing: a drop with no IF EXISTS; "does not exist" is safe to ignore.
	TolerateMissing bool
	// NotRerunnable: a create with no IF NOT EXISTS.
	NotRerunnable bool
	// Guard: a check before the first change that fails when a name is taken.
	Guard bool
	// System: the integration's system account may run the statement and its undo
	// (platforms.Needs.System); set by markSystem.
	System bool
}

// SystemRunnable reports whether the integration's own system account may run the
// statement and, when it has one, its undo, because it owns the objects they change
// (platforms.Needs.System): the server runs a migration on its own only when each of
// its statements is. An undo holding the placeholder platforms.Redacted is not
// runnable: undos never carry a secret.
func (st Statement) SystemRunnable() bool {
	return st.effect.System && !strings.Contains(st.Undo, platforms.Redacted)
}

// inverse is the statement operation that undoes op.
var inverse = map[string]string{"create": "drop", "drop": "create", "alter": "alter"}

// markSystem sets, on each statement of phases, whether the system account may run it
// and its undo, by the needs of its kind.
func markSystem(phases []Phase, needs map[platforms.Kind]platforms.Needs) {
	for i := range phases {
		for j := range phases[i].Statements {
			st := &phases[i].Statements[j]
			n := needs[st.effect.Kind]
			st.effect.System = n.SystemMay(st.effect.Op) && (st.Undo == "" || n.SystemMay(inverse[st.effect.Op]))
		}
	}
}

// CheckError is a rendered statement that failed the engine's syntax checks. Line and
// Col are the failure's place in Script.Script; the message prints them once (the
// checker's own position, relative to the statement, is folded into them).
type CheckError struct {
	Line, Col int
	// Undo: the statement that failed is the undo of the statement at Line.
	Undo      bool
	Statement string
	Err       error
}

// Error implements error.
func (e *CheckError) Error() string {
	msg := e.Err.Error()
	var se *sqlcheck.Error
	if errors.As(e.Err, &se) {
		msg = se.Msg
	}
	if e.Undo {
		msg = "undo: " + msg
	}
	return fmt.Sprintf("%d:%d: %s (in %q)", e.Line, e.Col, msg, e.Statement)
}

// Is makes errors.Is(err, ErrCheck) true.
func (e *CheckError) Is(target error) bool { return target == ErrCheck }

// Unwrap returns the checker's error.
func (e *CheckError) Unwrap() error { return e.Err }

// Render renders req. Invalid requests give a *platforms.ValidationError (or
// ErrUnsupported); a template or check failure is an internal error (ErrTemplate,
// ErrCheck).
func (e *Engine) Render(req Request) (*Script, error) {
	p := req.Payload
	if p == nil || p.Platform == nil {
		return nil, errors.New("render: no payload")
	}
	plat := p.Platform
	if !plat.HasScripts() {
		return nil, fmt.Errorf("%w: %s has no scripts (scripts exist for %s)", ErrUnsupported, plat.Type, andList(platforms.ScriptedTypes()))
	}
	if !plat.Supports(req.Operation) {
		return nil, fmt.Errorf("%w: %s has no %s script; it supports %s", ErrUnsupported, plat.Type, req.Operation, opList(plat.ScriptOps))
	}
	if err := checkAuto(req, p, "autoBootstrap"); err != nil {
		return nil, err
	}
	set := e.sets[plat.Key]
	tmpl := set.plain
	if req.Redact {
		tmpl = set.redacted
	}
	r := &renderer{tmpl: tmpl, undo: set.redacted}
	if req.Operation == platforms.OpEdit && req.From != nil {
		// In an edit, a secret that reads <REDACTED> keeps the old payload's value.
		cp := *p
		cp.Config = platforms.KeepSecrets(req.From.Config, p.Config)
		p = &cp
	}
	if err := refuseRedacted(req.Operation, p); err != nil {
		return nil, err
	}
	newModel, err := model(p, req.SystemPassword)
	if err != nil {
		return nil, err
	}
	var phases []Phase
	var oldModel *platforms.Model
	var head []string
	if req.NoState && req.FromState == nil && req.Operation != platforms.OpCreate && req.Operation != platforms.OpInitialCreate {
		head = append(head, fmt.Sprintf("note: this integration has no applied state (it was stored before states were kept); the script assumes bundle %d made it", e.version))
	}
	var stateModel *platforms.Model
	if st := req.FromState; st != nil {
		if st.Type != p.Type {
			return nil, &platforms.ValidationError{Problems: []platforms.Problem{{Path: "type", Message: fmt.Sprintf("the applied state is of %q, not %q", st.Type, p.Type)}}}
		}
		if stateModel, err = st.modelOf(p.Config.(platforms.Scripted), newModel); err != nil {
			return nil, err
		}
		curBy := byID(newModel.Objects)
		unseal(stateModel, curBy)
		if err := r.fromState(st, newModel, curBy); err != nil {
			return nil, err
		}
		switch {
		case st.BundleVersion == e.version:
		case req.Operation == platforms.OpEdit:
			head = append(head, fmt.Sprintf("migration from bundle %d to %d", st.BundleVersion, e.version))
		default:
			head = append(head, fmt.Sprintf("note: bundle %d made this integration (this is bundle %d): the script removes what bundle %d made", st.BundleVersion, e.version, st.BundleVersion))
		}
	}
	switch req.Operation {
	case platforms.OpEdit:
		if req.From != nil {
			if err := CheckEdit(req.From, p); err != nil {
				return nil, err
			}
		}
		switch {
		case stateModel != nil:
			oldModel = stateModel
		case req.From == nil:
			return nil, fmt.Errorf("%w: edit needs the old payload or its applied state", ErrUnsupported)
		default:
			if oldModel, err = model(req.From, req.SystemPassword); err != nil {
				return nil, err
			}
		}
		phases, err = r.edit(oldModel, newModel)
		if err != nil {
			return nil, err
		}
	case platforms.OpCreate, platforms.OpInitialCreate:
		phases, err = r.create(newModel, string(req.Operation))
	default:
		m := newModel
		if stateModel != nil {
			m = stateModel
		}
		phases, err = r.teardown(m, teardownPhases(plat, m, req.Operation))
	}
	if err != nil {
		return nil, err
	}
	if !req.Redact {
		if err := placeholderInSQL(phases); err != nil {
			return nil, err
		}
	}
	markSystem(phases, newModel.Needs)
	s := &Script{Type: plat.Type, Operation: string(req.Operation), Phases: phases}
	textModel := newModel
	if stateModel != nil && req.Operation != platforms.OpEdit {
		textModel = stateModel
	}
	s.Script = text(s, plat, textModel, req.Redact, head)
	if err := e.checkAll(s, plat.Dialect); err != nil {
		return nil, err
	}
	secrets := newModel.Secrets
	if oldModel != nil {
		secrets = append(secrets, oldModel.Secrets...)
	}
	if err := checkSecrets(s, secrets, req.Redact); err != nil {
		return nil, err
	}
	return s, nil
}

// checkSecrets fails when a secret reached an undo statement, or (redact) survived in
// the review copy's text.
func checkSecrets(s *Script, secrets []string, redact bool) error {
	for _, sec := range secrets {
		if len(sec) < 6 || sec == platforms.Redacted {
			continue
		}
		if redact && strings.Contains(s.Script, sec) {
			return fmt.Errorf("%w: a secret survived redaction", ErrTemplate)
		}
		for _, ph := range s.Phases {
			for _, st := range ph.Statements {
				if strings.Contains(st.Undo, sec) {
					return fmt.Errorf("%w: a secret reached an undo statement", ErrTemplate)
				}
			}
		}
	}
	return nil
}

// refuseRedacted refuses a create-type render whose payload holds the placeholder
// <REDACTED> as a secret (a value copied from a GET body or a review copy): the script
// would set it as the password. Teardown scripts set no secret and accept it, and so
// does an automatic setup: its config's secrets are the bootstrap user's sign-in, which
// no statement holds (the system account's password is Request.SystemPassword), and
// the stored config the server migrates from has them as placeholders.
// placeholderInSQL guards every render against a placeholder that reached a statement
// anyway.
func refuseRedacted(op platforms.Operation, p *platforms.Payload) error {
	if !op.SetsPasswords() || p.Config == nil || p.Auto() {
		return nil
	}
	hint := ""
	if op == platforms.OpEdit {
		hint = " (in an edit, the placeholder keeps the old payload's value; the old payload has none)"
	}
	return platforms.RefusePlaceholders(p.Config, hint)
}

// placeholderInSQL fails when a statement to run (not a review copy's) holds the
// placeholder platforms.Redacted: a value copied from a GET body or a review copy that
// no earlier check refused. Undos are redacted by design and are not looked at.
func placeholderInSQL(phases []Phase) error {
	for _, ph := range phases {
		for _, st := range ph.Statements {
			if strings.Contains(st.SQL, platforms.Redacted) {
				return fmt.Errorf("%w: the placeholder %s reached a statement of phase %s; give the real secret", ErrTemplate, platforms.Redacted, ph.Name)
			}
		}
	}
	return nil
}

// alterData is the data of a "<kind>.alter" template: the object's data before and
// after the edit.
type alterData struct{ Old, New any }

// andList joins names as English does: "a", "a and b", "a, b and c".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func opList(ops []platforms.Operation) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

func checkAuto(req Request, p *platforms.Payload, path string) error {
	if p.Auto() && req.SystemPassword == "" {
		v := &platforms.ValidationError{Problems: []platforms.Problem{{Path: path,
			Message: "must be false to generate a script: the caller runs the script (automatic setup runs it on the server)"}}}
		return v
	}
	return nil
}

// CheckEdit refuses an edit from old to new that changes what cannot change: the type,
// autoBootstrap, a field tagged immutable, or what the config's own EditProblems
// refuses. Every such field is a problem of the
// returned *platforms.ValidationError. The server's PUT uses it too.
func CheckEdit(old, new *platforms.Payload) error {
	var probs []platforms.Problem
	if old.Type != new.Type {
		probs = append(probs, platforms.Problem{Path: "type", Message: fmt.Sprintf("cannot be changed (was %q)", old.Type)})
	} else {
		if old.Auto() != new.Auto() {
			probs = append(probs, platforms.Problem{Path: "autoBootstrap", Message: fmt.Sprintf("cannot be changed (was %t)", old.Auto())})
		}
		for _, f := range platforms.ImmutableChanges(old.Config, new.Config) {
			probs = append(probs, platforms.Problem{Path: f, Message: "cannot be changed after creation"})
		}
		if ec, ok := new.Config.(platforms.EditChecker); ok && old.Config != nil {
			probs = append(probs, ec.EditProblems(old.Config)...)
		}
	}
	if len(probs) > 0 {
		return &platforms.ValidationError{Problems: probs}
	}
	return nil
}

func model(p *platforms.Payload, systemPassword string) (*platforms.Model, error) {
	sc, ok := p.Config.(platforms.Scripted)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no scripts", ErrUnsupported, p.Type)
	}
	return sc.Model(platforms.ModelOptions{AutoBootstrap: p.Auto(), SystemPassword: systemPassword})
}

// teardownPhases picks the teardown phases an operation returns: delete all of them;
// cleanup the one named cleanup (and, where the type has no post-cleanup operation,
// the rest too, since nothing else would return them); post-cleanup the one named so.
func teardownPhases(plat *platforms.Platform, m *platforms.Model, op platforms.Operation) []platforms.PhaseSpec {
	switch op {
	case platforms.OpDelete:
		return m.Teardown
	case platforms.OpCleanup:
		if !plat.Supports(platforms.OpPostCleanup) {
			return m.Teardown
		}
	}
	for _, ph := range m.Teardown {
		if ph.Name == string(op) {
			return []platforms.PhaseSpec{ph}
		}
	}
	return nil
}

type renderer struct {
	tmpl *template.Template
	// undo renders undo statements: always the redacted set, so that no undo carries a
	// secret (an undo is for reading; re-running a create needs the create script).
	undo *template.Template
	// recorded holds, by ID, the objects of the applied state a request renders from
	// (their recorded drop and create statements); stale the IDs among them whose
	// create the current templates render differently.
	recorded map[string]StateObject
	stale    map[string]bool
}

// exec renders one template to one statement; "" when the template renders nothing or
// does not exist and optional is set.
func (r *renderer) exec(name string, data any, optional bool) (string, error) {
	return execTemplate(r.tmpl, name, data, optional)
}

// execUndo renders an undo statement with the redacted templates.
func (r *renderer) execUndo(name string, data any) (string, error) {
	t := r.undo
	if t == nil {
		t = r.tmpl
	}
	return execTemplate(t, name, data, false)
}

func execTemplate(tmpl *template.Template, name string, data any, optional bool) (string, error) {
	t := tmpl.Lookup(name)
	if t == nil {
		if optional {
			return "", nil
		}
		return "", fmt.Errorf("%w: no template %q", ErrTemplate, name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrTemplate, name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

func (r *renderer) has(name string) bool { return r.tmpl.Lookup(name) != nil }

func covered(o platforms.Object, ids map[string]bool) bool {
	for _, p := range o.Parents {
		if ids[p] {
			return true
		}
	}
	return false
}

// refuseContainerReplace refuses a migration that would drop and make again o, an
// object whose create statement only the bundle changed (its data did not), when other
// objects name it as their parent: the drop would take with it what it holds, the
// service's own objects included (a schema's tables), for a change of spelling. The
// bundle must give the kind an alter template instead. Golden migration cases and
// TestModelMigration render every kept bundle's migration, so a bundle that needs it
// fails its tests before it ships.
func refuseContainerReplace(o platforms.Object, objs []platforms.Object) error {
	for _, c := range objs {
		for _, p := range c.Parents {
			if p == o.ID {
				return fmt.Errorf("%w: the migration would drop and make again %s, whose create statement this bundle changed, and the drop removes what it holds (%s and whatever the service made in it): give the kind %q an alter template", ErrTemplate, o.ID, c.ID, o.Kind)
			}
		}
	}
	return nil
}

func idSet(objs []platforms.Object) map[string]bool {
	ids := make(map[string]bool, len(objs))
	for _, o := range objs {
		ids[o.ID] = true
	}
	return ids
}

// createStmt renders an object's create with its undo (the drop, unless covered).
func (r *renderer) createStmt(o platforms.Object, ids map[string]bool) (Statement, error) {
	sql, err := r.exec(o.Kind.Template("create"), o.Data, false)
	if err != nil {
		return Statement{}, err
	}
	undo := ""
	if !covered(o, ids) {
		if undo, err = r.execUndo(o.Kind.Template("drop"), o.Data); err != nil {
			return Statement{}, err
		}
	}
	return Statement{SQL: sql, Why: o.Why, Undo: undo, effect: effectOf("create", o)}, nil
}

func (r *renderer) dropStmt(o platforms.Object) (Statement, error) {
	if so, ok := r.recorded[o.ID]; ok && so.Drop != "" {
		return Statement{SQL: so.Drop, Why: o.Why, Undo: so.Create, effect: effectOf("drop", o)}, nil
	}
	sql, err := r.exec(o.Kind.Template("drop"), o.Data, false)
	if err != nil {
		return Statement{}, err
	}
	undo, err := r.execUndo(o.Kind.Template("create"), o.Data)
	if err != nil {
		return Statement{}, err
	}
	return Statement{SQL: sql, Why: o.Why, Undo: undo, effect: effectOf("drop", o)}, nil
}

func effectOf(op string, o platforms.Object) effect {
	return effect{Op: op, Object: o.ID, Kind: o.Kind, Parents: o.Parents, TolerateMissing: o.TolerateMissing, NotRerunnable: o.NotRerunnable, Guard: o.Guard}
}

func (r *renderer) create(m *platforms.Model, phase string) ([]Phase, error) {
	ids := idSet(m.Objects)
	var out []Phase
	for _, spec := range m.Create {
		if spec.Operation() != phase {
			continue
		}
		ph := newPhase(spec)
		for _, o := range m.Objects {
			if o.Phase != spec.Name {
				continue
			}
			if err := ph.add(r.createStmt(o, ids)); err != nil {
				return nil, err
			}
		}
		out = append(out, ph)
	}
	return out, nil
}

// createAll renders the statements of every create phase in order (initial-create
// then create): what a complete manual setup runs. The guarantee tests use it
// (export_test.go).
func (e *Engine) createAll(p *platforms.Payload, systemPassword string) ([]Phase, error) {
	m, err := model(p, systemPassword)
	if err != nil {
		return nil, err
	}
	r := &renderer{tmpl: e.sets[p.Platform.Key].plain, undo: e.sets[p.Platform.Key].redacted}
	var out []Phase
	done := map[string]bool{}
	for _, spec := range m.Create {
		if done[spec.Operation()] {
			continue
		}
		done[spec.Operation()] = true
		phs, err := r.create(m, spec.Operation())
		if err != nil {
			return nil, err
		}
		out = append(out, phs...)
	}
	return out, nil
}

// add appends st, the render of one object (err its error), unless it renders nothing.
func (ph *Phase) add(st Statement, err error) error {
	if err != nil {
		return err
	}
	if st.SQL != "" {
		ph.Statements = append(ph.Statements, st)
	}
	return nil
}

func newPhase(spec platforms.PhaseSpec) Phase {
	return Phase{Name: spec.Name, ConnectTo: spec.ConnectTo, RunAs: spec.RunAs, Statements: []Statement{}}
}

func (r *renderer) teardown(m *platforms.Model, specs []platforms.PhaseSpec) ([]Phase, error) {
	ids := idSet(m.Objects)
	var out []Phase
	for _, spec := range specs {
		ph := newPhase(spec)
		for i := len(m.Objects) - 1; i >= 0; i-- {
			o := m.Objects[i]
			if o.Teardown != spec.Name || covered(o, ids) {
				continue
			}
			if err := ph.add(r.dropStmt(o)); err != nil {
				return nil, err
			}
		}
		out = append(out, ph)
	}
	return out, nil
}

// edit computes the transition from the old model to the new one: objects only in the
// old model are dropped (unless a dropped parent covers them), objects only in the new
// one are created, objects in both whose data differ are altered (or dropped and
// created again where the kind has no alter). The order is: drops of replaced objects,
// creates and then alters of each create phase in turn, then drops of removed objects (in teardown
// phase order), so that new objects exist before old ones are let go (a new system user
// gets its grants before the old one is dropped). Consecutive statements on the same
// connection form one phase.
func (r *renderer) edit(old, new *platforms.Model) ([]Phase, error) {
	oldBy := byID(old.Objects)
	newIDs := idSet(new.Objects)
	replaced := map[string]bool{}
	for _, o := range new.Objects {
		if prev, ok := oldBy[o.ID]; ok && (!reflect.DeepEqual(prev.Data, o.Data) || r.stale[o.ID]) && !r.has(o.Kind.Template("alter")) {
			replaced[o.ID] = true
			if reflect.DeepEqual(prev.Data, o.Data) {
				if err := refuseContainerReplace(o, new.Objects); err != nil {
					return nil, err
				}
			}
		}
	}
	type item struct {
		spec platforms.PhaseSpec
		st   Statement
	}
	specOf := func(specs []platforms.PhaseSpec, name string) platforms.PhaseSpec {
		for _, s := range specs {
			if s.Name == name {
				return s
			}
		}
		return platforms.PhaseSpec{Name: name}
	}
	phaseIndex := func(specs []platforms.PhaseSpec, name string) int {
		for i, s := range specs {
			if s.Name == name {
				return i
			}
		}
		return len(specs)
	}
	var items []item
	dropped := map[string]bool{}
	for _, o := range old.Objects {
		if !newIDs[o.ID] || replaced[o.ID] {
			dropped[o.ID] = true
		}
	}
	// drops returns the drop statements of old objects selected by keep, in teardown
	// phase order and reverse create order; a parent dropped in this edit covers its
	// children.
	drops := func(keep func(platforms.Object) bool) error {
		for pi := 0; pi <= len(old.Teardown); pi++ {
			for i := len(old.Objects) - 1; i >= 0; i-- {
				o := old.Objects[i]
				if phaseIndex(old.Teardown, o.Teardown) != pi || !dropped[o.ID] || !keep(o) || covered(o, dropped) {
					continue
				}
				st, err := r.dropStmt(o)
				if err != nil {
					return err
				}
				items = append(items, item{specOf(old.Teardown, o.Teardown), st})
			}
		}
		return nil
	}
	if err := drops(func(o platforms.Object) bool { return replaced[o.ID] }); err != nil {
		return nil, err
	}
	// Creates, in create-phase order then object order; each create phase's alters
	// follow its creates, before the next phase's creates (a user renamed in an early
	// phase exists under its new name before a later phase grants it something new).
	for pi := 0; pi <= len(new.Create); pi++ {
		for _, o := range new.Objects {
			if phaseIndex(new.Create, o.Phase) != pi {
				continue
			}
			if _, ok := oldBy[o.ID]; ok && !replaced[o.ID] {
				continue
			}
			st, err := r.createStmt(o, newIDs)
			if err != nil {
				return nil, err
			}
			items = append(items, item{specOf(new.Create, o.Phase), st})
		}
		for _, o := range new.Objects {
			prev, ok := oldBy[o.ID]
			if phaseIndex(new.Create, o.Phase) != pi || !ok || replaced[o.ID] || reflect.DeepEqual(prev.Data, o.Data) && !r.stale[o.ID] {
				continue
			}
			sql, err := r.exec(o.Kind.Template("alter"), alterData{Old: prev.Data, New: o.Data}, false)
			if err != nil {
				return nil, err
			}
			undo, err := r.execUndo(o.Kind.Template("alter"), alterData{Old: o.Data, New: prev.Data})
			if err != nil {
				return nil, err
			}
			if so, ok := r.recorded[o.ID]; ok && r.stale[o.ID] && reflect.DeepEqual(prev.Data, o.Data) && so.Create != "" {
				// A template change only: the undo restores the statement as the
				// state's bundle made it.
				undo = so.Create
			}
			if sql == "" {
				continue
			}
			items = append(items, item{specOf(new.Create, o.Phase), Statement{SQL: sql, Why: o.Why, Undo: undo, effect: effectOf("alter", o)}})
		}
	}
	if err := drops(func(o platforms.Object) bool { return !replaced[o.ID] }); err != nil {
		return nil, err
	}
	// Consecutive statements on one connection form a phase.
	var out []Phase
	for _, it := range items {
		if it.st.SQL == "" {
			continue
		}
		if n := len(out); n == 0 || out[n-1].ConnectTo != it.spec.ConnectTo {
			ph := newPhase(it.spec)
			ph.Name = "edit"
			out = append(out, ph)
		}
		out[len(out)-1].Statements = append(out[len(out)-1].Statements, it.st)
	}
	if len(out) > 1 {
		for i := range out {
			out[i].Name = fmt.Sprintf("edit-%d", i+1)
		}
	}
	if out == nil {
		out = []Phase{}
	}
	return out, nil
}
