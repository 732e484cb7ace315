package platforms

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("invalid payload")

// Problem is one thing wrong with a payload: the field path (e.g. "config.warehouse"),
// a lower-case message, and where the field is in the input file (0 when unknown).
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Line    int    `json:"-"`
	Col     int    `json:"-"`
}

// ValidationError lists every problem found in one payload.
type ValidationError struct {
	// File names the input for diagnostics ("-" for stdin, "" for an HTTP body).
	File     string
	Problems []Problem
}

// Error renders one problem per line as "file:line:col: path: message".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.format(p)
	}
	return strings.Join(lines, "\n")
}

func (e *ValidationError) format(p Problem) string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Col)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Validator collects problems with their positions.
type Validator struct {
	problems []Problem
	pos      map[string]pos
	// existing: the config's credentials are of an account that already exists
	// (DecodeIntegration); password policies of script-created accounts do not apply.
	existing bool
	// placeholders are the secret fields whose value is the "<REDACTED>" placeholder: the
	// config's rules do not judge them, the operation does (an edit or PUT keeps the
	// stored secret; POST and create-type renders refuse it, see RedactedPaths).
	placeholders map[string]bool
	// seen are the paths that have a problem (Add keeps the first per path).
	seen map[string]bool
	// more counts the problems past maxProblems, which are not listed.
	more int
}

// maxProblems is how many problems one validation lists; a hostile body of 60,000
// unknown keys gets the first ones and a count of the rest.
const maxProblems = 100

// full reports whether the problem list is full (further problems are only counted).
func (v *Validator) full() bool { return len(v.problems) >= maxProblems }

// ScriptPasswords reports whether passwords are checked against the platform's password
// policy: true unless the payload describes an account that already exists (an
// integration record rather than a script to render).
func (v *Validator) ScriptPasswords() bool { return !v.existing }

type pos struct{ line, col int }

// NewValidator returns a validator that knows the input positions recorded by decoding.
func newValidator(positions map[string]pos) *Validator {
	if positions == nil {
		positions = map[string]pos{}
	}
	return &Validator{pos: positions}
}

// Add records a problem at path. The position is the field's own, or the nearest
// enclosing object's when the field is absent.
func (v *Validator) Add(path, format string, args ...any) {
	if v.placeholders[path] {
		return
	}
	if v.full() {
		v.more++
		return
	}
	if path != "" {
		if v.seen[path] {
			return // the first problem of a field is the one worth reading
		}
		if v.seen == nil {
			v.seen = map[string]bool{}
		}
		v.seen[path] = true
	}
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	for q := path; ; {
		if at, ok := v.pos[q]; ok {
			p.Line, p.Col = at.line, at.col
			break
		}
		i := strings.LastIndexByte(q, '.')
		if i < 0 {
			if at, ok := v.pos[""]; ok {
				p.Line, p.Col = at.line, at.col
			}
			break
		}
		q = q[:i]
	}
	v.problems = append(v.problems, p)
}

// skipPlaceholders makes the validator leave the placeholder secrets of cfg alone.
func (v *Validator) skipPlaceholders(cfg Config) {
	for _, p := range RedactedPaths(cfg) {
		if v.placeholders == nil {
			v.placeholders = map[string]bool{}
		}
		v.placeholders[p] = true
	}
}

// msgRequired starts the message of every problem that is a missing field.
const msgRequired = "is required"

// Missing reports whether p is a missing field (its message starts "is required").
func (p Problem) Missing() bool { return strings.HasPrefix(p.Message, msgRequired) }

// Required adds "is required" when val is empty.
func (v *Validator) Required(path, val string) bool {
	if val == "" {
		v.Add(path, msgRequired)
		return false
	}
	return true
}

// OneOf adds a problem when val is not one of the accepted values.
func (v *Validator) OneOf(path, val string, accepted ...string) bool {
	for _, a := range accepted {
		if val == a {
			return true
		}
	}
	v.Add(path, "must be one of %s (got %q)%s", strings.Join(accepted, ", "), val, suggest(val, accepted))
	return false
}

// Has reports whether a problem was already recorded at path or below it.
func (v *Validator) Has(path string) bool {
	for _, p := range v.problems {
		if p.Path == path || strings.HasPrefix(p.Path, path+".") {
			return true
		}
	}
	return false
}

// Err returns the problems as a *ValidationError sorted by position then path, or nil.
func (v *Validator) Err(file string) error {
	if len(v.problems) == 0 {
		return nil
	}
	ps := append([]Problem(nil), v.problems...)
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Path < b.Path
	})
	if v.more > 0 {
		ps = append(ps, Problem{Message: fmt.Sprintf("and %d more problems (only the first %d are listed)", v.more, maxProblems)})
	}
	return &ValidationError{File: file, Problems: ps}
}
