package platforms

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quoting is a dialect's set of quoting functions: the only way a config value reaches
// SQL. Each function either returns a safely quoted token or an error naming the problem
// (the engine turns an error into an internal error: validation should have refused the
// value first).
type Quoting struct {
	// Ident quotes one identifier.
	Ident func(string) (string, error)
	// Str quotes a string literal.
	Str func(string) (string, error)
	// Exact, when set, quotes a name read back from the platform exactly as stored
	// (Ident folds a name the way the platform folds an unquoted one, which would change
	// a stored lower-case name). Nil: Ident serves.
	Exact func(string) (string, error)
}

// Toggle is a feature switch such as `audit: {enabled: true}`.
type Toggle struct {
	Enabled bool `json:"enabled"`
}

// Impersonation is the `impersonation` object: `{enabled, role}`.
type Impersonation struct {
	Enabled bool   `json:"enabled"`
	Role    string `json:"role,omitempty"`
}

// hasControl reports whether s holds a control character (C0, DEL, C1) or a line or
// paragraph separator: no value may start a comment line or a GO batch line.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return true
		}
	}
	return false
}

// checkValue applies the rules every value that reaches SQL shares: no control
// characters, valid UTF-8, at most max characters (0: no limit). It returns false after
// adding a problem.
func checkValue(v *Validator, path, val string, max int) bool {
	if !utf8.ValidString(val) {
		v.Add(path, "must be valid UTF-8")
		return false
	}
	if hasControl(val) {
		v.Add(path, "must not contain control characters (line breaks, tabs, NUL)")
		return false
	}
	if max > 0 && utf8.RuneCountInString(val) > max {
		v.Add(path, "must be at most %d characters", max)
		return false
	}
	if strings.TrimSpace(val) != val {
		v.Add(path, "must not start or end with spaces")
		return false
	}
	return true
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// checkHost validates a DNS host name.
func checkHost(v *Validator, path, host string) {
	if !v.Required(path, host) {
		return
	}
	if len(host) > 253 || !hostRE.MatchString(host) {
		v.Add(path, "must be a host name such as org.example.com (got %q)", host)
	}
}

// checkPort validates a TCP port.
func checkPort(v *Validator, path string, port int) {
	if port < 1 || port > 65535 {
		v.Add(path, "must be between 1 and 65535 (got %d)", port)
	}
}

// errQuote is the error of a quoting function given a value validation should refuse.
func errQuote(dialect, what, val string) error {
	return fmt.Errorf("%s: cannot quote %s %q", dialect, what, val)
}

// asciiClasses reports whether s holds an ASCII upper-case letter, lower-case letter and
// digit (the classes the platforms' password policies count).
func asciiClasses(s string) (upper, lower, digit bool) {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= 'A' && b <= 'Z':
			upper = true
		case b >= 'a' && b <= 'z':
			lower = true
		case b >= '0' && b <= '9':
			digit = true
		}
	}
	return
}
