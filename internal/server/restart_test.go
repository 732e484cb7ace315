package server

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
)

// Work in flight when the server stops: a manual setup's work resumes on the next
// start; an automatic setup's cannot (its credentials were in memory only) and moves to
// the matching error status with a message. Nothing stored is lost.
func TestRestartResumesOrFails(t *testing.T) {
	e := newEnv(t)
	trino := e.create(seed(t, "post_integrations_trino"), lifecycle.Enabled)
	trinoKey := e.get("/integrations/" + trino).json(t)["config"].(map[string]any)["apiKey"]
	editedManual := e.create(seed(t, "post_integrations_natives3"), lifecycle.Enabled)
	deletedManual := e.create(strings.Replace(strings.Replace(seed(t, "post_integrations_natives3"), `"S3 integration"`, `"second"`, 1), `"s3://"`, `"s3://b/"`, 1), lifecycle.Enabled)
	editedAuto := e.create(sfSeed(t, "post_integrations_snowflake"), lifecycle.Enabled)
	deletedAuto := e.create(seed(t, "post_integrations_azuresynapseanalytics"), lifecycle.Enabled)

	gate := make(chan struct{})
	e.fake.Set(func(f *connector.Fake) { f.Gate = gate })
	createdManual := e.post("/integrations", seed(t, "post_integrations_googlebigquery")).str(t, "id")
	createdAuto := e.post("/integrations", strings.Replace(sfSeed(t, "post_integrations_snowflake"), "organization.us", "other.us", 1)).str(t, "id")
	expect(t, e.put("/integrations/"+editedManual, seed(t, "put_integrations_123456789_natives3")), http.StatusOK)
	expect(t, e.del("/integrations/"+deletedManual, ""), http.StatusOK)
	expect(t, e.put("/integrations/"+editedAuto, sfSeed(t, "put_integrations_123456789_snowflake")), http.StatusOK)
	expect(t, e.del("/integrations/"+deletedAuto, `{"authenticationType":"userPassword","username":"admin@x","password":"pw"}`), http.StatusOK)
	before := e.get("/integrations").body

	e.fake.Set(func(f *connector.Fake) { f.Gate = nil })
	e.restart()
	close(gate)

	e.waitStatus(createdManual, lifecycle.Enabled)
	e.waitStatus(editedManual, lifecycle.Enabled)
	e.waitStatus(deletedManual, lifecycle.Deleted)
	e.waitStatus(createdAuto, lifecycle.CreateError)
	e.waitStatus(editedAuto, lifecycle.EditError)
	e.waitStatus(deletedAuto, lifecycle.DeleteError)
	for id, want := range map[string]string{createdAuto: "create it again", editedAuto: "previous config is kept", deletedAuto: "send the DELETE again"} {
		if msg := e.get("/integrations/"+id).str(t, "message"); !strings.Contains(msg, "interrupted") || !strings.Contains(msg, want) {
			t.Errorf("integration %s: message %q", id, msg)
		}
	}
	if name := e.get("/integrations/" + editedManual).json(t)["config"].(map[string]any)["name"]; name != "S3 integration edited" {
		t.Errorf("resumed edit not applied: %v", name)
	}
	if audit := e.get("/integrations/" + editedAuto).json(t)["config"].(map[string]any)["audit"].(map[string]any)["enabled"]; audit != false {
		t.Errorf("interrupted automatic edit applied the new config")
	}
	// Stored data survived: the Trino key (a sealed secret) reads back the same.
	if got := e.get("/integrations/" + trino).json(t)["config"].(map[string]any)["apiKey"]; got != trinoKey {
		t.Errorf("Trino key after restart %v, want %v", got, trinoKey)
	}
	if len(e.get("/integrations").body) < len(before)/2 {
		t.Errorf("integrations lost over the restart")
	}
	// IDs keep increasing after a restart.
	next := e.post("/integrations", strings.Replace(seed(t, "post_integrations_googlebigquery"), `"dataset": "immuta"`, `"dataset": "other"`, 1)).str(t, "id")
	if next != fmt.Sprint(mustAtoi(t, createdAuto)+1) {
		t.Errorf("next id %s after %s", next, createdAuto)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Racing PUTs and DELETEs on one integration: while the winner's work runs, every other
// request gets 409, so exactly one wins each round; nothing gets a 5xx.
func TestRacingWritesOneWinner(t *testing.T) {
	e := newEnv(t)
	for round := 0; round < 5; round++ {
		id := e.create(strings.Replace(seed(t, "post_integrations_natives3"), `"S3 integration"`, fmt.Sprintf(`"race %d"`, round), 1), lifecycle.Enabled)
		gate := make(chan struct{})
		e.fake.Set(func(f *connector.Fake) { f.Gate = gate })
		const n = 12
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var r resp
				if i%3 == 0 {
					r = e.del("/integrations/"+id, "")
				} else {
					body := strings.Replace(seed(t, "put_integrations_123456789_natives3"), "S3 integration edited", fmt.Sprintf("race %d edit %d", round, i), 1)
					r = e.put("/integrations/"+id, body)
				}
				codes[i] = r.status
			}()
		}
		wg.Wait()
		wins := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				wins++
			case http.StatusConflict:
			default:
				t.Fatalf("round %d: status %d in %v", round, c, codes)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners in %v", round, wins, codes)
		}
		e.fake.Set(func(f *connector.Fake) { f.Gate = nil })
		close(gate)
		var st any
		e.eventually("the racing edit and delete did not settle", func() bool {
			st = e.get("/integrations/" + id + "/status").json(t)["status"]
			return st != "editing" && st != "deleting"
		})
		if st != "enabled" && st != "deleted" {
			t.Fatalf("round %d: final status %v", round, st)
		}
		if st == "deleted" {
			continue
		}
		// The winning edit was applied whole.
		name := e.get("/integrations/" + id).json(t)["config"].(map[string]any)["name"].(string)
		if !strings.HasPrefix(name, fmt.Sprintf("race %d edit ", round)) {
			t.Fatalf("round %d: name %q", round, name)
		}
		// Clean up so the next round's unique keys are free.
		expect(t, e.del("/integrations/"+id+"?forceDisable=true", ""), http.StatusOK)
	}
}

// forceDisable while the work runs: the work loses its lease and stops, and its outcome
// never overwrites disabled.
func TestForceDisableStopsWork(t *testing.T) {
	e := newEnv(t)
	id := e.create(seed(t, "post_integrations_natives3"), lifecycle.Enabled)
	gate := make(chan struct{})
	e.fake.Set(func(f *connector.Fake) { f.Gate = gate })
	expect(t, e.put("/integrations/"+id, seed(t, "put_integrations_123456789_natives3")), http.StatusOK)
	e.eventually("the edit did not start", func() bool { return e.jobCount("edit", "started") == 1 })
	r := e.del("/integrations/"+id+"?forceDisable=true", "")
	expect(t, r, http.StatusOK)
	// The next renewal finds the lease gone and stops the job, though its gate stays
	// shut: it ends as lost, without an outcome.
	e.eventually("the running job did not notice it lost its lease", func() bool {
		return strings.Contains(e.logs.String(), "lease lost") && e.jobCount("edit", "lost") == 1
	})
	e.fake.Set(func(f *connector.Fake) { f.Gate = nil })
	close(gate)
	m := e.get("/integrations/" + id).json(t)
	if m["status"] != "disabled" || m["config"].(map[string]any)["name"] != "S3 integration" {
		t.Fatalf("after forceDisable: %v", m)
	}
	for _, outcome := range []string{"ok", "failed", "dropped"} {
		if got := e.jobCount("edit", outcome); got != 0 {
			t.Errorf("edit jobs %s: %d, want 0", outcome, got)
		}
	}
}

// Two servers on one store, as two replicas: work accepted by one that stops without a
// goodbye (its lease is never released) is taken over by the other once the lease
// lapses.
func TestLeaseTakeover(t *testing.T) {
	a := newEnv(t)
	gate := make(chan struct{})
	a.fake.Set(func(f *connector.Fake) { f.Gate = gate })
	id := a.post("/integrations", seed(t, "post_integrations_natives3")).str(t, "id")
	// Replica a "dies": its workers stop, its lease is neither renewed nor released.
	a.srv.stopOnce.Do(func() { close(a.srv.quit) })
	a.srv.stop()
	a.srv.qmu.Lock()
	a.srv.held = map[int64]*heldJob{}
	a.srv.qmu.Unlock()
	b := newEnv(t, func(o *envOpt) { o.dir = a.dir })
	b.waitStatus(id, lifecycle.Enabled)
	close(gate)
	if !strings.Contains(b.logs.String(), "resuming interrupted work") {
		t.Error("replica b did not take the work over")
	}
}
