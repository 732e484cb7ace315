package connector

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5/pgconn"
	mssql "github.com/microsoft/go-mssqldb"
	"github.com/snowflakedb/gosnowflake"
	"golang.org/x/oauth2"

	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/platforms"
)

func TestPlatformText(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := []struct {
		name string
		err  error
		want string // the whole text, or its start when it ends with "*"
	}{
		{"postgres", &pgconn.PgError{Code: "28P01", Message: "password authentication failed for user \"u\"\nDETAIL: banner"}, `SQLSTATE 28P01: password authentication failed for user "u"`},
		{"snowflake", &gosnowflake.SnowflakeError{Number: 390100, SQLState: "08004", Message: "Incorrect username or password was specified."}, "Snowflake error 390100 (SQLSTATE 08004): Incorrect username or password was specified."},
		{"snowflake args", &gosnowflake.SnowflakeError{Number: 260001, SQLState: "-1", Message: "failed to connect to %v", MessageArgs: []any{"db"}}, "Snowflake error 260001: failed to connect to db"},
		{"mssql", mssql.Error{Number: 18456, Message: "Login failed for user 'x'."}, "SQL Server error 18456: Login failed for user 'x'."},
		{"aws", &smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}, "InvalidClientTokenId: The security token included in the request is invalid."},
		{"oauth", &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "Invalid JWT Signature.", Body: []byte("<html>banner</html>")}, "invalid_grant: Invalid JWT Signature."},
		{"wrapped vendor", fmt.Errorf("query: %w", &pgconn.PgError{Code: "42501", Message: "permission denied"}), "SQLSTATE 42501: permission denied"},
		{"format chars", &pgconn.PgError{Code: "XX000", Message: "evil\u202e\u0007text"}, "SQLSTATE XX000: eviltext"},
		{"cut", &pgconn.PgError{Code: "XX000", Message: long}, "SQLSTATE XX000: " + long[:maxCause] + cutMark},
		{"refused", &egress.RefusedError{Addr: netipMust("127.0.0.1"), Reason: "a loopback address"}, egress.RefusedPrefix + "*"},
		{"refused as text", errors.New(`Post "https://x/token": ` + egress.RefusedPrefix + "127.0.0.1: it is a loopback address"), egress.RefusedPrefix + "127.0.0.1: it is a loopback address"},
		{"dns", &net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}, "host nope.example not found"},
		{"refused conn", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection refused"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, "the server reset the connection"},
		{"timeout", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, "timed out"},
		{"deadline", context.DeadlineExceeded, "timed out (deadline exceeded)"},
		{"eof", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), "the server closed the connection"},
		{"x509", x509.UnknownAuthorityError{}, "the server's TLS certificate is not signed by a trusted authority"},
		{"entra", errors.New("ClientSecretCredential authentication failed\nPOST https://login/x\nRESPONSE 400\nAADSTS7000215: Invalid client secret provided. Trace ID: abc"), "Microsoft Entra ID error AADSTS7000215"},
		{"banner", errors.New("unexpected message 'S': SSH-2.0-OpenSSH_9.2p1 internal-host-7"), "the server's answer was not understood"},
		{"own", own(errors.New("config.host is not a Snowflake account host")), "config.host is not a Snowflake account host"},
	}
	for _, c := range cases {
		got := platformText(c.err)
		if strings.HasSuffix(c.want, "*") {
			if !strings.HasPrefix(got, strings.TrimSuffix(c.want, "*")) {
				t.Errorf("%s: %q, want it to start with %q", c.name, got, c.want)
			}
		} else if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if v := vendor(c.err); v.Error() != got || errors.Unwrap(v) == nil {
			t.Errorf("%s: vendor() text %q or chain differs", c.name, v)
		}
	}
}

// TestScrubCut: a secret that the cut splits leaves nothing of itself.
func TestScrubCut(t *testing.T) {
	secret := "Sup3r-Secret-Password-42"
	for k := 1; k < len(secret); k++ {
		msg := strings.Repeat("a", maxCause-k) + secret
		err := Scrub(fmt.Errorf("statement failed (%w)", vendor(&pgconn.PgError{Code: "42601", Message: msg})), []string{secret})
		for j := 2; j <= k; j++ {
			if strings.Contains(err.Error(), secret[:j]+cutMark) {
				t.Fatalf("cut at %d: %q keeps %q", k, err, secret[:j])
			}
		}
		if !strings.Contains(err.Error(), cutMark) {
			t.Fatalf("cut at %d: no cut mark in %q", k, err)
		}
	}
}

// TestBannerNotEchoed: a server that answers with a banner instead of the platform's
// protocol gets a failure that names the address but repeats nothing it sent.
func TestBannerNotEchoed(t *testing.T) {
	const banner = "SSH-2.0-OpenSSH_9.2p1 build-host-internal-7 Debian-2+deb12u3\r\n"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.WriteString(c, banner+strings.Repeat("E", 64)+"\x00")
				_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<16))
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	o := Options{Egress: localEgress, DisableTLS: true, ConnectTimeout: 2 * time.Second, StatementTimeout: 2 * time.Second}
	rs, err := platforms.NewPayload(&platforms.Redshift{Host: "127.0.0.1", Port: port, Database: "immuta",
		AuthenticationType: "userPassword", Username: "immuta_system", Password: rsPassword}, false)
	if err != nil {
		t.Fatal(err)
	}
	syn := payload(t, strings.Replace(synManualDoc, `"host":"ws.sql.azuresynapse.net"`, fmt.Sprintf(`"host":"127.0.0.1","port":%d`, port), 1))
	for name, run := range map[string]func() Results{
		"Redshift": func() Results {
			return Validate(context.Background(), NewRedshift(o), platforms.OpCreate, rs, Credentials{}, 10*time.Second)
		},
		"Synapse": func() Results {
			return Validate(context.Background(), NewSynapse(o), platforms.OpCreate, syn, Credentials{}, 10*time.Second)
		},
	} {
		res := run()
		m := res.Tests[0].Message
		if res.Tests[0].Status != Failed || strings.Contains(m, "OpenSSH") || strings.Contains(m, "build-host") || strings.Contains(m, "EEEE") {
			t.Errorf("%s: %s %q; want a failure that repeats nothing the server sent", name, res.Tests[0].Status, m)
		}
		t.Logf("%s: %s", name, m)
		if !strings.Contains(m, "127.0.0.1") {
			t.Errorf("%s: %q does not name the address", name, m)
		}
	}
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }
