package hls

import (
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// part is one LL-HLS partial segment: a moof+mdat pair.
type part struct {
	dur         time.Duration
	independent bool
	data        []byte // nil once dropped from memory (old DVR segments)
}

// segment is one complete (or, for cur, growing) media segment.
type segment struct {
	msn   uint64
	rel   time.Duration // media time of the start, from the muxer's origin
	dur   time.Duration
	parts []*part // fMP4 only: the segment is the sequence of its parts
	data  []byte  // MPEG-TS only: the whole segment; nil when only on disk
	file  string  // on disk (DVR), "" if not
	size  int64
	// frames counts video samples, for FRAME-RATE.
	frames int
	// discontinuity marks the first segment of a muxer that follows an
	// earlier stream on the same path (EXT-X-DISCONTINUITY).
	discontinuity bool
}

// timeline is the shared state of one muxer: what the segmenter produced
// and what HTTP requests read. Every field is guarded by mu; notify is
// closed and replaced on each change so waiters can select on it.
type timeline struct {
	mu     sync.Mutex
	notify chan struct{}

	init     []byte     // fMP4 init segment
	segments []*segment // complete segments in the window, oldest first
	cur      *segment   // segment being built (parts so far), nil before start
	nextMSN  uint64     // msn of the next segment to start
	ended    bool       // the stream ended; the playlist is final
	closed   bool       // the muxer stopped; nothing more will come

	// t0 is the stream time of media time zero, for live subtitles.
	t0 time.Duration

	// targetDur only grows, so EXT-X-TARGETDURATION never shrinks.
	targetDur int
	// partTarget is the configured part duration, the PART-TARGET until
	// a part exists. partMax is the longest part so far, rounded up to the
	// millisecond; it only grows. Parts are cut on frame boundaries, so
	// they are often shorter than configured (80 ms of 25 fps video for
	// 100 ms): the PART-TARGET is then what they last, so that they stay
	// within 85% of it as RFC 8216bis 4.4.4.9 requires, and
	// PART-HOLD-BACK, which players sit behind the live edge, is no longer
	// than it must be.
	partTarget time.Duration
	partMax    time.Duration
	version    uint64
	// origin is the wall-clock time of media time zero; segment dates are
	// origin + rel, so they stay consistent with the durations.
	origin time.Time

	// discSeq is the discontinuity sequence number of this timeline's
	// segments: one more than the previous muxer's of the path.
	discSeq int

	keep     int // complete segments to keep; 0 keeps all (VOD)
	partKeep int // newest complete segments whose parts stay listed
	dvrDir   string
	onEvict  func(*segment)
	// firstSeen is closed once startAfter segments are complete (or the
	// stream ended): the first playlist request waits for it.
	firstSeen  chan struct{}
	hasFirst   bool
	startAfter int
}

func newTimeline(keep, partKeep, startAfter int, partTarget time.Duration, dvrDir string) *timeline {
	return &timeline{
		startAfter: startAfter,
		notify:     make(chan struct{}),
		keep:       keep,
		partKeep:   partKeep,
		partTarget: partTarget,
		dvrDir:     dvrDir,
		firstSeen:  make(chan struct{}),
	}
}

// changed wakes every waiter; mu must be held.
func (t *timeline) changed() {
	t.version++
	close(t.notify)
	t.notify = make(chan struct{})
}

func (t *timeline) setInit(b []byte) {
	t.mu.Lock()
	t.init = b
	t.changed()
	t.mu.Unlock()
}

// startSegment opens a new segment at media time rel; origin is the
// current wall-clock time of media time zero.
func (t *timeline) startSegment(rel time.Duration, origin time.Time) {
	t.mu.Lock()
	t.origin = origin
	t.cur = &segment{msn: t.nextMSN, rel: rel, discontinuity: t.discSeq > 0 && t.cur == nil && len(t.segments) == 0}
	t.nextMSN++
	t.changed()
	t.mu.Unlock()
}

// partTargetNow is the PART-TARGET: the longest part so far, or the
// configured part duration before the first. mu must be held.
func (t *timeline) partTargetNow() time.Duration {
	if t.partMax > 0 {
		return t.partMax
	}
	return t.partTarget
}

// addPart appends a part to the current segment and publishes it.
func (t *timeline) addPart(p *part, frames int) {
	t.mu.Lock()
	t.cur.parts = append(t.cur.parts, p)
	t.cur.size += int64(len(p.data))
	t.cur.frames += frames
	if p.dur > t.partMax {
		t.partMax = p.dur.Round(time.Millisecond)
		if t.partMax < p.dur {
			t.partMax += time.Millisecond
		}
	}
	t.changed()
	t.mu.Unlock()
}

// finishSegment closes the current segment. An fMP4 segment is its parts:
// it is served (and written to a DVR file) as their sequence, never copied
// into one buffer. An MPEG-TS segment's data is given. With a DVR
// directory the segment is written to disk first.
func (t *timeline) finishSegment(dur time.Duration, tsData []byte, frames int) error {
	t.mu.Lock()
	seg := t.cur
	t.mu.Unlock()
	if seg == nil {
		return nil
	}
	// The parts of a closed segment no longer change: read them unlocked.
	bufs := net.Buffers{tsData}
	size := int64(len(tsData))
	if tsData == nil {
		bufs = make(net.Buffers, len(seg.parts))
		size = 0
		for i, p := range seg.parts {
			bufs[i] = p.data
			size += int64(len(p.data))
		}
	}
	file := ""
	var werr error
	if t.dvrDir != "" {
		file = segmentFile(t.dvrDir, seg.msn)
		if err := writeBuffers(file, bufs); err != nil {
			// Keep serving it from memory; the caller logs the error.
			file = ""
			werr = fmt.Errorf("write DVR segment %d: %w", seg.msn, err)
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	seg.data = tsData
	seg.dur = dur
	seg.file = file
	seg.size = size
	seg.frames += frames
	t.segments = append(t.segments, seg)
	t.cur = nil
	if r := int(dur.Seconds() + 0.5); r > t.targetDur {
		t.targetDur = r
	}
	if t.targetDur < 1 {
		t.targetDur = 1
	}
	// Drop what left the window, and the in-memory copy of DVR segments
	// that no longer need their parts listed.
	if t.keep > 0 {
		for len(t.segments) > t.keep {
			old := t.segments[0]
			t.segments[0] = nil
			t.segments = t.segments[1:]
			if t.onEvict != nil {
				t.onEvict(old)
			}
		}
	}
	if n := len(t.segments) - t.partKeep - 1; n >= 0 && t.segments[n].file != "" {
		s := t.segments[n]
		s.data = nil
		for _, p := range s.parts {
			p.data = nil
		}
	}
	if !t.hasFirst && len(t.segments) >= t.startAfter {
		t.hasFirst = true
		close(t.firstSeen)
	}
	t.changed()
	return werr
}

// writeBuffers writes bufs to a new file name (one write per buffer, no
// copy into one).
func writeBuffers(name string, bufs net.Buffers) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = bufs.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// end marks the playlist final (a file finished).
func (t *timeline) end() {
	t.mu.Lock()
	t.ended = true
	if !t.hasFirst && len(t.segments) > 0 {
		t.hasFirst = true
		close(t.firstSeen)
	}
	t.changed()
	t.mu.Unlock()
}

// continueFrom makes this timeline follow prev's on the same path: its
// media sequence numbers go on from prev's and its first segment starts a
// new discontinuity, so a player that reloads the playlist across a new
// publisher sees the sequence go forward instead of restarting. Called
// before the first segment.
func (t *timeline) continueFrom(prev *timeline) {
	prev.mu.Lock()
	next, disc, had := prev.nextMSN, prev.discSeq, prev.nextMSN > 0
	prev.mu.Unlock()
	if !had {
		return
	}
	t.mu.Lock()
	t.nextMSN, t.discSeq = next, disc+1
	t.mu.Unlock()
}

// close wakes every waiter for good.
func (t *timeline) close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		t.changed()
	}
	t.mu.Unlock()
}

// find returns the complete segment msn, or nil.
func (t *timeline) find(msn uint64) *segment {
	if len(t.segments) == 0 {
		return nil
	}
	first := t.segments[0].msn
	if msn < first || msn-first >= uint64(len(t.segments)) {
		return nil
	}
	return t.segments[msn-first]
}

// wait blocks until cond (called with mu held) holds, the muxer closes or
// ctx/timeout ends. It reports whether cond held.
func (t *timeline) wait(done <-chan struct{}, timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		t.mu.Lock()
		ok := cond()
		ch := t.notify
		closed := t.closed
		t.mu.Unlock()
		if ok {
			return true
		}
		if closed {
			return false
		}
		select {
		case <-ch:
		case <-done:
			return false
		case <-timer.C:
			return false
		}
	}
}
