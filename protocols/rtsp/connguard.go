package rtsp

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// guardListener wraps accepted connections in guardedConn.
type guardListener struct {
	net.Listener
	timeout time.Duration
}

func (l *guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardedConn{Conn: c, timeout: l.timeout}, nil
}

// guardedConn bounds how long an RTSP connection may stay silent before it
// plays or records. gortsplib reads requests with no deadline, so a client
// that sends garbage or half a request would otherwise hold a connection
// forever. Once the connection starts a PLAY or RECORD it is released to
// gortsplib's own timeouts, since an active session's control connection
// may legitimately stay quiet (UDP transport) for long.
type guardedConn struct {
	net.Conn
	timeout time.Duration
	active  atomic.Bool

	mu      sync.Mutex
	want    time.Time // the read deadline gortsplib asked for
	imposed bool      // our deadline is set on the socket
}

// release hands the connection over to gortsplib's timeouts.
func (c *guardedConn) release() { c.active.Store(true) }

func (c *guardedConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	switch {
	case !c.active.Load():
		d := time.Now().Add(c.timeout)
		if !c.want.IsZero() && c.want.Before(d) {
			d = c.want
		}
		_ = c.Conn.SetReadDeadline(d)
		c.imposed = true
	case c.imposed:
		_ = c.Conn.SetReadDeadline(c.want)
		c.imposed = false
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

func (c *guardedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = t
	return c.Conn.SetReadDeadline(t)
}

func (c *guardedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.want = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// releaseConn releases the guard of a gortsplib connection, if it has one.
func releaseConn(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok { // RTSPS
		nc = tc.NetConn()
	}
	if g, ok := nc.(*guardedConn); ok {
		g.release()
	}
}
