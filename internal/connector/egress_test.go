package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openintegrations/integrations/internal/egress"
	"github.com/openintegrations/integrations/platforms"
)

// localEgress is the policy of the tests that run the connectors against servers on
// this machine: loopback is refused by default, so they allow it explicitly.
var localEgress = func() *egress.Policy {
	p, err := egress.Parse("127.0.0.1/32, ::1/128")
	if err != nil {
		panic(err)
	}
	return p
}()

// countingListener is a TCP listener on 127.0.0.1 that counts the connections it
// accepts and closes them.
type countingListener struct {
	ln   net.Listener
	hits atomic.Int32
}

func newCountingListener(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &countingListener{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.hits.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *countingListener) port() int { return c.ln.Addr().(*net.TCPAddr).Port }
func (c *countingListener) addr() string {
	return c.ln.Addr().String()
}

// mapResolver resolves the names of a table, and records every name asked.
type mapResolver struct {
	mu    sync.Mutex
	names map[string]string
	asked []string
}

func (r *mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	if a, ok := r.names[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// egressCase is a payload of each live connector whose every host is local or
// pretends to be.
type egressCase struct {
	name    string
	conn    func(o Options) Connector
	payload func(t *testing.T, host string, port int) *platforms.Payload
	// hosts are the names the payload gives (resolved by the test's resolver).
	hosts []string
}

func egressCases() []egressCase {
	sfDoc := func(host string, port int, auth string) string {
		return fmt.Sprintf(`{"type":"Snowflake","autoBootstrap":false,"config":{"host":%q,"port":%d,"warehouse":"WH","database":"IMMUTA_DB",%s,"impersonation":{"enabled":true}}}`, host, port, auth)
	}
	return []egressCase{
		{name: "Redshift", hosts: []string{"rs.example.com"},
			conn: func(o Options) Connector { return NewRedshift(o) },
			payload: func(t *testing.T, host string, port int) *platforms.Payload {
				p, err := platforms.NewPayload(&platforms.Redshift{Host: host, Port: port, Database: "immuta",
					AuthenticationType: "userPassword", Username: "immuta_system", Password: rsPassword}, false)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "Snowflake", hosts: []string{"acct.snowflakecomputing.com"},
			conn: func(o Options) Connector { return NewSnowflake(o) },
			payload: func(t *testing.T, host string, port int) *platforms.Payload {
				return payload(t, sfDoc(host, port, `"authenticationType":"userPassword","username":"IMMUTA_SYS","password":"`+sfBootPW+`"`))
			}},
		{name: "Snowflake OAuth", hosts: []string{"acct.snowflakecomputing.com", "idp.example.com"},
			conn: func(o Options) Connector { return NewSnowflake(o) },
			payload: func(t *testing.T, host string, port int) *platforms.Payload {
				idp := "idp.example.com"
				if host == "127.0.0.1" {
					idp = host
				}
				return payload(t, sfDoc("acct.snowflakecomputing.com", port, fmt.Sprintf(`"authenticationType":"oAuthClientCredentials","oAuthClientConfig":{"clientId":"cid","clientSecret":"csecret-123","authorityUrl":"https://%s/oauth2/token","useCertificate":false}`,
					net.JoinHostPort(idp, strconv.Itoa(port)))))
			}},
		{name: "Synapse", hosts: []string{"ws.sql.azuresynapse.net"},
			conn: func(o Options) Connector { return NewSynapse(o) },
			payload: func(t *testing.T, host string, port int) *platforms.Payload {
				return payload(t, strings.Replace(synManualDoc, `"host":"ws.sql.azuresynapse.net"`, fmt.Sprintf(`"host":%q,"port":%d`, host, port), 1))
			}},
		{name: "Synapse OAuth", hosts: []string{"ws.sql.azuresynapse.net", "login.example.com"},
			conn: func(o Options) Connector { return NewSynapse(o) },
			payload: func(t *testing.T, host string, port int) *platforms.Payload {
				authority := "login.example.com"
				if host == "127.0.0.1" {
					authority = host
				}
				doc := strings.Replace(synOAuthDoc, `"host":"ws.sql.azuresynapse.net"`, fmt.Sprintf(`"host":"ws.sql.azuresynapse.net","port":%d`, port), 1)
				doc = strings.Replace(doc, "https://login.microsoftonline.com/contoso.onmicrosoft.com", "https://"+net.JoinHostPort(authority, strconv.Itoa(port))+"/contoso", 1)
				return payload(t, doc)
			}},
		{name: "BigQuery", hosts: []string{"oauth2.example.com"},
			conn: func(o Options) Connector { return NewBigQuery(o) },
			payload: func(t *testing.T, host string, port int) *platforms.Payload {
				return bqPayload(t, func(c *platforms.BigQuery) {
					var doc map[string]string
					if err := json.Unmarshal([]byte(c.Credential), &doc); err != nil {
						t.Fatal(err)
					}
					doc["token_uri"] = "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/token"
					b, _ := json.Marshal(doc)
					c.Credential = string(b)
				})
			}},
	}
}

// TestEgressRefusedByDefault: with the default policy, a payload that names this
// machine (or, through a name, resolves to it) gets a validation failure naming the
// setting, and no connection arrives.
func TestEgressRefusedByDefault(t *testing.T) {
	for _, c := range egressCases() {
		t.Run(c.name, func(t *testing.T) {
			ln := newCountingListener(t)
			// The default policy, with names resolving to this machine.
			names := map[string]string{}
			for _, h := range c.hosts {
				names[h] = "127.0.0.1"
			}
			pol := egress.Default().WithResolver(&mapResolver{names: names})
			hosts := []string{"127.0.0.1", c.hosts[0]}
			if c.name == "Snowflake" {
				hosts = hosts[1:] // an address is not a Snowflake account host
			}
			for _, host := range hosts {
				res := Validate(context.Background(), c.conn(Options{Egress: pol, ConnectTimeout: 2 * time.Second}), platforms.OpCreate,
					c.payload(t, host, ln.port()), Credentials{}, 10*time.Second)
				first := res.Tests[0]
				if first.Status != Failed || !strings.Contains(first.Message, egress.Setting) || !strings.Contains(first.Message, "loopback") {
					t.Errorf("host %s: first test %s = %s %q; want a failure naming the loopback address and %s", host, first.Name, first.Status, first.Message, egress.Setting)
				}
			}
			if n := ln.hits.Load(); n != 0 {
				t.Errorf("%d connections arrived at %s although the policy refuses loopback", n, ln.addr())
			}
		})
	}
}

// TestBigQueryTokenURIMustBeHTTPS: the signed JWT never goes over plain HTTP, even to
// an allowed address.
func TestBigQueryTokenURIMustBeHTTPS(t *testing.T) {
	ln := newCountingListener(t)
	p := bqPayload(t, func(c *platforms.BigQuery) {
		c.Credential = strings.Replace(c.Credential, "https://oauth2.googleapis.com/token", "http://"+ln.addr()+"/token", 1)
	})
	res := Validate(context.Background(), NewBigQuery(Options{Egress: localEgress}), platforms.OpCreate, p, Credentials{}, 10*time.Second)
	if m := res.Tests[0].Message; res.Tests[0].Status != Failed || !strings.Contains(m, "https://") || !strings.Contains(m, "token_uri") {
		t.Errorf("http token_uri: %s %q; want a failure saying it must be https", res.Tests[0].Status, m)
	}
	if n := ln.hits.Load(); n != 0 {
		t.Errorf("%d connections arrived at the http token_uri", n)
	}
}

// addrRecorder is a dialer that records every address and connects nowhere.
type addrRecorder struct {
	mu    sync.Mutex
	addrs []string
}

func (r *addrRecorder) dial(_ context.Context, network, address string) (net.Conn, error) {
	r.mu.Lock()
	r.addrs = append(r.addrs, address)
	r.mu.Unlock()
	return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
}

// TestLiveConnectorsDialOnlyWhatThePayloadNames runs every live connector's whole
// catalogue under a resolver and a dialer that record every name and address: only the
// payload's hosts are resolved and only their addresses dialled. The drivers' own
// background traffic is watched too: the AWS SDK's metadata and STS endpoints (which
// gosnowflake's platform detection calls) point at a local listener that must stay
// silent.
func TestLiveConnectorsDialOnlyWhatThePayloadNames(t *testing.T) {
	bg := newCountingListener(t)
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://" + bg.addr(),
		"AWS_ENDPOINT_URL":                  "http://" + bg.addr(),
		"AWS_ENDPOINT_URL_STS":              "http://" + bg.addr(),
		"AWS_ACCESS_KEY_ID":                 "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY":             "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION":                        "us-east-1",
		"AWS_EC2_METADATA_DISABLED":         "",
	} {
		t.Setenv(k, v)
	}
	const port = 4443
	for i, c := range egressCases() {
		t.Run(c.name, func(t *testing.T) {
			names := map[string]string{}
			want := map[string]bool{}
			for j, h := range c.hosts {
				ip := fmt.Sprintf("8.8.%d.%d", i+1, j+1) // public, never reached
				names[h] = ip
				want[net.JoinHostPort(ip, strconv.Itoa(port))] = true
			}
			res := &mapResolver{names: names}
			rec := &addrRecorder{}
			o := Options{Egress: egress.Default().WithResolver(res).WithDialer(rec.dial), ConnectTimeout: 2 * time.Second, StatementTimeout: 2 * time.Second}
			out := Validate(context.Background(), c.conn(o), platforms.OpCreate, c.payload(t, c.hosts[0], port), Credentials{}, 10*time.Second)
			if out.Tests[0].Status != Failed {
				t.Fatalf("first test %+v; want it failed (nothing answers)", out.Tests[0])
			}
			if strings.Contains(out.Tests[0].Message, egress.Setting) {
				t.Errorf("a public address was refused: %s", out.Tests[0].Message)
			}
			res.mu.Lock()
			for _, h := range res.asked {
				if _, ok := names[h]; !ok {
					t.Errorf("resolved %q, which the payload does not name", h)
				}
			}
			res.mu.Unlock()
			rec.mu.Lock()
			if len(rec.addrs) == 0 {
				t.Errorf("nothing was dialled through the policy")
			}
			for _, a := range rec.addrs {
				if !want[a] {
					t.Errorf("dialled %s, which the payload does not name (want one of %v)", a, want)
				}
			}
			rec.mu.Unlock()
		})
	}
	t.Run("S3", func(t *testing.T) {
		rec := &addrRecorder{}
		res := &mapResolver{names: map[string]string{"sts.us-east-1.amazonaws.com": "8.8.9.1"}}
		o := Options{Egress: egress.Default().WithResolver(res).WithDialer(rec.dial), StatementTimeout: 2 * time.Second}
		t.Setenv("AWS_ENDPOINT_URL", "")
		t.Setenv("AWS_ENDPOINT_URL_STS", "")
		out := Validate(context.Background(), NewS3(o), platforms.OpCreate, s3Payload(nil), Credentials{}, 10*time.Second)
		if out.Tests[0].Status != Failed {
			t.Fatalf("first test %+v; want it failed", out.Tests[0])
		}
		for _, a := range rec.addrs {
			if a != "8.8.9.1:443" {
				t.Errorf("dialled %s; want only AWS STS (8.8.9.1:443)", a)
			}
		}
		for _, h := range res.asked {
			if h != "sts.us-east-1.amazonaws.com" {
				t.Errorf("resolved %q; want only AWS STS", h)
			}
		}
		if len(rec.addrs) == 0 {
			t.Errorf("nothing was dialled through the policy")
		}
	})
	if n := bg.hits.Load(); n != 0 {
		t.Errorf("%d connections arrived at the AWS metadata/STS endpoint that only a driver's background probe would call", n)
	}
	if os.Getenv(sfPlatformDetectionEnv) != "true" {
		t.Errorf("%s is %q, want true", sfPlatformDetectionEnv, os.Getenv(sfPlatformDetectionEnv))
	}
}
