// Package connector is the server's only way to reach a data platform: the validation
// tests of API.md section 6, running generated scripts, and checking a manual setup.
//
// Each platform has a fixed, ordered catalogue of named tests (Catalogue). Validate runs
// the ones that apply to the payload (automatic-only tests are skipped for manual setups
// and vice versa; impersonation tests are skipped when impersonation is off) through a
// Connector. With no connector (the server's --offline mode) every test that needs the
// platform is skipped with a message saying so.
//
// Each platform's connector file (snowflake.go, redshift.go, ..., trino.go) registers
// itself in its init with its catalogue and its live constructor (Registration);
// Registered and Catalogue look a type up, Live builds every live connector. Fake is an
// in-process connector whose outcomes tests choose.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// The status strings of a test and of a whole validation.
const (
	Passed  = "passed"
	Failed  = "failed"
	Warning = "warning"
	Skipped = "skipped"
)

// Test is one validation test's outcome, as the API shows it.
type Test struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Message says what is wrong and how to fix it (failed, warning) or why the test
	// was skipped.
	Message string `json:"message,omitempty"`
	// Result is the seed's `"result": []` of some Snowflake tests.
	Result json.RawMessage `json:"result,omitempty"`
}

// Results is the API's validationResults object.
type Results struct {
	Status string `json:"status"`
	Tests  []Test `json:"validationTests"`
}

// Failed reports whether any test failed.
func (r Results) Failed() bool { return r.Status == Failed }

// Applies says for which setups a test runs.
type Applies int

// When a test applies.
const (
	Always Applies = iota
	AutomaticOnly
	ManualOnly
)

// Spec is one entry of a platform's test catalogue.
type Spec struct {
	Name    string
	Applies Applies
	// Impersonation tests are skipped when the config's impersonation is off.
	Impersonation bool
	// EmptyResult adds the seed's `"result": []` to the outcome.
	EmptyResult bool
	// CreateOnly tests check that what a create makes is not there yet; edits and
	// deletes skip them.
	CreateOnly bool
	// Recurring tests also run in the periodic revalidation of an enabled integration
	// (as its system account); the others are skipped there.
	Recurring bool
	// Connection marks the test that signs in: when it fails, the tests after it are
	// skipped rather than each waiting for the same unreachable platform.
	Connection bool
}

// Revalidate is the operation of the periodic validation (not a script operation).
const Revalidate platforms.Operation = "revalidate"

// Registration is what a platform's connector file registers (in its init, through
// register): the platform's test catalogue and its live connector.
type Registration struct {
	// Type is the API type string, e.g. "Snowflake".
	Type string
	// Tests is the ordered test catalogue of API.md section 6 (nil: no tests).
	Tests []Spec
	// New returns the live connector configured by o; nil for a type with no platform
	// to reach (Trino).
	New func(o Options) Connector
}

// registrations holds every Registration by type; written only by init functions.
var registrations = map[string]Registration{}

// register records r; a second registration of a type is a programming error.
func register(r Registration) {
	if _, dup := registrations[r.Type]; dup {
		panic("connector: " + r.Type + " registered twice")
	}
	registrations[r.Type] = r
}

// Registered returns the registration of an integration type.
func Registered(typ string) (Registration, bool) {
	r, ok := registrations[typ]
	return r, ok
}

// Catalogue returns the ordered test list of an integration type.
func Catalogue(typ string) []Spec { return registrations[typ].Tests }

// Credentials is what a connector uses to reach the platform beyond the payload's
// config: the system account the server holds for an automatic setup.
type Credentials struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Connector reaches one data platform. Implementations must honour ctx (the server
// gives every call a timeout) and must never put a secret into an error.
type Connector interface {
	// Check runs the named test of the catalogue for payload p, signed in with the
	// payload's credentials, or for an automatic setup's recurring validation (the
	// bootstrap credentials are gone then) as the system account sys. nil means passed;
	// an error wrapping ErrWarning is a warning; any other error is a failure whose text
	// says what is wrong and how to fix it.
	Check(ctx context.Context, test string, p *platforms.Payload, sys Credentials) error
	// Run executes the script's phases in order, each on its own connection
	// (Phase.ConnectTo), with the payload's credentials (the bootstrap user's for an
	// automatic setup), or as the system account sys when sys holds a password (an
	// automatic setup's migration, which the server runs as the account that owns what
	// it changes). It stops at the first failing statement and returns a *RunError.
	Run(ctx context.Context, s *render.Script, p *platforms.Payload, sys Credentials) error
	// Verify checks, as the system account, that what the create script makes is in
	// place (op create or edit) or gone (op delete).
	Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, sys Credentials) error
}

// ErrWarning marks a Check error as a warning rather than a failure.
var ErrWarning = errors.New("warning")

// RunError is a script statement that failed on the platform.
type RunError struct {
	Phase string
	// Index is the statement's 1-based position within the phase.
	Index int
	Err   error
}

// Error implements error.
func (e *RunError) Error() string {
	return fmt.Sprintf("phase %s, statement %d: %v", e.Phase, e.Index, e.Err)
}

// Unwrap returns the platform's error.
func (e *RunError) Unwrap() error { return e.Err }

// OfflineMessage is the message of every test skipped because the server runs offline.
const OfflineMessage = "skipped: the server runs with --offline, so nothing was checked on the platform; run it with platform connectivity to run this test"

// Validate runs the tests of p's catalogue that apply to op (create, edit, delete or
// Revalidate), each with timeout, through c (nil: offline); sys is the system account
// the server holds for an automatic setup (for Revalidate). It never fails as a whole: a test that
// cannot run is failed with a message.
func Validate(ctx context.Context, c Connector, op platforms.Operation, p *platforms.Payload, sys Credentials, timeout time.Duration) Results {
	specs := Catalogue(p.Type)
	tests := make([]Test, 0, len(specs))
	auto := p.Auto()
	noConnection := ""
	for _, s := range specs {
		t := Test{Name: s.Name}
		if s.EmptyResult {
			t.Result = json.RawMessage("[]")
		}
		switch {
		case op == Revalidate && !s.Recurring:
			t.Status, t.Message = Skipped, "skipped: checked when the integration is created or edited"
		case s.Applies == AutomaticOnly && !auto:
			t.Status, t.Message = Skipped, "skipped: applies to automatic setup only"
		case s.Applies == ManualOnly && auto:
			t.Status, t.Message = Skipped, "skipped: applies to manual setup only"
		case s.CreateOnly && op != platforms.OpCreate:
			t.Status, t.Message = Skipped, "skipped: applies when creating only"
		case s.Impersonation && !impersonationOn(p):
			t.Status = Skipped
		case c == nil:
			t.Status, t.Message = Skipped, OfflineMessage
		case noConnection != "":
			t.Status, t.Message = Skipped, "skipped: "+noConnection+" failed; fix it first"
		default:
			tctx, cancel := context.WithTimeout(ctx, timeout)
			err := c.Check(tctx, s.Name, p, sys)
			cancel()
			switch {
			case err == nil:
				t.Status = Passed
			case errors.Is(err, ErrWarning):
				t.Status, t.Message = Warning, err.Error()
			case errors.Is(err, context.DeadlineExceeded):
				t.Status, t.Message = Failed, fmt.Sprintf("the platform did not answer within %s; check that it is reachable from the server and try again", timeout)
			default:
				t.Status, t.Message = Failed, err.Error()
			}
			if t.Status == Failed && s.Connection {
				noConnection = "the " + strings.TrimPrefix(s.Name, "Initial Validation: ")
			}
		}
		tests = append(tests, t)
	}
	return Summarize(tests)
}

// Summarize computes the overall status: failed if any test failed, else warning if any
// warned, else passed; skipped when every test was skipped.
func Summarize(tests []Test) Results {
	r := Results{Status: Passed, Tests: tests}
	if r.Tests == nil {
		r.Tests = []Test{}
	}
	skipped := 0
	for _, t := range tests {
		switch t.Status {
		case Failed:
			r.Status = Failed
		case Warning:
			if r.Status != Failed {
				r.Status = Warning
			}
		case Skipped:
			skipped++
		}
	}
	if len(tests) > 0 && skipped == len(tests) {
		r.Status = Skipped
	}
	return r
}

// objectData returns o's template data as a T, the type the platform's TemplateData
// names for o's kind (the zero T if it is another).
func objectData[T any](o platforms.Object) T {
	d, _ := o.Data.(T)
	return d
}

// impersonationOn reports whether p's config turns impersonation on (Trino has no config).
func impersonationOn(p *platforms.Payload) bool {
	return p.Config != nil && p.Config.ImpersonationEnabled()
}
