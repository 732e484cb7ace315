package render

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/template"

	"github.com/openintegrations/integrations/platforms"
)

// sampleData returns a value of d's struct type whose strings read "ABC" (a value every
// quoting function accepts, kw included), whose ints are 1 and whose bools are b.
func sampleData(d any, b bool) any {
	v := reflect.New(reflect.TypeOf(d)).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("ABC")
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		case reflect.Bool:
			f.SetBool(b)
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				f.Set(reflect.ValueOf([]string{"ABC"}))
			}
		}
	}
	return v.Interface()
}

// templateFieldError reports whether err is text/template's failure to find a field
// (a field the template reads that the data type does not have).
func templateFieldError(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "can't evaluate field") ||
		strings.Contains(err.Error(), "map has no entry") || strings.Contains(err.Error(), "nil pointer evaluating"))
}

// TestTemplatesReadTheirDataTypes executes every "<kind>.create", "<kind>.drop" and
// "<kind>.alter" template of every platform against the Data type its config's
// TemplateData names for the kind, with every bool true and then false: a field a
// template misspells fails here, never at a user's render. Every kind template belongs
// to a kind of TemplateData, and every kind of Needs has a Data type.
func TestTemplatesReadTheirDataTypes(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range platforms.All() {
		if !p.HasScripts() {
			continue
		}
		cfg := p.NewConfig().(platforms.Scripted)
		types := cfg.TemplateData()
		set := e.sets[p.Key]
		ran := 0
		for kind, zero := range types {
			if reflect.TypeOf(zero).Kind() != reflect.Struct {
				t.Errorf("%s: the Data type of %s is %T, not a struct", p.Key, kind, zero)
				continue
			}
			for _, op := range []string{"create", "drop", "alter"} {
				name := kind.Template(op)
				for _, tt := range []*template.Template{set.plain, set.redacted} {
					if tt.Lookup(name) == nil {
						continue
					}
					for _, b := range []bool{true, false} {
						var data any = sampleData(zero, b)
						if op == "alter" {
							data = alterData{Old: data, New: data}
						}
						_, err := execTemplate(tt, name, data, false)
						if templateFieldError(err) {
							t.Errorf("%s: template %s reads a field %T lacks: %v", p.Key, name, zero, err)
						}
						ran++
					}
				}
			}
		}
		if ran == 0 {
			t.Errorf("%s: no kind template executed", p.Key)
		}
		for _, tm := range set.plain.Templates() {
			name := tm.Name()
			i := strings.LastIndexByte(name, '.')
			if i < 0 || strings.HasSuffix(name, ".tmpl") {
				continue
			}
			switch op := name[i+1:]; op {
			case "create", "drop", "alter":
				kind := platforms.Kind(name[:i])
				if _, ok := types[kind]; !ok && kind != "connector" {
					t.Errorf("%s: template %s has no Data type in TemplateData (%s)", p.Key, name, kind)
				}
			}
		}
	}
}

// TestModelsUseTheirDataTypes checks every object of the models of the golden inputs:
// its Data has the type TemplateData names for its kind, and the kinds of Needs and of
// TemplateData are the same.
func TestModelsUseTheirDataTypes(t *testing.T) {
	for _, p := range platforms.All() {
		if !p.HasScripts() {
			continue
		}
		types := p.NewConfig().(platforms.Scripted).TemplateData()
		inputs, _ := filepath.Glob(filepath.Join("..", "golden", p.Key, "*", "*", "input.yaml"))
		models := 0
		for _, in := range inputs {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := platforms.Decode(data, in)
			if err != nil {
				continue // a case of a refused input
			}
			m, err := pl.Config.(platforms.Scripted).Model(platforms.ModelOptions{AutoBootstrap: pl.Auto()})
			if err != nil {
				continue
			}
			models++
			for _, o := range m.Objects {
				want, ok := types[o.Kind]
				if !ok {
					t.Errorf("%s: %s: kind %s has no Data type in TemplateData", in, o.ID, o.Kind)
				} else if reflect.TypeOf(o.Data) != reflect.TypeOf(want) {
					t.Errorf("%s: %s: Data is %T, TemplateData says %T for %s", in, o.ID, o.Data, want, o.Kind)
				}
			}
			for k := range m.Needs {
				if _, ok := types[k]; !ok {
					t.Errorf("%s: kind %s of Needs has no Data type in TemplateData", p.Key, k)
				}
			}
			for k := range types {
				if _, ok := m.Needs[k]; !ok {
					t.Errorf("%s: kind %s of TemplateData has no Needs", p.Key, k)
				}
			}
		}
		if models == 0 {
			t.Errorf("%s: no golden input gave a model", p.Key)
		}
	}
}

// TestTemplateFieldErrorsAreCaught proves the check can fail: a data type without a
// field a template reads is reported.
func TestTemplateFieldErrorsAreCaught(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tt := e.sets["snowflake"].plain
	// user.create reads Name, Role, Warehouse and Namespace; NameData has Name only.
	_, err = execTemplate(tt, platforms.KindUser.Template("create"), sampleData(platforms.NameData{}, true), false)
	if !templateFieldError(err) {
		t.Fatalf("user.create with NameData: %v, want a missing-field error", err)
	}
	_, err = execTemplate(tt, platforms.KindUser.Template("create"), sampleData(platforms.SnowflakeUserData{}, true), false)
	if err != nil {
		t.Fatalf("user.create with SnowflakeUserData: %v", err)
	}
}
