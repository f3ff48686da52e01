package srt

import (
	"io"
	"time"
)

// idleReader closes the connection when no data came for timeout, because
// gosrt ignores read deadlines and keepalives keep a silent peer alive.
type idleReader struct {
	r       io.Reader
	timeout time.Duration
	timer   *time.Timer
}

func newIdleReader(r io.ReadCloser, timeout time.Duration) *idleReader {
	return &idleReader{r: r, timeout: timeout, timer: time.AfterFunc(timeout, func() { r.Close() })}
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.timer.Reset(i.timeout)
	}
	return n, err
}

// stop disarms the watchdog.
func (i *idleReader) stop() { i.timer.Stop() }
