package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/internal/store/storetest"
)

// rawPG connects to the database at u directly, as another program would.
func rawPG(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgExec(t *testing.T, conn *pgx.Conn, query string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestPostgresConformance(t *testing.T) {
	key := newKey(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openAt(t, storetest.PostgresURL(t), key) })
}

// Two Opens of one database, as two replicas would have.
func TestPostgresConformanceShared(t *testing.T) {
	key := newKey(t)
	storetest.RunShared(t, func(t *testing.T) (a, b store.Store) {
		u := storetest.PostgresURL(t)
		return openAt(t, u, key), openAt(t, u, key)
	})
}

// Replicas starting at once on a fresh database apply each migration exactly once
// (a second application would fail: CREATE TABLE of an existing table).
func TestPostgresConcurrentOpens(t *testing.T) {
	u := storetest.PostgresURL(t)
	key := newKey(t)
	const n = 8
	stores := make([]store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = store.Open(t.Context(), u, store.Options{Key: key})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	versions, err := store.MigrationVersions(store.PostgresMigrations, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	conn := rawPG(t, u)
	var rows, distinct, latest int
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM schema_migrations`).
		Scan(&rows, &distinct, &latest); err != nil {
		t.Fatal(err)
	}
	if rows != len(versions) || distinct != len(versions) || latest != versions[len(versions)-1] {
		t.Fatalf("schema_migrations: %d rows, %d versions, latest %d; want each of %v once", rows, distinct, latest, versions)
	}
	var metas int
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM store_meta`).Scan(&metas); err != nil || metas != 1 {
		t.Fatalf("store_meta rows = %d, %v; want 1 key check", metas, err)
	}
	for i, s := range stores {
		if err := s.Create(t.Context(), &store.Integration{Type: fmt.Sprint("t", i), Status: lifecycle.Creating}); err != nil {
			t.Fatalf("Create through store %d: %v", i, err)
		}
	}
	// Reopening applies nothing.
	openAt(t, u, key)
	var again int
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&again); err != nil || again != rows {
		t.Fatalf("after reopening: %d migrations recorded (%v), want %d", again, err, rows)
	}
}

func TestPostgresWrongKey(t *testing.T) {
	u := storetest.PostgresURL(t)
	key := newKey(t)
	s := openAt(t, u, key)
	in := &store.Integration{Type: "t", Status: lifecycle.Creating, Config: json.RawMessage(`{"a":1}`)}
	if err := s.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	s2, err := store.Open(t.Context(), u, store.Options{Key: newKey(t)})
	if err == nil {
		s2.Close()
		t.Fatal("Open with another key succeeded")
	}
	if !errors.Is(err, store.ErrWrongKey) || !strings.Contains(err.Error(), store.SecretKeyEnv) {
		t.Fatalf("Open with another key: %v; want ErrWrongKey naming %s", err, store.SecretKeyEnv)
	}
	got, err := openAt(t, u, key).Get(t.Context(), in.ID)
	if err != nil || string(got.Config) != `{"a":1}` {
		t.Fatalf("with the right key again: %v, %v", got, err)
	}
}

// No secret reaches the database in plaintext: every column of every table is read
// back raw (bytea as its bytes, everything else as text) and searched.
func TestPostgresSecretsNeverInDatabase(t *testing.T) {
	u := storetest.PostgresURL(t)
	s := openAt(t, u, newKey(t))
	secrets := []string{"CONFIG-SECRET-4f1d2c", "PENDING-SECRET-9a8b7c", "CREDENTIAL-SECRET-1e2d3c"}
	visible := "VISIBLE-TYPE-MARKER-77aa" // not sealed: proves the search works
	in := &store.Integration{Type: visible, Status: lifecycle.Creating,
		Config:      json.RawMessage(`{"password":"` + secrets[0] + `"}`),
		Pending:     json.RawMessage(`{"password":"` + secrets[1] + `"}`),
		Credentials: json.RawMessage(`{"password":"` + secrets[2] + `"}`)}
	if err := s.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		in.Message = fmt.Sprintf("update %d", i)
		in.Credentials = json.RawMessage(fmt.Sprintf(`{"password":"%s","n":%d}`, secrets[2], i))
		if err := s.Update(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	_, apiPlain, err := s.CreateAPIKey(t.Context(), store.APIKeySpec{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	given := "GIVEN-ADMIN-KEY-5566778899"
	if _, _, err := s.CreateAPIKey(t.Context(), store.APIKeySpec{Name: "admin", Plaintext: given}); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, apiPlain, given)

	conn := rawPG(t, u)
	rows, err := conn.Query(t.Context(), `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ table, name, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.table, &c.name, &c.typ)
		return c, err
	})
	if err != nil || len(cols) == 0 {
		t.Fatalf("columns: %d, %v", len(cols), err)
	}
	sawVisible, sawSealed := false, false
	for _, c := range cols {
		expr := pgx.Identifier{c.name}.Sanitize() + "::text"
		if c.typ == "bytea" {
			expr = pgx.Identifier{c.name}.Sanitize()
		}
		rows, err := conn.Query(t.Context(), `SELECT `+expr+` FROM `+pgx.Identifier{c.table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		values, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.name, err)
		}
		for _, v := range values {
			for _, sec := range secrets {
				if strings.Contains(string(v), sec) {
					t.Errorf("a secret is in %s.%s in plaintext", c.table, c.name)
				}
			}
			sawVisible = sawVisible || strings.Contains(string(v), visible)
			sawSealed = sawSealed || c.name == "credentials" && len(v) > 0
		}
	}
	if !sawVisible || !sawSealed {
		t.Fatalf("the unsealed marker (%v) or the sealed credentials (%v) were not found: the search is broken", sawVisible, sawSealed)
	}
	got, err := s.Get(t.Context(), in.ID)
	if err != nil || !strings.Contains(string(got.Credentials), secrets[2]) {
		t.Fatalf("Get does not return the secret: %v", err)
	}
}

// withPassword returns u with the user info user:password.
func withPassword(t *testing.T, u, password string) *url.URL {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.User = url.UserPassword(p.User.Username(), password)
	return p
}

// The password of a URL never appears in an error, whatever fails.
func TestPostgresPasswordNeverInErrors(t *testing.T) {
	u := storetest.PostgresURL(t)
	key := newKey(t)
	openAt(t, u, key) // a database sealed with key
	const pw = "Sup3r-s3cret-pw"
	missing := withPassword(t, u, pw)
	missing.Path += "_missing"
	badMode := withPassword(t, u, pw)
	badMode.RawQuery = "sslmode=bogus"
	refused := withPassword(t, u, pw)
	refused.Host = "127.0.0.1:1"
	encoded := withPassword(t, u, pw+"/@:%")
	encoded.Path += "_missing"
	param := withPassword(t, u, "")
	param.User = url.User(param.User.Username())
	param.Path += "_missing"
	param.RawQuery = "sslmode=disable&password=" + url.QueryEscape(pw)
	tests := []struct {
		name string
		dsn  string
		key  []byte
		want error
	}{
		{"missing database", missing.String(), key, nil},
		{"bad sslmode", badMode.String(), key, nil},
		{"connection refused", refused.String(), key, nil},
		{"escaped characters", encoded.String(), key, nil},
		{"password parameter", param.String(), key, nil},
		{"bad port", strings.Replace(withPassword(t, u, pw).String(), "5432", "54x32", 1), key, nil},
		{"wrong key", withPassword(t, u, pw).String(), newKey(t), store.ErrWrongKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(t.Context(), tt.dsn, store.Options{Key: tt.key})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
			for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
				if strings.Contains(err.Error(), form) {
					t.Fatalf("error %q shows the password", err)
				}
			}
		})
	}
}

func TestPostgresNewerSchemaRefused(t *testing.T) {
	u := storetest.PostgresURL(t)
	key := newKey(t)
	openAt(t, u, key).Close()
	pgExec(t, rawPG(t, u), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', now())`)
	s, err := store.Open(t.Context(), u, store.Options{Key: key})
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v; want an error naming the version and saying it is newer", err)
	}
}

func TestPostgresIDsNeverReusedAfterRowDelete(t *testing.T) {
	u := storetest.PostgresURL(t)
	s := openAt(t, u, newKey(t))
	var last int64
	for range 3 {
		in := &store.Integration{Type: "t", Status: lifecycle.Creating}
		if err := s.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		last = in.ID
	}
	pgExec(t, rawPG(t, u), `DELETE FROM integrations WHERE id = $1`, last)
	in := &store.Integration{Type: "t", Status: lifecycle.Creating}
	if err := s.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if in.ID <= last {
		t.Fatalf("id after deleting the last row = %d, want more than %d (ids are never reused)", in.ID, last)
	}
}

// Sealed values are bound to their row and column in PostgreSQL too.
func TestPostgresSealedValuesBoundToRowAndColumn(t *testing.T) {
	u := storetest.PostgresURL(t)
	s := openAt(t, u, newKey(t))
	var ids []int64
	for i := range 2 {
		in := &store.Integration{Type: "t", Status: lifecycle.Creating,
			Config:      json.RawMessage(fmt.Sprintf(`{"row":%d}`, i)),
			Credentials: json.RawMessage(fmt.Sprintf(`{"secret":"row%d-secret-value"}`, i))}
		if err := s.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	pgExec(t, rawPG(t, u), `UPDATE integrations SET credentials = (SELECT credentials FROM integrations WHERE id = $1) WHERE id = $2`, ids[0], ids[1])
	_, err := s.Get(t.Context(), ids[1])
	if !errors.Is(err, store.ErrCannotOpen) || !strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("Get of a moved sealed value = %v; want ErrCannotOpen naming the column, without the value", err)
	}
	if _, err := s.Get(t.Context(), ids[0]); err != nil {
		t.Fatalf("the untouched integration: %v", err)
	}
}

func TestPostgresMigrationFiles(t *testing.T) {
	vs, err := store.MigrationVersions(store.PostgresMigrations, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v != i+1 {
			t.Fatalf("embedded migration versions %v", vs)
		}
	}
}
