package apierr

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// TestClassify: each kind of error gets its status, exit code, Retry-After and body,
// the same for the server and the CLI; internal errors never carry their text.
func TestClassify(t *testing.T) {
	ve := &platforms.ValidationError{Problems: []platforms.Problem{
		{Path: "config.warehouse", Message: "is required"},
		{Path: "config.port", Message: "must be between 1 and 65535 (got 0)"},
		{Message: "a problem of the whole payload"},
	}}
	tests := []struct {
		name    string
		err     error
		kind    Kind
		status  int
		exit    int
		retry   int
		message string
		details int
	}{
		{"validation", ve, Invalid, 400, ExitInvalid, 0, "config.warehouse: is required; config.port: must be between 1 and 65535 (got 0); a problem of the whole payload", 3},
		{"wrapped validation", fmt.Errorf("payload.yaml: %w", ve), Invalid, 400, ExitInvalid, 0, "config.warehouse: is required; config.port: must be between 1 and 65535 (got 0); a problem of the whole payload", 3},
		{"unsupported", fmt.Errorf("%w: Trino has no scripts", render.ErrUnsupported), Invalid, 400, ExitInvalid, 0, "operation not supported: Trino has no scripts", 0},
		{"unknown type", fmt.Errorf("%w: %q", platforms.ErrUnknownType, "Oracle"), Invalid, 400, ExitInvalid, 0, platforms.ErrUnknownType.Error() + `: "Oracle"`, 0},
		{"store unavailable", fmt.Errorf("get: %w", driver.ErrBadConn), Unavailable, 503, ExitInternal, RetryAfterSeconds, "the store is not reachable; retry later", 0},
		{"internal hides text", &render.CheckError{Line: 3, Col: 1, Statement: "CREATE USER x PASSWORD 'secret'", Err: errors.New("boom")}, Internal, 500, ExitInternal, 0,
			"internal error: the script failed the engine's own checks; please report it", 0},
		{"unknown error", errors.New("secret happened"), Internal, 500, ExitInternal, 0,
			"internal error: the script failed the engine's own checks; please report it", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(tt.err)
			b := c.Body
			if c.Kind != tt.kind || c.Status() != tt.status || c.Exit() != tt.exit || c.RetryAfter() != tt.retry {
				t.Errorf("kind %d status %d exit %d retry %d, want %d %d %d %d", c.Kind, c.Status(), c.Exit(), c.RetryAfter(), tt.kind, tt.status, tt.exit, tt.retry)
			}
			if b.StatusCode != tt.status || b.Error != http.StatusText(tt.status) || b.Message != tt.message || len(b.Details) != tt.details {
				t.Errorf("got %+v", b)
			}
			if strings.Contains(b.Message, "secret") {
				t.Errorf("message leaks the error's text: %q", b.Message)
			}
		})
	}
}
