package store_test

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/internal/store/storetest"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, store.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func openAt(t testing.TB, path string, key []byte) store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), path, store.Options{Key: key})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "integrations.db") }

// rawDB opens the database file directly, as another program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestConformance(t *testing.T) {
	key := newKey(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openAt(t, tempDB(t), key) })
}

// Two Opens of one file, as two processes would have.
func TestConformanceShared(t *testing.T) {
	key := newKey(t)
	storetest.RunShared(t, func(t *testing.T) (a, b store.Store) {
		path := tempDB(t)
		return openAt(t, path, key), openAt(t, path, key)
	})
}

func TestOpenDSNForms(t *testing.T) {
	path := tempDB(t)
	key := newKey(t)
	var ids []int64
	for _, dsn := range []string{path, "sqlite:" + path, "sqlite://" + path, "SQLite:" + path, "  " + path + "\n"} {
		s, err := store.Open(t.Context(), dsn, store.Options{Key: key})
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		in := &store.Integration{Type: "t", Status: lifecycle.Creating}
		if err := s.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		list, err := s.List(t.Context())
		if err != nil || len(list) != len(ids) {
			t.Fatalf("Open(%q) sees %d integrations (%v), want %d: every form must name the same file", dsn, len(list), err, len(ids))
		}
		s.Close()
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %04o, want 0600", fi.Mode().Perm())
	}
}

func TestOpenOddFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "we?ird #name%20 x.db")
	s := openAt(t, path, newKey(t))
	if err := s.Create(t.Context(), &store.Integration{Type: "t", Status: lifecycle.Creating}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the path given: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dsn string
		key       []byte
		want      []string // substrings of the error
	}{
		// Nothing listens on port 1: these fail at once, after parsing the URL.
		{"postgres", "postgres://admin:s3cretpw@127.0.0.1:1/integrations?connect_timeout=5", newKey(t), []string{"PostgreSQL", "integrations"}},
		{"postgresql", "postgresql://admin:s3cretpw@127.0.0.1:1/x?sslmode=disable&connect_timeout=5", newKey(t), []string{"PostgreSQL"}},
		{"postgres password parameter", "POSTGRES://admin@127.0.0.1:1/x?password=s3cretpw&connect_timeout=5", newKey(t), []string{"PostgreSQL"}},
		{"postgres bad URL", "postgres://admin:s3cretpw@127.0.0.1:notaport/x", newKey(t), []string{"PostgreSQL"}},
		{"postgres short key", "postgres://admin:s3cretpw@127.0.0.1:1/x", make([]byte, 16), []string{"32 bytes"}},
		{"other scheme", "mysql://admin:s3cretpw@db/x", newKey(t), []string{`"mysql"`}},
		{"empty", "", newKey(t), []string{"no store"}},
		{"empty sqlite URL", "sqlite:", newKey(t), []string{"no file"}},
		{"memory", "sqlite::memory:", newKey(t), []string{"in-memory"}},
		{"missing directory", filepath.Join(dir, "nope", "x.db"), newKey(t), []string{"no such file"}},
		{"directory", dir, newKey(t), []string{"open sqlite database"}},
		{"not a database", garbage, newKey(t), []string{"not a database"}},
		{"short key", filepath.Join(dir, "a.db"), make([]byte, 31), []string{"32 bytes"}},
		{"no key", filepath.Join(dir, "b.db"), nil, []string{"32 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(t.Context(), tt.dsn, store.Options{Key: tt.key})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error %q shows the password of the URL", err)
			}
		})
	}
}

func TestMigrationsOnceAndDurable(t *testing.T) {
	path := tempDB(t)
	key := newKey(t)
	s, err := store.Open(t.Context(), path, store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var created []*store.Integration
	for i := range 3 {
		in := &store.Integration{Type: fmt.Sprintf("t%d", i), Status: lifecycle.Creating,
			Config: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), Credentials: json.RawMessage(`{"p":"x"}`),
			Keys: []string{fmt.Sprintf("key%d", i)}}
		if err := s.Create(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		created = append(created, in)
	}
	created[1].Status, created[1].Message = lifecycle.Enabled, "ok"
	if err := s.Update(t.Context(), created[1]); err != nil {
		t.Fatal(err)
	}
	apiKey, plain, err := s.CreateAPIKey(t.Context(), store.APIKeySpec{Name: "admin", Permissions: []string{store.PermissionAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	versions, err := store.MigrationVersions(store.SQLiteMigrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	type applied struct {
		version int
		name    string
		at      int64
	}
	readApplied := func() []applied {
		db := rawDB(t, path)
		defer db.Close()
		rows, err := db.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []applied
		for rows.Next() {
			var a applied
			if err := rows.Scan(&a.version, &a.name, &a.at); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	first := readApplied()
	if len(first) != len(versions) || first[len(first)-1].version != versions[len(versions)-1] {
		t.Fatalf("schema_migrations = %v, want versions %v", first, versions)
	}

	for round := range 2 {
		s2 := openAt(t, path, key)
		if again := readApplied(); !slices.Equal(again, first) {
			t.Fatalf("reopen %d changed schema_migrations: %v -> %v", round, first, again)
		}
		for _, want := range created {
			got, err := s2.Get(t.Context(), want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != want.Version || got.Status != want.Status || string(got.Config) != string(want.Config) ||
				string(got.Credentials) != string(want.Credentials) || !slices.Equal(got.Keys, want.Keys) ||
				!got.UpdatedAt.Equal(want.UpdatedAt) {
				t.Fatalf("after reopen: %+v, want %+v", got, want)
			}
		}
		k, err := s2.Authenticate(t.Context(), plain)
		if err != nil || k.ID != apiKey.ID {
			t.Fatalf("after reopen Authenticate = %v, %v", k, err)
		}
		// Uniqueness survives the reopen.
		err = s2.Create(t.Context(), &store.Integration{Type: "dup", Status: lifecycle.Creating, Keys: []string{"key0"}})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("after reopen a duplicate key gives %v, want a conflict", err)
		}
		s2.Close()
	}
}

// A second handle on the same file, as a second process would have: writes of one are
// seen by the other at once, and racing writers through both never deadlock.
func TestTwoHandles(t *testing.T) {
	path := tempDB(t)
	key := newKey(t)
	a := openAt(t, path, key)
	b := openAt(t, path, key)
	in := &store.Integration{Type: "t", Status: lifecycle.Creating, Config: json.RawMessage(`{}`)}
	if err := a.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(t.Context(), in.ID)
	if err != nil || got.Version != 1 {
		t.Fatalf("other handle: %v, %v", got, err)
	}
	for round := range 3 {
		base, err := a.Get(t.Context(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		storetest.RaceUpdates(t, round, 6, base, func(i int) store.Store { return []store.Store{a, b}[i%2] }, func(*store.Integration, int) {})
	}
	// Transactions that read before they write (a key for an integration checks that
	// it exists) must take the write lock up front (BEGIN IMMEDIATE): upgraded later,
	// a read lock taken before the other handle committed fails with "database is
	// locked" at once instead of waiting.
	var wg sync.WaitGroup
	for i := range 24 {
		s := []store.Store{a, b}[i%2]
		wg.Go(func() {
			if _, _, err := s.CreateAPIKey(t.Context(), store.APIKeySpec{Name: fmt.Sprint(i), IntegrationID: in.ID}); err != nil {
				t.Errorf("CreateAPIKey through two handles: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestPragmas(t *testing.T) {
	path := tempDB(t)
	s := openAt(t, path, newKey(t))
	if err := s.Create(t.Context(), &store.Integration{Type: "t", Status: lifecycle.Creating}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "5000",
	} {
		got, err := store.WriterPragma(t.Context(), s, name)
		if err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", name, got, err, want)
		}
	}
	var mode string
	if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("the file's journal mode is %q (%v), want wal", mode, err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil || fi.Size() == 0 {
		t.Fatalf("no write-ahead log after a write: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("-wal file mode %04o, want 0600", fi.Mode().Perm())
	}
}

func TestSecretsNeverInFiles(t *testing.T) {
	path := tempDB(t)
	s := openAt(t, path, newKey(t))
	secrets := []string{"CONFIG-SECRET-4f1d2c", "PENDING-SECRET-9a8b7c", "CREDENTIAL-SECRET-1e2d3c"}
	visible := "VISIBLE-TYPE-MARKER-77aa" // not sealed: proves the search works
	in := &store.Integration{Type: visible, Status: lifecycle.Creating,
		Config:      json.RawMessage(`{"password":"` + secrets[0] + `"}`),
		Pending:     json.RawMessage(`{"password":"` + secrets[1] + `"}`),
		Credentials: json.RawMessage(`{"password":"` + secrets[2] + `"}`)}
	if err := s.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
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

	check := func(stage string) {
		t.Helper()
		sawVisible := false
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(path + suffix)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					t.Errorf("%s: a secret is in %s in plaintext", stage, filepath.Base(path+suffix))
				}
			}
			sawVisible = sawVisible || bytes.Contains(b, []byte(visible))
		}
		if !sawVisible {
			t.Fatalf("%s: the unsealed marker is in no file: the search is broken", stage)
		}
	}
	check("after writes")
	if err := store.ExecWriter(t.Context(), s, `PRAGMA wal_checkpoint(FULL)`); err != nil {
		t.Fatal(err)
	}
	check("after checkpoint")
	got, err := s.Get(t.Context(), in.ID)
	if err != nil || !bytes.Contains(got.Credentials, []byte(secrets[2])) {
		t.Fatalf("Get does not return the secret: %v", err)
	}
	s.Close()
	check("after close")
}

func TestWrongKey(t *testing.T) {
	path := tempDB(t)
	key := newKey(t)
	s := openAt(t, path, key)
	in := &store.Integration{Type: "t", Status: lifecycle.Creating, Config: json.RawMessage(`{"a":1}`)}
	if err := s.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := store.Open(t.Context(), path, store.Options{Key: newKey(t)})
	if err == nil {
		s2.Close()
		t.Fatal("Open with another key succeeded")
	}
	if !errors.Is(err, store.ErrWrongKey) || !strings.Contains(err.Error(), store.SecretKeyEnv) {
		t.Fatalf("Open with another key: %v; want ErrWrongKey naming %s", err, store.SecretKeyEnv)
	}
	s3 := openAt(t, path, key)
	got, err := s3.Get(t.Context(), in.ID)
	if err != nil || string(got.Config) != `{"a":1}` {
		t.Fatalf("with the right key again: %v, %v", got, err)
	}
}

// Sealed values are bound to their row and column: moved or changed, they fail to
// open with a clear error instead of returning garbage or another row's secret.
func TestSealedValuesBoundToRowAndColumn(t *testing.T) {
	tests := []struct {
		name    string
		tamper  string
		badID   int64
		badWhat string
	}{
		{"config moved to another row", `UPDATE integrations SET config = (SELECT config FROM integrations WHERE id = 1) WHERE id = 2`, 2, "config"},
		{"credentials moved to pending", `UPDATE integrations SET pending = credentials WHERE id = 1`, 1, "pending"},
		{"byte flipped", "flip", 2, "credentials"},
		{"truncated", `UPDATE integrations SET config = substr(config, 1, 10) WHERE id = 1`, 1, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempDB(t)
			key := newKey(t)
			s := openAt(t, path, key)
			for i := 1; i <= 2; i++ {
				in := &store.Integration{Type: "t", Status: lifecycle.Creating,
					Config:      json.RawMessage(fmt.Sprintf(`{"row":%d}`, i)),
					Pending:     json.RawMessage(fmt.Sprintf(`{"pending":%d}`, i)),
					Credentials: json.RawMessage(fmt.Sprintf(`{"secret":"row%d-secret-value"}`, i))}
				if err := s.Create(t.Context(), in); err != nil || in.ID != int64(i) {
					t.Fatalf("Create: id %d, %v", in.ID, err)
				}
			}
			s.Close()
			db := rawDB(t, path)
			if tt.tamper == "flip" {
				var b []byte
				if err := db.QueryRow(`SELECT credentials FROM integrations WHERE id = ?`, tt.badID).Scan(&b); err != nil {
					t.Fatal(err)
				}
				b[20] ^= 0x01
				mustExec(t, db, `UPDATE integrations SET credentials = ? WHERE id = ?`, b, tt.badID)
			} else {
				mustExec(t, db, tt.tamper)
			}
			db.Close()
			s = openAt(t, path, key)
			got, err := s.Get(t.Context(), tt.badID)
			if err == nil {
				t.Fatalf("Get(%d) after tampering returned %s / %s / %s", tt.badID, got.Config, got.Pending, got.Credentials)
			}
			if !errors.Is(err, store.ErrCannotOpen) || !strings.Contains(err.Error(), fmt.Sprint("integration ", tt.badID)) ||
				!strings.Contains(err.Error(), tt.badWhat) || strings.Contains(err.Error(), "secret-value") {
				t.Fatalf("Get(%d) = %v; want ErrCannotOpen naming the integration and %s, without the value", tt.badID, err, tt.badWhat)
			}
			if _, err := s.List(t.Context()); !errors.Is(err, store.ErrCannotOpen) {
				t.Fatalf("List = %v, want ErrCannotOpen", err)
			}
			other := 3 - tt.badID
			if _, err := s.Get(t.Context(), other); err != nil {
				t.Fatalf("the untouched integration %d: %v", other, err)
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := tempDB(t)
	key := newKey(t)
	s := openAt(t, path, key)
	s.Close()
	mustExec(t, rawDB(t, path), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`)
	s2, err := store.Open(t.Context(), path, store.Options{Key: key})
	if err == nil {
		s2.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v; want an error naming the version and saying it is newer", err)
	}
}

func TestIDsNeverReusedAfterRowDelete(t *testing.T) {
	path := tempDB(t)
	key := newKey(t)
	s := openAt(t, path, key)
	for range 3 {
		if err := s.Create(t.Context(), &store.Integration{Type: "t", Status: lifecycle.Creating}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	mustExec(t, rawDB(t, path), `DELETE FROM integrations WHERE id = 3`)
	s = openAt(t, path, key)
	in := &store.Integration{Type: "t", Status: lifecycle.Creating}
	if err := s.Create(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if in.ID != 4 {
		t.Fatalf("id after deleting the last row = %d, want 4 (ids are never reused)", in.ID)
	}
}

func TestMigrationFiles(t *testing.T) {
	vs, err := store.MigrationVersions(store.SQLiteMigrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v != i+1 {
			t.Fatalf("embedded migration versions %v", vs)
		}
	}
	sqlFile := &fstest.MapFile{Data: []byte("CREATE TABLE x (a INTEGER);")}
	tests := []struct {
		name  string
		files []string
		want  []int // nil: an error
	}{
		{"ordered", []string{"0002_b.sql", "0001_a.sql", "0003_c.sql"}, []int{1, 2, 3}},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, nil},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}, nil},
		{"not from 1", []string{"0002_a.sql"}, nil},
		{"bad name", []string{"0001_a.sql", "2_b.sql"}, nil},
		{"other file", []string{"0001_a.sql", "README.md"}, nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m": &fstest.MapFile{Mode: fs.ModeDir | 0o755}}
			for _, f := range tt.files {
				fsys["m/"+f] = sqlFile
			}
			got, err := store.MigrationVersions(fsys, "m")
			if tt.want == nil {
				if err == nil {
					t.Fatalf("MigrationVersions(%v) = %v, want an error", tt.files, got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("MigrationVersions(%v) = %v, %v; want %v", tt.files, got, err, tt.want)
			}
		})
	}
}

// TestOpenRefusesOtherForms: a value that is neither a path, a sqlite: URL nor a
// postgres:// URL is refused with the accepted forms, and no file is made of it (a
// keyword string would otherwise become a SQLite file named after its password).
func TestOpenRefusesOtherForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{
		"host=127.0.0.1 user=postgres password=hunter2 dbname=x",
		"dbname=x",
		"mysql://u:p@h/db",
	} {
		_, err := store.Open(t.Context(), dsn, store.Options{Key: newKey(t)})
		if err == nil || !strings.Contains(err.Error(), "accepted forms are") {
			t.Errorf("Open(%q) = %v, want the accepted forms", dsn, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused values made files: %v", entries)
	}
}
