// Package apierr maps engine and validation errors to the one JSON error shape the API
// and the CLI share: {statusCode, error, message[, details]}.
package apierr

import (
	"errors"
	"net/http"
	"strings"

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

// From maps an error of the engine or the decoder to its body. Internal errors never
// carry their text (it may hold SQL with secrets): the message is generic.
func From(err error) Body {
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
		return b
	case errors.Is(err, render.ErrUnsupported), errors.Is(err, platforms.ErrUnknownType):
		return New(http.StatusBadRequest, err.Error())
	default:
		return New(http.StatusInternalServerError, "internal error: the script failed the engine's own checks; please report it")
	}
}
