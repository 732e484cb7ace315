package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestCheck(t *testing.T) {
	allowed := mustParse(t, "10.1.0.0/16, 127.0.0.1, fd00:1::/32")
	cases := []struct {
		addr    string
		def     string // the default policy's reason ("" allowed)
		allowed bool   // under allowed
	}{
		{"8.8.8.8", "", true},
		{"2606:4700::1111", "", true},
		{"127.0.0.1", "loopback", true},
		{"127.0.0.2", "loopback", false},
		{"::1", "loopback", false},
		{"::ffff:127.0.0.1", "loopback", true},
		{"169.254.169.254", "link-local", false},
		{"fd00:ec2::254", "unique-local", false},
		{"fe80::1", "link-local", false},
		{"fe80::1%eth0", "link-local", false},
		{"0.0.0.0", "unspecified", false},
		{"::", "unspecified", false},
		{"224.0.0.1", "multicast", false},
		{"ff02::1", "multicast", false},
		{"255.255.255.255", "broadcast", false},
		{"10.0.0.1", "private", false},
		{"10.1.2.3", "private", true},
		{"172.16.0.1", "private", false},
		{"192.168.1.1", "private", false},
		{"100.64.0.1", "shared", false},
		{"fd00:1::5", "unique-local", true},
		{"64:ff9b::7f00:1", "NAT64", false},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.addr)
		err := Default().Check("", a)
		if c.def == "" {
			if err != nil {
				t.Errorf("default policy refused %s: %v", c.addr, err)
			}
		} else {
			var re *RefusedError
			if !errors.As(err, &re) || !errors.Is(err, ErrRefused) || !strings.Contains(re.Reason, c.def) {
				t.Errorf("default policy on %s: got %v, want a refusal naming %q", c.addr, err, c.def)
			} else if !strings.Contains(err.Error(), Setting) {
				t.Errorf("refusal of %s does not name the setting: %v", c.addr, err)
			}
		}
		if err := allowed.Check("", a); (err == nil) != (c.allowed || c.def == "") {
			t.Errorf("allow list on %s: got %v, allowed %v", c.addr, err, c.allowed || c.def == "")
		}
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "localhost", "10.0.0.1/8/1", "1.2.3", "::1/200"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Parse(%q) = %v, want an error naming it", bad, err)
		}
	}
	for in, want := range map[string]string{
		"":                          "",
		" , ":                       "",
		"10.0.0.0/8":                "10.0.0.0/8",
		"10.9.9.9/8,::1":            "10.0.0.0/8 ::1/128",
		"::ffff:127.0.0.1, 1.2.3.4": "127.0.0.1/32 1.2.3.4/32",
	} {
		p, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		var got []string
		for _, a := range p.Allowed() {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != want {
			t.Errorf("Parse(%q) = %v, want %s", in, got, want)
		}
	}
}

// fakeResolver answers from a table.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if out == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// recorder is a dialer that records the addresses and connects nowhere.
type recorder struct {
	mu    sync.Mutex
	addrs []string
}

func (r *recorder) dial(_ context.Context, _, address string) (net.Conn, error) {
	r.mu.Lock()
	r.addrs = append(r.addrs, address)
	r.mu.Unlock()
	c, s := net.Pipe()
	s.Close()
	return c, nil
}

func TestDialResolvesOnceAndDialsOnlyAllowed(t *testing.T) {
	res := fakeResolver{
		"public.example":   {"8.8.8.8"},
		"mixed.example":    {"127.0.0.1", "8.8.4.4", "169.254.169.254"},
		"internal.example": {"10.0.0.7", "::1"},
	}
	cases := []struct {
		address string
		dialled string // "" refused
	}{
		{"public.example:443", "8.8.8.8:443"},
		{"mixed.example:443", "8.8.4.4:443"},
		{"internal.example:5439", ""},
		{"127.0.0.1:5432", ""},
		{"[::1]:5432", ""},
		{"[::ffff:169.254.169.254]:80", ""},
		{"1.1.1.1:443", "1.1.1.1:443"},
	}
	for _, c := range cases {
		rec := &recorder{}
		p := Default().WithResolver(res).WithDialer(rec.dial)
		conn, err := p.DialContext(context.Background(), "tcp", c.address)
		if conn != nil {
			conn.Close()
		}
		got := strings.Join(rec.addrs, ",")
		if c.dialled == "" {
			if !errors.Is(err, ErrRefused) || got != "" {
				t.Errorf("%s: err %v, dialled %q; want a refusal and no dial", c.address, err, got)
			}
			continue
		}
		if err != nil || got != c.dialled {
			t.Errorf("%s: err %v, dialled %q; want %s", c.address, err, got, c.dialled)
		}
	}
}

// TestRealListener checks the policy against a real listener on 127.0.0.1: refused by
// default with no connection arriving, accepted once allowed.
func TestRealListener(t *testing.T) {
	var hits atomic.Int32
	var accepted atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	_, err := Default().Client().Get(srv.URL)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("default policy: got %v, want a refusal", err)
	}
	if accepted.Load() != 0 || hits.Load() != 0 {
		t.Fatalf("a connection arrived although the policy refused it")
	}
	resp, err := mustParse(t, "127.0.0.1/32").Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("allowed request did not arrive")
	}
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	var other atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { other.Add(1) }))
	defer target.Close()
	src := httptest.NewServer(http.RedirectHandler(strings.Replace(target.URL, "127.0.0.1", "localhost", 1), http.StatusFound))
	defer src.Close()
	p := mustParse(t, "127.0.0.1/32, ::1")
	if _, err := p.Client().Get(src.URL); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("got %v, want the redirect refused", err)
	}
	if other.Load() != 0 {
		t.Fatalf("the redirect was followed")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "127.0.0.1,::1", " fd00::/8 , 1.2.3.4", "x", "1.2.3.4/99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		for _, a := range p.Allowed() {
			if !a.IsValid() || a.Masked() != a {
				t.Fatalf("Parse(%q) kept %v", s, a)
			}
		}
	})
}

func mustParse(t *testing.T, s string) *Policy {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
