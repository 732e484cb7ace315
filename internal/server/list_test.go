package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// TestListPages: without paging the list is the whole array; ?limit and ?after walk
// it in id order, each item the same bytes as its single GET; deleted integrations are
// left out; a bad limit or after is a 400 naming it.
func TestListPages(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.create(s3Manual(t, i), lifecycle.Enabled))
	}
	expect(t, e.del("/integrations/"+ids[2], ""), http.StatusOK)
	e.waitStatus(ids[2], lifecycle.Deleted)
	live := []string{ids[0], ids[1], ids[3], ids[4]}
	items := func(path string) []json.RawMessage {
		t.Helper()
		r := e.get(path)
		expect(t, r, http.StatusOK)
		var out []json.RawMessage
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, r.body)
		}
		return out
	}
	idOf := func(m json.RawMessage) string {
		var v struct{ ID string }
		_ = json.Unmarshal(m, &v)
		return v.ID
	}
	all := items("/integrations")
	if len(all) != len(live) {
		t.Fatalf("%d items, want %d", len(all), len(live))
	}
	for i, m := range all {
		single := strings.TrimSuffix(string(e.get("/integrations/"+live[i]).body), "\n")
		if idOf(m) != live[i] || string(m) != single {
			t.Errorf("item %d is not GET /integrations/%s:\n%s\n%s", i, live[i], m, single)
		}
	}
	var walked []string
	after := ""
	for page := 0; page < 5; page++ {
		path := "/integrations?limit=2"
		if after != "" {
			path += "&after=" + after
		}
		got := items(path)
		for _, m := range got {
			walked = append(walked, idOf(m))
		}
		if len(got) < 2 {
			break
		}
		after = idOf(got[len(got)-1])
	}
	if strings.Join(walked, ",") != strings.Join(live, ",") {
		t.Errorf("pages walked %v, want %v", walked, live)
	}
	for _, c := range []struct{ query, want string }{
		{"limit=0", "query parameter limit must be a whole number from 1 to 10000"},
		{"limit=10001", "query parameter limit must be a whole number from 1 to 10000"},
		{"limit=two", "query parameter limit must be"},
		{"after=-1", "query parameter after must be an integration id"},
		{"after=x", "query parameter after must be an integration id"},
		{"afer=1", "afer"},
	} {
		r := e.do(req{method: "GET", path: "/integrations?" + c.query})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("?%s: %d %s", c.query, r.status, r.body)
		}
	}
}
