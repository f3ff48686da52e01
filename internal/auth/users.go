package auth

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// AnyUser is the user name that matches every client, with or without
// credentials: the way to leave an action open.
const AnyUser = "any"

// User is one internal user of the config.
type User struct {
	// Name is the user name, or AnyUser.
	Name string
	// Pass is an argon2id PHC string (see HashPassword), or plain text
	// (accepted, warned about once at load). Ignored for AnyUser.
	Pass string
	// Actions the user may take.
	Actions []Action
	// Paths are the path patterns the actions apply to, in the syntax of
	// the config's path rules (exact name, glob like "live/*", or "~regexp");
	// empty means every path.
	Paths []string
	// IPs are the client ranges (CIDR, or a single address) the user may
	// come from; empty means anywhere.
	IPs []string
	// Digest is the realm hash (DigestHA1) for RTSP Digest logins; with a
	// plain-text Pass it is derived, with a hashed one Digest logins need it.
	Digest string
}

// pathPattern matches a path name like a path rule does.
type pathPattern struct {
	glob string
	re   *regexp.Regexp
}

func compilePattern(p string) (pathPattern, error) {
	if expr, ok := strings.CutPrefix(p, "~"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return pathPattern{}, fmt.Errorf("path pattern %q: %w", p, err)
		}
		return pathPattern{re: re}, nil
	}
	if _, err := path.Match(p, ""); err != nil {
		return pathPattern{}, fmt.Errorf("path pattern %q: %w", p, err)
	}
	return pathPattern{glob: p}, nil
}

// CheckPattern reports whether p is a valid path pattern.
func CheckPattern(p string) error {
	_, err := compilePattern(p)
	return err
}

func (p pathPattern) match(name string) bool {
	if p.re != nil {
		return p.re.MatchString(name)
	}
	ok, err := path.Match(p.glob, name)
	return err == nil && ok
}

// compiledUser is a User ready to answer.
type compiledUser struct {
	name    string
	pass    string
	hashed  bool
	ha1     string // realm hash for Digest answers; "" refuses them
	actions []Action
	paths   []pathPattern
	ips     []netip.Prefix
}

func compileUser(u User) (compiledUser, error) {
	c := compiledUser{name: u.Name, pass: u.Pass, hashed: IsHash(u.Pass), actions: u.Actions}
	if c.name == "" {
		return c, fmt.Errorf("user without a name (use %q for everybody)", AnyUser)
	}
	if c.hashed {
		if err := CheckHash(u.Pass); err != nil {
			return c, fmt.Errorf("user %q: %w", u.Name, err)
		}
	} else if u.Pass != "" {
		c.ha1 = DigestHA1(u.Name, u.Pass)
	}
	if u.Digest != "" {
		if err := CheckHA1(u.Digest); err != nil {
			return c, fmt.Errorf("user %q: %w", u.Name, err)
		}
		c.ha1 = strings.ToLower(u.Digest)
	}
	for _, a := range u.Actions {
		if !slices.Contains(Actions, a) {
			return c, fmt.Errorf("user %q: unknown action %q (want one of %v)", u.Name, a, Actions)
		}
	}
	for _, p := range u.Paths {
		pp, err := compilePattern(p)
		if err != nil {
			return c, fmt.Errorf("user %q: %w", u.Name, err)
		}
		c.paths = append(c.paths, pp)
	}
	for _, s := range u.IPs {
		pr, err := ParsePrefix(s)
		if err != nil {
			return c, fmt.Errorf("user %q: %w", u.Name, err)
		}
		c.ips = append(c.ips, pr)
	}
	return c, nil
}

// ParsePrefix parses a CIDR range or a single address (a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("ip range %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("ip range %q: want CIDR (10.0.0.0/8) or an address", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// grants reports whether the user's permissions cover r from its address.
func (u *compiledUser) grants(r *Request) bool {
	return actionAllowed(u.actions, r) && pathAllowed(u.paths, r.Path) && ipAllowed(u.ips, r.addr())
}

func actionAllowed(actions []Action, r *Request) bool {
	for _, a := range actions {
		if a == r.Action || (r.Action == ActionAPI && a == ActionAPIRead && !r.Write) {
			return true
		}
	}
	return false
}

func pathAllowed(ps []pathPattern, name string) bool {
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if p.match(name) {
			return true
		}
	}
	return false
}

func ipAllowed(ps []netip.Prefix, a netip.Addr) bool {
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if a.IsValid() && p.Contains(a) {
			return true
		}
	}
	return false
}

// hashCache remembers recent successful argon2id checks, so an HLS player
// that sends Basic credentials with every part does not cost 64 MiB and
// tens of milliseconds per request. Keys are digests, never the password.
type hashCache struct {
	mu sync.Mutex
	ok map[[32]byte]struct{}
	// slots bounds the argon2id checks running at once (each holds its
	// memory parameter, 19 MiB for our hashes), so a burst of logins
	// queues instead of exhausting memory.
	slots chan struct{}
}

func newHashCache() *hashCache {
	return &hashCache{slots: make(chan struct{}, max(2, runtime.NumCPU()))}
}

const hashCacheSize = 1024

func (c *hashCache) verify(want, pass string) bool {
	key := sha256.Sum256([]byte(want + "\x00" + pass))
	c.mu.Lock()
	_, hit := c.ok[key]
	c.mu.Unlock()
	if hit {
		return true
	}
	c.slots <- struct{}{}
	ok := verifyHash(want, pass)
	<-c.slots
	if !ok {
		return false
	}
	c.mu.Lock()
	if c.ok == nil || len(c.ok) >= hashCacheSize {
		c.ok = make(map[[32]byte]struct{})
	}
	c.ok[key] = struct{}{}
	c.mu.Unlock()
	return true
}

// internalUsers is the internal-users method.
type internalUsers struct {
	users []compiledUser
	cache *hashCache
}

// check answers r: allowed, or whether the credentials identified someone
// (a known user with the right password) who lacks the permission.
func (m *internalUsers) check(r *Request) (allowed, known bool, name string) {
	for i := range m.users {
		u := &m.users[i]
		if u.name == AnyUser {
			if r.PathUser != "" && (r.Action == ActionPublish || r.Action == ActionRead || r.Action == ActionPlayback) {
				continue // the path rule asks for credentials: no anonymous access
			}
			if u.grants(r) {
				return true, false, ""
			}
			continue
		}
		if r.User != u.name || !m.password(u, r) {
			continue
		}
		known = true
		if u.grants(r) {
			return true, true, u.name
		}
	}
	return false, known, ""
}

func (m *internalUsers) password(u *compiledUser, r *Request) bool {
	if r.Digest != nil {
		return DigestOK(u.ha1, r.Digest)
	}
	pass := r.Pass
	if u.pass == "" {
		return false // a Digest-only user
	}
	if u.hashed {
		return m.cache.verify(u.pass, pass)
	}
	return equalSecret(u.pass, pass)
}
