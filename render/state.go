package render

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/openintegrations/integrations/platforms"
)

// State is an integration's applied state: the objects of the model that a successful
// create, edit or migration made, and the bundle version that rendered them. A delete
// and a migration are computed from it, so that they act on what was really made. It
// holds no secret: a secret value in an object's data reads platforms.Redacted (a drop
// does not need it; an edit from a state keeps the new model's value where it reads so).
type State struct {
	// BundleVersion is the templates.BundleVersion that rendered the objects.
	BundleVersion int `json:"bundleVersion"`
	// Type is the platform type of the payload.
	Type string `json:"type"`
	// Create and Teardown are the model's phases.
	Create   []platforms.PhaseSpec `json:"create"`
	Teardown []platforms.PhaseSpec `json:"teardown"`
	// Objects are the model's objects, in create order.
	Objects []StateObject `json:"objects"`
}

// StateObject is one object of a State: platforms.Object with its data as JSON.
type StateObject struct {
	ID       string          `json:"id"`
	Kind     platforms.Kind  `json:"kind"`
	Phase    string          `json:"phase"`
	Teardown string          `json:"teardown"`
	Parents  []string        `json:"parents,omitempty"`
	Why      string          `json:"why"`
	Data     json.RawMessage `json:"data"`
	// Create is the object's create statement as its bundle rendered it, secrets
	// reading platforms.Redacted: an edit from the state replaces an object whose
	// create the current bundle renders differently (a changed procedure body).
	Create string `json:"create"`
	// Drop is the object's drop statement as its bundle rendered it: a delete from the
	// state runs it, whatever the current templates say.
	Drop            string `json:"drop"`
	TolerateMissing bool   `json:"tolerateMissing,omitempty"`
	NotRerunnable   bool   `json:"notRerunnable,omitempty"`
	Guard           bool   `json:"guard,omitempty"`
}

// StateOf returns the applied state of a successful req (create, initial-create or
// edit: the model of req.Payload), stamped with the current bundle version.
func (e *Engine) StateOf(req Request) (*State, error) {
	p := req.Payload
	if p == nil || p.Platform == nil || !p.Platform.HasScripts() {
		return nil, fmt.Errorf("%w: no scripted payload", ErrUnsupported)
	}
	if req.From != nil {
		cp := *p
		cp.Config = platforms.KeepSecrets(req.From.Config, p.Config)
		p = &cp
	}
	m, err := model(p, req.SystemPassword)
	if err != nil {
		return nil, err
	}
	set := e.sets[p.Platform.Key]
	return stateOf(&renderer{tmpl: set.plain, undo: set.redacted}, p.Type, m, e.version)
}

func stateOf(r *renderer, typ string, m *platforms.Model, version int) (*State, error) {
	secrets := secretSet(m.Secrets)
	st := &State{BundleVersion: version, Type: typ, Create: m.Create, Teardown: m.Teardown, Objects: []StateObject{}}
	for _, o := range m.Objects {
		data, err := json.Marshal(sealData(o.Data, secrets))
		if err != nil {
			return nil, fmt.Errorf("%w: state of %s: %v", ErrTemplate, o.ID, err)
		}
		create, err := r.execUndo(o.Kind.Template("create"), o.Data)
		if err != nil {
			return nil, err
		}
		drop, err := r.execUndo(o.Kind.Template("drop"), o.Data)
		if err != nil {
			return nil, err
		}
		st.Objects = append(st.Objects, StateObject{ID: o.ID, Kind: o.Kind, Phase: o.Phase, Teardown: o.Teardown,
			Parents: o.Parents, Why: o.Why, Data: data, Create: create, Drop: drop,
			TolerateMissing: o.TolerateMissing, NotRerunnable: o.NotRerunnable, Guard: o.Guard})
	}
	return st, nil
}

// sealData returns a copy of data (a struct of exported fields) whose string fields
// holding a secret read platforms.Redacted.
func sealData(data any, secrets map[string]bool) any {
	return withStrings(data, func(_ int, s string) string {
		if secrets[s] {
			return platforms.Redacted
		}
		return s
	})
}

// withStrings returns a copy of data (a struct of exported fields) whose i-th string
// field, holding s, holds f(i, s); data that is not a struct is returned as it is.
func withStrings(data any, f func(i int, s string) string) any {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Struct {
		return data
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	for i := 0; i < cp.NumField(); i++ {
		if fv := cp.Field(i); fv.Kind() == reflect.String && fv.CanSet() {
			fv.SetString(f(i, fv.String()))
		}
	}
	return cp.Interface()
}

// modelOf rebuilds the model a state records, its objects' data decoded into the types
// the config sc names per kind. Needs and Notes come from cur, the current model of the
// same config (the header of a script from a state lists them).
func (st *State) modelOf(sc platforms.Scripted, cur *platforms.Model) (*platforms.Model, error) {
	types := sc.TemplateData()
	m := &platforms.Model{Create: st.Create, Teardown: st.Teardown, Needs: cur.Needs, Notes: cur.Notes}
	for _, so := range st.Objects {
		zero, ok := types[so.Kind]
		if !ok {
			return nil, fmt.Errorf("%w: state object %s has the kind %q, unknown to %s", ErrUnsupported, so.ID, so.Kind, st.Type)
		}
		ptr := reflect.New(reflect.TypeOf(zero))
		if err := json.Unmarshal(so.Data, ptr.Interface()); err != nil {
			return nil, fmt.Errorf("%w: state object %s: %v", ErrUnsupported, so.ID, err)
		}
		m.Objects = append(m.Objects, platforms.Object{ID: so.ID, Kind: so.Kind, Phase: so.Phase, Teardown: so.Teardown,
			Parents: so.Parents, Why: so.Why, Data: ptr.Elem().Interface(), TolerateMissing: so.TolerateMissing, NotRerunnable: so.NotRerunnable, Guard: so.Guard})
	}
	return m, nil
}

// unseal gives the sealed secret fields of old objects the value of the same field of
// the object with the same ID in cur: an edit from a state keeps the secrets of the
// config it renders (a migration does not change a password).
func unseal(old *platforms.Model, curBy map[string]platforms.Object) {
	for i, o := range old.Objects {
		n, ok := curBy[o.ID]
		if !ok || reflect.TypeOf(n.Data) != reflect.TypeOf(o.Data) {
			continue
		}
		nv := reflect.ValueOf(n.Data)
		old.Objects[i].Data = withStrings(o.Data, func(j int, s string) string {
			if s == platforms.Redacted {
				return nv.Field(j).String()
			}
			return s
		})
	}
}

// fromState tells r the statements a state recorded: the drops of its objects run as
// recorded, their undo is the recorded create, and an object the current templates
// create differently is stale (an edit replaces it).
func (r *renderer) fromState(st *State, cur *platforms.Model, curBy map[string]platforms.Object) error {
	r.recorded = map[string]StateObject{}
	r.stale = map[string]bool{}
	secrets := secretSet(cur.Secrets)
	for _, so := range st.Objects {
		r.recorded[so.ID] = so
		o, ok := curBy[so.ID]
		if !ok || so.Create == "" {
			continue
		}
		now, err := r.execUndo(o.Kind.Template("create"), sealData(o.Data, secrets))
		if err != nil {
			return err
		}
		if now != so.Create {
			r.stale[so.ID] = true
		}
	}
	return nil
}

// byID indexes objs by ID.
func byID(objs []platforms.Object) map[string]platforms.Object {
	m := make(map[string]platforms.Object, len(objs))
	for _, o := range objs {
		m[o.ID] = o
	}
	return m
}

func secretSet(secrets []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range secrets {
		if s != "" {
			m[s] = true
		}
	}
	return m
}
