package server

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/openintegrations/integrations/internal/apierr"
)

// JSONErrors wraps a listener so that the few errors net/http answers itself, before a
// request reaches any handler (a malformed request such as one with two different
// Content-Length headers, headers over the http.Server's own limit, an unsupported
// Transfer-Encoding), carry the API's JSON error body instead of plain text. Everything
// else passes through unchanged.
func JSONErrors(ln net.Listener) net.Listener { return jsonErrorsListener{ln} }

type jsonErrorsListener struct{ net.Listener }

func (l jsonErrorsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorsConn{c}, nil
}

type jsonErrorsConn struct{ net.Conn }

// plainErrorHeaders is what net/http puts between the status line and the body of the
// errors it writes itself (net/http's server.go); no handler of this server answers in
// text/plain with Connection: close, so the pattern names exactly those writes.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c jsonErrorsConn) Write(b []byte) (int, error) {
	if out, ok := jsonError(b); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// jsonError rewrites one of net/http's own plain-text error responses.
func jsonError(b []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if !bytes.HasPrefix(b, []byte(proto)) || len(b) < len(proto)+3 {
		return nil, false
	}
	i := bytes.Index(b, []byte(plainErrorHeaders))
	if i < 0 || bytes.IndexByte(b[:i], '\n') >= 0 {
		return nil, false
	}
	status, err := strconv.Atoi(string(b[len(proto) : len(proto)+3]))
	if err != nil || status < 400 || status > 599 {
		return nil, false
	}
	msg := strings.ToLower(http.StatusText(status))
	if status == http.StatusBadRequest {
		msg = "malformed HTTP request (a bad request or header line, or Content-Length headers that disagree)"
	}
	if _, text, ok := strings.Cut(string(b[len(proto):i]), ": "); ok && text != "" {
		msg = text
	}
	msg = strings.TrimPrefix(msg, "http: ")
	body, err := encodeJSON(errorBody{Body: apierr.New(status, msg)})
	if err != nil {
		return nil, false
	}
	head := proto + strconv.Itoa(status) + " " + http.StatusText(status) +
		"\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nConnection: close\r\n\r\n"
	return append([]byte(head), body...), true
}
