package rtsp

import (
	"log/slog"
	"sync"
	"time"
)

// logLimiter logs a recurring warning (decode errors, lost packets) at most
// once per interval with the count since the last line, so a broken source
// cannot flood the log.
type logLimiter struct {
	log      *slog.Logger
	interval time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newLogLimiter(log *slog.Logger) *logLimiter {
	return &logLimiter{log: log, interval: 5 * time.Second}
}

func (l *logLimiter) warn(msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.suppressed = 0
	l.last = now
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Warn(msg, args...)
}
