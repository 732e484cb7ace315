package store_test

import (
	"testing"

	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/internal/store/storetest"
)

// A closed store is unavailable (the server answers 503), whichever database it is
// on and whichever call meets it: the prepared reads as well as the others.
func TestClosedStoreUnavailable(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return tempDB(t) },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			s := openAt(t, dsn(t), newKey(t))
			in := &store.Integration{Type: "t", Status: lifecycle.Creating}
			if err := s.Create(t.Context(), in); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.CreateAPIKey(t.Context(), store.APIKeySpec{Name: "k"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			_, getErr := s.Get(t.Context(), in.ID)
			_, listErr := s.List(t.Context())
			_, authErr := s.Authenticate(t.Context(), "0123456789abcdef0123")
			for call, err := range map[string]error{
				"Get": getErr, "List": listErr, "Authenticate": authErr,
				"Update": s.Update(t.Context(), in), "Ping": s.Ping(t.Context()),
			} {
				if err == nil || !store.Unavailable(err) {
					t.Errorf("%s on a closed store: %v; want an error Unavailable reports", call, err)
				}
			}
		})
	}
}
