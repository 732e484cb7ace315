package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
)

// Options configure Open.
type Options struct {
	// Key is the 32-byte secret key that seals config, pending config and credentials
	// (see LoadKey).
	Key []byte
}

// ErrWrongKey is returned by Open when the secret key is not the one the database was
// first opened with.
var ErrWrongKey = errors.New("secret key does not match the key this database was sealed with (check " +
	SecretKeyEnv + " or the key file)")

// Open opens the store that dsn names: a "postgres://" or "postgresql://" URL for
// PostgreSQL, otherwise a SQLite file path or "sqlite:PATH" (also "sqlite://PATH"). A
// SQLite file is created (mode 0600) if needed; either schema is migrated. Its errors
// never show the password of a URL. Open is the one place that picks the
// dialect.
func Open(ctx context.Context, dsn string, opts Options) (Store, error) {
	if isPostgresURL(dsn) {
		sealer, err := NewSealer(opts.Key)
		if err != nil {
			return nil, err
		}
		return openPostgres(ctx, strings.TrimSpace(dsn), sealer)
	}
	p, err := sqlitePath(dsn)
	if err != nil {
		return nil, err
	}
	sealer, err := NewSealer(opts.Key)
	if err != nil {
		return nil, err
	}
	return openSQLite(ctx, p, sealer)
}

// isPostgresURL reports whether dsn is a PostgreSQL URL.
func isPostgresURL(dsn string) bool {
	lower := strings.ToLower(strings.TrimSpace(dsn))
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// Unavailable reports whether err says the database cannot be reached or used right
// now (a connection that failed or was closed by the server, a closed store,
// PostgreSQL's connection and operator-intervention errors, SQLite's I/O, busy and
// cannot-open errors), as opposed to a bad request or a bug: the server answers 503
// and /readyz fails.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var oe *net.OpError
	switch {
	case errors.As(err, &oe), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), pgUnavailable(err), sqliteUnavailable(err):
		return true
	}
	// database/sql's errors for a closed store (its *sql.DB, or the prepared
	// statements of Get and Authenticate) are not exported.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "sql: statement is closed")
}
