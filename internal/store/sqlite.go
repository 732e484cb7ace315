package store

// The import block is like internal/connector/snowflake.go's: both open a database/sql
// driver; a list of dependencies shares no logic.
import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// acceptedStores lists the forms of a store value, for the errors that refuse one.
const acceptedStores = "accepted forms are a SQLite file path, sqlite:PATH, or a postgres:// (postgresql://) URL"

// keywordDSN matches a libpq keyword/value connection string (host=h dbname=d ...).
var keywordDSN = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|user|password|dbname|sslmode|passfile|service)\s*=`)

// sqlitePath returns the file path dsn names. Its errors never repeat dsn, which may
// hold a password.
func sqlitePath(dsn string) (string, error) {
	d := strings.TrimSpace(dsn)
	lower := strings.ToLower(d)
	switch {
	case d == "":
		return "", errors.New("no store given: use a SQLite file path or a sqlite: URL")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return "", errors.New("a PostgreSQL URL names no SQLite file")
	case strings.HasPrefix(lower, "sqlite://"):
		d = d[len("sqlite://"):]
	case strings.HasPrefix(lower, "sqlite:"):
		d = d[len("sqlite:"):]
	case strings.Contains(d, "://"):
		return "", fmt.Errorf("unsupported store URL scheme %q: %s", d[:strings.Index(d, "://")], acceptedStores)
	case keywordDSN.MatchString(d):
		// host=... password=... is a libpq keyword string, not a file name: taking it
		// as one would create a SQLite file named after the password.
		return "", fmt.Errorf("the store looks like a PostgreSQL keyword string (key=value ...): %s", acceptedStores)
	}
	switch d {
	case "":
		return "", errors.New("sqlite: URL names no file")
	case ":memory:":
		return "", errors.New("in-memory SQLite databases are not supported: use a file path")
	}
	return d, nil
}

// sqliteDialect is the dialect of SQLite (modernc.org/sqlite): ? placeholders, times
// as Unix microseconds (UTC) with lease_until 0 for no lease, message and
// validation_results as TEXT, and no row locks (the single writer serializes writes).
var sqliteDialect = &dialect{
	keysJSON:    `(SELECT json_group_array(key) FROM integration_keys k WHERE k.integration_id = integrations.id)`,
	leaseUntil:  `NULLIF(lease_until, 0)`,
	apiKeyOrder: `created_at, rowid`,
	idsJSON:     `SELECT value FROM json_each(?)`,
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`,
	// https://www.sqlite.org/pragma.html#pragma_synchronous: in WAL mode NORMAL
	// syncs the log only at checkpoints, FULL at every commit; it is a setting of
	// the connection ("Safety level may not be changed inside a transaction").
	strictCommit:  `PRAGMA synchronous = FULL`,
	relaxedCommit: `PRAGMA synchronous = NORMAL`,
	syncOnConn:    true,
	detach:        true,
	time:          func(t time.Time) any { return t.UnixMicro() },
	noLease:       int64(0),
	retry:         func(error) bool { return false },
}

// SQLite result codes (extended result codes are on; the primary code is the low
// byte).
const (
	sqliteBusy     = 5  // SQLITE_BUSY
	sqliteLocked   = 6  // SQLITE_LOCKED
	sqliteIOErr    = 10 // SQLITE_IOERR
	sqliteFull     = 13 // SQLITE_FULL
	sqliteCantOpen = 14 // SQLITE_CANTOPEN
)

// sqliteUnavailable reports whether err is SQLite's I/O, busy, locked, full or
// cannot-open error.
func sqliteUnavailable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteIOErr, sqliteCantOpen, sqliteFull, sqliteLocked:
			return true
		}
	}
	return false
}

const busyTimeoutMS = 5000

// sqliteDSN is the modernc.org/sqlite DSN of the file abs: the write connection or a
// read-only one, with the durability settings (WAL, synchronous=FULL).
func sqliteDSN(abs string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(ON)")
	}
	// A file: URI with the path escaped, so that '?', '#' or '%' in it are not taken
	// for URI syntax.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") { // Windows drive letter
		u.Path = "/" + u.Path
	}
	return u.String()
}

// openSQLitePool opens a pool of at most n connections to dsn that are kept open.
func openSQLitePool(dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	return sizePool(db, n, 0, 0), nil
}

// openSQLite opens the SQLite file p (creating it with mode 0600), checks that it is
// in WAL mode, migrates it and checks the secret key.
func openSQLite(ctx context.Context, p string, sealer *Sealer) (Store, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	// Create the file ourselves so that it (and its -wal and -shm files, which SQLite
	// gives the same mode) is private.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", err)
	}
	f.Close()

	s := &sqlStore{d: sqliteDialect, sealer: sealer}
	return s.start(ctx, "open sqlite database "+p, func() (err error) {
		if s.w, err = openSQLitePool(sqliteDSN(abs, true), 1); err != nil {
			return err
		}
		var mode string
		if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			return err
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("journal mode is %q, not WAL", mode)
		}
		if s.r, err = openSQLitePool(sqliteDSN(abs, false), max(4, 2*runtime.GOMAXPROCS(0))); err != nil {
			return err
		}
		s.wstmts, s.rstmts = newStmtCache(s.w), newStmtCache(s.r)
		return s.r.PingContext(ctx)
	}, sqliteMigrations, "migrations/sqlite")
}
