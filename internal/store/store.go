// Package store keeps integrations, their secrets and the API keys. Store is the
// interface the server uses; Open returns the embedded SQLite store (the default) for a
// file path or a "sqlite:" URL, and a PostgreSQL store for a "postgres://" or
// "postgresql://" URL (several server replicas may share one PostgreSQL database).
//
// Both are one implementation, sqlStore (sqlstore.go, apikeys.go), over database/sql:
// SQLite through modernc.org/sqlite, PostgreSQL through pgx's stdlib driver. What
// differs between the two databases is a small table per dialect (sqliteDialect in
// sqlite.go, postgresDialect in postgres.go), in the manner of goose's Querier: the
// SQL fragments that are not the same (row locks such as FOR UPDATE SKIP LOCKED, JSON
// functions, the migrations table), placeholders (? or $n), how times and texts are
// encoded, and which errors are worth a retry; sqlite.go and postgres.go also hold the
// opening (pragmas, pools) and the classification of their errors for Unavailable.
// migrate.go is the one migration runner, over the schema files in migrations/.
// Every Store must pass the conformance suite in package storetest. The package must
// never import net/http or internal/server: it is storage, below the server.
//
// Guarantees on either database:
//   - IDs are decimal, increasing and never reused (even after deletes).
//   - Uniqueness among live integrations is enforced by the database (a key table with a
//     primary key), never by a read before the write.
//   - Updates are conditional on the version the caller read (optimistic concurrency):
//     of two racing writers, exactly one wins and the other gets ErrStale.
//   - Config, pending config and server-held credentials are sealed with AES-256-GCM
//     before they reach the database; their plaintext never appears in it.
//   - API keys are stored as SHA-256 hashes of high-entropy random keys and compared in
//     constant time.
//   - Background work is a durable job queue: the integrations in busy statuses are the
//     jobs, taken with Claim under a lease that RenewLease (or RenewLeases, for all
//     of a replica's jobs in one write) extends; of replicas claiming at once each
//     integration goes to exactly one.
//   - Every acknowledged write is durable (SQLite: WAL with synchronous=FULL;
//     PostgreSQL: committed transactions).
//   - These hold across several Store values on one database (processes or replicas),
//     not only within one.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/openintegrations/integrations/internal/lifecycle"
)

// Errors every implementation returns (wrapped or as is), matched with errors.Is.
var (
	// ErrNotFound: no integration (or API key) with that id.
	ErrNotFound = errors.New("not found")
	// ErrStale: the integration changed since the caller read it (its version moved).
	ErrStale = errors.New("integration changed concurrently")
	// ErrConflict: a live integration already holds one of the unique keys; the error is
	// a *ConflictError.
	ErrConflict = errors.New("unique key already taken")
	// ErrAPIKeyExists: CreateAPIKey or RotateIntegrationKey was given a plaintext that
	// an API key already has (revoked keys too: a revoked key is never revived).
	ErrAPIKeyExists = errors.New("an API key with that plaintext already exists")
	// ErrAmbiguousName: RevokeAPIKey was given a name that several unrevoked keys have;
	// the caller must give the key's id.
	ErrAmbiguousName = errors.New("several API keys have that name")
)

// IDVersion is an integration's id and version (ListVersions).
type IDVersion struct {
	ID, Version int64
}

// ConflictError names the unique key that is taken and the live integration holding it.
// It has the shape of lifecycle.TransitionError (fields, Error, Unwrap to a
// sentinel): Go's errors.Is/As idiom, with nothing between the two to share.
type ConflictError struct {
	Key        string
	ExistingID int64
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("unique key %q is held by integration %d", e.Key, e.ExistingID)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Integration is one stored integration. Config, Pending and Credentials are plaintext
// in memory; the store seals them at rest.
type Integration struct {
	// ID is assigned by Create.
	ID   int64
	Type string
	// AutoBootstrap is nil for types without it (Trino).
	AutoBootstrap *bool
	Status        lifecycle.Status
	// Message says what went wrong (error statuses) or what the work is doing.
	Message string
	// Config is the payload's config JSON as stored (bootstrap credentials removed);
	// nil for Trino.
	Config json.RawMessage
	// Pending is the config of an edit in progress (nil when none).
	Pending json.RawMessage
	// Credentials is what the server itself holds for the platform, as JSON (e.g. the
	// generated system-account password, the Trino API key); nil when none.
	Credentials json.RawMessage
	// AppliedState is the JSON of the integration's applied state (render.State: what
	// its last successful create, edit or migration made, and the bundle version), sealed
	// at rest like Config; nil when none (stored before states were kept).
	AppliedState json.RawMessage
	// StateBundle is the bundle version of AppliedState (render.State.BundleVersion),
	// stored in the clear for ClaimMigration; 0 when there is no state.
	StateBundle int
	// ValidationResults is the JSON of the last validation results.
	ValidationResults json.RawMessage
	// Keys are the unique keys the integration holds while it is live. The store keeps
	// them sorted and without duplicates, and none while the status is not live: Get
	// returns no keys for a deleted or disabled integration.
	Keys []string
	// Version is bumped by every update; Update succeeds only if it still matches.
	Version int64
	// LeaseOwner is the replica whose background work holds the integration (set by
	// Claim), "" when none. Create and Update write it as given: the work clears it
	// when it ends.
	LeaseOwner string
	// LeaseUntil is when the lease of LeaseOwner lapses (UTC, microsecond precision);
	// the zero time when there is no lease.
	LeaseUntil time.Time
	// CreatedAt and UpdatedAt are set by the store (Create, Update), in UTC with
	// microsecond precision.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store is the persistence the server needs.
type Store interface {
	// Create inserts in (status, config, keys...), assigning in.ID, in.Version (1) and
	// the timestamps. If a live integration holds one of in.Keys it returns a
	// *ConflictError and stores nothing. in.Status must be one of lifecycle.Statuses.
	Create(ctx context.Context, in *Integration) error
	// Get returns the integration with id (deleted ones too), or ErrNotFound.
	Get(ctx context.Context, id int64) (*Integration, error)
	// Version returns the version of the integration with id (deleted ones too), or
	// ErrNotFound: one indexed column, nothing unsealed, so that a cached view can be
	// checked against the row (another replica's write moves it) at a point lookup's
	// cost.
	Version(ctx context.Context, id int64) (int64, error)
	// List returns every integration except deleted ones, ordered by id.
	List(ctx context.Context) ([]*Integration, error)
	// ListVersions returns the id and version of the integrations except deleted ones
	// whose id is above after, ordered by id, at most limit of them (0: all). It reads
	// two columns and unseals nothing: the server's list takes each body from its cache
	// when the version matches and reads the row only when it does not.
	ListVersions(ctx context.Context, after int64, limit int) ([]IDVersion, error)
	// ListByStatus returns the integrations in any of the statuses, ordered by id.
	ListByStatus(ctx context.Context, statuses ...lifecycle.Status) ([]*Integration, error)
	// KeyHolders returns, for each of keys that a live integration holds, that
	// integration's id (keys nobody holds are absent). Writes never rely on it (the
	// store enforces uniqueness itself); it lets a dry run report a conflict.
	KeyHolders(ctx context.Context, keys []string) (map[string]int64, error)
	// Update writes in (every field but ID and CreatedAt) if the stored version is still
	// in.Version, then sets in.Version to the new version. It returns ErrNotFound,
	// ErrStale, or a *ConflictError when in.Keys collide with another live integration.
	// The keys are released when the status is not live (deleted, disabled); while it is
	// live in.Keys replace the keys held. UpdatedAt is set to the time of the update.
	Update(ctx context.Context, in *Integration) error

	// Claim is the job queue: it takes the background work of one integration whose
	// status is one of statuses and whose lease is unset or lapsed (LeaseUntil before
	// now), setting LeaseOwner to owner and LeaseUntil to until and bumping the version,
	// and returns it; ErrNotFound when there is none. Of replicas claiming at once, each
	// integration goes to exactly one (PostgreSQL: FOR UPDATE SKIP LOCKED). The oldest
	// lapsed lease (lowest id) is taken first.
	Claim(ctx context.Context, owner string, now, until time.Time, statuses ...lifecycle.Status) (*Integration, error)
	// ClaimIdle is the queue of periodic work: it takes one integration whose status is
	// one of statuses, that no lease holds, and that has not been written since
	// idleSince (UpdatedAt before it), marking it written now (UpdatedAt = now, version
	// bumped) so that it is not idle again until the next period; ErrNotFound when there
	// is none. Of replicas claiming at once, each integration goes to exactly one. The
	// longest idle is taken first.
	ClaimIdle(ctx context.Context, now, idleSince time.Time, statuses ...lifecycle.Status) (*Integration, error)
	// ClaimMigration is the queue of migrations: it takes one integration in status from
	// whose applied state an older bundle made (0 < StateBundle < bundle) and that no
	// lease holds (unset or lapsed before now), moving it to status to with owner's
	// lease until until and bumping the version, and returns it; ErrNotFound when there
	// is none. Of replicas claiming at once, each integration goes to exactly one
	// (PostgreSQL: FOR UPDATE SKIP LOCKED). The lowest id is taken first.
	ClaimMigration(ctx context.Context, owner string, now, until time.Time, bundle int, from, to lifecycle.Status) (*Integration, error)
	// RenewLease moves the lease of integration id to until if owner still holds it,
	// without changing the version; ErrStale when owner no longer holds it (another
	// replica claimed it, or the work ended), ErrNotFound for an unknown id.
	RenewLease(ctx context.Context, id int64, owner string, until time.Time) error
	// Lease returns who holds the lease of integration id and until when, as stored
	// now ("" and the zero time: no lease); ErrNotFound for an unknown id. A read:
	// it lets a replica see that its lease still has time left without writing.
	Lease(ctx context.Context, id int64) (owner string, until time.Time, err error)
	// RenewLeases is RenewLease for many integrations in one write: it moves to until
	// the lease of each of ids that owner still holds, without changing versions, and
	// returns those ids in ascending order. The others (another replica claimed them,
	// the work ended, unknown ids) are left unchanged and left out. An empty owner is
	// an error; no ids is no write.
	RenewLeases(ctx context.Context, owner string, until time.Time, ids []int64) ([]int64, error)

	// CreateAPIKey stores a new API key and returns it with its plaintext, which is
	// never stored and cannot be read back. It returns ErrNotFound if
	// spec.IntegrationID names no integration and ErrAPIKeyExists if spec.Plaintext is
	// already a key's.
	CreateAPIKey(ctx context.Context, spec APIKeySpec) (*APIKey, string, error)
	// Authenticate returns the unrevoked key whose plaintext is key, or ErrNotFound.
	Authenticate(ctx context.Context, key string) (*APIKey, error)
	// ListAPIKeys returns every key (revoked ones too), ordered by creation.
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey revokes the key with id (its ID or its name); ErrNotFound if none,
	// ErrAmbiguousName if several unrevoked keys have that name. Revoking a revoked key
	// succeeds.
	RevokeAPIKey(ctx context.Context, id string) error
	// RotateIntegrationKey revokes every key of integration id and creates a new one
	// with spec, in one transaction: the old key stops working at once. ErrNotFound if
	// the integration does not exist.
	RotateIntegrationKey(ctx context.Context, integrationID int64, spec APIKeySpec) (*APIKey, string, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// PermissionAdmin is the permission every /integrations route needs.
const PermissionAdmin = "APPLICATION_ADMIN"

// APIKeySpec describes a key to create.
type APIKeySpec struct {
	Name        string
	Permissions []string
	// IntegrationID ties the key to an integration (the Trino key); 0 for none.
	IntegrationID int64
	// Plaintext, when set, is the key to store (INTEGRATIONS_ADMIN_KEY); otherwise a new
	// random key is generated. It must be at least 16 characters.
	Plaintext string
}

// APIKey is a stored API key (never its plaintext).
type APIKey struct {
	// ID is a short public identifier (the first characters of the key are not used).
	ID            string
	Name          string
	Permissions   []string
	IntegrationID int64
	CreatedAt     time.Time
	// RevokedAt is nil for a usable key.
	RevokedAt *time.Time
}

// Has reports whether the key has permission p.
func (k *APIKey) Has(p string) bool { return slices.Contains(k.Permissions, p) }
