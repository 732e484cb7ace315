package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/templates"
)

// TestAppliedState: a create stores the applied state (no secret in it); the edit
// script of the unchanged config from an older state is the migration, named in its
// header; an integration with no state gets a note in its delete script.
func TestAppliedState(t *testing.T) {
	e := newEnv(t)
	manual := sfSeed(t, "post_integrations_scripts_create_snowflake")
	id := e.create(manual, lifecycle.Enabled)
	n, _ := strconv.ParseInt(id, 10, 64)
	in, err := e.st.Get(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	st, err := appliedState(in)
	if err != nil || st == nil {
		t.Fatalf("no applied state after create: %v", err)
	}
	if st.BundleVersion != templates.BundleVersion || len(st.Objects) == 0 {
		t.Fatalf("state: bundle %d, %d objects", st.BundleVersion, len(st.Objects))
	}
	var cfg struct {
		Config struct {
			Password string `json:"password"`
		} `json:"config"`
	}
	if json.Unmarshal([]byte(manual), &cfg) == nil && len(cfg.Config.Password) >= 6 && strings.Contains(string(in.AppliedState), cfg.Config.Password) {
		t.Errorf("the applied state holds the password")
	}
	editScript := func() string {
		t.Helper()
		r := e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/edit", body: manual, headers: []string{"Accept: text/plain"}})
		expect(t, r, http.StatusOK)
		return string(r.body)
	}
	if s := editScript(); !strings.Contains(s, "nothing to change") || strings.Contains(s, "migration from bundle") {
		t.Errorf("edit of the unchanged config at the current bundle:\n%s", s)
	}
	// An older state: the same config is the migration.
	st.BundleVersion = templates.BundleVersion - 1
	old := *st
	in.AppliedState, _ = json.Marshal(&old)
	if err := e.st.Update(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^-- migration from bundle ` + strconv.Itoa(templates.BundleVersion-1) + ` to ` + strconv.Itoa(templates.BundleVersion) + `$`)
	if s := editScript(); !want.MatchString(s) {
		t.Errorf("edit of the unchanged config from an older state has no migration header:\n%s", s)
	}
	// No state: the delete script says what it assumes.
	in, _ = e.st.Get(t.Context(), n)
	in.AppliedState = nil
	if err := e.st.Update(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	r := e.do(req{method: "POST", path: "/integrations/" + id + "/scripts/delete", headers: []string{"Accept: text/plain"}})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "has no applied state") {
		t.Errorf("delete script without a state has no note:\n%s", r.body)
	}
}
