package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/cli"
)

var keyLine = regexp.MustCompile(`admin API key \(shown once, keep it\): ([0-9a-f]{64})`)

// serve runs `integrations serve` in-process on a free port and returns its base URL,
// the admin key it printed, its stderr so far (a func) and a channel with its exit code.
func serve(t *testing.T, args ...string) (string, string, func() string, chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := cli.Run(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), nil, io.Discard, pw)
		pw.Close()
		done <- code
	}()
	var logs strings.Builder
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	keyRE := keyLine
	var base, key string
	timeout := time.After(20 * time.Second)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited early:\n%s", logs.String())
			}
			logs.WriteString(l + "\n")
			if m := keyRE.FindStringSubmatch(l); m != nil {
				key = m[1]
			}
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "listening" {
				base = rec["addr"].(string)
			}
		case <-timeout:
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
	}
	var rest strings.Builder
	restDone := make(chan struct{})
	go func() {
		for l := range lines {
			rest.WriteString(l + "\n")
		}
		close(restDone)
	}()
	all := func() string { <-restDone; return logs.String() + rest.String() }
	return base, key, all, done
}

// The server starts on a new store, prints the admin key once, serves the seed's
// requests, and on SIGTERM lets an in-flight request finish before it exits 0. A
// restart on the same store keeps everything and prints no new key.
func TestServeLifecycle(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "integrations.db")
	base, key, logs, done := serve(t, "--db", db, "--sandbox")
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

	// An in-flight request: headers and half the body sent, then SIGTERM, then the rest.
	payload := `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"h.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"U","password":"Secret-pw-12345"}}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /integrations/scripts/create HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\nAccept: text/plain\r\nContent-Length: %d\r\n\r\n%s", key, len(payload), payload[:40])
	time.Sleep(100 * time.Millisecond)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Fprint(conn, payload[40:])
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request cut off: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), "CREATE DATABASE") {
		t.Fatalf("in-flight request: %d %s", res.StatusCode, b)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, logs())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	l := logs()
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
	base, key2, logs2, done2 := serve(t, "--db", db, "--sandbox")
	if key2 != "" {
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
	_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
	if code := <-done2; code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs2())
	}
}

// INTEGRATIONS_ADMIN_KEY sets the first admin key; no key is generated then.
func TestServeAdminKeyFromEnv(t *testing.T) {
	t.Setenv("INTEGRATIONS_ADMIN_KEY", "0123456789abcdef-admin")
	base, key, logs, done := serve(t, "--db", filepath.Join(t.TempDir(), "s.db"), "--offline")
	if key != "" {
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
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs())
	}
	if strings.Contains(logs(), "0123456789abcdef-admin") {
		t.Error("the admin key reached the logs")
	}
}

// A weak INTEGRATIONS_ADMIN_KEY stops the server at start, with a message that says
// what is needed; it is not stored.
func TestServeRefusesWeakAdminKey(t *testing.T) {
	t.Setenv("INTEGRATIONS_ADMIN_KEY", "aaaaaaaaaaaaaaaa")
	var stderr strings.Builder
	code := cli.Run([]string{"serve", "--addr", "127.0.0.1:0", "--offline", "--db", filepath.Join(t.TempDir(), "s.db")}, nil, io.Discard, &stderr)
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
			if c.env != "" {
				t.Setenv("INTEGRATIONS_TABLE_GRANTS_ROLE_PREFIX", c.env)
			}
			var stderr strings.Builder
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--offline", "--db", filepath.Join(t.TempDir(), "s.db")}, c.args...)
			code := cli.Run(args, nil, io.Discard, &stderr)
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
			if c.env != "" {
				t.Setenv("INTEGRATIONS_EGRESS_ALLOW", c.env)
			}
			var stderr strings.Builder
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--offline", "--db", filepath.Join(t.TempDir(), "s.db")}, c.args...)
			code := cli.Run(args, nil, io.Discard, &stderr)
			if code != cli.ExitUsage || !strings.Contains(stderr.String(), "--egress-allow") || !strings.Contains(stderr.String(), c.bad) {
				t.Fatalf("exit %d:\n%s", code, stderr.String())
			}
		})
	}
}
