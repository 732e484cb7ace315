package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openintegrations/integrations/internal/apierr"
	"github.com/openintegrations/integrations/internal/store/storetest"
)

// TestStoreOutage: while the PostgreSQL database refuses connections, every route that
// needs it answers a JSON 503 with Retry-After and /readyz fails (a 503 with Retry-After
// too); once it is back, the same requests succeed and nothing was lost.
func TestStoreOutage(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	e := newEnv(t, func(o *envOpt) { o.dsn = dsn })
	body := strings.Replace(seed(t, "put_integrations_123456789_redshift"), `"abc1234"`, `"Abc12345-o"`, 1)
	id := e.create(body, "enabled")

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// The outage: no new connections, and the open ones are ended by the server.
	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `' AND pid <> pg_backend_pid()`)

	for _, r := range []req{
		{method: "GET", path: "/integrations/" + id},
		{method: "GET", path: "/integrations"},
		{method: "GET", path: "/readyz", noAuth: true, noCheck: true},
	} {
		got := e.do(r)
		expect(t, got, http.StatusServiceUnavailable)
		if got, want := got.header.Get("Retry-After"), strconv.Itoa(apierr.RetryAfterSeconds); got != want {
			t.Errorf("%s %s: 503 with Retry-After %q, want %q", r.method, r.path, got, want)
		}
	}

	exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`)
	expect(t, e.get("/integrations/"+id), http.StatusOK)
	expect(t, e.do(req{method: "GET", path: "/readyz", noAuth: true, noCheck: true}), http.StatusOK)
}
