// Package apierr is the one classification of errors the API server and the CLI share:
// Classify sorts an error of the engine, the decoder or the store into a Class, which
// gives its HTTP status, its exit code and the JSON error body
// {statusCode, error, message[, details]} both print. Errors a handler raises with its
// own status (404, 409, ...) are the server's; everything else goes through Classify.
//
// The package must never import net/http's server side (internal/server) or the CLI:
// they import it.
package apierr

import (
	"errors"
	"net/http"
	"strings"

	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// Body is the error body of every failed request (the seed's shape).
type Body struct {
	StatusCode int                 `json:"statusCode"`
	Error      string              `json:"error"`
	Message    string              `json:"message"`
	Details    []platforms.Problem `json:"details,omitempty"`
}

// New returns a body for status with message.
func New(status int, message string) Body {
	return Body{StatusCode: status, Error: http.StatusText(status), Message: message}
}

// Kind is what an error means for the caller.
type Kind int

// The kinds of error, from the caller's point of view.
const (
	// Internal: a bug or a failed self-check; the text may hold SQL with secrets, so it
	// is logged, never sent. HTTP 500, exit code 3.
	Internal Kind = iota
	// Invalid: the input is wrong (validation problems, an unknown type, an operation
	// the type does not offer). HTTP 400, exit code 1.
	Invalid
	// Unavailable: the store cannot be reached now; nothing was written and a retry
	// may succeed. HTTP 503 with Retry-After, exit code 3.
	Unavailable
)

// Exit codes of the CLI (SCRIPTS.md section 7).
const (
	ExitOK       = 0
	ExitInvalid  = 1
	ExitUsage    = 2
	ExitInternal = 3
)

// RetryAfterSeconds is the Retry-After of an Unavailable error.
const RetryAfterSeconds = 5

// Class is the classification of one error.
type Class struct {
	Kind Kind
	// Body is what the API answers and what `render --format json` prints.
	Body Body
}

// Status is the HTTP status of the class.
func (c Class) Status() int { return c.Body.StatusCode }

// Exit is the CLI exit code of the class.
func (c Class) Exit() int {
	if c.Kind == Invalid {
		return ExitInvalid
	}
	return ExitInternal
}

// RetryAfter is the Retry-After header value in seconds, 0 for none.
func (c Class) RetryAfter() int {
	if c.Kind == Unavailable {
		return RetryAfterSeconds
	}
	return 0
}

// Classify sorts err. Validation errors keep every problem (message and details);
// internal errors never carry their text: the message is generic.
func Classify(err error) Class {
	var ve *platforms.ValidationError
	switch {
	case errors.As(err, &ve):
		msgs := make([]string, 0, len(ve.Problems))
		for _, p := range ve.Problems {
			if p.Path != "" {
				msgs = append(msgs, p.Path+": "+p.Message)
			} else {
				msgs = append(msgs, p.Message)
			}
		}
		b := New(http.StatusBadRequest, strings.Join(msgs, "; "))
		b.Details = ve.Problems
		return Class{Kind: Invalid, Body: b}
	case errors.Is(err, render.ErrUnsupported), errors.Is(err, platforms.ErrUnknownType):
		return Class{Kind: Invalid, Body: New(http.StatusBadRequest, err.Error())}
	case store.Unavailable(err):
		return Class{Kind: Unavailable, Body: New(http.StatusServiceUnavailable, "the store is not reachable; retry later")}
	default:
		return Class{Kind: Internal, Body: New(http.StatusInternalServerError, "internal error: the script failed the engine's own checks; please report it")}
	}
}
