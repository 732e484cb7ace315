// Package platforms describes the integration types the product supports: a closed
// registry of platforms, strict decoding and validation of their payloads, the JSON
// Schema of the payloads generated from the typed config of each type (one file per
// platform), the dialect quoting functions, and the object model from which the script
// engine (package render) builds SQL.
//
// It is the bottom of the engine: it imports nothing of the module, and never
// net/http, database/sql or os/exec. Platform's doc comment is the checklist of adding
// a platform.
package platforms

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Operation names a script operation.
type Operation string

// The script operations of SCRIPTS.md section 1.
const (
	OpCreate        Operation = "create"
	OpInitialCreate Operation = "initial-create"
	OpEdit          Operation = "edit"
	OpDelete        Operation = "delete"
	OpCleanup       Operation = "cleanup"
	OpPostCleanup   Operation = "post-cleanup"
)

// Operations lists every operation in a stable order.
var Operations = []Operation{OpCreate, OpInitialCreate, OpEdit, OpDelete, OpCleanup, OpPostCleanup}

// SetsPasswords reports whether the operation's scripts can set a password (create,
// initial-create, edit), so the platform's password policy applies to its payload.
func (o Operation) SetsPasswords() bool {
	return o == OpCreate || o == OpInitialCreate || o == OpEdit
}

// ParseOperation returns the operation named s.
func ParseOperation(s string) (Operation, error) {
	for _, op := range Operations {
		if string(op) == s {
			return op, nil
		}
	}
	names := make([]string, len(Operations))
	for i, op := range Operations {
		names[i] = string(op)
	}
	return "", fmt.Errorf("unknown operation %q%s (accepted: %s)", s, suggest(s, names), strings.Join(names, ", "))
}

// AutoBootstrapRule says what a type accepts for autoBootstrap.
type AutoBootstrapRule int

// The autoBootstrap rules of API.md section 2.
const (
	AutoBootstrapAny AutoBootstrapRule = iota
	AutoBootstrapMustBeFalse
	AutoBootstrapAbsent
)

// Platform describes one integration type: its entry of the closed registry.
//
// How to add a platform (each step names its files; TestEveryPlatformHasEveryPiece in
// internal/server/registry_test.go fails while one of steps 3 to 10 is missing):
//
//  1. Add its entry to registry below: Type (the API string), Key (the folder name of
//     its templates, golden cases and connector file), AutoBootstrap, Regenerate for a
//     type whose API key the server issues (Trino), and for a type with scripts
//     ScriptOps, PhasesDoc, Dialect and, for a dialect whose tools send batches,
//     BatchSeparator; newConfig returns its zero config (nil: no config, as Trino).
//  2. Write its config in platforms/<key>.go, a struct implementing Config: Defaults,
//     Validate, UniqueKey, UniqueKeys (the store keys and the words of the 409
//     message) and ImpersonationEnabled, and its schema method (schemaRules in
//     schema.go: the fields Validate always requires, its enumerations and the fields
//     each authenticationType requires, which the JSON Schema of Schema states beyond
//     the Go types; TestSchemaAcceptsWhatDecodeAccepts holds them to Validate), then
//     rewrite platforms/testdata/schema.golden.json with go test ./platforms -run
//     TestSchemaGolden -update; tag secret fields `secret:"true"` and non-editable
//     ones `immutable:"true"`. A type with scripts implements Scripted
//     too (Model: phases, objects and the Needs of every object kind; Quoting;
//     TemplateData: the struct type of each kind's Data, declared in data.go, its
//     kinds being Kind constants of kinds.go) and, when an edit's rules depend on the
//     old config, EditChecker.
//  3. Scripts only: give its dialect an entry in the dialect table of
//     render/sqlcheck/dialect.go (name, grammar, lexical rules) and its closed
//     grammar in render/sqlcheck/shapes_<dialect>.go.
//  4. Scripts only: write templates/<key>/*.sql.tmpl defining "<kind>.create",
//     "<kind>.drop" and "<kind>.alter" for every statement the model's Needs list
//     (files starting with "_" are partials), reading only fields of the kind's Data
//     type (render's TestTemplatesReadTheirDataTypes executes each against it).
//  5. Scripts only: add golden/<key>/<operation>/<case>/input.yaml (and from.yaml
//     for edit) for every operation of ScriptOps, then run make golden and review
//     the expected.* files it writes.
//  6. Scripts only: model the platform's rules in render/simulate/<key>.go and give
//     it a world in newWorld of render/platform_model_test.go (it fails with "no
//     platform model" until then): the engine's guarantees are tested on it.
//  7. Write its connector in internal/connector/<key>.go: a Connector and an init
//     that calls register with the type, its test catalogue (Tests) and its live
//     constructor (New; none for a type with no platform to reach, as in trino.go).
//  8. Add its payloads and every config field to badPlatforms in
//     internal/server/badinput_corpus_test.go (a type with a config only).
//  9. Scripts only: map the key to an oracle dialect in PLATFORMS of
//     internal/oracle/check.js, run internal/oracle/run.sh, and list in
//     internal/oracle/allowlist.txt, with the reason, what an oracle wrongly refuses.
//  10. Document the type and its config schema in internal/server/openapi/openapi.json
//     (its test's table of config schemas names the schema).
//  11. Run go test ./...: nothing else names platforms one by one. The server's unique
//     keys and its handling of issued API keys (IssuesKey), the connector's
//     impersonation skips, the engine's batch lines and its no-scripts message, and
//     the CLI's --dialect help all read the registry, Config or the dialect table.
type Platform struct {
	// Type is the exact API type string, e.g. "Azure Synapse Analytics".
	Type string
	// Key is the short name used for template folders, golden folders and the CLI.
	Key string
	// Dialect is the sqlcheck dialect of the scripts; empty for types without scripts.
	Dialect string
	// BatchSeparator, when set, is the line the script text puts after every statement
	// (Synapse's "GO": T-SQL tools send each batch on its own).
	BatchSeparator string
	// AutoBootstrap says what the type accepts for autoBootstrap.
	AutoBootstrap AutoBootstrapRule
	// ScriptOps lists the script operations the type supports (nil: no scripts).
	ScriptOps []Operation
	// Regenerate is true for a type whose credential is an API key the server issues
	// (Trino): made by the create, shown by GET, regenerated on request and retired by
	// the delete.
	Regenerate bool
	// PhasesDoc describes the script phases and where each one connects.
	PhasesDoc string

	newConfig func() Config
}

// HasScripts reports whether the platform has SQL scripts.
func (p *Platform) HasScripts() bool { return len(p.ScriptOps) > 0 }

// HasConfig reports whether payloads of this type carry a config object.
func (p *Platform) HasConfig() bool { return p.newConfig != nil }

// NewConfig returns a zero config of the platform's type (nil for Trino).
func (p *Platform) NewConfig() Config {
	if p.newConfig == nil {
		return nil
	}
	return p.newConfig()
}

// Supports reports whether the platform offers the script operation op.
func (p *Platform) Supports(op Operation) bool {
	for _, o := range p.ScriptOps {
		if o == op {
			return true
		}
	}
	return false
}

// registry is the closed list of platforms, in the order the API documents them.
var registry = []*Platform{
	{Type: "Snowflake", Key: "snowflake", Dialect: "snowflake", AutoBootstrap: AutoBootstrapAny,
		ScriptOps: []Operation{OpCreate, OpEdit, OpDelete, OpCleanup},
		PhasesDoc: "create (account); cleanup (account)",
		newConfig: func() Config { return &Snowflake{} }},
	{Type: "Redshift", Key: "redshift", Dialect: "redshift", AutoBootstrap: AutoBootstrapMustBeFalse,
		ScriptOps: []Operation{OpCreate, OpInitialCreate, OpEdit, OpDelete, OpCleanup},
		PhasesDoc: "initial-create (initialDatabase), create (database); cleanup (database), post-cleanup (initialDatabase)",
		newConfig: func() Config { return &Redshift{} }},
	{Type: "Azure Synapse Analytics", Key: "synapse", Dialect: "synapse", BatchSeparator: "GO", AutoBootstrap: AutoBootstrapAny,
		ScriptOps: []Operation{OpCreate, OpInitialCreate, OpEdit, OpDelete, OpCleanup, OpPostCleanup},
		PhasesDoc: "initial-create (initial-check in the database, then master), create (database); cleanup (database), post-cleanup (master)",
		newConfig: func() Config { return &Synapse{} }},
	{Type: "Google BigQuery", Key: "bigquery", AutoBootstrap: AutoBootstrapMustBeFalse,
		newConfig: func() Config { return &BigQuery{} }},
	{Type: "Native S3", Key: "s3", AutoBootstrap: AutoBootstrapMustBeFalse,
		newConfig: func() Config { return &S3{} }},
	{Type: "Trino", Key: "trino", AutoBootstrap: AutoBootstrapAbsent, Regenerate: true},
}

// All returns every platform in the documented order.
func All() []*Platform {
	out := make([]*Platform, len(registry))
	copy(out, registry)
	return out
}

// ScriptedTypes returns the API types of the platforms that have scripts, in the
// documented order.
func ScriptedTypes() []string {
	var out []string
	for _, p := range registry {
		if p.HasScripts() {
			out = append(out, p.Type)
		}
	}
	return out
}

// IssuesKey reports whether typ is a type whose API key the server issues (its
// Platform.Regenerate); false for an unknown type.
func IssuesKey(typ string) bool {
	p, err := Lookup(typ)
	return err == nil && p.Regenerate
}

// ErrUnknownType is returned (wrapped) by Lookup for a type that is not in the registry.
var ErrUnknownType = errors.New("unknown integration type")

// UnknownTypeError says which type was asked for and what is accepted.
type UnknownTypeError struct {
	Type       string
	Suggestion string
}

// Error implements error.
func (e *UnknownTypeError) Error() string {
	s := fmt.Sprintf("unknown type %q", e.Type)
	if e.Suggestion != "" {
		s += fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
	}
	return s + "; accepted: " + strings.Join(TypeNames(), ", ")
}

// Unwrap makes errors.Is(err, ErrUnknownType) true.
func (e *UnknownTypeError) Unwrap() error { return ErrUnknownType }

// TypeNames returns the accepted type strings, sorted as the seed lists them.
func TypeNames() []string {
	names := make([]string, 0, len(registry))
	for _, p := range registry {
		names = append(names, p.Type)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the platform whose API type is typ (case-sensitive). The short key
// (e.g. "synapse") is not accepted here: the API takes type strings only. On a miss the
// error suggests the closest type.
func Lookup(typ string) (*Platform, error) {
	for _, p := range registry {
		if p.Type == typ {
			return p, nil
		}
	}
	cands := TypeNames()
	for _, p := range registry {
		cands = append(cands, p.Key)
	}
	best := Closest(typ, cands)
	for _, p := range registry {
		if best == p.Key {
			best = p.Type
		}
	}
	return nil, &UnknownTypeError{Type: typ, Suggestion: best}
}

// ByKey returns the platform with the short key k (e.g. "snowflake").
func ByKey(k string) (*Platform, bool) {
	for _, p := range registry {
		if p.Key == k {
			return p, true
		}
	}
	return nil, false
}

func suggest(s string, names []string) string {
	if b := Closest(s, names); b != "" {
		return fmt.Sprintf(" (did you mean %q?)", b)
	}
	return ""
}

// Closest returns the candidate nearest to s (case-insensitive edit distance) when it is
// near enough to be a plausible typo, else "": the did-you-mean of every error message.
func Closest(s string, cands []string) string {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, c := range cands {
		d := editDistance(ls, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, len([]rune(s))/3)
	if bestD < 0 || bestD > limit {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
