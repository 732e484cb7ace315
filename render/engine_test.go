package render_test

import (
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
	"github.com/openintegrations/integrations/render/sqlcheck"
	"github.com/openintegrations/integrations/templates"
)

// withTemplate returns the embedded templates plus one more file of Snowflake's set.
func withTemplate(t *testing.T, text string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m["snowflake/zz_test.sql.tmpl"] = &fstest.MapFile{Data: []byte(text)}
	return m
}

// TestNewRefusesUnquotedValues: every action that prints must end in a quoting
// function, in every branch of if, range and with; New refuses the template set
// otherwise, naming the template and its line.
func TestNewRefusesUnquotedValues(t *testing.T) {
	cases := []struct {
		name, text string
		refused    bool
	}{
		{"bare field", `{{define "t"}}{{ .X }}{{end}}`, true},
		{"quoted field", `{{define "t"}}{{ .X | ident }}{{end}}`, false},
		{"quoted call", `{{define "t"}}{{ str .X }}{{end}}`, false},
		{"printf last", `{{define "t"}}{{ .X | ident | printf "%s" }}{{end}}`, true},
		{"printf then quoted", `{{define "t"}}{{ printf "%s_x" .X | ident }}{{end}}`, false},
		{"string literal", `{{define "t"}}{{ "DROP" }}{{end}}`, true},
		{"keyword", `{{define "t"}}{{ kw "DROP" }}{{end}}`, false},
		{"variable declaration prints nothing", `{{define "t"}}{{ $n := .X }}{{ $n | ident }}{{end}}`, false},
		{"in if", `{{define "t"}}{{ if .A }}{{ .X }}{{ end }}{{end}}`, true},
		{"in else", `{{define "t"}}{{ if .A }}{{ .X | ident }}{{ else }}{{ .X }}{{ end }}{{end}}`, true},
		{"in range", `{{define "t"}}{{ range .L }}{{ . }}{{ end }}{{end}}`, true},
		{"in range else", `{{define "t"}}{{ range .L }}{{ . | str }}{{ else }}{{ .X }}{{ end }}{{end}}`, true},
		{"in with", `{{define "t"}}{{ with .A }}{{ . }}{{ end }}{{end}}`, true},
		{"nested quoted", `{{define "t"}}{{ with .A }}{{ range . }}{{ if . }}{{ . | num }}{{ end }}{{ end }}{{ end }}{{end}}`, false},
		{"top level of the file", `{{ .X }}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := render.New(render.Options{FS: withTemplate(t, c.text)})
			if !c.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, render.ErrTemplate) {
				t.Fatalf("New = %v, want an error matching ErrTemplate", err)
			}
			if !strings.Contains(err.Error(), "without a quoting function") || !strings.Contains(err.Error(), "line 1") {
				t.Errorf("error %q does not say which line prints without quoting", err)
			}
		})
	}
}

// TestNewTemplateSetErrors: a platform with no templates, and a template that does not
// parse, are refused by New (ErrTemplate), never at a user's render.
func TestNewTemplateSetErrors(t *testing.T) {
	empty := fstest.MapFS{"readme.txt": &fstest.MapFile{Data: []byte("no templates")}}
	if _, err := render.New(render.Options{FS: empty}); !errors.Is(err, render.ErrTemplate) || !strings.Contains(err.Error(), "no templates") {
		t.Errorf("New(no templates) = %v", err)
	}
	if _, err := render.New(render.Options{FS: withTemplate(t, `{{define "t"}}{{ .X | ident }`)}); !errors.Is(err, render.ErrTemplate) || !strings.Contains(err.Error(), "zz_test.sql.tmpl") {
		t.Errorf("New(unparsable) = %v", err)
	}
}

// TestCheckErrorPosition: a statement the checker refuses fails the render with
// ErrCheck and a *CheckError that places the failure in the script text, and the
// message prints that position once (the checker's own, relative to the statement, is
// folded into it).
func TestCheckErrorPosition(t *testing.T) {
	data, err := os.ReadFile("../examples/snowflake.yaml")
	if err != nil {
		t.Fatal(err)
	}
	payload, err := platforms.Decode(data, "snowflake.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, undo := range []bool{false, true} {
		// The checker refuses the first statement holding DATABASE (or its undo), at
		// line 1, column 8 of that statement.
		check := func(dialect, sql string) (string, error) {
			if strings.Contains(sql, "DATABASE") && strings.HasPrefix(sql, "DROP") == undo {
				return "", &sqlcheck.Error{Pos: sqlcheck.Pos{Line: 1, Col: 8}, Msg: "refused by the test"}
			}
			return "shape", nil
		}
		eng, err := render.New(render.Options{Check: check})
		if err != nil {
			t.Fatal(err)
		}
		_, err = eng.Render(render.Request{Operation: platforms.OpCreate, Payload: payload})
		if !errors.Is(err, render.ErrCheck) {
			t.Fatalf("undo=%v: Render = %v, want ErrCheck", undo, err)
		}
		var ce *render.CheckError
		if !errors.As(err, &ce) || ce.Col != 8 || ce.Line < 2 || ce.Undo != undo {
			t.Fatalf("undo=%v: error %#v, want a *CheckError at column 8 of a script line", undo, err)
		}
		var se *sqlcheck.Error
		if !errors.As(err, &se) {
			t.Errorf("undo=%v: the checker's error is not kept (errors.As)", undo)
		}
		msg := err.Error()
		if got := regexp.MustCompile(`\b[0-9]+:[0-9]+:`).FindAllString(msg, -1); len(got) != 1 {
			t.Errorf("undo=%v: %q prints %d positions, want 1", undo, msg, len(got))
		}
		want := "refused by the test"
		if undo {
			want = "undo: " + want
		}
		if !strings.Contains(msg, want) {
			t.Errorf("undo=%v: %q lacks %q", undo, msg, want)
		}
	}
	// A checker error without a position is placed at the statement's first column.
	eng, err := render.New(render.Options{Check: func(string, string) (string, error) { return "", errors.New("no") }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = eng.Render(render.Request{Operation: platforms.OpCreate, Payload: payload})
	var ce *render.CheckError
	if !errors.As(err, &ce) || ce.Col != 1 || !strings.Contains(err.Error(), ": no (in ") {
		t.Errorf("Render = %v", err)
	}
}
