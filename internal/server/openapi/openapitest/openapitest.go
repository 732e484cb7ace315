// Package openapitest checks HTTP exchanges against the API's OpenAPI document
// (package openapi) in tests: a response whose route, status, content type or body the
// document does not describe fails the test.
//
// It is a test helper: only _test.go files may import it.
//
// It imports only package openapi of the module.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/openintegrations/integrations/internal/server/openapi"
)

// registerDecoders teaches openapi3filter the media types of the document that it
// does not know (its registry is global).
var registerDecoders = sync.OnceFunc(func() {
	openapi3filter.RegisterBodyDecoder("text/yaml", openapi3filter.YamlBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/sql", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/openmetrics-text", openapi3filter.PlainBodyDecoder)
})

// Checker checks exchanges against the document. It is safe for concurrent use (tests
// running in parallel may share one).
type Checker struct {
	// ValidateRequests makes Check also validate the request (parameters and body)
	// when the response is a success (2xx): a request the server accepts must be one
	// the document describes. New sets it; requests answered with an error are never
	// validated, since tests send bad requests on purpose. A request without a
	// Content-Type (the server sniffs it) has its body left unchecked.
	ValidateRequests bool

	doc    *openapi3.T
	router routers.Router

	mu      sync.Mutex
	covered map[string]bool
}

// New loads openapi.Document() with kin-openapi, validates it and builds a router; any
// failure is fatal to tb.
func New(tb testing.TB) *Checker {
	tb.Helper()
	registerDecoders()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document())
	if err != nil {
		tb.Fatalf("openapitest: load the OpenAPI document: %v", err)
		return nil
	}
	if err := doc.Validate(loader.Context); err != nil {
		tb.Fatalf("openapitest: the OpenAPI document is invalid: %v", err)
		return nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatalf("openapitest: build the router of the OpenAPI document: %v", err)
		return nil
	}
	c := &Checker{ValidateRequests: true, doc: doc, router: router, covered: map[string]bool{}}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			for code := range op.Responses.Map() {
				c.covered[key(method, path, code)] = false
			}
		}
	}
	return c
}

func key(method, path, status string) string {
	return fmt.Sprintf("%s %s (%s)", method, path, status)
}

// Check fails tb (with Errorf, naming the method, path, status and the validator's
// error) when the route of req is not in the document, or when the response (status,
// header's Content-Type, body) does not match it. reqBody is the body req was sent with
// (req.Body itself is not read). Checked pairs are recorded for Covered.
func (c *Checker) Check(tb testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	tb.Helper()
	method, target := req.Method, req.URL.Path
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil && method == http.MethodHead {
		// A GET route answers HEAD too (as http.ServeMux does); there is no body to
		// check, and HEAD does not count as covering the GET.
		get := req.Clone(context.Background())
		get.Method = http.MethodGet
		if _, _, err = c.router.FindRoute(get); err == nil {
			return
		}
	}
	if err != nil {
		tb.Errorf("openapi: %s %s -> %d: the route is not in the document: %v", method, target, status, err)
		return
	}
	c.mu.Lock()
	c.covered[key(route.Method, route.Path, fmt.Sprint(status))] = true
	c.mu.Unlock()

	if header == nil {
		header = http.Header{}
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		// The server's own tests check authentication; the document only says where
		// the key goes.
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		// The message shows the body itself; the schema is in the document.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    withBody(ctx, req, reqBody),
		PathParams: pathParams,
		Route:      route,
		Options:    opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}); err != nil {
		tb.Errorf("openapi: %s %s -> %d (route %s %s, Content-Type %q): the response does not match the document: %v\nbody: %s",
			method, target, status, route.Method, route.Path, header.Get("Content-Type"), err, snippet(body))
	}
	if !c.ValidateRequests || status < 200 || status > 299 {
		return
	}
	reqOpts := *opts
	reqOpts.ExcludeRequestBody = len(reqBody) == 0 || req.Header.Get("Content-Type") == ""
	in.Options = &reqOpts
	in.Request = withBody(ctx, req, reqBody)
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		tb.Errorf("openapi: %s %s -> %d (route %s %s): the server accepted a request the document does not describe: %v\nrequest body: %s",
			method, target, status, route.Method, route.Path, err, snippet(reqBody))
	}
}

// withBody returns a copy of req whose body is reqBody.
func withBody(ctx context.Context, req *http.Request, reqBody []byte) *http.Request {
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	r.ContentLength = int64(len(reqBody))
	return r
}

// snippet returns the start of a body for a failure message.
func snippet(b []byte) string {
	const max = 512
	if len(b) > max {
		return fmt.Sprintf("%q... (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// Covered returns every response the document declares, keyed "METHOD /path (status)"
// with the document's path (for example "GET /integrations/{id} (404)"), true for those
// Check has seen. A server test can list the false ones to find untested responses.
func (c *Checker) Covered() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.covered))
	for k, v := range c.covered {
		out[k] = v
	}
	return out
}

// Uncovered returns the sorted keys of Covered whose value is false.
func (c *Checker) Uncovered() []string {
	var out []string
	for k, v := range c.Covered() {
		if !v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
