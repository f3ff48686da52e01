package server

import (
	"context"
	"sync"
	"time"

	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// rateMeter samples each stream's input byte counter every interval so the
// API can show a current bitrate rather than an average since start.
type rateMeter struct {
	mu    sync.Mutex
	last  map[*stream.Stream]sample
	rates map[*stream.Stream]int64
}

type sample struct {
	at    time.Time
	bytes uint64
}

func newRateMeter() *rateMeter {
	return &rateMeter{last: make(map[*stream.Stream]sample), rates: make(map[*stream.Stream]int64)}
}

const rateInterval = 2 * time.Second

func (m *rateMeter) run(ctx context.Context, paths *pathmgr.Manager) {
	t := time.NewTicker(rateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.sample(now, paths.Streams())
		}
	}
}

func (m *rateMeter) sample(now time.Time, live []*stream.Stream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := make(map[*stream.Stream]bool, len(live))
	for _, st := range live {
		seen[st] = true
		b := st.Stats().BytesIn
		if prev, ok := m.last[st]; ok {
			if dt := now.Sub(prev.at).Seconds(); dt > 0 {
				m.rates[st] = int64(float64(b-prev.bytes) * 8 / dt)
			}
		}
		m.last[st] = sample{at: now, bytes: b}
	}
	for st := range m.last {
		if !seen[st] {
			delete(m.last, st)
			delete(m.rates, st)
		}
	}
}

// rate returns the stream's input bitrate in bits/s, or its average since
// start until the first interval has passed.
func (m *rateMeter) rate(st *stream.Stream) int64 {
	m.mu.Lock()
	r, ok := m.rates[st]
	m.mu.Unlock()
	if ok {
		return r
	}
	if d := time.Since(st.Created()).Seconds(); d > 0.2 {
		return int64(float64(st.Stats().BytesIn) * 8 / d)
	}
	return 0
}
