// Package lifecycle is the one place that says which status an integration may move to
// from which (API.md section 5): twelve statuses, a closed set of events and a table of
// allowed transitions. The server asks Next before every status change and the store
// applies the change only if the integration has not moved meanwhile (optimistic
// concurrency), so a transition that is not in the table can never be written.
//
// It imports nothing of the module: the store and the server depend on it, never the
// reverse.
package lifecycle

import (
	"errors"
	"fmt"
	"slices"
)

// Status is an integration status (exact API strings).
type Status string

// The twelve statuses of API.md section 5.
const (
	Creating                 Status = "creating"
	CreateError              Status = "createError"
	Enabled                  Status = "enabled"
	Editing                  Status = "editing"
	EditError                Status = "editError"
	Deleting                 Status = "deleting"
	DeleteError              Status = "deleteError"
	Deleted                  Status = "deleted"
	Disabled                 Status = "disabled"
	Migrating                Status = "migrating"
	MigrateError             Status = "migrateError"
	RecurringValidationError Status = "recurringValidationError"
)

// Statuses lists every status in the order API.md gives them.
var Statuses = []Status{Creating, CreateError, Enabled, Editing, EditError, Deleting,
	DeleteError, Deleted, Disabled, Migrating, MigrateError, RecurringValidationError}

// Valid reports whether s is one of the twelve statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Live reports whether an integration in status s counts for uniqueness: every status
// but deleted and disabled.
func (s Status) Live() bool { return s != Deleted && s != Disabled }

// Busy reports whether background work owns the integration (creating, editing,
// deleting, migrating): no request may change it until the work ends.
func (s Status) Busy() bool {
	return s == Creating || s == Editing || s == Deleting || s == Migrating
}

// Event is something that moves an integration from one status to another.
type Event string

// The events of the lifecycle.
const (
	// Create is a POST accepted: the integration is stored as creating.
	Create Event = "create"
	// Created and CreateFailed end the background work of a create.
	Created      Event = "created"
	CreateFailed Event = "createFailed"
	// Edit is a PUT accepted.
	Edit Event = "edit"
	// Edited and EditFailed end an edit (EditFailed keeps the previous config).
	Edited     Event = "edited"
	EditFailed Event = "editFailed"
	// Delete is a DELETE accepted.
	Delete Event = "delete"
	// Removed and DeleteFailed end a delete.
	Removed      Event = "removed"
	DeleteFailed Event = "deleteFailed"
	// ForceDisable is DELETE ?forceDisable=true: the platform is skipped.
	ForceDisable Event = "forceDisable"
	// Migrate, Migrated and MigrateFailed are a platform-side migration.
	Migrate       Event = "migrate"
	Migrated      Event = "migrated"
	MigrateFailed Event = "migrateFailed"
	// RevalidateFailed and Revalidated are the periodic validation's outcomes.
	RevalidateFailed Event = "revalidateFailed"
	Revalidated      Event = "revalidated"
)

// transitions is the table: event -> allowed from-statuses -> to-status.
var transitions = map[Event]struct {
	from []Status
	to   Status
}{
	Created:          {[]Status{Creating}, Enabled},
	CreateFailed:     {[]Status{Creating}, CreateError},
	Edit:             {[]Status{Enabled, EditError, RecurringValidationError, MigrateError}, Editing},
	Edited:           {[]Status{Editing}, Enabled},
	EditFailed:       {[]Status{Editing}, EditError},
	Delete:           {[]Status{Enabled, CreateError, EditError, DeleteError, Disabled, MigrateError, RecurringValidationError}, Deleting},
	Removed:          {[]Status{Deleting}, Deleted},
	DeleteFailed:     {[]Status{Deleting}, DeleteError},
	ForceDisable:     {[]Status{Creating, CreateError, Enabled, Editing, EditError, DeleteError, Migrating, MigrateError, RecurringValidationError}, Disabled},
	Migrate:          {[]Status{Enabled}, Migrating},
	Migrated:         {[]Status{Migrating}, Enabled},
	MigrateFailed:    {[]Status{Migrating}, MigrateError},
	RevalidateFailed: {[]Status{Enabled}, RecurringValidationError},
	Revalidated:      {[]Status{RecurringValidationError}, Enabled},
}

// ErrNotAllowed is matched (errors.Is) by every *TransitionError.
var ErrNotAllowed = errors.New("transition not allowed")

// TransitionError says that event cannot happen in status From. It has the shape of
// store.ConflictError (fields, Error, Unwrap to a sentinel): Go's errors.Is/As idiom,
// with nothing between the two to share.
type TransitionError struct {
	Event Event
	From  Status
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s is not allowed in status %s", e.Event, e.From)
}

// Unwrap makes errors.Is(err, ErrNotAllowed) true.
func (e *TransitionError) Unwrap() error { return ErrNotAllowed }

// Next returns the status that event leads to from status from, or a *TransitionError.
// Create is the only event without a from-status: it always leads to creating.
func Next(from Status, event Event) (Status, error) {
	if event == Create {
		return Creating, nil
	}
	t, ok := transitions[event]
	if !ok {
		return "", fmt.Errorf("unknown event %q", event)
	}
	for _, s := range t.from {
		if s == from {
			return t.to, nil
		}
	}
	return "", &TransitionError{Event: event, From: from}
}

// Allowed reports whether event may happen in status from.
func Allowed(from Status, event Event) bool {
	_, err := Next(from, event)
	return err == nil
}
