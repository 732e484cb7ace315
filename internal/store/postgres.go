package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// postgresMigrations holds the PostgreSQL schema, numbered like sqliteMigrations.
//
//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// pgMigrationLock is the key of the advisory lock that serializes migrations, so that
// replicas starting at once apply each migration exactly once. Advisory locks are per
// database.
const pgMigrationLock int64 = 0x696e7465_67726174 // "integrat"

// PostgreSQL error codes (SQLSTATE).
const (
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// pgStore is the PostgreSQL implementation, for several replicas on one database.
// Each replica has its own pool; what must hold across replicas is enforced by the
// database: ids come from a sequence, uniqueness from the primary key of
// integration_keys, optimistic concurrency from updates conditional on the version,
// and Claim takes a row with FOR UPDATE SKIP LOCKED. Reads are point lookups by
// primary key, prepared once per connection (pgx caches prepared statements).
//
// type, status, keys, lease owners and API key names are text, which cannot hold a
// NUL byte or invalid UTF-8: PostgreSQL refuses such values.
type pgStore struct {
	pool   *pgxpool.Pool
	sealer *Sealer
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

func (e *redactedError) Error() string { return e.msg }

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
// schema and checking the secret key.
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
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s := &pgStore{pool: pool, sealer: sealer}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	ms, err := loadMigrations(postgresMigrations, "migrations/postgres")
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, ms); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := s.checkKey(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// migrate brings the schema up to the last of ms in one transaction that holds the
// migration advisory lock: replicas opening at once wait for each other, and the
// first applies what is missing. It refuses a schema newer than ms know.
func (s *pgStore) migrate(ctx context.Context, ms []migration) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
			return fmt.Errorf("migrations: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		todo, err := pending(ms, current)
		if err != nil {
			return err
		}
		for _, m := range todo {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, time.Now()); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// checkKey makes sure the secret key is the one the database was first opened with,
// recording a sealed check value on the first open.
func (s *pgStore) checkKey(ctx context.Context) error {
	sealed := s.sealer.Seal([]byte(keyCheckPlain), keyCheckAAD)
	if _, err := s.pool.Exec(ctx, `INSERT INTO store_meta (name, value) VALUES ('key_check', $1)
		ON CONFLICT (name) DO NOTHING`, sealed); err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT value FROM store_meta WHERE name = 'key_check'`).Scan(&sealed); err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	plain, err := s.sealer.Open(sealed, keyCheckAAD)
	if err != nil || string(plain) != keyCheckPlain {
		return ErrWrongKey
	}
	return nil
}

func isPgCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// tx runs fn in a transaction and commits it if fn succeeds. A transaction that
// PostgreSQL aborted to break a deadlock (or a serialization failure) is run again.
func (s *pgStore) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if attempt < 5 && ctx.Err() == nil && isPgCode(err, pgDeadlockDetected, pgSerializationFailure) {
			continue
		}
		return err
	}
}

// pgNull returns v, or nil (NULL) for a nil v.
func pgNull(v []byte) any {
	if v == nil {
		return nil
	}
	return v
}

// pgTime returns t, or nil (NULL) for the zero time.
func pgTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// pgStrings returns a non-nil slice: pgx sends a nil slice as NULL.
func pgStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func statusStrings(statuses []lifecycle.Status) []string {
	out := make([]string, len(statuses))
	for i, st := range statuses {
		out[i] = string(st)
	}
	return out
}

// Create implements Store.
func (s *pgStore) Create(ctx context.Context, in *Integration) error {
	if err := validate(in); err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	keys := normalizeKeys(in.Keys, in.Status)
	lease := normTime(in.LeaseUntil)
	t := nowUTC()
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The sealed values are bound to the id: draw it first.
		if err := tx.QueryRow(ctx, `SELECT nextval('integrations_id_seq')`).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO integrations
			(id, type, auto_bootstrap, status, message, config, pending, credentials, validation_results,
			 version, created_at, updated_at, lease_owner, lease_until)
			OVERRIDING SYSTEM VALUE
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $11, $12)`,
			id, in.Type, in.AutoBootstrap, string(in.Status), []byte(in.Message),
			pgNull(sealField(s.sealer, id, fieldConfig, in.Config)),
			pgNull(sealField(s.sealer, id, fieldPending, in.Pending)),
			pgNull(sealField(s.sealer, id, fieldCredentials, in.Credentials)),
			pgNull(in.ValidationResults), t, in.LeaseOwner, pgTime(lease)); err != nil {
			return err
		}
		return pgSetKeys(ctx, tx, id, keys)
	})
	if err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return ce
		}
		return fmt.Errorf("create integration: %w", err)
	}
	in.ID, in.Version, in.CreatedAt, in.UpdatedAt, in.Keys, in.LeaseUntil = id, 1, t, t, keys, lease
	return nil
}

// pgSetKeys makes integration id hold exactly keys (sorted, without duplicates), or
// returns a *ConflictError for the first key another live integration holds.
//
// INSERT ... ON CONFLICT DO NOTHING is what makes it race-safe across replicas: it
// waits for a concurrent transaction that inserted the same key, and skips the key if
// that one commits, so exactly one of two racing writers gets it. The holder of a
// skipped key is then read (it has committed); if it released the key meanwhile the
// insert is tried again. The new keys are inserted before the old ones are deleted so
// that two writers trading keys wait for each other in one order only.
func pgSetKeys(ctx context.Context, tx pgx.Tx, id int64, keys []string) error {
	missing := keys
	for attempt := 0; len(missing) > 0; attempt++ {
		if attempt == 10 {
			return fmt.Errorf("unique key %q keeps changing hands: try again", missing[0])
		}
		rows, err := tx.Query(ctx, `INSERT INTO integration_keys (key, integration_id)
			SELECT k, $2 FROM unnest($1::text[]) AS k
			ON CONFLICT (key) DO NOTHING RETURNING key`, missing, id)
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		rest := missing[:0:0]
		for _, k := range missing {
			if !containsString(inserted, k) {
				rest = append(rest, k)
			}
		}
		if len(rest) == 0 {
			break
		}
		holders, err := pgKeyHolders(ctx, tx, rest)
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
	_, err := tx.Exec(ctx, `DELETE FROM integration_keys WHERE integration_id = $1 AND key <> ALL($2::text[])`,
		id, pgStrings(keys))
	return err
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pgQuerier is what a pool and a transaction have in common.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgKeyHolders(ctx context.Context, q pgQuerier, keys []string) (map[string]int64, error) {
	out := map[string]int64{}
	rows, err := q.Query(ctx, `SELECT key, integration_id FROM integration_keys WHERE key = ANY($1::text[])`, pgStrings(keys))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, err
		}
		out[k] = id
	}
	return out, rows.Err()
}

// Update implements Store. It sets in.Version and in.UpdatedAt (and in.Keys to the keys
// now held).
func (s *pgStore) Update(ctx context.Context, in *Integration) error {
	if err := validate(in); err != nil {
		return fmt.Errorf("update integration: %w", err)
	}
	id := in.ID
	keys := normalizeKeys(in.Keys, in.Status)
	lease := normTime(in.LeaseUntil)
	config, pending, creds := sealField(s.sealer, id, fieldConfig, in.Config),
		sealField(s.sealer, id, fieldPending, in.Pending), sealField(s.sealer, id, fieldCredentials, in.Credentials)
	t := nowUTC()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Of racing writers at one version, the first locks the row and the others,
		// once it commits, find the version moved: 0 rows.
		tag, err := tx.Exec(ctx, `UPDATE integrations SET
			type = $1, auto_bootstrap = $2, status = $3, message = $4, config = $5, pending = $6, credentials = $7,
			validation_results = $8, version = version + 1, updated_at = $9, lease_owner = $10, lease_until = $11
			WHERE id = $12 AND version = $13`,
			in.Type, in.AutoBootstrap, string(in.Status), []byte(in.Message), pgNull(config), pgNull(pending),
			pgNull(creds), pgNull(in.ValidationResults), t, in.LeaseOwner, pgTime(lease), id, in.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return s.staleOrNotFound(ctx, tx, id)
		}
		return pgSetKeys(ctx, tx, id, keys)
	})
	if err != nil {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return ce
		}
		return fmt.Errorf("update integration %d: %w", id, err)
	}
	in.Version++
	in.UpdatedAt, in.Keys, in.LeaseUntil = t, keys, lease
	return nil
}

// staleOrNotFound tells why a conditional write of integration id changed no row:
// ErrStale if it exists, else ErrNotFound.
func (s *pgStore) staleOrNotFound(ctx context.Context, q pgQuerier, id int64) error {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM integrations WHERE id = $1)`, id).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return ErrStale
	}
	return ErrNotFound
}

const pgIntegrationColumns = `id, type, auto_bootstrap, status, message, config, pending, credentials,
	validation_results, version, created_at, updated_at, lease_owner, lease_until,
	ARRAY(SELECT key FROM integration_keys k WHERE k.integration_id = integrations.id)`

func (s *pgStore) scanIntegration(row pgx.Row) (*Integration, error) {
	var (
		in                                       Integration
		status                                   string
		message                                  []byte
		config, pending, credentials, validation []byte
		created, updated                         time.Time
		leaseUntil                               *time.Time
		keys                                     []string
	)
	if err := row.Scan(&in.ID, &in.Type, &in.AutoBootstrap, &status, &message, &config, &pending, &credentials,
		&validation, &in.Version, &created, &updated, &in.LeaseOwner, &leaseUntil, &keys); err != nil {
		return nil, err
	}
	in.Status = lifecycle.Status(status)
	in.Message = string(message)
	var err error
	if in.Config, err = openField(s.sealer, in.ID, fieldConfig, config); err != nil {
		return nil, err
	}
	if in.Pending, err = openField(s.sealer, in.ID, fieldPending, pending); err != nil {
		return nil, err
	}
	if in.Credentials, err = openField(s.sealer, in.ID, fieldCredentials, credentials); err != nil {
		return nil, err
	}
	if validation != nil {
		in.ValidationResults = json.RawMessage(validation)
	}
	in.CreatedAt, in.UpdatedAt = created.UTC(), updated.UTC()
	if leaseUntil != nil {
		in.LeaseUntil = leaseUntil.UTC()
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		in.Keys = keys
	}
	return &in, nil
}

// Get implements Store.
func (s *pgStore) Get(ctx context.Context, id int64) (*Integration, error) {
	in, err := s.scanIntegration(s.pool.QueryRow(ctx, `SELECT `+pgIntegrationColumns+` FROM integrations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("integration %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get integration %d: %w", id, err)
	}
	return in, nil
}

func (s *pgStore) list(ctx context.Context, where string, args ...any) ([]*Integration, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgIntegrationColumns+` FROM integrations WHERE `+where+` ORDER BY id`, args...)
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

// List implements Store.
func (s *pgStore) List(ctx context.Context) ([]*Integration, error) {
	return s.list(ctx, `status <> $1`, string(lifecycle.Deleted))
}

// ListByStatus implements Store.
func (s *pgStore) ListByStatus(ctx context.Context, statuses ...lifecycle.Status) ([]*Integration, error) {
	if len(statuses) == 0 {
		return []*Integration{}, nil
	}
	return s.list(ctx, `status = ANY($1::text[])`, statusStrings(statuses))
}

// KeyHolders implements Store.
func (s *pgStore) KeyHolders(ctx context.Context, keys []string) (map[string]int64, error) {
	if len(keys) == 0 {
		return map[string]int64{}, nil
	}
	out, err := pgKeyHolders(ctx, s.pool, keys)
	if err != nil {
		return nil, fmt.Errorf("key holders: %w", err)
	}
	return out, nil
}

// Claim implements Store: one statement picks the lowest claimable id with FOR UPDATE
// SKIP LOCKED (rows other replicas are claiming are skipped, not waited for) and
// takes its lease.
func (s *pgStore) Claim(ctx context.Context, owner string, now, until time.Time, statuses ...lifecycle.Status) (*Integration, error) {
	if err := checkOwner(owner); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if len(statuses) == 0 {
		return nil, fmt.Errorf("claim: %w", ErrNotFound)
	}
	in, err := s.scanIntegration(s.pool.QueryRow(ctx, `UPDATE integrations
		SET lease_owner = $1, lease_until = $2, version = version + 1, updated_at = $3
		WHERE id = (
			SELECT id FROM integrations
			WHERE status = ANY($4::text[]) AND (lease_owner = '' OR lease_until IS NULL OR lease_until < $5)
			ORDER BY id LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING `+pgIntegrationColumns,
		owner, pgTime(normTime(until)), nowUTC(), statusStrings(statuses), normTime(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("claim: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return in, nil
}

// ClaimIdle implements Store.
func (s *pgStore) ClaimIdle(ctx context.Context, now, idleSince time.Time, statuses ...lifecycle.Status) (*Integration, error) {
	if len(statuses) == 0 {
		return nil, fmt.Errorf("claim idle: %w", ErrNotFound)
	}
	in, err := s.scanIntegration(s.pool.QueryRow(ctx, `UPDATE integrations
		SET version = version + 1, updated_at = $1
		WHERE id = (
			SELECT id FROM integrations
			WHERE status = ANY($2::text[]) AND lease_owner = '' AND updated_at < $3
			ORDER BY updated_at, id LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING `+pgIntegrationColumns,
		normTime(now), statusStrings(statuses), normTime(idleSince)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("claim idle: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("claim idle: %w", err)
	}
	return in, nil
}

// RenewLease implements Store.
func (s *pgStore) RenewLease(ctx context.Context, id int64, owner string, until time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE integrations SET lease_until = $1
		WHERE id = $2 AND lease_owner = $3 AND lease_owner <> ''`, pgTime(normTime(until)), id, owner)
	if err == nil && tag.RowsAffected() == 0 {
		err = s.staleOrNotFound(ctx, s.pool, id)
	}
	if err != nil {
		return fmt.Errorf("renew lease of integration %d: %w", id, err)
	}
	return nil
}

// RenewLeases implements Store: one UPDATE of the ids passed as an array.
func (s *pgStore) RenewLeases(ctx context.Context, owner string, until time.Time, ids []int64) ([]int64, error) {
	if err := checkOwner(owner); err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE integrations SET lease_until = $1
		WHERE lease_owner = $2 AND id = ANY($3::bigint[]) RETURNING id`, pgTime(normTime(until)), owner, ids)
	var out []int64
	if err == nil {
		out, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// insertAPIKey stores a key for spec in tx and returns it with its plaintext.
func (s *pgStore) insertAPIKey(ctx context.Context, tx pgx.Tx, spec APIKeySpec) (*APIKey, string, error) {
	if spec.IntegrationID != 0 {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM integrations WHERE id = $1)`, spec.IntegrationID).Scan(&exists); err != nil {
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
	hash := hashKey(plain)
	t := nowUTC()
	for attempt := 0; ; attempt++ {
		k := &APIKey{ID: newAPIKeyID(), Name: spec.Name, Permissions: append([]string(nil), spec.Permissions...),
			IntegrationID: spec.IntegrationID, CreatedAt: t}
		if spec.Permissions != nil && k.Permissions == nil {
			k.Permissions = []string{}
		}
		// ON CONFLICT DO NOTHING instead of a failing insert: a failed statement would
		// abort the transaction.
		tag, err := tx.Exec(ctx, `INSERT INTO api_keys (id, name, hash, permissions, integration_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, k.ID, k.Name, hash, string(perms), integ, t)
		if err != nil {
			return nil, "", err
		}
		if tag.RowsAffected() == 1 {
			return k, plain, nil
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE hash = $1)`, hash).Scan(&taken); err != nil {
			return nil, "", err
		}
		if taken {
			return nil, "", ErrAPIKeyExists
		}
		if attempt == 5 {
			return nil, "", errors.New("could not draw an unused API key id")
		}
		// id collision: draw another
	}
}

// CreateAPIKey implements Store.
func (s *pgStore) CreateAPIKey(ctx context.Context, spec APIKeySpec) (*APIKey, string, error) {
	if err := checkSpec(spec); err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	var k *APIKey
	var plain string
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		k, plain, err = s.insertAPIKey(ctx, tx, spec)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	return k, plain, nil
}

// RotateIntegrationKey implements Store. The integration's row is locked first, so
// that rotations of one integration from several replicas run one after the other
// and leave one unrevoked key.
func (s *pgStore) RotateIntegrationKey(ctx context.Context, integrationID int64, spec APIKeySpec) (*APIKey, string, error) {
	spec.IntegrationID = integrationID
	if integrationID == 0 {
		return nil, "", fmt.Errorf("rotate API key: integration 0: %w", ErrNotFound)
	}
	if err := checkSpec(spec); err != nil {
		return nil, "", fmt.Errorf("rotate API key: %w", err)
	}
	var k *APIKey
	var plain string
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM integrations WHERE id = $1 FOR NO KEY UPDATE`, integrationID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("integration %d: %w", integrationID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE integration_id = $2 AND revoked_at IS NULL`,
			nowUTC(), integrationID); err != nil {
			return err
		}
		k, plain, err = s.insertAPIKey(ctx, tx, spec)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("rotate API key of integration %d: %w", integrationID, err)
	}
	return k, plain, nil
}

const pgAPIKeyColumns = `id, name, hash, permissions, integration_id, created_at, revoked_at`

func scanPgAPIKey(row pgx.Row) (*APIKey, []byte, error) {
	var (
		k       APIKey
		hash    []byte
		perms   string
		integ   *int64
		created time.Time
		revoked *time.Time
	)
	if err := row.Scan(&k.ID, &k.Name, &hash, &perms, &integ, &created, &revoked); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(perms), &k.Permissions); err != nil {
		return nil, nil, fmt.Errorf("API key %s: permissions: %w", k.ID, err)
	}
	if integ != nil {
		k.IntegrationID = *integ
	}
	k.CreatedAt = created.UTC()
	if revoked != nil {
		t := revoked.UTC()
		k.RevokedAt = &t
	}
	return &k, hash, nil
}

// Authenticate implements Store.
func (s *pgStore) Authenticate(ctx context.Context, key string) (*APIKey, error) {
	if key == "" {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	h := hashKey(key)
	k, stored, err := scanPgAPIKey(s.pool.QueryRow(ctx, `SELECT `+pgAPIKeyColumns+` FROM api_keys WHERE hash = $1`, h))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	return usableKey(k, stored, h)
}

// ListAPIKeys implements Store.
func (s *pgStore) ListAPIKeys(ctx context.Context) ([]*APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgAPIKeyColumns+` FROM api_keys ORDER BY created_at, seq`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	out := []*APIKey{}
	for rows.Next() {
		k, _, err := scanPgAPIKey(rows)
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
func (s *pgStore) RevokeAPIKey(ctx context.Context, idOrName string) error {
	if idOrName == "" {
		return fmt.Errorf("revoke API key: %w", ErrNotFound)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		t := nowUTC()
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, t, idOrName)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM api_keys WHERE name = $1 AND revoked_at IS NULL FOR UPDATE`, idOrName)
		if err != nil {
			return err
		}
		named, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		switch n := len(named); {
		case n == 1:
			_, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2`, t, named[0])
			return err
		case n > 1:
			return fmt.Errorf("%w: %d API keys are named %q: revoke one by its id", ErrAmbiguousName, n, idOrName)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = $1 OR name = $1)`, idOrName).Scan(&exists); err != nil {
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
func (s *pgStore) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *pgStore) Close() error {
	s.pool.Close()
	return nil
}
