package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/openintegrations/integrations/internal/apierr"
	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/platforms"
)

// httpError is an error with the API's status and message; every handler error that
// reaches a client goes through writeError, the one error adapter.
type httpError struct {
	status  int
	message string
	details []platforms.Problem
	// results is the validationResults of a 422 from failed validation tests.
	results *connector.Results
	// cause is logged (never sent) for 500s.
	cause error
	// retryAfter, when positive, is sent as the Retry-After header (seconds). A 503
	// without one gets apierr.RetryAfterSeconds, the store outage's: every 503 says
	// when to retry.
	retryAfter int
}

func (e *httpError) Error() string { return e.message }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, message: fmt.Sprintf(format, args...)}
}

// errorBody is apierr.Body plus the validationResults of a failed validation.
type errorBody struct {
	apierr.Body
	ValidationResults *connector.Results `json:"validationResults,omitempty"`
}

// writeError writes err as the API's error body. An *httpError carries its own status;
// anything else is sorted by apierr.Classify, the classification the CLI uses too:
// validation errors become 400 with every problem in details, an unreachable store a
// retryable 503, and anything unknown a 500 whose text is logged, not sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var body errorBody
	if errors.As(err, &he) {
		body.Body = apierr.New(he.status, he.message)
		body.Details = he.details
		body.ValidationResults = he.results
		retryAfter := he.retryAfter
		if retryAfter <= 0 && he.status == http.StatusServiceUnavailable {
			retryAfter = apierr.RetryAfterSeconds
		}
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		}
		if he.cause != nil {
			s.log.ErrorContext(r.Context(), "request failed", "request_id", r.Context().Value(ctxRequestID), "err", he.cause)
		}
		writeJSON(w, body.StatusCode, body)
		return
	}
	c := apierr.Classify(err)
	body.Body = c.Body
	switch c.Kind {
	case apierr.Unavailable:
		// The store is down or refusing connections: a retryable 503 (and /readyz
		// fails), not a 500 that reads like a bug. Nothing was written.
		s.log.WarnContext(r.Context(), "store not reachable", "request_id", r.Context().Value(ctxRequestID), "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(c.RetryAfter()))
	case apierr.Internal:
		s.log.ErrorContext(r.Context(), "internal error", "request_id", r.Context().Value(ctxRequestID), "err", err)
		body.Message = "internal error; the request id in the X-Request-Id header identifies it in the server log"
	}
	writeJSON(w, body.StatusCode, body)
}

// writeJSON writes v as JSON with status.
// HTML escaping is off so that "<REDACTED>" reads as the seed shows it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"statusCode":500,"error":"Internal Server Error","message":"internal error: response encoding failed"}` + "\n")
	}
	writeBody(w, status, body)
}

// encodeJSON encodes v as one line of JSON without HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// writeBody writes an encoded JSON body.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
