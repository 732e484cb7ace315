package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
)

// A failing recurring test moves enabled to recurringValidationError with the failed
// test in validationResults; a later pass moves it back to enabled.
func TestRecurringValidation(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.revalidate = 150 * time.Millisecond })
	id := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	const test = "Initial Validation: Project Access Test"
	e.fake.Set(func(f *connector.Fake) {
		f.Fail = map[string]string{test: "the service account lost roles/bigquery.user"}
	})
	e.waitStatus(id, lifecycle.RecurringValidationError)
	m := e.get("/integrations/" + id).json(t)
	vr := m["validationResults"].(map[string]any)
	if vr["status"] != "failed" {
		t.Fatalf("results %v", vr)
	}
	for _, tt := range vr["validationTests"].([]any) {
		tm := tt.(map[string]any)
		switch tm["name"] {
		case test:
			if tm["status"] != "failed" || tm["message"] != "the service account lost roles/bigquery.user" {
				t.Errorf("failing test %v", tm)
			}
		case "Initial Validation: Role Permissions Test": // not a recurring test
			if tm["status"] != "skipped" {
				t.Errorf("non-recurring test ran: %v", tm)
			}
		}
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Error("no message on recurringValidationError")
	}
	e.fake.Set(func(f *connector.Fake) { f.Fail = nil })
	e.waitStatus(id, lifecycle.Enabled)
	// PUT is allowed from recurringValidationError (API.md section 5): covered by the
	// lifecycle table test; here the integration recovered on its own.
}

// An offline server never revalidates (nothing could be checked).
func TestNoRecurringValidationOffline(t *testing.T) {
	e := newEnv(t, offline, func(o *envOpt) { o.revalidate = 50 * time.Millisecond })
	id := e.create(seed(t, "post_integrations_googlebigquery"), lifecycle.Enabled)
	n, _ := strconv.ParseInt(id, 10, 64)
	before, err := e.st.Get(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	// The integration is long due: a server with connectors would revalidate it now.
	e.clock.advance(time.Hour)
	if err := e.srv.revalidateDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.restart() // waits for any job revalidateDue started
	after, err := e.st.Get(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version || string(after.ValidationResults) != string(before.ValidationResults) {
		t.Errorf("offline server changed the integration: version %d -> %d, results\n%s\n%s", before.Version, after.Version, before.ValidationResults, after.ValidationResults)
	}
}
