package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// progress reports operation progress: a redrawn bar on a terminal, and a
// plain line per operation and per 10% otherwise, so logs stay readable.
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	op   string
	last int // last decile printed in plain mode
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, last: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(op string, pct float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op != p.op {
		if p.tty && p.op != "" {
			fmt.Fprintln(p.w)
		}
		p.op, p.last = op, -1
	}
	pct = min(max(pct, 0), 100)
	if p.tty {
		const width = 30
		n := int(pct / 100 * width)
		fmt.Fprintf(p.w, "\r%-16s [%s%s] %5.1f%%", op, strings.Repeat("#", n), strings.Repeat(" ", width-n), pct)
		return
	}
	if d := int(pct / 10); d > p.last {
		p.last = d
		fmt.Fprintf(p.w, "%s: %.0f%%\n", op, pct)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.op != "" {
		fmt.Fprintln(p.w)
	}
}
