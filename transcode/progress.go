package transcode

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"sync"
)

// progress holds the figures ffmpeg reports on its -progress pipe.
type progress struct {
	mu    sync.Mutex
	speed float64 // × realtime
	fps   float64
	frame int64
}

func (p *progress) get() (speed, fps float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed, p.fps
}

// read consumes ffmpeg's -progress output (key=value lines, a block per
// period ending in progress=continue|end) until EOF.
func (p *progress) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	for sc.Scan() {
		p.line(sc.Text())
	}
	_, _ = io.Copy(io.Discard, r) // keep ffmpeg from blocking on an over-long line
}

func (p *progress) line(l string) {
	k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
	if !ok {
		return
	}
	v = strings.TrimSpace(v)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch k {
	case "speed":
		if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "x"), 64); err == nil && f >= 0 {
			p.speed = f
		}
	case "fps":
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
			p.fps = f
		}
	case "frame":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.frame = n
		}
	}
}

// tail keeps the last bytes written to it: ffmpeg's stderr, whose end
// says why it failed.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

// lastLines returns the last n non-empty lines.
func (t *tail) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
