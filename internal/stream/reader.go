package stream

import (
	"io"
	"sync/atomic"
)

// ReaderOptions describe a consumer, for metrics and its overrun policy.
type ReaderOptions struct {
	// Protocol labels the reader in stats: "rtmp", "hls", "recorder"...
	Protocol string
	// DropOnOverrun makes Read fail with ErrOverrun when the reader falls a
	// whole ring behind, instead of skipping to the newest keyframe.
	DropOnOverrun bool
	// OnOverrun, if set, is called from Read with the number of units
	// skipped each time the reader is moved forward.
	OnOverrun func(skipped uint64)
}

// Reader is one consumer's cursor into a Stream's ring. A Reader is used by
// one goroutine; Close may be called from any.
type Reader struct {
	s        *Stream
	opts     ReaderOptions
	cursor   uint64
	pos      atomic.Uint64 // cursor published for a lossless writer and Stats
	needKey  bool
	overruns atomic.Uint64
	bytesOut *atomic.Uint64
	closed   atomic.Bool
	stop     func() bool
}

// Stream returns the stream the reader is attached to.
func (r *Reader) Stream() *Stream { return r.s }

// Overruns returns how many times the reader fell a ring behind.
func (r *Reader) Overruns() uint64 { return r.overruns.Load() }

// Read returns the next unit, waiting for one if the reader is caught up. It
// returns io.EOF once the stream has ended and the ring is drained, and
// ErrReaderClosed after Close.
func (r *Reader) Read() (*Unit, error) {
	s := r.s
	g := &s.ring
	for {
		if r.closed.Load() {
			return nil, ErrReaderClosed
		}
		head := g.head.Load()
		if r.cursor >= head {
			if s.closed.Load() {
				if r.cursor >= g.head.Load() {
					return nil, io.EOF
				}
				continue
			}
			r.wait()
			continue
		}
		var u *Unit
		if head-r.cursor <= g.size() {
			u = g.slots[r.cursor&g.mask].load(r.cursor)
		}
		if u == nil {
			if err := r.overrun(head); err != nil {
				return nil, err
			}
			continue
		}
		r.cursor++
		r.pos.Store(r.cursor)
		if s.mode == Lossless {
			if g.writerWaiting.Load() {
				g.space.L.Lock()
				g.space.Signal()
				g.space.L.Unlock()
			}
		}
		if r.needKey {
			if !u.Key || (s.hasVideo && !u.Track.IsVideo()) {
				continue
			}
			r.needKey = false
		}
		r.bytesOut.Add(uint64(u.Size()))
		return u, nil
	}
}

// overrun moves a reader that fell a ring behind to the newest keyframe, or
// fails it if its policy says so.
func (r *Reader) overrun(head uint64) error {
	r.overruns.Add(1)
	r.s.overruns.Add(1)
	if r.opts.DropOnOverrun {
		return ErrOverrun
	}
	from := r.cursor
	if k, ok := r.s.ring.lastKeyInRing(head); ok && k > r.cursor {
		r.cursor = k
	} else {
		r.cursor = head
		r.needKey = r.s.hasVideo
	}
	r.pos.Store(r.cursor)
	if r.opts.OnOverrun != nil {
		r.opts.OnOverrun(r.cursor - from)
	}
	return nil
}

// wait sleeps until the writer publishes past the cursor, the stream ends or
// the reader is closed.
func (r *Reader) wait() {
	g := &r.s.ring
	g.data.L.Lock()
	g.waiting.Add(1)
	for r.cursor >= g.head.Load() && !r.s.closed.Load() && !r.closed.Load() {
		g.data.Wait()
	}
	g.waiting.Add(-1)
	g.data.L.Unlock()
}

// Close detaches the reader; a Read in progress returns ErrReaderClosed.
func (r *Reader) Close() {
	if r.closed.Swap(true) {
		return
	}
	r.s.removeReader(r)
}
