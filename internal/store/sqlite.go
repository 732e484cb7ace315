package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// sqlitePath returns the file path dsn names. Its errors never repeat dsn, which may
// hold a password.
// acceptedStores lists the forms of a store value, for the errors that refuse one.
const acceptedStores = "accepted forms are a SQLite file path, sqlite:PATH, or a postgres:// (postgresql://) URL"

// keywordDSN matches a libpq keyword/value connection string (host=h dbname=d ...).
var keywordDSN = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|user|password|dbname|sslmode|passfile|service)\s*=`)

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

// SQLite error codes (extended result codes are on).
const (
	sqliteBusy     = 5  // SQLITE_BUSY
	sqliteLocked   = 6  // SQLITE_LOCKED
	sqliteIOErr    = 10 // SQLITE_IOERR
	sqliteFull     = 13 // SQLITE_FULL
	sqliteCantOpen = 14 // SQLITE_CANTOPEN

	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

func isSQLiteCode(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

// sqliteStore is the embedded implementation. Writes go through w, a pool of one
// connection whose transactions begin IMMEDIATE, so they serialize without deadlocks;
// reads go through r, a pool of read-only connections that WAL lets run concurrently
// with the writer.
type sqliteStore struct {
	w, r   *sql.DB
	sealer *Sealer
	// getStmt and authStmt are the prepared hot-path reads (Get, Authenticate).
	getStmt, authStmt *sql.Stmt
}

const busyTimeoutMS = 5000

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

func openSQLite(ctx context.Context, p string, sealer *Sealer) (_ Store, err error) {
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

	s := &sqliteStore{sealer: sealer}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.w, err = sql.Open("sqlite", sqliteDSN(abs, true))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("open sqlite database %s: journal mode is %q, not WAL", p, mode)
	}
	ms, err := loadMigrations(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.w, ms); err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	if err := s.checkKey(ctx); err != nil {
		return nil, err
	}
	s.r, err = sql.Open("sqlite", sqliteDSN(abs, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	if err := s.r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	// The two statements every request runs are prepared once (per reader connection):
	// compiling SQL costs more than running a point lookup.
	if s.getStmt, err = s.r.PrepareContext(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE id = ?`); err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	if s.authStmt, err = s.r.PrepareContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`); err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", p, err)
	}
	return s, nil
}

const keyCheckPlain = "integrations key check v1"

var keyCheckAAD = []byte("store_meta/key_check")

// checkKey makes sure the secret key is the one the database was first opened with,
// recording a sealed check value on the first open.
func (s *sqliteStore) checkKey(ctx context.Context) error {
	sealed := s.sealer.Seal([]byte(keyCheckPlain), keyCheckAAD)
	if _, err := s.w.ExecContext(ctx, `INSERT INTO store_meta (name, value) VALUES ('key_check', ?)
		ON CONFLICT (name) DO NOTHING`, sealed); err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE name = 'key_check'`).Scan(&sealed); err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	plain, err := s.sealer.Open(sealed, keyCheckAAD)
	if err != nil || string(plain) != keyCheckPlain {
		return ErrWrongKey
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE) and commits it if fn
// succeeds.
func (s *sqliteStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func nowUTC() time.Time { return time.UnixMicro(time.Now().UnixMicro()).UTC() }

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Sealed columns of integrations.
const (
	fieldConfig      = "config"
	fieldPending     = "pending"
	fieldCredentials = "credentials"
)

// aad binds a sealed value to its row and column, so it cannot be moved elsewhere.
func aad(id int64, field string) []byte {
	b := append([]byte("integrations/"), strconv.FormatInt(id, 10)...)
	return append(append(b, '/'), field...)
}

// sealField returns v sealed for column field of integration id, or nil (NULL) for
// nil.
func sealField(sealer *Sealer, id int64, field string, v json.RawMessage) []byte {
	if v == nil {
		return nil
	}
	return sealer.Seal(v, aad(id, field))
}

// openField opens column field of integration id as sealed by sealField.
func openField(sealer *Sealer, id int64, field string, b []byte) (json.RawMessage, error) {
	if b == nil {
		return nil, nil
	}
	plain, err := sealer.Open(b, aad(id, field))
	if err != nil {
		return nil, fmt.Errorf("integration %d: %s: %w", id, field, err)
	}
	return plain, nil
}

// seal returns the sealed v, or nil (NULL) for nil.
func (s *sqliteStore) seal(id int64, field string, v json.RawMessage) any {
	if v == nil {
		return nil
	}
	return sealField(s.sealer, id, field, v)
}

func (s *sqliteStore) open(id int64, field string, b []byte) (json.RawMessage, error) {
	return openField(s.sealer, id, field, b)
}

// normTime returns t in UTC truncated to microseconds (what the stores keep); the
// zero time stays zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// leaseMicro is LeaseUntil as SQLite keeps it: Unix microseconds, 0 for none.
func leaseMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func leaseFromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicro(us)
}

func checkOwner(owner string) error {
	if owner == "" {
		return errors.New("empty lease owner")
	}
	return nil
}

func validate(in *Integration) error {
	if in == nil {
		return errors.New("nil integration")
	}
	if !in.Status.Valid() {
		return fmt.Errorf("invalid status %q", in.Status)
	}
	return nil
}

// normalizeKeys returns the keys an integration in status holds: none unless it is
// live, else keys sorted without duplicates (nil when empty).
func normalizeKeys(keys []string, status lifecycle.Status) []string {
	if !status.Live() || len(keys) == 0 {
		return nil
	}
	out := append([]string(nil), keys...)
	sort.Strings(out)
	j := 0
	for i, k := range out {
		if i == 0 || k != out[j-1] {
			out[j] = k
			j++
		}
	}
	return out[:j]
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	if *b {
		return 1
	}
	return 0
}

func nullText(v json.RawMessage) any {
	if v == nil {
		return nil
	}
	return string(v)
}

// Create implements Store.
func (s *sqliteStore) Create(ctx context.Context, in *Integration) error {
	if err := validate(in); err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	keys := normalizeKeys(in.Keys, in.Status)
	t := nowUTC()
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO integrations
			(type, auto_bootstrap, status, message, validation_results, version, created_at, updated_at,
			 lease_owner, lease_until)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			in.Type, nullBool(in.AutoBootstrap), string(in.Status), in.Message, nullText(in.ValidationResults),
			t.UnixMicro(), t.UnixMicro(), in.LeaseOwner, leaseMicro(in.LeaseUntil))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		// The sealed values are bound to the id, known only now.
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET config = ?, pending = ?, credentials = ? WHERE id = ?`,
			s.seal(id, fieldConfig, in.Config), s.seal(id, fieldPending, in.Pending),
			s.seal(id, fieldCredentials, in.Credentials), id); err != nil {
			return err
		}
		return insertKeys(ctx, tx, id, keys)
	})
	if err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return ce
		}
		return fmt.Errorf("create integration: %w", err)
	}
	in.ID, in.Version, in.CreatedAt, in.UpdatedAt, in.Keys = id, 1, t, t, keys
	in.LeaseUntil = normTime(in.LeaseUntil)
	return nil
}

// insertKeys gives integration id the keys; the primary key of integration_keys
// refuses one that another live integration holds.
func insertKeys(ctx context.Context, tx *sql.Tx, id int64, keys []string) error {
	for _, k := range keys {
		_, err := tx.ExecContext(ctx, `INSERT INTO integration_keys (key, integration_id) VALUES (?, ?)`, k, id)
		if isSQLiteCode(err, sqliteConstraintPrimaryKey) || isSQLiteCode(err, sqliteConstraintUnique) {
			var holder int64
			if err := tx.QueryRowContext(ctx, `SELECT integration_id FROM integration_keys WHERE key = ?`, k).Scan(&holder); err != nil {
				return err
			}
			return &ConflictError{Key: k, ExistingID: holder}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Update implements Store. It sets in.Version and in.UpdatedAt (and in.Keys to the keys
// now held).
func (s *sqliteStore) Update(ctx context.Context, in *Integration) error {
	if err := validate(in); err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	id := in.ID
	keys := normalizeKeys(in.Keys, in.Status)
	config, pending, creds := s.seal(id, fieldConfig, in.Config), s.seal(id, fieldPending, in.Pending),
		s.seal(id, fieldCredentials, in.Credentials)
	t := nowUTC()
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET
			type = ?, auto_bootstrap = ?, status = ?, message = ?, config = ?, pending = ?, credentials = ?,
			validation_results = ?, version = version + 1, updated_at = ?, lease_owner = ?, lease_until = ?
			WHERE id = ? AND version = ?`,
			in.Type, nullBool(in.AutoBootstrap), string(in.Status), in.Message, config, pending, creds,
			nullText(in.ValidationResults), t.UnixMicro(), in.LeaseOwner, leaseMicro(in.LeaseUntil), id, in.Version)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM integrations WHERE id = ?)`, id).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return ErrStale
			}
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM integration_keys WHERE integration_id = ?`, id); err != nil {
			return err
		}
		return insertKeys(ctx, tx, id, keys)
	})
	if err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return ce
		}
		return fmt.Errorf("update integration %d: %w", id, err)
	}
	in.Version++
	in.UpdatedAt, in.Keys = t, keys
	in.LeaseUntil = normTime(in.LeaseUntil)
	return nil
}

const integrationColumns = `id, type, auto_bootstrap, status, message, config, pending, credentials,
	validation_results, version, created_at, updated_at, lease_owner, lease_until,
	(SELECT json_group_array(key) FROM integration_keys k WHERE k.integration_id = integrations.id)`

type scanner interface{ Scan(dest ...any) error }

func (s *sqliteStore) scanIntegration(sc scanner) (*Integration, error) {
	var (
		in                           Integration
		autoBootstrap                sql.NullInt64
		status                       string
		config, pending, credentials []byte
		validation                   sql.NullString
		created, updated, leaseUntil int64
		keys                         string
	)
	if err := sc.Scan(&in.ID, &in.Type, &autoBootstrap, &status, &in.Message, &config, &pending, &credentials,
		&validation, &in.Version, &created, &updated, &in.LeaseOwner, &leaseUntil, &keys); err != nil {
		return nil, err
	}
	in.Status = lifecycle.Status(status)
	if autoBootstrap.Valid {
		b := autoBootstrap.Int64 != 0
		in.AutoBootstrap = &b
	}
	var err error
	if in.Config, err = s.open(in.ID, fieldConfig, config); err != nil {
		return nil, err
	}
	if in.Pending, err = s.open(in.ID, fieldPending, pending); err != nil {
		return nil, err
	}
	if in.Credentials, err = s.open(in.ID, fieldCredentials, credentials); err != nil {
		return nil, err
	}
	if validation.Valid {
		in.ValidationResults = append(make(json.RawMessage, 0, len(validation.String)), validation.String...)
	}
	in.CreatedAt, in.UpdatedAt = fromMicro(created), fromMicro(updated)
	in.LeaseUntil = leaseFromMicro(leaseUntil)
	if keys != "" && keys != "[]" {
		if err := json.Unmarshal([]byte(keys), &in.Keys); err != nil {
			return nil, fmt.Errorf("integration %d: keys: %w", in.ID, err)
		}
		sort.Strings(in.Keys)
	}
	return &in, nil
}

// Get implements Store.
func (s *sqliteStore) Get(ctx context.Context, id int64) (*Integration, error) {
	in, err := s.scanIntegration(s.getStmt.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("integration %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get integration %d: %w", id, err)
	}
	return in, nil
}

func (s *sqliteStore) list(ctx context.Context, where string, args ...any) ([]*Integration, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rows.Close()
	out := []*Integration{}
	for rows.Next() {
		in, err := s.scanIntegration(rows)
		if err != nil {
			return nil, fmt.Errorf("list integrations: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return out, nil
}

// KeyHolders implements Store.
func (s *sqliteStore) KeyHolders(ctx context.Context, keys []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	q := `SELECT key, integration_id FROM integration_keys WHERE key IN (?` + strings.Repeat(`, ?`, len(keys)-1) + `)`
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("key holders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, fmt.Errorf("key holders: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// List implements Store.
func (s *sqliteStore) List(ctx context.Context) ([]*Integration, error) {
	return s.list(ctx, `status <> ?`, string(lifecycle.Deleted))
}

// ListByStatus implements Store.
func (s *sqliteStore) ListByStatus(ctx context.Context, statuses ...lifecycle.Status) ([]*Integration, error) {
	if len(statuses) == 0 {
		return []*Integration{}, nil
	}
	in, args := statusIn(statuses)
	return s.list(ctx, in, args...)
}

// statusIn is the condition "status IN (?, ...)" for statuses (at least one) and its
// arguments.
func statusIn(statuses []lifecycle.Status) (string, []any) {
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = string(st)
	}
	return `status IN (?` + strings.Repeat(", ?", len(statuses)-1) + `)`, args
}

// claimOne is Claim and ClaimIdle: in one write transaction (SQLite's single writer
// makes it exactly-once) it picks the first id that pick (a SELECT of one id) finds
// and applies set (the SET clause) to it, returning the integration as stored.
func (s *sqliteStore) claimOne(ctx context.Context, pick string, pickArgs []any, set string, setArgs ...any) (*Integration, error) {
	var in *Integration
	err := s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, pick, pickArgs...).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET `+set+` WHERE id = ?`, append(setArgs, id)...); err != nil {
			return err
		}
		var err error
		in, err = s.scanIntegration(tx.QueryRowContext(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE id = ?`, id))
		return err
	})
	return in, err
}

// Claim implements Store. The write transaction makes it exactly-once: SQLite has a
// single writer, so no other claim can run between the pick and the update.
func (s *sqliteStore) Claim(ctx context.Context, owner string, now, until time.Time, statuses ...lifecycle.Status) (*Integration, error) {
	if err := checkOwner(owner); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if len(statuses) == 0 {
		return nil, fmt.Errorf("claim: %w", ErrNotFound)
	}
	cond, args := statusIn(statuses)
	pick := `SELECT id FROM integrations WHERE ` + cond + ` AND (lease_owner = '' OR lease_until < ?) ORDER BY id LIMIT 1`
	in, err := s.claimOne(ctx, pick, append(args, leaseMicro(now)),
		`lease_owner = ?, lease_until = ?, version = version + 1, updated_at = ?`, owner, leaseMicro(until), nowUTC().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return in, nil
}

// ClaimIdle implements Store.
func (s *sqliteStore) ClaimIdle(ctx context.Context, now, idleSince time.Time, statuses ...lifecycle.Status) (*Integration, error) {
	if len(statuses) == 0 {
		return nil, fmt.Errorf("claim idle: %w", ErrNotFound)
	}
	cond, args := statusIn(statuses)
	pick := `SELECT id FROM integrations WHERE ` + cond + ` AND lease_owner = '' AND updated_at < ? ORDER BY updated_at, id LIMIT 1`
	in, err := s.claimOne(ctx, pick, append(args, idleSince.UTC().UnixMicro()),
		`version = version + 1, updated_at = ?`, now.UTC().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("claim idle: %w", err)
	}
	return in, nil
}

// RenewLease implements Store.
func (s *sqliteStore) RenewLease(ctx context.Context, id int64, owner string, until time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_owner <> ''`,
			leaseMicro(until), id, owner)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM integrations WHERE id = ?)`, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrStale
		}
		return ErrNotFound
	})
	if err != nil {
		return fmt.Errorf("renew lease of integration %d: %w", id, err)
	}
	return nil
}

// RenewLeases implements Store: one UPDATE in one write transaction, the ids passed
// as one JSON array.
func (s *sqliteStore) RenewLeases(ctx context.Context, owner string, until time.Time, ids []int64) ([]int64, error) {
	if err := checkOwner(owner); err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	var out []int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE integrations SET lease_until = ?
			WHERE lease_owner = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id`,
			leaseMicro(until), owner, string(list))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// MinAPIKeyLength is the least number of characters a given API key plaintext
// (APIKeySpec.Plaintext) may have.
const MinAPIKeyLength = 16

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// usableKey is the end of every Authenticate: the stored hash must equal h (compared
// in constant time) and the key must not be revoked.
func usableKey(k *APIKey, stored, h []byte) (*APIKey, error) {
	if subtle.ConstantTimeCompare(stored, h) != 1 || k.RevokedAt != nil {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	return k, nil
}

// newAPIKeyPlaintext returns 32 random bytes as 64 lowercase hex characters.
func newAPIKeyPlaintext() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newAPIKeyID returns a short random public identifier (12 hex characters).
func newAPIKeyID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func checkSpec(spec APIKeySpec) error {
	if spec.Plaintext != "" && utf8.RuneCountInString(spec.Plaintext) < MinAPIKeyLength {
		return fmt.Errorf("an API key must be at least %d characters", MinAPIKeyLength)
	}
	if spec.IntegrationID < 0 {
		return fmt.Errorf("integration %d: %w", spec.IntegrationID, ErrNotFound)
	}
	return nil
}

// insertAPIKey stores a key for spec in tx and returns it with its plaintext.
func (s *sqliteStore) insertAPIKey(ctx context.Context, tx *sql.Tx, spec APIKeySpec) (*APIKey, string, error) {
	if spec.IntegrationID != 0 {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM integrations WHERE id = ?)`, spec.IntegrationID).Scan(&exists); err != nil {
			return nil, "", err
		}
		if !exists {
			return nil, "", fmt.Errorf("integration %d: %w", spec.IntegrationID, ErrNotFound)
		}
	}
	plain := spec.Plaintext
	if plain == "" {
		plain = newAPIKeyPlaintext()
	}
	perms, err := json.Marshal(spec.Permissions)
	if err != nil {
		return nil, "", err
	}
	var integ any
	if spec.IntegrationID != 0 {
		integ = spec.IntegrationID
	}
	t := nowUTC()
	for attempt := 0; ; attempt++ {
		k := &APIKey{ID: newAPIKeyID(), Name: spec.Name, Permissions: append([]string(nil), spec.Permissions...),
			IntegrationID: spec.IntegrationID, CreatedAt: t}
		if spec.Permissions != nil && k.Permissions == nil {
			k.Permissions = []string{}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, hash, permissions, integration_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, k.ID, k.Name, hashKey(plain), string(perms), integ, t.UnixMicro())
		switch {
		case err == nil:
			return k, plain, nil
		case isSQLiteCode(err, sqliteConstraintUnique):
			return nil, "", ErrAPIKeyExists
		case isSQLiteCode(err, sqliteConstraintPrimaryKey) && attempt < 5:
			continue // id collision: draw another
		default:
			return nil, "", err
		}
	}
}

// CreateAPIKey implements Store.
func (s *sqliteStore) CreateAPIKey(ctx context.Context, spec APIKeySpec) (*APIKey, string, error) {
	if err := checkSpec(spec); err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	var k *APIKey
	var plain string
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		k, plain, err = s.insertAPIKey(ctx, tx, spec)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	return k, plain, nil
}

// RotateIntegrationKey implements Store.
func (s *sqliteStore) RotateIntegrationKey(ctx context.Context, integrationID int64, spec APIKeySpec) (*APIKey, string, error) {
	spec.IntegrationID = integrationID
	if integrationID == 0 {
		return nil, "", fmt.Errorf("rotate API key: integration 0: %w", ErrNotFound)
	}
	if err := checkSpec(spec); err != nil {
		return nil, "", fmt.Errorf("rotate API key: %w", err)
	}
	var k *APIKey
	var plain string
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE integration_id = ? AND revoked_at IS NULL`,
			nowUTC().UnixMicro(), integrationID); err != nil {
			return err
		}
		var err error
		k, plain, err = s.insertAPIKey(ctx, tx, spec)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("rotate API key of integration %d: %w", integrationID, err)
	}
	return k, plain, nil
}

const apiKeyColumns = `id, name, hash, permissions, integration_id, created_at, revoked_at`

func scanAPIKey(sc scanner) (*APIKey, []byte, error) {
	var (
		k       APIKey
		hash    []byte
		perms   string
		integ   sql.NullInt64
		created int64
		revoked sql.NullInt64
	)
	if err := sc.Scan(&k.ID, &k.Name, &hash, &perms, &integ, &created, &revoked); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(perms), &k.Permissions); err != nil {
		return nil, nil, fmt.Errorf("API key %s: permissions: %w", k.ID, err)
	}
	k.IntegrationID = integ.Int64
	k.CreatedAt = fromMicro(created)
	if revoked.Valid {
		t := fromMicro(revoked.Int64)
		k.RevokedAt = &t
	}
	return &k, hash, nil
}

// Authenticate implements Store.
func (s *sqliteStore) Authenticate(ctx context.Context, key string) (*APIKey, error) {
	if key == "" {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	h := hashKey(key)
	k, stored, err := scanAPIKey(s.authStmt.QueryRowContext(ctx, h))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return usableKey(k, stored, h)
}

// ListAPIKeys implements Store.
func (s *sqliteStore) ListAPIKeys(ctx context.Context) ([]*APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	out := []*APIKey{}
	for rows.Next() {
		k, _, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey implements Store. Revoking a key that is already revoked succeeds.
func (s *sqliteStore) RevokeAPIKey(ctx context.Context, idOrName string) error {
	if idOrName == "" {
		return fmt.Errorf("revoke API key: %w", ErrNotFound)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		t := nowUTC().UnixMicro()
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, t, idOrName)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE name = ? AND revoked_at IS NULL`, idOrName).Scan(&n); err != nil {
			return err
		}
		switch {
		case n == 1:
			_, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`, t, idOrName)
			return err
		case n > 1:
			return fmt.Errorf("%w: %d API keys are named %q: revoke one by its id", ErrAmbiguousName, n, idOrName)
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = ? OR name = ?)`, idOrName, idOrName).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return ErrNotFound
		}
		return nil // already revoked
	})
	if err != nil {
		return fmt.Errorf("revoke API key %q: %w", idOrName, err)
	}
	return nil
}

// Ping implements Store.
func (s *sqliteStore) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *sqliteStore) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.getStmt, s.authStmt} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}
