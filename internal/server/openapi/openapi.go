// Package openapi holds the OpenAPI 3.0.3 document of the integrations API (every route
// of API.md, its parameters, request bodies and every response) and serves it at
// GET /openapi.json.
//
// The document is openapi.json in this directory, embedded at build time. It is kept
// true by the server's tests, which check real responses against it with package
// openapitest.
//
// It imports nothing of the module: the server serves the document, it does not
// describe the server's types.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed openapi.json
var document []byte

// Document returns the OpenAPI 3.0.3 document as JSON. The caller owns the returned
// slice.
func Document() []byte { return bytes.Clone(document) }

// Handler returns the handler of GET /openapi.json: it serves the document with
// Content-Type application/json.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(document)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(document)
		}
	})
}

// methods are the HTTP methods an OpenAPI path item may hold, in the order Routes
// lists them within one path.
var methods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// routes parses the document's paths once.
var routes = sync.OnceValues(func() ([]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("openapi: parse the embedded document: %w", err)
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var out []string
	for _, p := range paths {
		for _, m := range methods {
			if _, ok := doc.Paths[p][strings.ToLower(m)]; ok {
				out = append(out, m+" "+p)
			}
		}
	}
	return out, nil
})

// Routes returns every operation of the document as a Go 1.22 http.ServeMux pattern,
// "METHOD /path" (for example "GET /integrations/{id}"), sorted by path and then by
// method. A server test compares it with the routes its mux registers.
func Routes() []string {
	r, err := routes()
	if err != nil {
		// The document is embedded and tested: a parse failure is a build defect.
		panic(err)
	}
	return slices.Clone(r)
}
