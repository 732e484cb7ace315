package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"unicode"

	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5/pgconn"
	mssql "github.com/microsoft/go-mssqldb"
	"github.com/snowflakedb/gosnowflake"
	"golang.org/x/oauth2"

	"github.com/openintegrations/integrations/internal/egress"
)

// The sanitizer. Every error of a driver, an SDK or a platform reaches a message
// (validation results, job errors) only through vendor, whose text is platformText:
//
//   - a platform's own error keeps its code (SQLSTATE, Snowflake error number, SQL
//     Server error number, AWS or OAuth error code) and the first line of its message,
//     cut to maxCause characters, without control or format characters;
//   - a network or TLS failure becomes a fixed phrase ("connection refused", "the
//     server did not answer TLS"), so nothing the far end sent is repeated;
//   - an egress-policy refusal keeps its message, which names the setting;
//   - anything else, such as a server that does not speak the platform's protocol, is
//     "the server's answer was not understood": banners and free text from unknown
//     servers are dropped.
//
// This keeps the server from being an oracle for the network behind it, and keeps
// what a hostile server sends out of the messages DBAs read.

// maxCause bounds the vendor message kept, in runes.
const maxCause = 200

// cutMark ends a vendor message that short cut. A secret the cut split is no longer
// whole, so Scrub also removes the start of a secret found just before the mark.
const cutMark = "…"

// vendorError is a driver or platform error whose text is sanitized; it unwraps to the
// original, so errors.Is and errors.As still see the driver's error.
type vendorError struct{ err error }

func (e *vendorError) Error() string { return platformText(e.err) }
func (e *vendorError) Unwrap() error { return e.err }

// vendor wraps a driver or platform error so that its text is platformText. nil stays
// nil; an error already wrapped is returned as it is.
func vendor(err error) error {
	if err == nil {
		return nil
	}
	var v *vendorError
	if errors.As(err, &v) {
		return err
	}
	return &vendorError{err}
}

// ownError is an error of the connector's own (a configuration it cannot use), whose
// text platformText keeps.
type ownError struct{ err error }

func (e *ownError) Error() string { return e.err.Error() }
func (e *ownError) Unwrap() error { return e.err }

// own marks err as the connector's own, so that platformText keeps its text.
func own(err error) error {
	if err == nil {
		return nil
	}
	return &ownError{err}
}

// keptAsIs returns the error a connect-error explanation returns unchanged, or nil:
// an egress refusal (its words name the setting) or the connector's own error.
func keptAsIs(err error) error {
	var refused *egress.RefusedError
	var mine *ownError
	switch {
	case errors.As(err, &refused):
		return refused
	case errors.As(err, &mine):
		return err
	}
	return nil
}

var aadCode = regexp.MustCompile(`AADSTS\d+`)

// platformText is the sanitized text of err (see the comment above).
func platformText(err error) string {
	if err == nil {
		return ""
	}
	var (
		refused *egress.RefusedError
		pgErr   *pgconn.PgError
		sfErr   *gosnowflake.SnowflakeError
		msErr   mssql.Error
		apiErr  smithy.APIError
		oaErr   *oauth2.RetrieveError
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		record  tls.RecordHeaderError
		alert   tls.AlertError
		netErr  net.Error
		vErr    *vendorError
	)
	var mine *ownError
	switch {
	case errors.As(err, &mine):
		return mine.Error()
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &pgErr):
		return fmt.Sprintf("SQLSTATE %s: %s", short(pgErr.Code), short(pgErr.Message))
	case errors.As(err, &sfErr):
		msg := sfErr.Message
		if len(sfErr.MessageArgs) > 0 {
			msg = fmt.Sprintf(msg, sfErr.MessageArgs...)
		}
		if sfErr.SQLState != "" && sfErr.SQLState != "-1" {
			return fmt.Sprintf("Snowflake error %d (SQLSTATE %s): %s", sfErr.Number, short(sfErr.SQLState), short(msg))
		}
		return fmt.Sprintf("Snowflake error %d: %s", sfErr.Number, short(msg))
	case errors.As(err, &msErr):
		return fmt.Sprintf("SQL Server error %d: %s", msErr.Number, short(msErr.Message))
	case errors.As(err, &apiErr):
		return fmt.Sprintf("%s: %s", short(apiErr.ErrorCode()), short(apiErr.ErrorMessage()))
	case errors.As(err, &oaErr):
		code := oaErr.ErrorCode
		if code == "" && oaErr.Response != nil {
			code = fmt.Sprintf("HTTP %d", oaErr.Response.StatusCode)
		}
		return fmt.Sprintf("%s: %s", short(code), short(oaErr.ErrorDescription))
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out (deadline exceeded)"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("host %s not found", short(dnsErr.Name))
		}
		return fmt.Sprintf("the host name %s could not be resolved", short(dnsErr.Name))
	case errors.As(err, &unknown):
		return "the server's TLS certificate is not signed by a trusted authority"
	case errors.As(err, &host):
		return "the server's TLS certificate is not valid for the host"
	case errors.As(err, &invalid):
		return "the server's TLS certificate is not valid (expired, not yet valid or not for a server)"
	case errors.As(err, &record):
		return "the server did not answer TLS"
	case errors.As(err, &alert):
		return "the server ended the TLS handshake"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the server reset the connection"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection"
	}
	if i := strings.Index(err.Error(), egress.RefusedPrefix); i >= 0 {
		// A driver that formats the dial error with %v keeps the refusal's words only.
		return err.Error()[i:]
	}
	if m := aadCode.FindString(err.Error()); m != "" {
		// azidentity's errors carry the whole response; keep the AADSTS code only.
		return "Microsoft Entra ID error " + m
	}
	if errors.As(err, &vErr) {
		return platformText(vErr.err)
	}
	return "the server's answer was not understood"
}

// short is the first line of s, cut to maxCause runes, without control or format
// characters.
func short(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue
		}
		if n == maxCause {
			b.WriteString(cutMark)
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
