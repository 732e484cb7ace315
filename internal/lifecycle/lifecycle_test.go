package lifecycle

import (
	"errors"
	"testing"
)

// The full table: for every event and status, whether the transition is allowed and
// where it leads, as API.md section 5 draws it.
func TestTransitions(t *testing.T) {
	allowed := map[Event]map[Status]Status{
		Created:          {Creating: Enabled},
		CreateFailed:     {Creating: CreateError},
		Edit:             {Enabled: Editing, EditError: Editing, RecurringValidationError: Editing, MigrateError: Editing},
		Edited:           {Editing: Enabled},
		EditFailed:       {Editing: EditError},
		Delete:           {Enabled: Deleting, CreateError: Deleting, EditError: Deleting, DeleteError: Deleting, Disabled: Deleting, MigrateError: Deleting, RecurringValidationError: Deleting},
		Removed:          {Deleting: Deleted},
		DeleteFailed:     {Deleting: DeleteError},
		ForceDisable:     {Creating: Disabled, CreateError: Disabled, Enabled: Disabled, Editing: Disabled, EditError: Disabled, DeleteError: Disabled, Migrating: Disabled, MigrateError: Disabled, RecurringValidationError: Disabled},
		Migrate:          {Enabled: Migrating},
		Migrated:         {Migrating: Enabled},
		MigrateFailed:    {Migrating: MigrateError},
		RevalidateFailed: {Enabled: RecurringValidationError},
		Revalidated:      {RecurringValidationError: Enabled},
	}
	for ev, table := range allowed {
		for _, from := range Statuses {
			to, err := Next(from, ev)
			want, ok := table[from]
			switch {
			case ok && (err != nil || to != want):
				t.Errorf("%s from %s = %s, %v; want %s", ev, from, to, err, want)
			case !ok && err == nil:
				t.Errorf("%s from %s allowed (to %s); want refused", ev, from, to)
			case !ok && !errors.Is(err, ErrNotAllowed):
				t.Errorf("%s from %s: error %v does not match ErrNotAllowed", ev, from, err)
			}
		}
	}
	if to, err := Next(Deleted, Create); err != nil || to != Creating {
		t.Errorf("create: %s %v", to, err)
	}
	if _, err := Next(Enabled, Event("bogus")); err == nil {
		t.Error("unknown event allowed")
	}
	// Busy statuses refuse PUT and DELETE (API.md: 409).
	for _, s := range []Status{Creating, Editing, Deleting, Migrating} {
		if !s.Busy() || Allowed(s, Edit) || Allowed(s, Delete) {
			t.Errorf("%s: busy %v, edit %v, delete %v", s, s.Busy(), Allowed(s, Edit), Allowed(s, Delete))
		}
	}
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Live() == (s == Deleted || s == Disabled) {
			t.Errorf("%s: live %v", s, s.Live())
		}
	}
	if len(Statuses) != 12 || Status("Enabled").Valid() {
		t.Error("statuses are not the twelve exact strings")
	}
}
