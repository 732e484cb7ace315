package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv is the environment variable that names the PostgreSQL server the tests
// use: a URL of a database to connect to for creating the test databases, e.g.
// postgres://postgres@127.0.0.1:5432/postgres. When it is set the PostgreSQL tests
// must run: an unreachable server fails them instead of skipping them (CI sets it).
const PostgresEnv = "INTEGRATIONS_TEST_POSTGRES"

// DefaultPostgres is the server the tests try when PostgresEnv is not set.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// unreachable remembers the servers found unreachable, so that a missing server costs
// one connection timeout per test binary, not one per test.
var unreachable sync.Map // base URL -> error message

// PostgresURL creates a fresh, empty PostgreSQL database for t, drops it (WITH
// (FORCE)) when t ends, and returns its URL. The server is the one PostgresEnv names,
// else DefaultPostgres; if it cannot be reached, t is skipped when PostgresEnv is not
// set and fails when it is.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base, fromEnv := strings.TrimSpace(os.Getenv(PostgresEnv)), true
	if base == "" {
		base, fromEnv = DefaultPostgres, false
	}
	shown := redactedURL(base)
	giveUp := func(msg string) {
		t.Helper()
		if fromEnv {
			t.Fatalf("PostgreSQL not reachable at %s (%s is set, so the PostgreSQL tests must run): %s", shown, PostgresEnv, msg)
		}
		t.Skipf("PostgreSQL not reachable at %s; set %s to run these (%s)", shown, PostgresEnv, msg)
	}
	if msg, ok := unreachable.Load(base); ok {
		giveUp(msg.(string))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unreachable.Store(base, err.Error())
		giveUp(err.Error())
	}
	defer conn.Close(context.Background())

	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "integrations_test_" + hex.EncodeToString(b)
	// CREATE DATABASE copies a template: give it more than the connection timeout.
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	if _, err := conn.Exec(cctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database on %s: %v", shown, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// redactedURL returns u with its password replaced, for messages.
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(an unparsable URL)"
	}
	return p.Redacted()
}
