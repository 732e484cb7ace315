// Package render is the pure script engine: a validated payload (and, for edit, the old
// one) and an operation in, a Script out (phases, statements with why and undo, and the
// runnable text). It does no I/O and reads no environment; its only state is the
// compiled, embedded templates of each platform.
//
// How a script is built: a platform's config returns a platforms.Model (phases and the
// ordered objects a create makes); every object is rendered through the templates
// "<kind>.create", "<kind>.drop" and "<kind>.alter" of templates/<platform>/; every
// statement is then checked by package sqlcheck before the script is returned.
//
// It is the public library with platforms, templates and render/sqlcheck: it must never
// import net/http, database/sql, os/exec or any internal package (internal/deps_test.go
// checks its whole dependency graph).
package render

// The import block is like internal/store/migrate.go's: both read embedded files; a
// list of dependencies shares no logic.
import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render/sqlcheck"
	"github.com/openintegrations/integrations/templates"
)

// Version is the generator version written in every script header.
const Version = "0.1.0"

// ErrCheck is matched (errors.Is) by every failure of the engine's own syntax checks:
// a template produced SQL its dialect's checks refuse. It is an internal error (exit
// code 3, HTTP 500), never output.
var ErrCheck = errors.New("rendered sql failed its syntax check")

// ErrUnsupported is matched by requests for an operation a type does not offer.
var ErrUnsupported = errors.New("operation not supported")

// ErrTemplate is matched by template failures (a quoting function refused a value that
// validation let through, or a template bug): internal errors.
var ErrTemplate = errors.New("template error")

// CheckFunc checks one statement of a dialect and returns the shape that accepted it.
type CheckFunc func(dialect, sql string) (string, error)

// Engine holds the compiled templates of every scripted platform.
type Engine struct {
	sets    map[string]*templateSet
	check   CheckFunc
	version int
}

type templateSet struct {
	plain, redacted *template.Template
	dialect         string
}

// quoteFuncs are the functions whose output may reach SQL: an action that prints must
// end in one of them.
var quoteFuncs = map[string]bool{"ident": true, "exact": true, "str": true, "qname": true, "secret": true, "kw": true, "num": true}

var kwRE = regexp.MustCompile(`^[A-Z][A-Z_ ]*$`)

// Options configures New. The zero value is the engine every program uses: the
// embedded templates and sqlcheck's checks.
type Options struct {
	// FS holds the templates, one folder per platform key ("snowflake/*.sql.tmpl", as
	// package templates lays them out); nil is templates.FS. Tests give a bad template
	// set here to prove the engine refuses it.
	FS fs.FS
	// BundleVersion is the bundle version of FS's templates, stamped on the states the
	// engine records; 0 is templates.BundleVersion. Tests give an older bundle kept as
	// test data, with its version.
	BundleVersion int
	// Check is the statement checker; nil is DefaultCheck (sqlcheck's). A benchmark
	// gives a no-op to measure rendering alone.
	Check CheckFunc
}

// New compiles the templates of every scripted platform and verifies that every
// printing action ends in a quoting function: a template that prints a value any other
// way is an error matching ErrTemplate, so it never renders.
func New(opts Options) (*Engine, error) {
	check, tfs := opts.Check, opts.FS
	if check == nil {
		check = DefaultCheck
	}
	if tfs == nil {
		tfs = templates.FS
	}
	e := &Engine{sets: map[string]*templateSet{}, check: check, version: opts.BundleVersion}
	if e.version == 0 {
		e.version = templates.BundleVersion
	}
	for _, p := range platforms.All() {
		if !p.HasScripts() {
			continue
		}
		cfg, ok := p.NewConfig().(platforms.Scripted)
		if !ok {
			return nil, fmt.Errorf("%s: config has no script model", p.Type)
		}
		q := cfg.Quoting()
		set := &templateSet{dialect: p.Dialect}
		for _, redact := range []bool{false, true} {
			t, err := parseSet(tfs, p.Key, funcs(q, redact))
			if err != nil {
				return nil, err
			}
			if redact {
				set.redacted = t
			} else {
				set.plain = t
			}
		}
		e.sets[p.Key] = set
	}
	return e, nil
}

// parseSet parses the templates of one platform from tfs and checks their actions.
func parseSet(tfs fs.FS, key string, fm template.FuncMap) (*template.Template, error) {
	files, err := fs.Glob(tfs, key+"/*.sql.tmpl")
	if err != nil {
		return nil, fmt.Errorf("%w: templates/%s: %v", ErrTemplate, key, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: templates/%s: no templates", ErrTemplate, key)
	}
	sort.Strings(files)
	root := template.New(key).Option("missingkey=error").Funcs(fm)
	for _, f := range files {
		b, err := fs.ReadFile(tfs, f)
		if err != nil {
			return nil, fmt.Errorf("%w: templates/%s: %v", ErrTemplate, f, err)
		}
		if _, err := root.New(path.Base(f)).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("%w: templates/%s: %v", ErrTemplate, f, err)
		}
	}
	for _, t := range root.Templates() {
		if t.Tree == nil {
			continue
		}
		if err := checkQuoted(t.Tree.Root); err != nil {
			return nil, fmt.Errorf("%w: templates/%s: template %q: %v", ErrTemplate, key, t.Name(), err)
		}
	}
	return root, nil
}

// checkQuoted enforces "values only through the dialect's quoting functions".
func checkQuoted(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkQuoted(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return nil
		}
		cmds := n.Pipe.Cmds
		last := cmds[len(cmds)-1]
		if id, ok := last.Args[0].(*parse.IdentifierNode); ok && quoteFuncs[id.Ident] {
			return nil
		}
		return fmt.Errorf("line %d: action %s prints a value without a quoting function (end it in ident, exact, str, qname, secret, kw or num)", n.Line, n)
	case *parse.IfNode:
		return checkBranch(n.List, n.ElseList)
	case *parse.RangeNode:
		return checkBranch(n.List, n.ElseList)
	case *parse.WithNode:
		return checkBranch(n.List, n.ElseList)
	}
	return nil
}

func checkBranch(list, elseList *parse.ListNode) error {
	if err := checkQuoted(list); err != nil {
		return err
	}
	if elseList != nil {
		return checkQuoted(elseList)
	}
	return nil
}

// funcs returns sprig's text functions without env, expandenv and getHostByName, plus
// the dialect's quoting functions.
func funcs(q platforms.Quoting, redact bool) template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, unsafe := range []string{"env", "expandenv", "getHostByName"} {
		delete(fm, unsafe)
	}
	fm["ident"] = q.Ident
	fm["exact"] = q.Ident
	if q.Exact != nil {
		fm["exact"] = q.Exact
	}
	fm["str"] = q.Str
	fm["qname"] = func(parts ...string) (string, error) {
		out := make([]string, len(parts))
		for i, p := range parts {
			s, err := q.Ident(p)
			if err != nil {
				return "", err
			}
			out[i] = s
		}
		return strings.Join(out, "."), nil
	}
	fm["secret"] = func(s string) (string, error) {
		if redact {
			return q.Str(platforms.Redacted)
		}
		return q.Str(s)
	}
	fm["kw"] = func(s string) (string, error) {
		if !kwRE.MatchString(s) {
			return "", fmt.Errorf("kw: %q is not a keyword", s)
		}
		return s, nil
	}
	fm["num"] = func(v any) (string, error) {
		switch n := v.(type) {
		case int:
			return strconv.Itoa(n), nil
		case int64:
			return strconv.FormatInt(n, 10), nil
		}
		return "", fmt.Errorf("num: %v is not an integer", v)
	}
	return fm
}

// BundleVersion is the bundle version of the engine's templates: the version it stamps
// on the states it records (Options.BundleVersion).
func (e *Engine) BundleVersion() int { return e.version }

// Query renders the template definition name of the platform whose templates are in
// templates/<platformKey>/ (a definition of its connector.sql.tmpl: what a connector
// runs on its own session to look at the platform, such as a SHOW or a SELECT) with
// data, and checks the statement against the dialect's connector shapes
// (sqlcheck.CheckConnector). It returns the statement without a trailing ';'. Values
// reach the text only through the quoting functions, as in every template; a statement
// no connector shape accepts is an error matching ErrCheck, a render failure one
// matching ErrTemplate.
func (e *Engine) Query(platformKey, name string, data any) (string, error) {
	set, sql, err := e.one(platformKey, name, data)
	if err != nil {
		return "", err
	}
	d, err := sqlcheck.ParseDialect(set.dialect)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrTemplate, name, err)
	}
	if _, err := sqlcheck.CheckConnector(d, sql); err != nil {
		return "", fmt.Errorf("%w: %s/%s: %v", ErrCheck, platformKey, name, err)
	}
	return strings.TrimSuffix(sql, ";"), nil
}

// Suggest renders the template definition name of templates/<platformKey>/ with data as
// a statement that a message suggests the user run (a connector's "GRANT ... fixes it"
// hint), and checks it like a statement of a script (the engine's checker: the
// dialect's closed grammar). It returns the statement with its ';'. The errors are
// those of Query.
func (e *Engine) Suggest(platformKey, name string, data any) (string, error) {
	set, sql, err := e.one(platformKey, name, data)
	if err != nil {
		return "", err
	}
	if _, err := e.check(set.dialect, sql); err != nil {
		return "", fmt.Errorf("%w: %s/%s: %v", ErrCheck, platformKey, name, err)
	}
	return sql, nil
}

// one renders one definition with the plain (unredacted) templates.
func (e *Engine) one(platformKey, name string, data any) (*templateSet, string, error) {
	set := e.sets[platformKey]
	if set == nil {
		return nil, "", fmt.Errorf("%w: no templates for platform %q", ErrTemplate, platformKey)
	}
	sql, err := execTemplate(set.plain, name, data, false)
	if err != nil {
		return nil, "", err
	}
	if sql == "" {
		return nil, "", fmt.Errorf("%w: %s/%s renders no statement", ErrTemplate, platformKey, name)
	}
	return set, sql, nil
}

// Default returns the engine built from the embedded templates with sqlcheck's checks,
// compiled once.
func Default() (*Engine, error) { return defaultEngine() }

var defaultEngine = sync.OnceValues(func() (*Engine, error) { return New(Options{}) })
