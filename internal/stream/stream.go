package stream

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Mode chooses what the writer does when a reader falls behind.
type Mode int

const (
	// Live never blocks the writer: slow readers skip forward.
	Live Mode = iota
	// Lossless makes the writer wait for the slowest reader, for files
	// processed at full speed where every unit must reach every consumer.
	Lossless
)

// DefaultRingSize is the ring capacity in units when Options leave it zero:
// about 13 s of 30 fps video with 48 kHz AAC, enough for a 10 s GOP cache.
const DefaultRingSize = 1024

// Options tune a Stream.
type Options struct {
	// RingSize is the ring capacity in units, rounded up to a power of two.
	RingSize int
	// Mode is Live or Lossless.
	Mode Mode
}

// Stream is one path's live session: its tracks and the ring of units that
// every reader consumes. One publisher goroutine calls Write; any number of
// readers read concurrently.
type Stream struct {
	path    string
	tracks  []*Track
	mode    Mode
	created time.Time

	ring ring

	mu      sync.Mutex
	readers map[*Reader]struct{}
	out     map[string]*atomic.Uint64 // bytes read, by reader protocol
	err     error

	done     chan struct{}
	closed   atomic.Bool
	unitsIn  atomic.Uint64
	bytesIn  atomic.Uint64
	overruns atomic.Uint64
	hasVideo bool

	keyReq atomic.Pointer[func()]
}

// SetKeyframeRequester registers how to ask the source for a new keyframe
// (an RTCP PLI to a WebRTC publisher, a restart of a transcoder). Publishers
// that cannot honour such requests leave it unset.
func (s *Stream) SetKeyframeRequester(f func()) { s.keyReq.Store(&f) }

// RequestKeyframe asks the source for a keyframe, when it can give one; a
// player that lost packets or just joined calls it.
func (s *Stream) RequestKeyframe() {
	if f := s.keyReq.Load(); f != nil && *f != nil {
		(*f)()
	}
}

// New creates a stream for path with the given tracks. Track IDs are set to
// their index.
func New(path string, tracks []*Track, opts Options) *Stream {
	s := &Stream{
		path:    path,
		tracks:  tracks,
		mode:    opts.Mode,
		created: time.Now(),
		readers: make(map[*Reader]struct{}),
		out:     make(map[string]*atomic.Uint64),
		done:    make(chan struct{}),
	}
	for i, t := range tracks {
		if t.ID != i { // a track shared with another stream keeps its index unwritten
			t.ID = i
		}
		if t.IsVideo() {
			s.hasVideo = true
		}
	}
	s.ring.init(opts.RingSize, &s.mu)
	return s
}

// Path returns the path the stream is published on.
func (s *Stream) Path() string { return s.path }

// Tracks returns the stream's tracks. The slice must not be modified.
func (s *Stream) Tracks() []*Track { return s.tracks }

// Mode returns the stream's writer mode.
func (s *Stream) Mode() Mode { return s.mode }

// Created returns when the stream was published.
func (s *Stream) Created() time.Time { return s.created }

// Done is closed when the stream ends, by its publisher or by the hub.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Err returns why the stream ended (nil while it runs, or after a normal
// close by its publisher).
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Write appends u to the ring and wakes waiting readers. In live mode it
// never blocks; in lossless mode it waits while the slowest reader is a
// whole ring behind. u must not be modified afterwards.
func (s *Stream) Write(u *Unit) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.mode == Lossless && !s.waitSpace() {
		return ErrClosed
	}
	key := u.Key && (u.Track.IsVideo() || !s.hasVideo)
	s.ring.push(u, key)
	n := s.unitsIn.Add(1)
	s.bytesIn.Add(uint64(u.Size()))
	if s.mode == Live && (key || n%releaseEvery == 0) {
		s.releaseRead()
	}
	return nil
}

// releaseEvery is how many units a live stream writes between releases of
// the units every reader has passed (also done at every start point).
const releaseEvery = 32

// releaseRead lets go of units that no reader will read again and that are
// older than the newest start point, which a new reader would start at:
// with readers keeping up, the ring then holds about one GOP instead of
// its whole capacity (13 s of video by default), which is most of a live
// stream's memory. A reader that falls behind still keeps up to a ring of
// units, as before. Lossless streams keep everything, since a new reader
// starts at their oldest unit.
func (s *Stream) releaseRead() {
	head := s.ring.head.Load()
	low := head
	if k := s.ring.lastKey.Load(); k > 0 {
		low = k - 1
	}
	s.mu.Lock()
	for r := range s.readers {
		low = min(low, r.pos.Load())
	}
	s.mu.Unlock()
	s.ring.release(low)
}

// waitSpace blocks until writing one more unit would not overwrite a unit
// some reader has yet to read. It reports false if the stream closed.
func (s *Stream) waitSpace() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed.Load() {
			return false
		}
		s.ring.writerWaiting.Store(true)
		head := s.ring.head.Load()
		full := false
		for r := range s.readers {
			if head-r.pos.Load() >= s.ring.size() {
				full = true
				break
			}
		}
		if !full {
			s.ring.writerWaiting.Store(false)
			return true
		}
		s.ring.space.Wait()
	}
}

// Close ends the stream normally: readers drain what is in the ring and then
// get io.EOF. Closing twice is harmless.
func (s *Stream) Close() { s.CloseWithError(nil) }

// CloseWithError ends the stream and records why (ErrKicked, a protocol
// error); Err returns it afterwards.
func (s *Stream) CloseWithError(err error) {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return
	}
	s.err = err
	s.closed.Store(true)
	s.ring.data.Broadcast()
	s.ring.space.Broadcast()
	s.mu.Unlock()
	close(s.done)
}

// NewReader attaches a consumer. It starts at the newest keyframe still in
// the ring (the GOP cache), so its first unit is decodable at once; with no
// keyframe yet it waits for the next one. In lossless mode it starts at the
// oldest unit in the ring. The reader is closed when ctx ends or by Close.
func (s *Stream) NewReader(ctx context.Context, opts ReaderOptions) *Reader {
	r := &Reader{s: s, opts: opts}
	s.mu.Lock()
	head := s.ring.head.Load()
	switch {
	case s.mode == Lossless:
		if head > s.ring.size() {
			r.cursor = head - s.ring.size()
		}
	default:
		if k, ok := s.ring.lastKeyInRing(head); ok {
			r.cursor = k
		} else {
			r.cursor = head
			r.needKey = s.hasVideo
		}
	}
	r.pos.Store(r.cursor)
	c, ok := s.out[opts.Protocol]
	if !ok {
		c = new(atomic.Uint64)
		s.out[opts.Protocol] = c
	}
	r.bytesOut = c
	s.readers[r] = struct{}{}
	if ctx != nil {
		// set under the lock: Close may run at once if ctx is done already
		r.stop = context.AfterFunc(ctx, r.Close)
	}
	s.mu.Unlock()
	return r
}

func (s *Stream) removeReader(r *Reader) {
	s.mu.Lock()
	if r.stop != nil {
		r.stop()
	}
	delete(s.readers, r)
	s.ring.data.Broadcast()
	s.ring.space.Broadcast()
	s.mu.Unlock()
}

// Stats is a snapshot of a stream's counters for the API and metrics.
type Stats struct {
	UnitsIn, BytesIn uint64
	// Overruns counts reader skips caused by falling a ring behind.
	Overruns uint64
	// Readers counts attached readers by protocol.
	Readers map[string]int
	// BytesOut counts payload bytes handed to readers, by protocol.
	BytesOut map[string]uint64
	// PerReader lists each attached reader, so one slow consumer can be
	// told apart from the others.
	PerReader []ReaderStats
}

// ReaderStats are one reader's counters.
type ReaderStats struct {
	Protocol string `json:"protocol"`
	// Overruns counts the times this reader fell a ring behind.
	Overruns uint64 `json:"overruns"`
	// Lag is how many units the reader is behind the writer.
	Lag uint64 `json:"lag"`
}

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	st := Stats{
		UnitsIn:  s.unitsIn.Load(),
		BytesIn:  s.bytesIn.Load(),
		Overruns: s.overruns.Load(),
		Readers:  make(map[string]int),
		BytesOut: make(map[string]uint64),
	}
	s.mu.Lock()
	head := s.ring.head.Load()
	for r := range s.readers {
		st.Readers[r.opts.Protocol]++
		var lag uint64
		if p := r.pos.Load(); head > p {
			lag = head - p
		}
		st.PerReader = append(st.PerReader, ReaderStats{Protocol: r.opts.Protocol, Overruns: r.overruns.Load(), Lag: lag})
	}
	for p, c := range s.out {
		st.BytesOut[p] = c.Load()
	}
	s.mu.Unlock()
	return st
}
