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
	"time"
	"unicode/utf8"
)

// MinAPIKeyLength is the least number of characters a given API key plaintext
// (APIKeySpec.Plaintext) may have.
const MinAPIKeyLength = 16

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
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
func (s *sqlStore) insertAPIKey(ctx context.Context, tx *sql.Tx, spec APIKeySpec) (*APIKey, string, error) {
	if spec.IntegrationID != 0 {
		switch ok, err := s.exists(ctx, tx, `SELECT 1 FROM integrations WHERE id = ?`, spec.IntegrationID); {
		case err != nil:
			return nil, "", err
		case !ok:
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
		// ON CONFLICT DO NOTHING instead of a failing insert: on PostgreSQL a failed
		// statement would abort the transaction.
		res, err := s.exec(ctx, tx, `INSERT INTO api_keys (id, name, hash, permissions, integration_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, k.ID, k.Name, hash, string(perms), integ, s.d.time(t))
		if err != nil {
			return nil, "", err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return k, plain, err
		}
		switch taken, err := s.exists(ctx, tx, `SELECT 1 FROM api_keys WHERE hash = ?`, hash); {
		case err != nil:
			return nil, "", err
		case taken:
			return nil, "", ErrAPIKeyExists
		case attempt == 5:
			return nil, "", errors.New("could not draw an unused API key id")
		}
		// id collision: draw another
	}
}

// CreateAPIKey implements Store.
func (s *sqlStore) CreateAPIKey(ctx context.Context, spec APIKeySpec) (*APIKey, string, error) {
	if err := checkSpec(spec); err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	return s.newAPIKey(ctx, "create API key", spec, nil)
}

// RotateIntegrationKey implements Store. The integration's row is locked first
// (PostgreSQL; SQLite has one writer), so that rotations of one integration from
// several replicas run one after the other and leave one unrevoked key.
func (s *sqlStore) RotateIntegrationKey(ctx context.Context, integrationID int64, spec APIKeySpec) (*APIKey, string, error) {
	spec.IntegrationID = integrationID
	if integrationID == 0 {
		return nil, "", fmt.Errorf("rotate API key: integration 0: %w", ErrNotFound)
	}
	if err := checkSpec(spec); err != nil {
		return nil, "", fmt.Errorf("rotate API key: %w", err)
	}
	return s.newAPIKey(ctx, fmt.Sprintf("rotate API key of integration %d", integrationID), spec, func(tx *sql.Tx) error {
		var one int
		err := s.queryRow(ctx, tx, `SELECT 1 FROM integrations WHERE id = ?`+s.d.lockKeyRotation, integrationID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("integration %d: %w", integrationID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE api_keys SET revoked_at = ? WHERE integration_id = ? AND revoked_at IS NULL`,
			s.d.time(nowUTC()), integrationID)
		return err
	})
}

// newAPIKey is the end of CreateAPIKey and RotateIntegrationKey (what names it in
// errors): in one write transaction it runs before (if not nil) and stores a key for
// spec.
func (s *sqlStore) newAPIKey(ctx context.Context, what string, spec APIKeySpec, before func(tx *sql.Tx) error) (*APIKey, string, error) {
	var k *APIKey
	var plain string
	err := s.write(ctx, func(tx *sql.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		var err error
		k, plain, err = s.insertAPIKey(ctx, tx, spec)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
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
		revoked time.Time
	)
	if err := sc.Scan(&k.ID, &k.Name, &hash, &perms, &integ, timeValue{&k.CreatedAt}, timeValue{&revoked}); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(perms), &k.Permissions); err != nil {
		return nil, nil, fmt.Errorf("API key %s: permissions: %w", k.ID, err)
	}
	k.IntegrationID = integ.Int64
	if !revoked.IsZero() { // NULL: not revoked
		k.RevokedAt = &revoked
	}
	return &k, hash, nil
}

// Authenticate implements Store. The stored hash must equal the key's (compared in
// constant time) and the key must not be revoked.
func (s *sqlStore) Authenticate(ctx context.Context, key string) (*APIKey, error) {
	if key == "" {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	h := hashKey(key)
	k, stored, err := scanAPIKey(s.authStmt.QueryRowContext(s.detach(ctx), h))
	if err != nil {
		return nil, rowErr(err, "API key", "authenticate")
	}
	if subtle.ConstantTimeCompare(stored, h) != 1 || k.RevokedAt != nil {
		return nil, fmt.Errorf("API key: %w", ErrNotFound)
	}
	return k, nil
}

// ListAPIKeys implements Store.
func (s *sqlStore) ListAPIKeys(ctx context.Context) ([]*APIKey, error) {
	out, err := queryAll(ctx, s, s.r, func(rows *sql.Rows) (*APIKey, error) {
		k, _, err := scanAPIKey(rows)
		return k, err
	}, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY `+s.d.apiKeyOrder)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey implements Store. Revoking a key that is already revoked succeeds.
func (s *sqlStore) RevokeAPIKey(ctx context.Context, idOrName string) error {
	if idOrName == "" {
		return fmt.Errorf("revoke API key: %w", ErrNotFound)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		t := s.d.time(nowUTC())
		res, err := s.exec(ctx, tx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, t, idOrName)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		named, err := queryAll(ctx, s, tx, scanOne[string],
			`SELECT id FROM api_keys WHERE name = ? AND revoked_at IS NULL`+s.d.lockRevoke, idOrName)
		if err != nil {
			return err
		}
		switch n := len(named); {
		case n == 1:
			_, err := s.exec(ctx, tx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, t, named[0])
			return err
		case n > 1:
			return fmt.Errorf("%w: %d API keys are named %q: revoke one by its id", ErrAmbiguousName, n, idOrName)
		}
		switch exists, err := s.exists(ctx, tx, `SELECT 1 FROM api_keys WHERE id = ? OR name = ?`, idOrName, idOrName); {
		case err != nil:
			return err
		case !exists:
			return ErrNotFound
		}
		return nil // already revoked
	})
	if err != nil {
		return fmt.Errorf("revoke API key %q: %w", idOrName, err)
	}
	return nil
}
