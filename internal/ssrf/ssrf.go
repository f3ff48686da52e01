// Package ssrf keeps URLs fetched on a user's behalf (task inputs, webhooks)
// from reaching the server's own machine or private network. A user who can
// submit a URL could otherwise read loopback-only endpoints (the API, NATS,
// cloud metadata) through the server.
//
// The check runs where the connection is made, after DNS resolution and
// for every redirect, so neither a host name that resolves to 127.0.0.1 nor
// a public server redirecting to a private one gets through: the guard
// resolves the name itself, checks every address and dials only an address
// it checked (no second lookup a rebinding DNS server could answer
// differently).
package ssrf

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

// ErrRefused is wrapped by every error of a refused destination.
var ErrRefused = errors.New("destination not allowed")

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configures a Guard.
type Options struct {
	// AllowPrivate turns the guard off: every destination is allowed (for
	// a server whose users are all trusted).
	AllowPrivate bool
	// Allow lists exceptions: a CIDR ("10.1.0.0/16"), an IP, an IP:port
	// ("127.0.0.1:9000", that port only), a host name or a host:port
	// (matched against the URL's host before resolution, for an internal
	// service reached by name).
	Allow []string
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver Resolver
	// DialTimeout bounds each connection attempt (default 10 s).
	DialTimeout time.Duration
}

// Guard decides which destinations may be dialled and makes dialers and
// HTTP clients that enforce it.
type Guard struct {
	allowAll  bool
	prefixes  []netip.Prefix
	addrPorts []netip.AddrPort
	names     map[string]bool // lower-case host or host:port
	resolver  Resolver
	dialer    *net.Dialer
}

// New checks opts and returns a guard.
func New(opts Options) (*Guard, error) {
	g := &Guard{allowAll: opts.AllowPrivate, names: map[string]bool{}, resolver: opts.Resolver}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	g.dialer = &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	for _, a := range opts.Allow {
		a = strings.TrimSpace(a)
		if p, err := netip.ParsePrefix(a); err == nil {
			g.prefixes = append(g.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			g.prefixes = append(g.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if ap, err := netip.ParseAddrPort(a); err == nil {
			g.addrPorts = append(g.addrPorts, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
			continue
		}
		if a == "" || strings.ContainsAny(a, "/ ") {
			return nil, fmt.Errorf("ssrf: allow entry %q: want a CIDR, IP, IP:port, host or host:port", a)
		}
		g.names[strings.ToLower(a)] = true
	}
	return g, nil
}

// blocked are the ranges refused unless allowed: loopback, private,
// shared (CGNAT), link-local (with the 169.254.169.254 metadata service),
// multicast, unspecified, broadcast and other reserved space.
var blocked = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32", "100::/64",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// nat64 and sixToFour embed an IPv4 address that the packet reaches.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// IsPublic reports whether ip is an ordinary public unicast address.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return false
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return IsPublic(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return IsPublic(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// allowed reports whether the guard lets a connection reach ip:port.
func (g *Guard) allowed(ip netip.Addr, port uint16) bool {
	ip = ip.Unmap().WithZone("")
	if g.allowAll || IsPublic(ip) {
		return true
	}
	for _, p := range g.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	for _, ap := range g.addrPorts {
		if ap.Addr() == ip && ap.Port() == port {
			return true
		}
	}
	return false
}

// CheckHost refuses host forms that are IP addresses in disguise: decimal
// ("2130706433"), octal ("0177.0.0.1"), hexadecimal ("0x7f.1") or short
// ("127.1") forms, which some resolvers turn into an address and others
// send to DNS. Only canonical IP literals and names are accepted.
func CheckHost(host string) error {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if h == "" {
		return fmt.Errorf("%w: empty host", ErrRefused)
	}
	numeric := true
	for _, label := range strings.Split(strings.ToLower(h), ".") {
		digits, base := label, "0123456789"
		if strings.HasPrefix(label, "0x") {
			digits, base = label[2:], "0123456789abcdef"
		}
		if digits == "" || strings.Trim(digits, base) != "" {
			numeric = false
			break
		}
	}
	if numeric {
		return fmt.Errorf("%w: %q is not a canonical IP address", ErrRefused, host)
	}
	return nil
}

// DialContext dials addr ("host:port") when the guard allows it: the host
// is resolved here, every address is checked, and only checked addresses
// are dialled.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("ssrf: %w", err)
	}
	if g.allowAll || g.names[strings.ToLower(host)] || g.names[strings.ToLower(addr)] {
		return g.dialer.DialContext(ctx, network, addr)
	}
	if err := CheckHost(host); err != nil {
		return nil, err
	}
	port, err := netip.ParseAddrPort("0.0.0.0:" + portStr)
	if err != nil {
		return nil, fmt.Errorf("ssrf: port %q: %w", portStr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = g.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("ssrf: resolve %s: %w", host, err)
		}
	}
	var refused []string
	var lastErr error
	for _, ip := range ips {
		if !g.allowed(ip, port.Port()) {
			refused = append(refused, ip.String())
			continue
		}
		c, err := g.dialer.DialContext(ctx, network, netip.AddrPortFrom(ip, port.Port()).String())
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, fmt.Errorf("%w: %s resolves to %s (loopback, private, link-local or reserved; allow it in the config if intended)",
		ErrRefused, host, strings.Join(refused, ", "))
}

// Client returns an HTTP client whose every connection, redirects
// included, goes through the guard. It uses no proxy from the environment
// (a proxy would make the checked address the proxy's). timeout bounds a
// whole request; 0 leaves it to the caller's context.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:           g.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect to scheme %q", ErrRefused, req.URL.Scheme)
			}
			return nil
		},
	}
}
