package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestJSONErrorsListener: the errors net/http answers before any handler runs get the
// JSON error body; handler responses pass unchanged.
func TestJSONErrorsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "handler")
		}),
		MaxHeaderBytes: 1 << 10,
	}
	go func() { _ = hs.Serve(JSONErrors(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })

	send := func(raw string) (*http.Response, []byte) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	cases := []struct {
		name, raw string
		status    int
		message   string
	}{
		{"two content lengths", "POST /integrations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "Content-Length headers that disagree"},
		{"no host", "GET /integrations HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"headers over the hard limit", "GET /integrations HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", 431, "request header fields too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := send(c.raw)
			if res.StatusCode != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("status %d, Content-Type %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			var e struct {
				StatusCode int    `json:"statusCode"`
				Error      string `json:"error"`
				Message    string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.StatusCode != c.status || !strings.Contains(strings.ToLower(e.Message), strings.ToLower(c.message)) {
				t.Errorf("body %s (%v), want a message with %q", body, err, c.message)
			}
		})
	}
	// A handler's own response, even in text/plain with Connection: close, is untouched.
	res, body := send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != 200 || string(body) != "handler" {
		t.Errorf("handler response changed: %d %q", res.StatusCode, body)
	}
}
