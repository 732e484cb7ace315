// Package egress is the server's outbound-connection policy: every connection a
// connector opens (database drivers, OAuth token endpoints, cloud APIs) is dialled
// through a Policy, which resolves the host itself and dials only addresses it allows.
//
// By default a Policy allows public addresses only. It refuses loopback, link-local
// (which holds the cloud metadata services, 169.254.169.254 and fd00:ec2::254),
// unspecified, multicast, broadcast, private (RFC 1918, unique-local IPv6, shared
// 100.64.0.0/10) and the other special-purpose ranges of the IANA registries. The
// operator allows ranges with Parse (serve --egress-allow, INTEGRATIONS_EGRESS_ALLOW);
// an address in an allowed range is dialled whatever its kind.
//
// The check applies to the address actually dialled: a host name is resolved once, each
// address is checked, and the connection is made to the checked address itself, so a
// second resolution (DNS rebinding) cannot change it.
//
// It imports nothing of the module and knows no platform: connectors hand it host names
// and addresses, and the CLI hands it the operator's ranges.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Setting names the operator's setting that allows ranges, for messages.
const Setting = "--egress-allow (INTEGRATIONS_EGRESS_ALLOW)"

// ErrRefused is matched (errors.Is) by every *RefusedError.
var ErrRefused = errors.New("address not allowed by the egress policy")

// RefusedError is a connection the policy did not make.
type RefusedError struct {
	Host   string     // the host asked for (a name or an address)
	Addr   netip.Addr // the address refused
	Reason string     // the kind of address, for example "a loopback address"
}

// Error implements error. The message names the setting that allows the address.
func (e *RefusedError) Error() string {
	what := e.Addr.String()
	if e.Host != "" && e.Host != what {
		what = fmt.Sprintf("%s (%s)", e.Host, what)
	}
	return fmt.Sprintf(RefusedPrefix+"%s: it is %s, which the egress policy refuses unless the server's operator allows it with %s, for example %s",
		what, e.Reason, Setting, netip.PrefixFrom(e.Addr, e.Addr.BitLen()))
}

// RefusedPrefix begins every RefusedError's message.
const RefusedPrefix = "the server may not connect to "

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// refusedRange is a special-purpose range and the words that name its kind.
type refusedRange struct {
	prefix netip.Prefix
	reason string
}

// refused lists the ranges a Policy refuses unless allowed, from the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890 and its updates) and the cloud metadata
// addresses. Every address not in one of them is public. The first match names the
// kind, so a narrower range comes before a wider one.
var refused = func() []refusedRange {
	rows := []struct{ cidr, reason string }{
		{"0.0.0.0/8", "an unspecified (this-network) address"},
		{"10.0.0.0/8", "a private address"},
		{"100.64.0.0/10", "a shared (carrier-grade NAT) address"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address (the range of cloud metadata services)"},
		{"172.16.0.0/12", "a private address"},
		{"192.0.0.0/24", "an IETF protocol assignment"},
		{"192.0.2.0/24", "a documentation address"},
		{"192.88.99.0/24", "a 6to4 relay anycast address"},
		{"192.168.0.0/16", "a private address"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"224.0.0.0/4", "a multicast address"},
		{"255.255.255.255/32", "the broadcast address"},
		{"240.0.0.0/4", "a reserved address"},
		{"::/128", "the unspecified address"},
		{"::1/128", "a loopback address"},
		{"64:ff9b::/96", "a NAT64 address"},
		{"64:ff9b:1::/48", "a NAT64 address"},
		{"100::/64", "a discard-only address"},
		{"2001::/23", "an IETF protocol assignment"},
		{"2001:db8::/32", "a documentation address"},
		{"2002::/16", "a 6to4 address"},
		{"fc00::/7", "a unique-local (private) address"},
		{"fe80::/10", "a link-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]refusedRange, len(rows))
	for i, r := range rows {
		out[i] = refusedRange{netip.MustParsePrefix(r.cidr), r.reason}
	}
	return out
}()

// DialFunc dials a network address, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Resolver looks up the addresses of a host, as net.Resolver.LookupNetIP does.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy decides which addresses the server may connect to and dials them. The zero
// value is not usable; use Default, Parse or New. A Policy is safe for concurrent use.
type Policy struct {
	allow    []netip.Prefix
	dial     DialFunc
	resolver Resolver
	timeout  time.Duration
}

// DefaultDialTimeout bounds one dial when the caller's context has no deadline.
const DefaultDialTimeout = 30 * time.Second

// New returns a policy that allows public addresses and the ranges in allow.
func New(allow ...netip.Prefix) *Policy {
	d := &net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}
	p := &Policy{dial: d.DialContext, resolver: net.DefaultResolver, timeout: DefaultDialTimeout}
	for _, a := range allow {
		p.allow = append(p.allow, a.Masked())
	}
	return p
}

// defaultPolicy is shared: a Policy never changes once made.
var defaultPolicy = New()

// Default returns the policy of a server given no --egress-allow: public addresses
// only.
func Default() *Policy { return defaultPolicy }

// Parse reads the operator's setting: ranges in CIDR notation or single addresses,
// separated by commas (spaces around them are ignored). An empty value is the default
// policy.
func Parse(list string) (*Policy, error) {
	var allow []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			pr, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("egress allow list: %q is not a range in CIDR notation (such as 10.0.0.0/8 or fd00::/8)", f)
			}
			allow = append(allow, pr)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("egress allow list: %q is neither an address nor a range in CIDR notation (such as 10.0.0.0/8)", f)
		}
		a = a.Unmap()
		allow = append(allow, netip.PrefixFrom(a, a.BitLen()))
	}
	return New(allow...), nil
}

// Allowed returns the ranges the operator allowed, for logs.
func (p *Policy) Allowed() []netip.Prefix { return append([]netip.Prefix(nil), p.allow...) }

// WithDialer returns a copy of p that dials allowed addresses with dial: tests record
// the addresses, or reach a local server.
func (p *Policy) WithDialer(dial DialFunc) *Policy {
	c := *p
	c.dial = dial
	return &c
}

// WithResolver returns a copy of p that resolves host names with r.
func (p *Policy) WithResolver(r Resolver) *Policy {
	c := *p
	c.resolver = r
	return &c
}

// Check reports whether the policy allows addr; host, when not empty, is the name it
// was resolved from, for the message. The error is a *RefusedError.
func (p *Policy) Check(host string, addr netip.Addr) error {
	addr = addr.Unmap()
	for _, a := range p.allow {
		if a.Contains(addr) {
			return nil
		}
	}
	if addr.Zone() != "" {
		addr = addr.WithZone("")
	}
	for _, r := range refused {
		if r.prefix.Contains(addr) {
			return &RefusedError{Host: host, Addr: addr, Reason: r.reason}
		}
	}
	return nil
}

// Resolve returns the addresses of host that the policy allows, in the resolver's
// order. It fails when host has no address, or when every address is refused (with the
// first refusal).
func (p *Policy) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		if err := p.Check("", a); err != nil {
			return nil, err
		}
		return []netip.Addr{a.Unmap()}, nil
	}
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	var ok []netip.Addr
	var first error
	for _, a := range addrs {
		if err := p.Check(host, a); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		ok = append(ok, a.Unmap())
	}
	if len(ok) == 0 {
		if first == nil {
			first = &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return nil, first
	}
	return ok, nil
}

// CheckHost resolves host and reports whether the policy allows at least one of its
// addresses: connectors call it before handing a host to a driver, so that a refusal
// is reported in the policy's words whatever the driver does with dial errors.
func (p *Policy) CheckHost(ctx context.Context, host string) error {
	_, err := p.Resolve(ctx, host)
	return err
}

// DialContext resolves address's host, and dials the allowed addresses in turn until
// one connects. It never dials a refused address.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok && p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	addrs, err := p.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var last error
	for _, a := range addrs {
		c, err := p.dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// Transport returns an HTTP transport that dials through the policy. It uses no proxy:
// a proxy would dial on the server's behalf, out of the policy's sight.
func (p *Policy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.DialContext
	t.DialTLSContext = nil
	return t
}

// Client returns an HTTP client over Transport that refuses redirects to another host
// (a redirect could name an address that a caller chose to reach through the server).
func (p *Policy) Client() *http.Client {
	return &http.Client{Transport: p.Transport(), CheckRedirect: sameHostRedirect}
}

func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refused a redirect from %s to another host, %s", via[0].URL.Host, req.URL.Host)
	}
	return nil
}
