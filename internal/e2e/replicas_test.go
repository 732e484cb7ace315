// Package e2e runs the `integrations` binary as several processes: the multi-replica
// test of three servers on one PostgreSQL, one of which is killed mid-load, and the
// load tests (and BenchmarkJobs) of background jobs on one server and on three
// replicas.
//
// It has only tests and imports nothing of the module: it drives the built binary from
// outside, as an operator would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/cli"
	"github.com/openintegrations/integrations/internal/store/storetest"
)

// TestMain lets the test binary be the server: with E2E_SERVE=1 it runs the CLI.
func TestMain(m *testing.M) {
	if os.Getenv("E2E_SERVE") == "1" {
		// As cmd/integrations does: SIGTERM cancels the context, and the server stops.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const (
	adminKey  = "e2e-admin-key-0123456789abcdef"
	secretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
)

// replica is one `integrations serve` process.
type replica struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

func startReplica(t testing.TB, db string, extra ...string) *replica {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--sandbox", "--sandbox-latency", "300ms", "--lease", "2s"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "E2E_SERVE=1", "INTEGRATIONS_ADMIN_KEY="+adminKey, "INTEGRATIONS_SECRET_KEY="+secretKey)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.logs.WriteString(line + "\n")
			r.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "listening" {
				addr <- rec["addr"].(string)
			}
		}
		_ = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	select {
	case r.url = <-addr:
	case <-r.done:
		t.Fatalf("replica exited:\n%s", r.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("replica did not start:\n%s", r.log())
	}
	return r
}

var client = &http.Client{Timeout: 30 * time.Second}

// call sends a request; err is a transport error (a dead replica), not a status.
func call(base, method, path, body string) (int, []byte, error) {
	code, b, _, err := callH(base, method, path, body)
	return code, b, err
}

// callH is call that also returns the response's headers.
func callH(base, method, path, body string) (int, []byte, http.Header, error) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", adminKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header, err
}

func s3Body(name string) string {
	return fmt.Sprintf(`{"type":"Native S3","autoBootstrap":false,"config":{"name":%q,"awsAccountId":"123456789012","awsRegion":"us-east-1","awsLocationRole":"arn:aws:iam::123456789012:role/r","awsLocationPath":"s3://%s/","authenticationType":"accessKey","awsAccessKeyId":"AKIA","awsSecretAccessKey":"secret"}}`, name, name)
}

func snowflakeBody(host string) string {
	return fmt.Sprintf(`{"type":"Snowflake","autoBootstrap":false,"config":{"host":%q,"warehouse":"W","database":"D","authenticationType":"userPassword","username":"U","password":"Passw0rd-12345"}}`, host)
}

type ack struct {
	id   string
	name string // S3 name or Snowflake host
}

func idOf(t *testing.T, body []byte) string {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("body %s: %v", body, err)
		return ""
	}
	id, _ := m["id"].(string)
	return id
}

// Three replicas on one PostgreSQL under a mixed load; one is killed with SIGKILL in
// the middle. Afterwards: no acknowledged write is lost, no two live integrations hold
// one unique key, each round of racing edits has exactly one winner applied whole, and
// every integration reaches a final state shortly after.
func TestThreeReplicasOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	db := storetest.PostgresURL(t)
	reps := []*replica{startReplica(t, db), startReplica(t, db), startReplica(t, db)}
	urls := []string{reps[0].url, reps[1].url, reps[2].url}

	var mu sync.Mutex
	var acks []ack
	record := func(a ack) { mu.Lock(); acks = append(acks, a); mu.Unlock() }
	var wg sync.WaitGroup

	// Creates spread over the replicas, and the same host sent to all three at once.
	create := func(round int) {
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("r%d-s3-%d", round, i)
				code, body, err := call(urls[i%3], "POST", "/integrations", s3Body(name))
				if err == nil && code == 200 {
					record(ack{idOf(t, body), name})
				} else if err == nil {
					t.Errorf("create %s: %d %s", name, code, body)
				}
			}()
		}
		host := fmt.Sprintf("r%d.snowflakecomputing.com", round)
		wins := make(chan int, 3)
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body, err := call(urls[i], "POST", "/integrations", snowflakeBody(host))
				switch {
				case err != nil:
				case code == 200:
					record(ack{idOf(t, body), host})
					wins <- 1
				case code != 409:
					t.Errorf("duplicate host %s: %d %s", host, code, body)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := call(urls[round%3], "POST", "/integrations/scripts/create", snowflakeBody("script.snowflakecomputing.com"))
			if err == nil && (code != 200 || !bytes.Contains(body, []byte("CREATE DATABASE"))) {
				t.Errorf("script: %d %.200s", code, body)
			}
		}()
		wg.Wait()
		if len(wins) > 1 {
			t.Errorf("host %s: %d replicas accepted the same host", host, len(wins))
		}
	}
	create(0)

	// Racing edits of one integration through all three replicas: one winner a round.
	edited := map[string]string{} // id -> the accepted name
	waitFinal(t, urls[0], acks)
	var s3acks []ack
	for _, a := range acks {
		if strings.Contains(a.name, "-s3-") {
			s3acks = append(s3acks, a)
		}
	}
	for round := 0; round < 3; round++ {
		target := s3acks[round]
		accepted := make(chan string, 3)
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("%s-edit-%d-%d", target.name, round, i)
				code, body, err := call(urls[i], "PUT", "/integrations/"+target.id, s3Body(name))
				switch {
				case err != nil:
				case code == 200:
					accepted <- name
				case code != 409:
					t.Errorf("racing edit: %d %s", code, body)
				}
			}()
		}
		wg.Wait()
		close(accepted)
		var names []string
		for n := range accepted {
			names = append(names, n)
		}
		if len(names) > 1 {
			t.Fatalf("racing edits of %s: %d winners %v", target.id, len(names), names)
		}
		if len(names) == 1 {
			edited[target.id] = names[0]
		}
		waitFinal(t, urls[0], acks)
	}

	// Work in flight on replica 1, then SIGKILL it: its jobs must be taken over.
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("inflight-%d", i)
		code, body, err := call(urls[1], "POST", "/integrations", s3Body(name))
		if err != nil || code != 200 {
			t.Fatalf("in-flight create: %v %d %s", err, code, body)
		}
		record(ack{idOf(t, body), name})
	}
	if err := reps[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-reps[1].done
	// The load goes on against the two that are left.
	urls = []string{urls[0], urls[2], urls[0]}
	create(1)
	// A delete through a survivor.
	deleted := s3acks[3].id // enabled since round 0, never edited
	if code, body, err := call(urls[1], "DELETE", "/integrations/"+deleted, ""); err != nil || code != 200 {
		t.Fatalf("delete: %v %d %s", err, code, body)
	}

	// Every acknowledged integration reaches a final state (the killed replica's
	// in-flight jobs after its lease lapses).
	final := waitFinal(t, urls[0], acks)
	ids := map[string]bool{}
	for _, a := range acks {
		if ids[a.id] {
			t.Errorf("id %s acknowledged twice", a.id)
		}
		ids[a.id] = true
		st, ok := final[a.id]
		if !ok {
			t.Errorf("acknowledged integration %s (%s) is lost", a.id, a.name)
			continue
		}
		want := "enabled"
		if a.id == deleted {
			want = "deleted"
		}
		if st.Status != want {
			t.Errorf("integration %s ended %s, want %s: %s", a.id, st.Status, want, st.Message)
		}
	}
	for id, name := range edited {
		if got := final[id].Name; got != name {
			t.Errorf("integration %s: name %q, want the accepted edit %q", id, got, name)
		}
	}
	// The killed replica's jobs were taken over by a survivor.
	if !strings.Contains(reps[0].log()+reps[2].log(), "resuming interrupted work") {
		t.Error("no survivor took over the killed replica's jobs")
	}
	// No two live integrations hold one unique key.
	_, body, err := call(urls[0], "GET", "/integrations", "")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		ID     string         `json:"id"`
		Status string         `json:"status"`
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, in := range list {
		key := fmt.Sprint(in.Config["host"], in.Config["name"])
		if in.Status != "deleted" && in.Status != "disabled" {
			if other, dup := seen[key]; dup {
				t.Errorf("integrations %s and %s both hold %s", other, in.ID, key)
			}
			seen[key] = in.ID
		}
	}
	if t.Failed() {
		for i, r := range reps {
			t.Logf("replica %d log:\n%s", i, r.log())
		}
	}
}

type state struct {
	Status  string
	Message string
	Name    string
}

// waitFinal polls until every acknowledged integration is out of creating, editing
// and deleting, and returns their states.
func waitFinal(t *testing.T, base string, acks []ack) map[string]state {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := map[string]state{}
		busy := ""
		for _, a := range acks {
			code, body, err := call(base, "GET", "/integrations/"+a.id, "")
			if err != nil || code != 200 {
				t.Fatalf("GET %s: %v %d %s", a.id, err, code, body)
			}
			var v struct {
				Status  string         `json:"status"`
				Message string         `json:"message"`
				Config  map[string]any `json:"config"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			name, _ := v.Config["name"].(string)
			out[a.id] = state{v.Status, v.Message, name}
			if v.Status == "creating" || v.Status == "editing" || v.Status == "deleting" {
				busy = a.id + " " + v.Status
			}
		}
		if busy == "" {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("integration %s is still busy after 30 s", busy)
		}
		// The replicas are other processes seen only through the API, as a client sees
		// them: the API has no change feed, so an outside poll is the only signal.
		time.Sleep(100 * time.Millisecond)
	}
}
