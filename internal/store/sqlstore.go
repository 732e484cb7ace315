package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// dialect is what differs between the databases sqlStore runs on, in the manner of
// goose's Querier: the SQL text that is not the same (placeholders, row locks, JSON
// functions, the migrations table), how values are encoded for the column types, and
// which errors mean a transaction is worth running again. sqliteDialect and
// postgresDialect are the two.
type dialect struct {
	// numbered says placeholders are $1, $2, ... (PostgreSQL) rather than ?: sqlStore
	// writes every statement with ? and rebind numbers them.
	numbered bool
	// keysJSON is an expression giving, as JSON array text, the keys that the row
	// integrations.id holds.
	keysJSON string
	// leaseUntil is the lease_until column as a nullable time (NULL when no lease).
	leaseUntil string
	// skipLocked ends the SELECT that picks the row a claim takes: rows other
	// replicas are claiming are skipped, not waited for.
	skipLocked string
	// lockKeyRotation ends the SELECT that locks an integration for the rotation of
	// its API key, so that rotations from several replicas run one after the other.
	lockKeyRotation string
	// lockRevoke ends the SELECT of the API keys a revocation by name will revoke.
	lockRevoke string
	// apiKeyOrder orders api_keys by creation.
	apiKeyOrder string
	// idsJSON is a subquery of the integers of a JSON array given as its one ?.
	idsJSON string
	// migrationsTable is the CREATE TABLE IF NOT EXISTS of schema_migrations.
	migrationsTable string
	// lockMigrations (with one ?, the lock key) makes replicas opening at once migrate
	// one after the other; "" when the write transaction alone does (SQLite).
	lockMigrations string
	// strictCommit and relaxedCommit set the durability of a write transaction's
	// commit (durability.go); "" for none. They are run first in the transaction, or,
	// with syncOnConn, on its connection before BEGIN: the durability is then a
	// setting of the connection (SQLite refuses to change it inside a transaction),
	// and a relaxed commit stays off the disk until a later durable one, so the store
	// flushes them.
	strictCommit, relaxedCommit string
	syncOnConn                  bool
	// detach: statements run without the caller's cancellation (detach).
	detach bool

	// time encodes a time for a time column; noLease is lease_until when there is no
	// lease.
	time    func(time.Time) any
	noLease any
	// bytea says message and validation_results are bytea (PostgreSQL: text cannot
	// hold a NUL byte), not TEXT.
	bytea bool
	// retry reports whether err aborted a transaction that is worth running again
	// (a deadlock or serialization failure).
	retry func(err error) bool
}

// rebind returns query, written with ? placeholders, in the placeholders of d. No
// statement of this package has a ? in a literal.
func (d *dialect) rebind(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, part := range strings.SplitAfter(query, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			b.WriteString(p)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		} else {
			b.WriteString(part)
		}
	}
	return b.String()
}

// sqlStore is the one implementation of Store, over database/sql, for SQLite and
// PostgreSQL alike; d holds what differs. Writes go through w and reads through r:
// for SQLite w is a pool of one connection whose transactions begin IMMEDIATE (so
// that they serialize without deadlocks) and r a pool of read-only connections that
// WAL lets run concurrently with the writer; for PostgreSQL both are one pool.
//
// What must hold across processes or replicas is enforced by the database: ids come
// from AUTOINCREMENT or a sequence, uniqueness from the primary key of
// integration_keys, optimistic concurrency from updates conditional on the version,
// and a claim is one UPDATE of the row its subquery picks (SQLite has one writer;
// PostgreSQL skips rows locked by other claims).
type sqlStore struct {
	d      *dialect
	w, r   *sql.DB
	sealer *Sealer
	// getStmt and authStmt are the prepared hot-path reads (Get, Authenticate);
	// versions coalesces Version calls (versions.go).
	getStmt, authStmt *sql.Stmt
	versions          versionBatcher
	// wstmts and rstmts keep the prepared statements of w and r (stmts.go); nil
	// where the driver keeps its own (PostgreSQL).
	wstmts, rstmts *stmtCache
	// syncs tracks relaxed commits not yet on the disk (durability.go).
	syncs syncTracker
}

// sizePool makes db keep up to n connections open, each for at most lifetime and
// idle for at most idle (0: without limit), and returns db.
func sizePool(db *sql.DB, n int, lifetime, idle time.Duration) *sql.DB {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(lifetime)
	db.SetConnMaxIdleTime(idle)
	return db
}

// querier is what a pool and a transaction have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// detach returns ctx without its cancellation (its values kept) where the dialect
// says so. SQLite runs a statement in this process, in microseconds to milliseconds,
// and waits for locks at most busy_timeout, so interrupting one gains nothing; but a
// cancelable context costs a goroutine per statement (modernc.org/sqlite's interrupt
// watcher) and one per transaction (database/sql's), a sixth of a create's CPU.
// A context already ended is kept, so that the call fails with its error as before.
func (s *sqlStore) detach(ctx context.Context) context.Context {
	if s.d.detach && ctx.Err() == nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// exec, query and queryRow run a statement written with ? placeholders on q,
// prepared where the dialect keeps prepared statements (stmts.go).
func (s *sqlStore) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	ctx = s.detach(ctx)
	if st := s.stmtFor(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, s.d.rebind(query), args...)
}

func (s *sqlStore) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	ctx = s.detach(ctx)
	if st := s.stmtFor(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, s.d.rebind(query), args...)
}

func (s *sqlStore) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	ctx = s.detach(ctx)
	if st := s.stmtFor(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, s.d.rebind(query), args...)
}

// stmtFor returns the prepared statement of query on q (a pool, or a transaction,
// which is always on the writer), or nil to run query as text: always nil without
// statement caches (PostgreSQL).
func (s *sqlStore) stmtFor(ctx context.Context, q querier, query string) *sql.Stmt {
	if s.wstmts == nil {
		return nil
	}
	switch q := q.(type) {
	case *sql.Tx:
		if st := s.wstmts.lookup(query); st != nil {
			return q.StmtContext(ctx, st)
		}
	case *sql.DB:
		if q == s.r {
			return s.rstmts.prepared(ctx, query)
		}
		return s.wstmts.prepared(ctx, query)
	}
	return nil
}

// start is the end of Open on either database: connect (if not nil) sets the pools
// of s; then the schema is migrated to the migrations in dir of fsys, the secret key
// checked and the hot-path reads prepared. On an error s is closed; where names the
// database in the errors that would not say which it is.
func (s *sqlStore) start(ctx context.Context, where string, connect func() error, fsys fs.FS, dir string) (_ Store, err error) {
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if connect != nil {
		if err := connect(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	ms, err := loadMigrations(fsys, dir)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, ms); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := s.checkKey(ctx); err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

// prepare prepares the statements every request runs, once (per connection of r):
// compiling SQL costs more than running a point lookup.
func (s *sqlStore) prepare(ctx context.Context) error {
	var err error
	if s.getStmt, err = s.r.PrepareContext(ctx, s.d.rebind(`SELECT `+s.integrationColumns()+` FROM integrations WHERE id = ?`)); err != nil {
		return err
	}
	if err := s.prepareVersions(ctx); err != nil {
		return err
	}
	s.authStmt, err = s.r.PrepareContext(ctx, s.d.rebind(`SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`))
	return err
}

const keyCheckPlain = "integrations key check v1"

var keyCheckAAD = []byte("store_meta/key_check")

// checkKey makes sure the secret key is the one the database was first opened with,
// recording a sealed check value on the first open.
func (s *sqlStore) checkKey(ctx context.Context) error {
	sealed := s.sealer.Seal([]byte(keyCheckPlain), keyCheckAAD)
	if _, err := s.exec(ctx, s.w, `INSERT INTO store_meta (name, value) VALUES ('key_check', ?)
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

// write runs fn in a write transaction (SQLite: BEGIN IMMEDIATE) and commits it if fn
// succeeds. A transaction the database aborted to break a deadlock (or a
// serialization failure) is run again.
func (s *sqlStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if attempt < 5 && ctx.Err() == nil && s.d.retry(err) {
			continue
		}
		return err
	}
}

func (s *sqlStore) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	ctx = s.detach(ctx)
	if s.wstmts != nil {
		// Once the transaction has ended and its connection is back: prepare what it
		// ran unprepared.
		defer s.wstmts.fillWanted(ctx)
	}
	var beginner interface {
		BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
	} = s.w
	var conn *sql.Conn
	if s.d.syncOnConn {
		// The durability is a setting of the connection, set before BEGIN.
		var err error
		if conn, err = s.w.Conn(ctx); err != nil {
			return err
		}
		defer conn.Close()
		beginner = conn
	}
	committed, err := s.setDurability(ctx, conn)
	if err != nil {
		return err
	}
	tx, err := beginner.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if conn == nil {
		err = s.setDurabilityInTx(ctx, tx)
	}
	if err == nil {
		err = fn(tx)
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	committed()
	return nil
}

func nowUTC() time.Time { return time.UnixMicro(time.Now().UnixMicro()).UTC() }

// normTime returns t in UTC truncated to microseconds (what the stores keep); the
// zero time stays zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// timeValue scans a time column of either dialect into *t, in UTC: Unix microseconds
// (SQLite) or a timestamp (PostgreSQL); NULL is the zero time.
type timeValue struct{ t *time.Time }

// Scan implements sql.Scanner.
func (v timeValue) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*v.t = time.Time{}
	case int64:
		*v.t = time.UnixMicro(x).UTC()
	case time.Time:
		*v.t = x.UTC()
	default:
		return fmt.Errorf("a time column holds a %T", src)
	}
	return nil
}

// lease encodes LeaseUntil t (the zero time: no lease).
func (s *sqlStore) lease(t time.Time) any {
	if t.IsZero() {
		return s.d.noLease
	}
	return s.d.time(t)
}

// text encodes message or validation_results b (nil: NULL).
func (s *sqlStore) text(b []byte) any {
	switch {
	case b == nil:
		return nil
	case s.d.bytea:
		return b
	}
	return string(b)
}

// Sealed columns of integrations.
const (
	fieldConfig      = "config"
	fieldPending     = "pending"
	fieldCredentials = "credentials"
	fieldState       = "applied_state"
)

// aad binds a sealed value to its row and column, so it cannot be moved elsewhere.
func aad(id int64, field string) []byte {
	b := append([]byte("integrations/"), strconv.FormatInt(id, 10)...)
	return append(append(b, '/'), field...)
}

// seal returns v sealed for column field of integration id, or nil (NULL) for nil.
func (s *sqlStore) seal(id int64, field string, v json.RawMessage) any {
	if v == nil {
		return nil
	}
	return s.sealer.Seal(v, aad(id, field))
}

// open opens column field of integration id as sealed by seal.
func (s *sqlStore) open(id int64, field string, b []byte) (json.RawMessage, error) {
	if b == nil {
		return nil, nil
	}
	plain, err := s.sealer.Open(b, aad(id, field))
	if err != nil {
		return nil, fmt.Errorf("integration %d: %s: %w", id, field, err)
	}
	return plain, nil
}

func checkOwner(owner string) error {
	if owner == "" {
		return errors.New("empty lease owner")
	}
	return nil
}

// planWrite checks in for Create and Update (what names the call in errors) and
// returns the keys it will hold, its lease as stored and the time of the write.
func planWrite(in *Integration, what string) (keys []string, lease, t time.Time, err error) {
	switch {
	case in == nil:
		err = errors.New("nil integration")
	case !in.Status.Valid():
		err = fmt.Errorf("invalid status %q", in.Status)
	default:
		return normalizeKeys(in.Keys, in.Status), normTime(in.LeaseUntil), nowUTC(), nil
	}
	return nil, time.Time{}, time.Time{}, fmt.Errorf("%s: %w", what, err)
}

// normalizeKeys returns the keys an integration in status holds: none unless it is
// live, else keys sorted without duplicates (nil when empty).
func normalizeKeys(keys []string, status lifecycle.Status) []string {
	if !status.Live() || len(keys) == 0 {
		return nil
	}
	out := append([]string(nil), keys...)
	sort.Strings(out)
	return slices.Compact(out)
}

// placeholders returns n placeholders separated by commas.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// inArgs returns the values of list as arguments.
func inArgs[T any](list []T) []any {
	args := make([]any, len(list))
	for i, v := range list {
		args[i] = v
	}
	return args
}

// statusIn is the condition "status IN (?, ...)" for statuses (at least one) and its
// arguments.
func statusIn(statuses []lifecycle.Status) (string, []any) {
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = string(st)
	}
	return `status IN (` + placeholders(len(statuses)) + `)`, args
}

// conflictOr returns err as is when it is a *ConflictError, else wrapped by what.
func conflictOr(err error, what string) error {
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Create implements Store.
func (s *sqlStore) Create(ctx context.Context, in *Integration) error {
	keys, lease, t, err := planWrite(in, "create integration")
	if err != nil {
		return err
	}
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.queryRow(ctx, tx, `INSERT INTO integrations
			(type, auto_bootstrap, status, message, validation_results, version, created_at, updated_at,
			 lease_owner, lease_until, state_bundle)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id`,
			in.Type, in.AutoBootstrap, string(in.Status), s.text([]byte(in.Message)), s.text(in.ValidationResults),
			s.d.time(t), s.d.time(t), in.LeaseOwner, s.lease(lease), in.StateBundle).Scan(&id); err != nil {
			return err
		}
		// The sealed values are bound to the id, known only now.
		if _, err := s.exec(ctx, tx, `UPDATE integrations SET config = ?, pending = ?, credentials = ?, applied_state = ? WHERE id = ?`,
			s.seal(id, fieldConfig, in.Config), s.seal(id, fieldPending, in.Pending),
			s.seal(id, fieldCredentials, in.Credentials), s.seal(id, fieldState, in.AppliedState), id); err != nil {
			return err
		}
		return s.setKeys(ctx, tx, id, keys)
	})
	if err != nil {
		return conflictOr(err, "create integration")
	}
	in.ID, in.Version, in.CreatedAt, in.UpdatedAt, in.Keys, in.LeaseUntil = id, 1, t, t, keys, lease
	return nil
}

// setKeys makes integration id hold exactly keys (sorted, without duplicates), or
// returns a *ConflictError for the first key another live integration holds.
//
// INSERT ... ON CONFLICT DO NOTHING is what makes it race-safe across PostgreSQL
// replicas (SQLite's single writer makes it so anyway): it waits for a concurrent
// transaction that inserted the same key, and skips the key if that one commits, so
// exactly one of two racing writers gets it; and it does not abort the transaction as
// a failed insert would. The holder of a skipped key is then read (it has committed);
// if it released the key meanwhile the insert is tried again. The new keys are
// inserted before the old ones are deleted so that two writers trading keys wait for
// each other in one order only.
func (s *sqlStore) setKeys(ctx context.Context, tx *sql.Tx, id int64, keys []string) error {
	missing := keys
	for attempt := 0; len(missing) > 0; attempt++ {
		if attempt == 10 {
			return fmt.Errorf("unique key %q keeps changing hands: try again", missing[0])
		}
		args := make([]any, 0, 2*len(missing))
		for _, k := range missing {
			args = append(args, k, id)
		}
		inserted, err := queryAll(ctx, s, tx, scanOne[string], `INSERT INTO integration_keys (key, integration_id) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?), ", len(missing)), ", ")+
			` ON CONFLICT (key) DO NOTHING RETURNING key`, args...)
		if err != nil {
			return err
		}
		rest := slices.DeleteFunc(slices.Clone(missing), func(k string) bool { return slices.Contains(inserted, k) })
		if len(rest) == 0 {
			break
		}
		holders, err := s.keyHolders(ctx, tx, rest)
		if err != nil {
			return err
		}
		missing = nil
		for _, k := range rest { // sorted: the first conflicting key is reported
			switch h, ok := holders[k]; {
			case !ok:
				missing = append(missing, k) // released meanwhile: insert it again
			case h != id:
				return &ConflictError{Key: k, ExistingID: h}
			}
		}
	}
	del := `DELETE FROM integration_keys WHERE integration_id = ?`
	if len(keys) > 0 {
		del += ` AND key NOT IN (` + placeholders(len(keys)) + `)`
	}
	_, err := s.exec(ctx, tx, del, append([]any{id}, inArgs(keys)...)...)
	return err
}

// queryAll runs query on q and scans each row with scan; no rows is an empty slice.
func queryAll[T any](ctx context.Context, s *sqlStore, q querier, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanOne scans a row of one column.
func scanOne[T any](rows *sql.Rows) (T, error) {
	var v T
	err := rows.Scan(&v)
	return v, err
}

func (s *sqlStore) keyHolders(ctx context.Context, q querier, keys []string) (map[string]int64, error) {
	type holder struct {
		key string
		id  int64
	}
	list, err := queryAll(ctx, s, q, func(rows *sql.Rows) (holder, error) {
		var h holder
		err := rows.Scan(&h.key, &h.id)
		return h, err
	}, `SELECT key, integration_id FROM integration_keys WHERE key IN (`+placeholders(len(keys))+`)`, inArgs(keys)...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(list))
	for _, h := range list {
		out[h.key] = h.id
	}
	return out, nil
}

// Update implements Store. It sets in.Version and in.UpdatedAt (and in.Keys to the keys
// now held).
func (s *sqlStore) Update(ctx context.Context, in *Integration) error {
	keys, lease, t, err := planWrite(in, "update integration")
	if err != nil {
		return err
	}
	id := in.ID
	config, pending, creds := s.seal(id, fieldConfig, in.Config), s.seal(id, fieldPending, in.Pending),
		s.seal(id, fieldCredentials, in.Credentials)
	state := s.seal(id, fieldState, in.AppliedState)
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Of racing writers at one version, the first locks the row and the others,
		// once it commits, find the version moved: 0 rows.
		res, err := s.exec(ctx, tx, `UPDATE integrations SET
			type = ?, auto_bootstrap = ?, status = ?, message = ?, config = ?, pending = ?, credentials = ?,
			applied_state = ?, state_bundle = ?, validation_results = ?, version = version + 1, updated_at = ?,
			lease_owner = ?, lease_until = ?
			WHERE id = ? AND version = ?`,
			in.Type, in.AutoBootstrap, string(in.Status), s.text([]byte(in.Message)), config, pending, creds,
			state, in.StateBundle, s.text(in.ValidationResults), s.d.time(t), in.LeaseOwner, s.lease(lease), id, in.Version)
		if err := s.staleOrNotFound(ctx, tx, id, res, err); err != nil {
			return err
		}
		return s.setKeys(ctx, tx, id, keys)
	})
	if err != nil {
		return conflictOr(err, fmt.Sprintf("update integration %d", id))
	}
	in.Version++
	in.UpdatedAt, in.Keys, in.LeaseUntil = t, keys, lease
	return nil
}

// staleOrNotFound is the end of a write of integration id conditional on its version
// or lease, whose result is res (or err): nil if it changed a row, else ErrStale if
// the integration exists and ErrNotFound if not.
func (s *sqlStore) staleOrNotFound(ctx context.Context, q querier, id int64, res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	switch exists, err := s.exists(ctx, q, `SELECT 1 FROM integrations WHERE id = ?`, id); {
	case err != nil:
		return err
	case exists:
		return ErrStale
	}
	return ErrNotFound
}

// exists reports whether query (a SELECT) finds a row.
func (s *sqlStore) exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var ok bool
	err := s.queryRow(ctx, q, `SELECT EXISTS (`+query+`)`, args...).Scan(&ok)
	return ok, err
}

// rowErr is the error of a read of one row: nil for nil, ErrNotFound (wrapped by
// notFound) when there is no row, else err wrapped by what.
func rowErr(err error, notFound, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", notFound, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// integrationColumns are the columns scanIntegration scans.
func (s *sqlStore) integrationColumns() string {
	return `id, type, auto_bootstrap, status, message, config, pending, credentials,
	applied_state, state_bundle, validation_results, version, created_at, updated_at, lease_owner, ` + s.d.leaseUntil + `, ` + s.d.keysJSON
}

type scanner interface{ Scan(dest ...any) error }

func (s *sqlStore) scanIntegration(sc scanner) (*Integration, error) {
	var (
		in                           Integration
		autoBootstrap                sql.NullBool
		status                       string
		message                      []byte
		config, pending, credentials []byte
		state                        []byte
		validation                   []byte
		keys                         string
	)
	if err := sc.Scan(&in.ID, &in.Type, &autoBootstrap, &status, &message, &config, &pending, &credentials,
		&state, &in.StateBundle, &validation, &in.Version, timeValue{&in.CreatedAt}, timeValue{&in.UpdatedAt}, &in.LeaseOwner,
		timeValue{&in.LeaseUntil}, &keys); err != nil {
		return nil, err
	}
	in.Status = lifecycle.Status(status)
	in.Message = string(message)
	if autoBootstrap.Valid {
		in.AutoBootstrap = &autoBootstrap.Bool
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
	if in.AppliedState, err = s.open(in.ID, fieldState, state); err != nil {
		return nil, err
	}
	if validation != nil {
		in.ValidationResults = json.RawMessage(validation)
	}
	if keys != "" && keys != "[]" {
		if err := json.Unmarshal([]byte(keys), &in.Keys); err != nil {
			return nil, fmt.Errorf("integration %d: keys: %w", in.ID, err)
		}
		sort.Strings(in.Keys)
	}
	return &in, nil
}

// Get implements Store.
func (s *sqlStore) Get(ctx context.Context, id int64) (*Integration, error) {
	in, err := s.scanIntegration(s.getStmt.QueryRowContext(s.detach(ctx), id))
	if err != nil {
		return nil, rowErr(err, fmt.Sprintf("integration %d", id), fmt.Sprintf("get integration %d", id))
	}
	return in, nil
}

func (s *sqlStore) list(ctx context.Context, where string, args ...any) ([]*Integration, error) {
	out, err := queryAll(ctx, s, s.r, func(rows *sql.Rows) (*Integration, error) { return s.scanIntegration(rows) },
		`SELECT `+s.integrationColumns()+` FROM integrations WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return out, nil
}

// ListVersions implements Store.
func (s *sqlStore) ListVersions(ctx context.Context, after int64, limit int) ([]IDVersion, error) {
	q := `SELECT id, version FROM integrations WHERE status <> ? AND id > ? ORDER BY id`
	args := []any{string(lifecycle.Deleted), after}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	out, err := queryAll(ctx, s, s.r, func(rows *sql.Rows) (IDVersion, error) {
		var v IDVersion
		err := rows.Scan(&v.ID, &v.Version)
		return v, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list integration versions: %w", err)
	}
	return out, nil
}

// List implements Store.
func (s *sqlStore) List(ctx context.Context) ([]*Integration, error) {
	return s.list(ctx, `status <> ?`, string(lifecycle.Deleted))
}

// ListByStatus implements Store.
func (s *sqlStore) ListByStatus(ctx context.Context, statuses ...lifecycle.Status) ([]*Integration, error) {
	if len(statuses) == 0 {
		return []*Integration{}, nil
	}
	in, args := statusIn(statuses)
	return s.list(ctx, in, args...)
}

// KeyHolders implements Store.
func (s *sqlStore) KeyHolders(ctx context.Context, keys []string) (map[string]int64, error) {
	if len(keys) == 0 {
		return map[string]int64{}, nil
	}
	out, err := s.keyHolders(ctx, s.r, keys)
	if err != nil {
		return nil, fmt.Errorf("key holders: %w", err)
	}
	return out, nil
}

// claimOne is Claim and ClaimIdle (what names it in errors): one UPDATE applying set
// (the SET clause, with setArgs) to the first row, in order, of those in statuses
// that also match where (with whereArgs), returning the integration as stored;
// ErrNotFound when there is none. SQLite's single writer makes it exactly-once; on
// PostgreSQL the pick ends with FOR UPDATE SKIP LOCKED, so that a row another replica
// is claiming is skipped, not waited for.
func (s *sqlStore) claimOne(ctx context.Context, what string, statuses []lifecycle.Status,
	set string, setArgs []any, where, order string, whereArgs ...any) (*Integration, error) {
	if len(statuses) == 0 {
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	cond, args := statusIn(statuses)
	args = append(append(setArgs, args...), whereArgs...)
	var in *Integration
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		in, err = s.scanIntegration(s.queryRow(ctx, tx, `UPDATE integrations SET `+set+`
			WHERE id = (SELECT id FROM integrations WHERE `+cond+` AND `+where+` ORDER BY `+order+` LIMIT 1`+s.d.skipLocked+`)
			RETURNING `+s.integrationColumns(), args...))
		return err
	})
	if err != nil {
		return nil, rowErr(err, what, what)
	}
	return in, nil
}

// Claim implements Store.
func (s *sqlStore) Claim(ctx context.Context, owner string, now, until time.Time, statuses ...lifecycle.Status) (*Integration, error) {
	if err := checkOwner(owner); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return s.claimOne(ctx, "claim", statuses,
		`lease_owner = ?, lease_until = ?, version = version + 1, updated_at = ?`,
		[]any{owner, s.lease(until), s.d.time(nowUTC())},
		`(lease_owner = '' OR lease_until IS NULL OR lease_until < ?)`, `id`, s.lease(now))
}

// ClaimMigration implements Store.
func (s *sqlStore) ClaimMigration(ctx context.Context, owner string, now, until time.Time, bundle int, from, to lifecycle.Status) (*Integration, error) {
	if err := checkOwner(owner); err != nil {
		return nil, fmt.Errorf("claim migration: %w", err)
	}
	if !to.Valid() {
		return nil, fmt.Errorf("claim migration: invalid status %q", to)
	}
	return s.claimOne(ctx, "claim migration", []lifecycle.Status{from},
		`status = ?, lease_owner = ?, lease_until = ?, version = version + 1, updated_at = ?`,
		[]any{string(to), owner, s.lease(until), s.d.time(nowUTC())},
		`state_bundle > 0 AND state_bundle < ? AND (lease_owner = '' OR lease_until IS NULL OR lease_until < ?)`, `id`, bundle, s.lease(now))
}

// ClaimIdle implements Store.
func (s *sqlStore) ClaimIdle(ctx context.Context, now, idleSince time.Time, statuses ...lifecycle.Status) (*Integration, error) {
	return s.claimOne(ctx, "claim idle", statuses, `version = version + 1, updated_at = ?`, []any{s.d.time(now)},
		`lease_owner = '' AND updated_at < ?`, `updated_at, id`, s.d.time(idleSince))
}

// RenewLease implements Store.
func (s *sqlStore) RenewLease(ctx context.Context, id int64, owner string, until time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE integrations SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_owner <> ''`,
			s.lease(until), id, owner)
		return s.staleOrNotFound(ctx, tx, id, res, err)
	})
	if err != nil {
		return fmt.Errorf("renew lease of integration %d: %w", id, err)
	}
	return nil
}

// Lease implements Store.
func (s *sqlStore) Lease(ctx context.Context, id int64) (string, time.Time, error) {
	var owner string
	var until time.Time
	err := s.queryRow(ctx, s.r, `SELECT lease_owner, `+s.d.leaseUntil+` FROM integrations WHERE id = ?`, id).
		Scan(&owner, timeValue{&until})
	if err != nil {
		return "", time.Time{}, rowErr(err, fmt.Sprintf("integration %d", id), fmt.Sprintf("lease of integration %d", id))
	}
	return owner, until, nil
}

// RenewLeases implements Store: one UPDATE, the ids passed as one JSON array.
func (s *sqlStore) RenewLeases(ctx context.Context, owner string, until time.Time, ids []int64) ([]int64, error) {
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
		var err error
		out, err = queryAll(ctx, s, tx, scanOne[int64], `UPDATE integrations SET lease_until = ?
			WHERE lease_owner = ? AND id IN (`+s.d.idsJSON+`) RETURNING id`,
			s.lease(until), owner, string(list))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// Ping implements Store.
func (s *sqlStore) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	if s.w != s.r {
		if err := s.w.PingContext(ctx); err != nil {
			return fmt.Errorf("ping store: %w", err)
		}
	}
	return nil
}

// Close implements Store.
func (s *sqlStore) Close() error {
	s.stopFlushes()
	var errs []error
	for _, st := range []*sql.Stmt{s.getStmt, s.authStmt} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.versions.close()...)
	for _, c := range []*stmtCache{s.wstmts, s.rstmts} {
		if c != nil {
			errs = append(errs, c.close()...)
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil && s.w != s.r {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}
