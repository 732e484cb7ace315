package store

import (
	"context"
	"io/fs"
)

// Hooks for the external tests (package store_test).

// WriterPragma returns PRAGMA name as the write connection of a SQLite store sees it.
func WriterPragma(ctx context.Context, s Store, name string) (string, error) {
	var v string
	err := s.(*sqlStore).w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// ExecWriter runs query on the write connection of a SQLite store (checkpoints, bulk
// loads with synchronous=OFF).
func ExecWriter(ctx context.Context, s Store, query string) error {
	_, err := s.(*sqlStore).w.ExecContext(ctx, query)
	return err
}

// MigrationVersions loads the migrations in dir of fsys and returns their versions.
func MigrationVersions(fsys fs.FS, dir string) ([]int, error) {
	ms, err := loadMigrations(fsys, dir)
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.version)
	}
	return vs, err
}

// SQLiteMigrations is the embedded SQLite schema.
var SQLiteMigrations = sqliteMigrations

// PostgresMigrations is the embedded PostgreSQL schema.
var PostgresMigrations = postgresMigrations
