package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/openintegrations/integrations/platforms"
)

// maxBody is the request body limit of API.md section 1.
const maxBody = 1 << 20

// readBody reads a JSON or YAML request body (at most 1 MiB: 413 beyond). A body with
// no Content-Type is sniffed by the decoder; any other media type is a 400.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var mt string
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, errorf(http.StatusBadRequest, "malformed Content-Type header; send application/json or application/yaml")
		}
		switch mt {
		case "application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		default:
			return nil, errorf(http.StatusBadRequest, "unsupported Content-Type %s; send application/json or application/yaml", mt)
		}
	}
	if r.ContentLength > maxBody {
		return nil, tooLarge()
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, errorf(http.StatusBadRequest, "could not read the request body")
	}
	// A body labelled JSON must be JSON (the decoder would otherwise read it as YAML):
	// an object, an array, or null (a DELETE's "no credentials").
	if mt == "application/json" {
		if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] != '{' && t[0] != '[' && !emptyBody(data) && !isJSONNull(data) {
			return nil, errorf(http.StatusBadRequest, "the body is not a JSON object (Content-Type is application/json)")
		}
	}
	return data, nil
}

func tooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, "request body is larger than the 1 MiB limit")
}

// emptyBody reports whether data holds nothing but white space.
func emptyBody(data []byte) bool { return len(bytes.TrimSpace(data)) == 0 }

// isJSONNull reports whether data is the JSON literal null, with white space around it.
func isJSONNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

// queryBool reads a boolean query parameter: absent is false; true/false only.
func queryBool(r *http.Request, name string) (bool, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, queryError(err)
	}
	v, ok := vals[name]
	if !ok {
		return false, nil
	}
	switch v[0] {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, "query parameter %s must be true or false (got %q)", name, v[0])
}

// strictQuery refuses a malformed query string (a ';' separator, a bad escape), a
// parameter that is not in params (named, with the closest accepted one), and a
// parameter given twice with different values: a request that means something else than
// it seems to (?dryRun=true; or ?DryRun=true doing a real write) is a 400, not a guess.
func strictQuery(r *http.Request, params []string) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return queryError(err)
	}
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.Contains(params, k) {
			accepted := "none"
			if len(params) > 0 {
				accepted = strings.Join(params, ", ")
			}
			hint := ""
			if c := platforms.Closest(k, params); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			} else {
				for _, p := range params {
					if strings.EqualFold(p, k) {
						hint = fmt.Sprintf(" (did you mean %q?)", p)
					}
				}
			}
			return errorf(http.StatusBadRequest, "unknown query parameter %q%s; this route accepts: %s", k, hint, accepted)
		}
		for _, v := range vals[k][1:] {
			if v != vals[k][0] {
				return errorf(http.StatusBadRequest, "query parameter %s is given twice with different values (%q and %q)", k, vals[k][0], v)
			}
		}
	}
	return nil
}

func queryError(err error) error {
	return errorf(http.StatusBadRequest, "malformed query string (%v): separate parameters with & and escape reserved characters", err)
}

// scriptMediaType picks the script response's media type from the Accept header:
// application/sql or text/plain for the bare script text when the client prefers them
// (by q value), else application/json, the default.
func scriptMediaType(r *http.Request) string {
	best, bestQ := "application/json", 0.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "application/json", "*/*", "application/*":
			mt = "application/json"
		case "text/plain", "text/*":
			mt = "text/plain"
		case "application/sql":
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = mt, q
		}
	}
	return best
}
