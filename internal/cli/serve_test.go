package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/cli"
)

var keyLine = regexp.MustCompile(`admin API key \(shown once, keep it\): ([0-9a-f]{64})`)

// env is a test's environment for cli.Run.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// served is an `integrations serve` running in-process.
type served struct {
	base, key string
	// stop cancels Run's context: what SIGINT or SIGTERM does to the program.
	stop context.CancelFunc
	// done receives the exit code.
	done chan int
	// lines has each stderr line after the listening line, in order.
	lines chan string
	mu    sync.Mutex
	logs  strings.Builder
	eof   chan struct{}
}

// all returns the whole stderr once serve has exited.
func (s *served) all() string {
	<-s.eof
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// waitFor blocks until a stderr line contains substr: the server's own log line is
// the hook that says it reached that point.
func (s *served) waitFor(t *testing.T, substr string) {
	t.Helper()
	for l := range s.lines {
		if strings.Contains(l, substr) {
			return
		}
	}
	t.Fatalf("serve exited before logging %q", substr)
}

// serve runs `integrations serve` in-process on a free port with environment e.
func serve(t *testing.T, e env, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	s := &served{stop: cancel, done: make(chan int, 1), lines: make(chan string, 1024), eof: make(chan struct{})}
	go func() {
		code := cli.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), e.lookup, nil, io.Discard, pw)
		pw.Close()
		s.done <- code
	}()
	started := make(chan struct{})
	go func() {
		defer close(s.eof)
		defer close(s.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(l + "\n")
			s.mu.Unlock()
			if s.base == "" {
				if m := keyLine.FindStringSubmatch(l); m != nil {
					s.key = m[1]
				}
				var rec map[string]any
				if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "listening" {
					s.base = rec["addr"].(string)
					close(started)
				}
				continue
			}
			select {
			case s.lines <- l:
			default: // nobody waits for that many lines
			}
		}
	}()
	select {
	case <-started:
	case <-s.eof:
		t.Fatalf("serve exited early:\n%s", s.all())
	case <-time.After(time.Minute):
		t.Fatal("serve did not start within a minute")
	}
	return s
}

// The server starts on a new store, prints the admin key once, serves the seed's
// requests, and on SIGTERM lets an in-flight request finish before it exits 0. A
// restart on the same store keeps everything and prints no new key.
func TestServeLifecycle(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "integrations.db")
	srv := serve(t, env{}, "--db", db, "--sandbox")
	base, key := srv.base, srv.key
	if key == "" {
		t.Fatal("no admin key printed")
	}
	if fi, err := os.Stat(db + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	post := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := post("/integrations", `{"type":"Trino"}`)
	if code != 200 || !strings.Contains(body, `"status":"creating"`) {
		t.Fatalf("POST: %d %s", code, body)
	}

	// An in-flight request: the handler is reading its body (it asked for it with a
	// 100 Continue), then the stop (SIGTERM's cancel) and the shutdown's start, then
	// the body.
	payload := `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"h.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"U","password":"Secret-pw-12345"}}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /integrations/scripts/create HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\nAccept: text/plain\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", key, len(payload))
	br := bufio.NewReader(conn)
	if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "HTTP/1.1 100 ") {
		t.Fatalf("no 100 Continue: %q %v", l, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line ending the interim response
		t.Fatal(err)
	}
	fmt.Fprint(conn, payload[:40])
	srv.stop()
	srv.waitFor(t, "shutting down")
	fmt.Fprint(conn, payload[40:])
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request cut off: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), "CREATE DATABASE") {
		t.Fatalf("in-flight request: %d %s", res.StatusCode, b)
	}
	select {
	case code := <-srv.done:
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, srv.all())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop when its context was cancelled")
	}
	l := srv.all()
	// The one line that shows the new admin key is the deliberate exception.
	printed := keyLine.FindString(l)
	rest := strings.Replace(l, printed, "", 1)
	for _, secret := range []string{key, "Secret-pw-12345"} {
		if strings.Contains(rest, secret) {
			t.Errorf("logs hold a secret %q:\n%s", secret, l)
		}
	}
	if !strings.Contains(l, `"request_id"`) || !strings.Contains(l, `"msg":"stopped"`) {
		t.Errorf("logs:\n%s", l)
	}

	// Restart: the integration is still there, no new key is printed.
	srv2 := serve(t, env{}, "--db", db, "--sandbox")
	base = srv2.base
	if srv2.key != "" {
		t.Error("a second admin key was printed for an existing store")
	}
	req, _ := http.NewRequest("GET", base+"/integrations/1/status", nil)
	req.Header.Set("Authorization", key)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != `{"id":1,"status":"enabled"}`+"\n" {
		t.Fatalf("after restart: %d %s", res.StatusCode, b)
	}
	srv2.stop()
	if code := <-srv2.done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, srv2.all())
	}
}

// INTEGRATIONS_ADMIN_KEY sets the first admin key; no key is generated then.
func TestServeAdminKeyFromEnv(t *testing.T) {
	srv := serve(t, env{"INTEGRATIONS_ADMIN_KEY": "0123456789abcdef-admin"}, "--db", filepath.Join(t.TempDir(), "s.db"), "--offline")
	base := srv.base
	if srv.key != "" {
		t.Error("a key was generated although INTEGRATIONS_ADMIN_KEY is set")
	}
	req, _ := http.NewRequest("GET", base+"/integrations", nil)
	req.Header.Set("Authorization", "Bearer 0123456789abcdef-admin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("env admin key: %d", res.StatusCode)
	}
	srv.stop()
	if code := <-srv.done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, srv.all())
	}
	if strings.Contains(srv.all(), "0123456789abcdef-admin") {
		t.Error("the admin key reached the logs")
	}
}

// A weak INTEGRATIONS_ADMIN_KEY stops the server at start, with a message that says
// what is needed; it is not stored.
func TestServeRefusesWeakAdminKey(t *testing.T) {
	var stderr strings.Builder
	e := env{"INTEGRATIONS_ADMIN_KEY": "aaaaaaaaaaaaaaaa"}
	code := cli.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--offline", "--db", filepath.Join(t.TempDir(), "s.db")}, e.lookup, nil, io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "INTEGRATIONS_ADMIN_KEY: the key is too weak") || !strings.Contains(stderr.String(), "at least 128") {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "aaaaaaaaaaaaaaaa") {
		t.Error("the refused key reached the logs")
	}
}

// --table-grants-role-prefix (and its environment variable) must be the start of an
// unquoted Snowflake identifier: anything else stops the server with a usage error.
func TestServeRefusesBadTableGrantsRolePrefix(t *testing.T) {
	cases := []struct {
		name, env string
		args      []string
	}{
		{name: "flag wildcard", args: []string{"--table-grants-role-prefix", "IMMUTA%"}},
		{name: "flag quote", args: []string{"--table-grants-role-prefix", `IM"MUTA`}},
		{name: "flag digit first", args: []string{"--table-grants-role-prefix", "1MMUTA"}},
		{name: "env", env: "IMMUTA ROLES"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env{}
			if c.env != "" {
				e["INTEGRATIONS_TABLE_GRANTS_ROLE_PREFIX"] = c.env
			}
			var stderr strings.Builder
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--offline", "--db", filepath.Join(t.TempDir(), "s.db")}, c.args...)
			code := cli.Run(context.Background(), args, e.lookup, nil, io.Discard, &stderr)
			if code != cli.ExitUsage || !strings.Contains(stderr.String(), "--table-grants-role-prefix") || !strings.Contains(stderr.String(), "unquoted Snowflake identifier") {
				t.Fatalf("exit %d:\n%s", code, stderr.String())
			}
		})
	}
}

// --egress-allow (and its environment variable) must be ranges or addresses: anything
// else stops the server with a usage error that names the value.
func TestServeRefusesBadEgressAllow(t *testing.T) {
	cases := []struct {
		name, env, bad string
		args           []string
	}{
		{name: "flag host name", bad: "db.internal", args: []string{"--egress-allow", "10.0.0.0/8,db.internal"}},
		{name: "flag bad bits", bad: "10.0.0.0/33", args: []string{"--egress-allow", "10.0.0.0/33"}},
		{name: "env", bad: "private", env: "private"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env{}
			if c.env != "" {
				e["INTEGRATIONS_EGRESS_ALLOW"] = c.env
			}
			var stderr strings.Builder
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--offline", "--db", filepath.Join(t.TempDir(), "s.db")}, c.args...)
			code := cli.Run(context.Background(), args, e.lookup, nil, io.Discard, &stderr)
			if code != cli.ExitUsage || !strings.Contains(stderr.String(), "--egress-allow") || !strings.Contains(stderr.String(), c.bad) {
				t.Fatalf("exit %d:\n%s", code, stderr.String())
			}
		})
	}
}
