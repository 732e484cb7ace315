package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

func TestFrom(t *testing.T) {
	ve := &platforms.ValidationError{Problems: []platforms.Problem{
		{Path: "config.warehouse", Message: "is required"},
		{Path: "config.port", Message: "must be between 1 and 65535 (got 0)"},
	}}
	tests := []struct {
		name    string
		err     error
		status  int
		message string
		details int
	}{
		{"validation", ve, 400, "config.warehouse: is required; config.port: must be between 1 and 65535 (got 0)", 2},
		{"unsupported", fmt.Errorf("%w: Trino has no scripts", render.ErrUnsupported), 400, "operation not supported: Trino has no scripts", 0},
		{"internal hides text", &render.CheckError{Line: 3, Col: 1, Statement: "CREATE USER x PASSWORD 'secret'", Err: errors.New("boom")}, 500,
			"internal error: the script failed the engine's own checks; please report it", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := From(tt.err)
			if b.StatusCode != tt.status || b.Error != http.StatusText(tt.status) || b.Message != tt.message || len(b.Details) != tt.details {
				t.Errorf("got %+v", b)
			}
			if strings.Contains(b.Message, "secret") {
				t.Errorf("message leaks the statement: %q", b.Message)
			}
		})
	}
}
