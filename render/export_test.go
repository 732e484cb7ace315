package render

import "github.com/openintegrations/integrations/platforms"

// Effect is what a statement does to the engine's model of the platform, for the
// guarantee tests.
type Effect = effect

// EffectOf returns the engine's model of what st does.
func EffectOf(st Statement) Effect { return st.effect }

// CreateAll renders the statements of every create phase in order (initial-create
// then create): what a complete manual setup runs.
func (e *Engine) CreateAll(p *platforms.Payload, systemPassword string) ([]Phase, error) {
	return e.createAll(p, systemPassword)
}

// EachTemplate renders, for every object of p's model, each template of its kind
// (create, drop, and alter from its own data to itself when the kind has one) and calls
// fn with the template's name and the statement ("" when it renders nothing). Statements
// that no script of p holds (the drop of a grant its grantee's drop covers) are rendered
// too, so that a test can check every template against the grammar.
func (e *Engine) EachTemplate(p *platforms.Payload, systemPassword string, fn func(name, sql string)) error {
	m, err := model(p, systemPassword)
	if err != nil {
		return err
	}
	r := &renderer{tmpl: e.sets[p.Platform.Key].plain}
	for _, o := range m.Objects {
		for _, op := range []string{"create", "drop", "alter"} {
			name := o.Kind.Template(op)
			var data any = o.Data
			if op == "alter" {
				data = alterData{Old: o.Data, New: o.Data}
			}
			sql, err := r.exec(name, data, op == "alter")
			if err != nil {
				return err
			}
			fn(name, sql)
		}
	}
	return nil
}
