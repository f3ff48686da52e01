// Package netlimit caps the connections a listener holds, in total and per
// client IP, so one client (or one address behind many sockets) cannot use
// up the server's file descriptors and lock everyone else out. A refused
// connection is told why when the protocol has a way to say it (HTTP gets
// a 503) and closed at once; refusals are counted and logged at most once
// a second.
package netlimit

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits configures a Listener. Zero fields are unlimited.
type Limits struct {
	// Max is the most connections open at once.
	Max int
	// PerIP is the most connections open at once from one client address.
	PerIP int
	// Refuse, when set, is called with a refused connection before it is
	// closed, to answer in the protocol's own terms (reason is "total" or
	// "per_ip"). It must not block for long: the accept loop waits on it.
	Refuse func(c net.Conn, reason string)
	// WriteTimeout, when positive, bounds every write: a connection whose
	// peer stops reading is cut after it, whatever deadline the protocol
	// set (an HTTP response to a client that stalls, a player that stopped
	// reading).
	WriteTimeout time.Duration
	// WriteBuffer, when positive, sets each connection's socket send
	// buffer. The kernel otherwise grows it to megabytes, which a player
	// that stopped reading fills for a minute before a write blocks and
	// WriteTimeout can act; a fixed buffer bounds both that delay and the
	// memory such a client holds.
	WriteBuffer int
	// Name labels log lines (the protocol).
	Name string
	// Log receives refusal warnings; nil discards them.
	Log *slog.Logger
}

// Listener wraps a net.Listener with Limits.
type Listener struct {
	net.Listener
	lim Limits

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int

	refused  atomic.Int64
	lastWarn atomic.Int64 // unix nanoseconds
}

// Wrap returns ln limited by lim.
func Wrap(ln net.Listener, lim Limits) *Listener {
	if lim.Log == nil {
		lim.Log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, lim: lim, perIP: map[netip.Addr]int{}}
}

// Accept returns the next connection within the limits; connections over
// them are refused and closed here and never reach the caller.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if reason := l.admit(ip); reason != "" {
			l.refuse(c, ip, reason)
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok && l.lim.WriteBuffer > 0 {
			_ = tc.SetWriteBuffer(l.lim.WriteBuffer)
		}
		return &conn{Conn: c, l: l, ip: ip, wt: l.lim.WriteTimeout}, nil
	}
}

// Open returns the connections open now, in total and from ip.
func (l *Listener) Open(ip netip.Addr) (total, fromIP int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.perIP[ip.Unmap()]
}

// Refused returns how many connections were refused so far.
func (l *Listener) Refused() int64 { return l.refused.Load() }

func (l *Listener) admit(ip netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim.Max > 0 && l.total >= l.lim.Max {
		return "total"
	}
	if l.lim.PerIP > 0 && l.perIP[ip] >= l.lim.PerIP {
		return "per_ip"
	}
	l.total++
	l.perIP[ip]++
	return ""
}

func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if n := l.perIP[ip] - 1; n > 0 {
		l.perIP[ip] = n
	} else {
		delete(l.perIP, ip)
	}
}

func (l *Listener) refuse(c net.Conn, ip netip.Addr, reason string) {
	n := l.refused.Add(1)
	if l.lim.Refuse != nil {
		_ = c.SetDeadline(time.Now().Add(time.Second))
		l.lim.Refuse(c, reason)
	}
	_ = c.Close()
	now := time.Now().UnixNano()
	if last := l.lastWarn.Load(); now-last > int64(time.Second) && l.lastWarn.CompareAndSwap(last, now) {
		l.lim.Log.Warn("connection refused: limit reached", "protocol", l.lim.Name, "remote", ip.String(),
			"limit", reason, "max", l.lim.Max, "max_per_ip", l.lim.PerIP, "refused_total", n)
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// conn gives its slot back when closed and applies the write time-out.
type conn struct {
	net.Conn
	l    *Listener
	ip   netip.Addr
	wt   time.Duration
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

func (c *conn) Write(b []byte) (int, error) {
	if c.wt > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.wt))
	}
	return c.Conn.Write(b)
}

// HTTPRefusal answers a refused HTTP connection with a 503 and the reason,
// so a client sees why instead of a reset.
func HTTPRefusal(c net.Conn, reason string) {
	msg := "too many connections"
	if reason == "per_ip" {
		msg = "too many connections from your address"
	}
	_, _ = c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: " +
		strconv.Itoa(len(msg)+1) + "\r\n\r\n" + msg + "\n"))
}

// Counter caps sessions that do not come through a net.Listener (SRT's
// UDP handshakes): Acquire before accepting one, the returned release
// when it ends.
type Counter struct {
	l *Listener
}

// NewCounter returns a counter with lim's Max and PerIP.
func NewCounter(lim Limits) *Counter {
	return &Counter{l: Wrap(nopListener{}, lim)}
}

// ErrLimit is returned by Acquire when a limit is reached.
var ErrLimit = errors.New("connection limit reached")

// Acquire takes a slot for a session from addr or returns ErrLimit (and
// logs the refusal like a Listener does).
func (c *Counter) Acquire(addr net.Addr) (release func(), err error) {
	ip := netip.Addr{}
	if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		ip = ap.Addr().Unmap()
	}
	if reason := c.l.admit(ip); reason != "" {
		n := c.l.refused.Add(1)
		c.l.lim.Log.Warn("connection refused: limit reached", "protocol", c.l.lim.Name, "remote", ip.String(),
			"limit", reason, "refused_total", n)
		return nil, ErrLimit
	}
	return sync.OnceFunc(func() { c.l.release(ip) }), nil
}

type nopListener struct{}

func (nopListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (nopListener) Close() error              { return nil }
func (nopListener) Addr() net.Addr            { return &net.TCPAddr{} }
