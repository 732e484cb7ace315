package platforms

import (
	"reflect"
	"slices"
	"strconv"
)

// Redacted is what secret fields show in API responses and review copies.
const Redacted = "<REDACTED>"

// PhaseSpec names one phase of a script: where it runs and as whom.
type PhaseSpec struct {
	// Name is the phase's name, e.g. "initial-create" or "cleanup": the operation whose
	// script holds it, unless Op says otherwise. Objects name their phase by it.
	Name string `json:"name"`
	// Op is the operation whose script holds the phase when it is not Name (a phase of
	// its own inside another operation's script, such as Synapse's "initial-check").
	Op string `json:"op,omitempty"`
	// ConnectTo is the database the phase connects to, or "account" (Snowflake).
	ConnectTo string `json:"connectTo"`
	// RunAs says with what privileges the phase runs.
	RunAs string `json:"runAs"`
}

// Operation returns the operation whose script holds the phase.
func (p PhaseSpec) Operation() string {
	if p.Op != "" {
		return p.Op
	}
	return p.Name
}

// Object is one platform object or grant that a create script makes. Its create and
// drop statements come from the templates "<Kind>.create" and "<Kind>.drop" (and
// "<Kind>.alter" for an edit that changes Data, when the kind has one).
type Object struct {
	// ID identifies the object within a model, e.g. "role:DB_SYSTEM". Edits match
	// objects of the old and new models by ID.
	ID string
	// Kind names the templates of the object.
	Kind Kind
	// Phase is the create phase the object is made in.
	Phase string
	// Teardown is the delete/cleanup phase the object is removed in.
	Teardown string
	// Parents are IDs of objects whose drop also removes this one (a schema's
	// database, a grant's grantee). When any parent is in the model, the object is not
	// dropped on its own and its undo is empty.
	Parents []string
	// Why says which feature or config field produced the object.
	Why string
	// Data holds the values the templates render (through quoting functions only): a
	// struct of the type the config's TemplateData names for Kind (data.go).
	Data any
	// TolerateMissing marks a drop the platform cannot guard (no IF EXISTS): the script
	// says above it that a "does not exist" error is safe to ignore.
	TolerateMissing bool
	// NotRerunnable marks a create the platform cannot guard (no IF NOT EXISTS).
	NotRerunnable bool
	// Guard marks a check that changes nothing and fails when a name the script is about
	// to create is already taken: it comes before the first change of its script, so a
	// create that stops at its guard made nothing, and cleanup must not be run after it.
	Guard bool
}

// Needs are the privileges the runner of an object's statements needs, per operation of
// the kind's templates: <Kind>.create, <Kind>.alter and <Kind>.drop.
type Needs struct {
	Create, Alter, Drop []string
	// System lists the operations ("create", "alter", "drop") of the kind that the
	// integration's own system account may run, because it owns the objects (or the
	// object that contains them): the server runs a migration on its own only when
	// every statement of it, and every undo, is such an operation. Empty: only the
	// privileged runner of the phase may.
	System []string
}

// SystemMay reports whether the system account may run op on objects of the kind.
func (n Needs) SystemMay(op string) bool { return slices.Contains(n.System, op) }

// For returns the needs of op ("create", "alter" or "drop").
func (n Needs) For(op string) []string {
	switch op {
	case "create":
		return n.Create
	case "alter":
		return n.Alter
	case "drop":
		return n.Drop
	}
	return nil
}

// Model is what a scripted platform's config contributes to a script.
type Model struct {
	// Create lists the create phases in run order.
	Create []PhaseSpec
	// Teardown lists the delete/cleanup phases in run order.
	Teardown []PhaseSpec
	// Objects are in create order.
	Objects []Object
	// Needs says, per object kind, what the runner of each statement needs; a script's
	// header lists, per phase, the needs of the statements it holds, so that a delete
	// does not ask for CREATE USER and an edit asks only for what its statements use.
	// Every kind of Objects has an entry (a test checks it).
	Needs map[Kind]Needs
	// Notes go into the header of every script of the config (manual steps, ownership).
	Notes []string
	// CreateNotes go only into the headers of create and initial-create, ahead of Notes:
	// how create behaves when run again or when it stops (re-runnability, guards). An
	// edit, delete or cleanup script is not the one they describe.
	CreateNotes []string
	// Secrets are the secret values that may appear in statements (for redaction).
	Secrets []string
}

// ModelOptions are the inputs of a model besides the config.
type ModelOptions struct {
	// AutoBootstrap is the payload's autoBootstrap: the config's credentials are then the
	// privileged bootstrap user's and the system account is generated.
	AutoBootstrap bool
	// SystemPassword is the generated password of the system account (autoBootstrap
	// only; the server generates and stores it). Empty renders a placeholder.
	SystemPassword string
}

// Scripted is implemented by the configs of platforms that have scripts.
type Scripted interface {
	Config
	// Model returns the objects a create script makes for this config.
	Model(o ModelOptions) (*Model, error)
	// Quoting returns the dialect's quoting functions.
	Quoting() Quoting
	// TemplateData returns, per object kind of the platform, a zero value of the type
	// of its objects' Data: the fields its templates may read.
	TemplateData() map[Kind]any
}

// EditChecker is implemented by configs whose edits have rules that depend on both the
// old and the new config (beyond the fields tagged immutable).
type EditChecker interface {
	// EditProblems lists what an edit from old to this config cannot do, each with its
	// field path; old has the same type.
	EditProblems(old Config) []Problem
}

// fieldTag reports whether a struct field carries `flag:"true"` for flag (secret,
// immutable).
func fieldTag(f reflect.StructField, flag string) bool { return f.Tag.Get(flag) == "true" }

// walkStrings calls fn for each string field (recursing into structs and pointers), with
// its path and whether it is tagged flag.
func walkStrings(rv reflect.Value, path string, flag string, inherited bool, fn func(path string, v reflect.Value, tagged bool)) {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !rv.IsNil() {
			walkStrings(rv.Elem(), path, flag, inherited, fn)
		}
	case reflect.Struct:
		t := rv.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			walkStrings(rv.Field(i), join(path, name), flag, inherited || fieldTag(f, flag), fn)
		}
	case reflect.String, reflect.Int, reflect.Bool:
		fn(path, rv, inherited)
	}
}

// SecretPaths lists the paths of the secret fields of cfg that are set.
func SecretPaths(cfg Config) []string {
	var out []string
	walkStrings(reflect.ValueOf(cfg), "config", "secret", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && v.Kind() == reflect.String && v.String() != "" {
			out = append(out, path)
		}
	})
	return out
}

// SecretValues returns the values of the set secret fields of cfg.
func SecretValues(cfg Config) []string {
	var out []string
	walkStrings(reflect.ValueOf(cfg), "config", "secret", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && v.Kind() == reflect.String && v.String() != "" {
			out = append(out, v.String())
		}
	})
	return out
}

// Redact returns a deep copy of cfg whose set secret fields read "<REDACTED>".
func Redact(cfg Config) Config {
	if cfg == nil {
		return nil
	}
	cp := deepCopy(reflect.ValueOf(cfg))
	walkStrings(cp, "config", "secret", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && v.Kind() == reflect.String && v.String() != "" && v.CanSet() {
			v.SetString(Redacted)
		}
	})
	return cp.Interface().(Config)
}

// RedactedPaths lists the paths of the secret fields of cfg whose value is the
// placeholder "<REDACTED>" (a value copied from a GET body or a review copy): it is never
// taken as a secret.
func RedactedPaths(cfg Config) []string {
	var out []string
	walkStrings(reflect.ValueOf(cfg), "config", "secret", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && v.Kind() == reflect.String && v.String() == Redacted {
			out = append(out, path)
		}
	})
	return out
}

// RefusePlaceholders returns a *ValidationError naming every secret field of cfg whose
// value is the placeholder "<REDACTED>" (nil when none is): where no stored or old
// value can stand in for it, the placeholder is never taken as a secret. hint ends the
// message ("" for none).
func RefusePlaceholders(cfg Config, hint string) error {
	var probs []Problem
	for _, path := range RedactedPaths(cfg) {
		probs = append(probs, Problem{Path: path, Message: "is the placeholder " + Redacted + " (from a GET body or a review copy), not a secret: give the real value" + hint})
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// KeepSecrets returns a deep copy of new whose secret fields that read "<REDACTED>" take
// the value of the same field of old, when old has a real value there: the placeholder
// means "keep the secret" in an edit. Other placeholders stay (RedactedPaths reports
// them). old and new must be configs of the same type; otherwise new is returned as is.
func KeepSecrets(old, new Config) Config {
	if old == nil || new == nil || reflect.TypeOf(old) != reflect.TypeOf(new) {
		return new
	}
	prev := map[string]string{}
	walkStrings(reflect.ValueOf(old), "config", "secret", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && v.Kind() == reflect.String && v.String() != "" && v.String() != Redacted {
			prev[path] = v.String()
		}
	})
	cp := deepCopy(reflect.ValueOf(new))
	walkStrings(cp, "config", "secret", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && v.Kind() == reflect.String && v.String() == Redacted && v.CanSet() {
			if old, ok := prev[path]; ok {
				v.SetString(old)
			}
		}
	})
	return cp.Interface().(Config)
}

// ImmutableChanges lists the non-editable fields (tagged `immutable:"true"`) whose
// values differ between old and new configs of the same type.
func ImmutableChanges(old, new Config) []string {
	vals := map[string]string{}
	walkStrings(reflect.ValueOf(old), "config", "immutable", false, func(path string, v reflect.Value, tagged bool) {
		if tagged {
			vals[path] = scalarString(v)
		}
	})
	var out []string
	walkStrings(reflect.ValueOf(new), "config", "immutable", false, func(path string, v reflect.Value, tagged bool) {
		if tagged && vals[path] != scalarString(v) {
			out = append(out, path)
		}
	})
	return out
}

func scalarString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	}
	return ""
}

// deepCopy copies structs and pointers to structs (the only shapes configs use).
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		cp := reflect.New(v.Type().Elem())
		cp.Elem().Set(deepCopy(v.Elem()))
		return cp
	case reflect.Struct:
		cp := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if cp.Field(i).CanSet() {
				cp.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return cp
	default:
		return v
	}
}
