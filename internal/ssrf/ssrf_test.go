package ssrf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fakeResolver answers names from a table, like a DNS server an attacker
// controls.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := f[host]; ok {
		return ips, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

func newGuard(t *testing.T, opts Options) *Guard {
	t.Helper()
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func okServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "secret")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRefusesPrivateDestinations(t *testing.T) {
	target := okServer(t) // listens on 127.0.0.1
	port := target.URL[strings.LastIndex(target.URL, ":")+1:]
	res := fakeResolver{
		"evil.example":    {netip.MustParseAddr("127.0.0.1")},
		"meta.example":    {netip.MustParseAddr("169.254.169.254")},
		"mapped.example":  {netip.MustParseAddr("::ffff:127.0.0.1")},
		"private.example": {netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.168.1.1")},
	}
	g := newGuard(t, Options{Resolver: res, DialTimeout: 2 * time.Second})
	c := g.Client(5 * time.Second)
	for _, u := range []string{
		"http://127.0.0.1:" + port + "/",
		"http://[::1]:" + port + "/",
		"http://localhost:" + port + "/",
		"http://evil.example:" + port + "/",
		"http://meta.example/latest/meta-data/",
		"http://mapped.example:" + port + "/",
		"http://private.example/",
		"http://2130706433:" + port + "/",
		"http://0177.0.0.1:" + port + "/",
		"http://0x7f.0.0.1:" + port + "/",
		"http://127.1:" + port + "/",
		"http://0.0.0.0:" + port + "/",
		"http://[::]:" + port + "/",
		"http://100.64.0.1/",
		"http://224.0.0.1/",
		"http://[fe80::1]/",
		"http://[64:ff9b::7f00:1]/",
	} {
		t.Run(u, func(t *testing.T) {
			if u == "http://localhost:"+port+"/" {
				// the real resolver: localhost is loopback everywhere
				g := newGuard(t, Options{})
				c := g.Client(5 * time.Second)
				expectRefused(t, c, u)
				return
			}
			expectRefused(t, c, u)
		})
	}
}

func expectRefused(t *testing.T, c *http.Client, u string) {
	t.Helper()
	resp, err := c.Get(u)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET %s = %s %q, want refused", u, resp.Status, body)
	}
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("GET %s: %v, want ErrRefused", u, err)
	}
}

func TestRedirectToLoopbackRefused(t *testing.T) {
	target := okServer(t)
	front := httptest.NewServer(http.RedirectHandler(target.URL+"/x", http.StatusFound))
	defer front.Close()
	// Only the front server's exact address is allowed: it plays the public
	// server that redirects inwards.
	g := newGuard(t, Options{Allow: []string{strings.TrimPrefix(front.URL, "http://")}})
	c := g.Client(5 * time.Second)
	expectRefused(t, c, front.URL+"/")
	// Without following redirects the allowed server answers: the refusal
	// above is the redirect's.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(front.URL + "/")
	if err != nil {
		t.Fatalf("allowed exact address refused: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("front answered %s", resp.Status)
	}
}

func TestAllowlist(t *testing.T) {
	srv := okServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"none", Options{}, false},
		{"allow_private", Options{AllowPrivate: true}, true},
		{"cidr", Options{Allow: []string{"127.0.0.0/8"}}, true},
		{"ip", Options{Allow: []string{"127.0.0.1"}}, true},
		{"ip:port", Options{Allow: []string{host}}, true},
		{"other port", Options{Allow: []string{"127.0.0.1:1"}}, false},
		{"other cidr", Options{Allow: []string{"10.0.0.0/8"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newGuard(t, tc.opts).Client(5 * time.Second)
			resp, err := c.Get(srv.URL)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return
			}
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want refused", err)
			}
		})
	}
	if _, err := New(Options{Allow: []string{"10.0.0.0/99"}}); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestNamedException(t *testing.T) {
	srv := okServer(t)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	// A per-source exception by name: localhost on this port only.
	g := newGuard(t, Options{Allow: []string{"localhost:" + port}})
	c := g.Client(5 * time.Second)
	resp, err := c.Get("http://localhost:" + port + "/")
	if err != nil {
		t.Fatalf("named exception refused: %v", err)
	}
	resp.Body.Close()
	expectRefused(t, c, "http://127.0.0.1:"+port+"/")
	expectRefused(t, c, "http://localhost:1/")
}

func TestIsPublic(t *testing.T) {
	for ip, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true, "127.0.0.1": false, "::1": false, "10.0.0.1": false,
		"172.31.255.255": false, "172.32.0.1": true, "192.168.0.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "100.128.0.1": true, "fd00:ec2::254": false, "::ffff:10.0.0.1": false,
		"2002:7f00:1::": false, "255.255.255.255": false, "0.0.0.0": false,
	} {
		if got := IsPublic(netip.MustParseAddr(ip)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", ip, got, want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for h, ok := range map[string]bool{
		"example.com": true, "127.0.0.1": true, "[::1]": true, "cafe": true, "1x.example": true,
		"2130706433": false, "0177.0.0.1": false, "0x7f000001": false, "127.1": false, "017700000001": false,
	} {
		if err := CheckHost(h); (err == nil) != ok {
			t.Errorf("CheckHost(%q) = %v, want ok=%v", h, err, ok)
		}
	}
}
