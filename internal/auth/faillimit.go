package auth

import (
	"net"
	"sync"
	"time"
)

// FailLimit slows down and then refuses clients that keep failing to log
// in, counted per client IP over Window.
type FailLimit struct {
	// Window is how long a failure counts (default 1m).
	Window time.Duration
	// DelayAfter failures in the window, each further failed answer is
	// held back by Delay (defaults 3 and 1s).
	DelayAfter int
	Delay      time.Duration
	// BlockAfter failures in the window, requests with credentials from the
	// IP are refused outright until the window passes (default 10).
	BlockAfter int
}

func (f FailLimit) withDefaults() FailLimit {
	if f.Window <= 0 {
		f.Window = time.Minute
	}
	if f.DelayAfter <= 0 {
		f.DelayAfter = 3
	}
	if f.Delay < 0 {
		f.Delay = 0
	}
	if f.BlockAfter <= 0 {
		f.BlockAfter = 10
	}
	return f
}

type failures struct {
	n     int
	since time.Time
}

// failLimiter counts failures per IP.
type failLimiter struct {
	cfg FailLimit
	mu  sync.Mutex
	ips map[string]*failures
}

const failTableSize = 65536

func newFailLimiter(cfg FailLimit) *failLimiter {
	return &failLimiter{cfg: cfg.withDefaults(), ips: make(map[string]*failures)}
}

// count returns the failures of ip in the current window.
func (l *failLimiter) count(ip string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.ips[ip]
	if !ok || now.Sub(f.since) > l.cfg.Window {
		return 0
	}
	return f.n
}

// blocked reports whether ip must be refused without checking.
func (l *failLimiter) blocked(ip string) bool {
	return l.count(ip, time.Now()) >= l.cfg.BlockAfter
}

// fail records a failure of ip and returns how long to hold the answer.
func (l *failLimiter) fail(ip string) time.Duration {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.ips[ip]
	if !ok || now.Sub(f.since) > l.cfg.Window {
		if len(l.ips) >= failTableSize {
			l.prune(now)
		}
		f = &failures{since: now}
		l.ips[ip] = f
	}
	f.n++
	if f.n > l.cfg.DelayAfter {
		return l.cfg.Delay
	}
	return 0
}

// prune drops expired entries; when none expired it starts afresh rather
// than grow without bound.
func (l *failLimiter) prune(now time.Time) {
	for ip, f := range l.ips {
		if now.Sub(f.since) > l.cfg.Window {
			delete(l.ips, ip)
		}
	}
	if len(l.ips) >= failTableSize {
		l.ips = make(map[string]*failures)
	}
}

// hostOnly strips a port from a host:port address.
func hostOnly(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
