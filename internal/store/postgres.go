package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresDialect is the dialect of PostgreSQL (pgx through database/sql): $n
// placeholders, timestamptz times with NULL for no lease, message and
// validation_results as bytea (text cannot hold a NUL byte), and the row locks that
// make claims, key rotations and revocations safe across replicas.
//
// type, status, keys, lease owners and API key names are text, which cannot hold a
// NUL byte or invalid UTF-8: PostgreSQL refuses such values.
var postgresDialect = &dialect{
	numbered:        true,
	keysJSON:        `array_to_json(ARRAY(SELECT key FROM integration_keys k WHERE k.integration_id = integrations.id))::text`,
	leaseUntil:      `lease_until`,
	skipLocked:      ` FOR UPDATE SKIP LOCKED`,
	lockKeyRotation: ` FOR NO KEY UPDATE`,
	lockRevoke:      ` FOR UPDATE`,
	apiKeyOrder:     `created_at, seq`,
	idsJSON:         `SELECT value::bigint FROM json_array_elements_text(?::json) AS value`,
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL
	)`,
	lockMigrations: `SELECT pg_advisory_xact_lock(?)`,
	// https://www.postgresql.org/docs/current/wal-async-commit.html: the commit
	// returns before its WAL is flushed; the WAL writer flushes it soon after.
	relaxedCommit: `SET LOCAL synchronous_commit = off`,
	time:          func(t time.Time) any { return normTime(t) },
	noLease:       nil,
	bytea:         true,
	retry:         func(err error) bool { return isPgCode(err, pgDeadlockDetected, pgSerializationFailure) },
}

// PostgreSQL error codes (SQLSTATE).
const (
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

func isPgCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && slices.Contains(codes, pe.Code)
}

// pgUnavailable reports whether err is a PostgreSQL connection failure or one of its
// connection, resource and operator-intervention errors.
func pgUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pe):
		// Classes 08 (connection exception), 53 (insufficient resources) and 57
		// (operator intervention: shutdown, terminated connection, not accepting
		// connections): https://www.postgresql.org/docs/current/errcodes-appendix.html
		switch pe.Code[:2] {
		case "08", "53", "57":
			return true
		}
		return pe.Code == "55000" // object not in prerequisite state: database not accepting connections
	}
	return false
}

// urlSecrets returns the forms of the password in a PostgreSQL URL (as written and
// decoded, in the user info or the password parameter), best effort even for a URL
// that does not parse, so that they can be removed from errors.
func urlSecrets(dsn string) []string {
	var out []string
	add := func(raw string) {
		if raw == "" {
			return
		}
		out = append(out, raw)
		if dec, err := url.PathUnescape(raw); err == nil && dec != raw {
			out = append(out, dec)
		}
		if dec, err := url.QueryUnescape(raw); err == nil && dec != raw {
			out = append(out, dec)
		}
	}
	rest := dsn
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if colon := strings.Index(rest[:at], ":"); colon >= 0 {
			add(rest[colon+1 : at])
		}
	}
	if u, err := url.Parse(dsn); err == nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
		for _, pw := range u.Query()["password"] {
			add(pw)
		}
	}
	if q := strings.Index(dsn, "?"); q >= 0 {
		for _, kv := range strings.Split(dsn[q+1:], "&") {
			if v, ok := strings.CutPrefix(kv, "password="); ok {
				add(v)
			}
		}
	}
	// Longest first, so that a form containing another is replaced whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// redactedError is an error whose message had a password removed. It matches what
// the original matched (errors.Is) but does not unwrap to it, whose message still
// holds the password.
type redactedError struct {
	msg string
	err error
}

// Error implements error: the message without the password.
func (e *redactedError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// redact returns err with every one of secrets removed from its message.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := msg
	for _, s := range secrets {
		red = strings.ReplaceAll(red, s, "xxxxx")
	}
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

// openPostgres opens the PostgreSQL database that the URL dsn names, migrating its
// schema and checking the secret key. The pool is database/sql's over pgx's stdlib
// driver; the pool_* parameters of pgxpool (pool_max_conns, ...) are still read from
// dsn and set on it.
//
// No pgx-only path is kept. BenchmarkGetPostgres (bench_test.go), run 10 times
// alternately on the former pgxpool store and on this one (2 cores shared with other
// work, load average 4 to 11), gave per Get, median (fastest run): n=10 92 (77) µs
// before and 135 (99) µs now; n=10000 159 (80) and 146 (114) µs; n=10000 in parallel
// 95 (64) and 116 (70) µs. The runs of one build spread over 3 to 6 times, more than
// the builds differ; the fastest runs put database/sql's cost at 20 to 35 µs per Get
// at most (95 instead of 47 allocations, 4.4 instead of 2.6 KB), against a network
// round trip per Get and per Authenticate: not enough to keep a second pool and a
// second copy of the reads.
func openPostgres(ctx context.Context, dsn string, sealer *Sealer) (_ Store, err error) {
	// pgx knows URLs by their lower-case scheme only.
	if i := strings.Index(dsn, "://"); i >= 0 {
		dsn = strings.ToLower(dsn[:i]) + dsn[i:]
	}
	secrets := urlSecrets(dsn)
	defer func() { err = redact(err, secrets) }()

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL database: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns=") {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	where := fmt.Sprintf("open PostgreSQL database %q on %s", cfg.ConnConfig.Database, cfg.ConnConfig.Host)
	db := sizePool(stdlib.OpenDB(*cfg.ConnConfig), int(cfg.MaxConns), cfg.MaxConnLifetime, cfg.MaxConnIdleTime)
	s := &sqlStore{d: postgresDialect, w: db, r: db, sealer: sealer}
	return s.start(ctx, where, nil, postgresMigrations, "migrations/postgres")
}
