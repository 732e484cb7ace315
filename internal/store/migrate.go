package store

// The import block is like render/engine.go's: both read embedded files; a list of
// dependencies shares no logic.
import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// sqliteMigrations and postgresMigrations hold the schemas, one file per version:
// NNNN_name.sql, numbered from 0001 without gaps. A file, once released, is never
// edited: a change is a new file.
//
//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// postgresMigrations holds the PostgreSQL schema, numbered like sqliteMigrations.
//
//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// migration is one schema version.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// loadMigrations reads the migrations in dir of fsys, ordered by version, and checks
// that they are numbered 1, 2, ... without gaps or duplicates.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migrations: %s is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations: %s: expected version %04d (versions start at 1 without gaps or duplicates)", m.name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("migrations: none in %s", dir)
	}
	return ms, nil
}

// migrate brings the schema of s up to the last of ms in one write transaction,
// recording each migration in schema_migrations: replicas or processes opening at
// once wait for each other (SQLite's write lock; PostgreSQL's migration advisory
// lock), and the first applies what is missing. It refuses a database whose schema is
// newer than ms know.
func (s *sqlStore) migrate(ctx context.Context, ms []migration) error {
	return s.writeOnce(ctx, func(tx *sql.Tx) error {
		if s.d.lockMigrations != "" {
			if _, err := s.exec(ctx, tx, s.d.lockMigrations, migrationLock); err != nil {
				return fmt.Errorf("migrations: lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.migrationsTable); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		todo, err := pending(ms, current)
		if err != nil {
			return err
		}
		for _, m := range todo {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := s.exec(ctx, tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, s.d.time(time.Now())); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// migrationLock is the key of the PostgreSQL advisory lock that serializes
// migrations. Advisory locks are per database.
const migrationLock int64 = 0x696e7465_67726174 // "integrat"

// pending returns the migrations of ms after version current, or an error when the
// database's schema is newer than ms know.
func pending(ms []migration, current int) ([]migration, error) {
	if latest := ms[len(ms)-1].version; current > latest {
		return nil, fmt.Errorf("database schema version %d is newer than this binary knows (%d): use a newer integrations binary", current, latest)
	}
	var out []migration
	for _, m := range ms {
		if m.version > current {
			out = append(out, m)
		}
	}
	return out, nil
}
