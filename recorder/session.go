package recorder

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// session records one stream: readLoop drains the ring into the queue and
// never waits on the disk; writeLoop turns the queue into segment files.
type session struct {
	m        *Manager
	path     string
	s        *stream.Stream
	rule     Rule
	tracks   []*stream.Track
	selected map[*stream.Track]bool
	hasVideo bool
	r        *stream.Reader
	q        *queue
	c        *counters
	log      *slog.Logger

	// writer goroutine only
	seg        *openSegment
	ts         tsSession
	il         *interleaver
	originSet  bool
	wallOrigin time.Time
	dtsOrigin  time.Duration
	failing    bool
	backoff    time.Duration
	retryAt    time.Time

	mu      sync.Mutex // guards the fields read by Stats
	curFile string
	curFail bool
}

// openSegment is the file being written.
type openSegment struct {
	f        *os.File
	w        segmentWriter
	entry    *Segment
	rel      string
	startDTS time.Duration
	size     int64
}

// newSession prepares the recording of s; the caller starts its loops.
// Called with m.mu held.
func (m *Manager) newSession(s *stream.Stream, rule Rule) (*session, error) {
	sess := &session{
		m: m, path: s.Path(), s: s, rule: rule, selected: map[*stream.Track]bool{},
		c: m.countersFor(s.Path()), log: m.log.With("path", s.Path()),
	}
	for _, t := range s.Tracks() {
		if !rule.wantsTrack(t) {
			continue
		}
		if !supported(rule.Format, t.Codec) {
			sess.log.Warn("track not recorded: the container cannot hold it", "track", t.String(), "format", rule.Format)
			continue
		}
		sess.tracks = append(sess.tracks, t)
		sess.selected[t] = true
		sess.hasVideo = sess.hasVideo || t.IsVideo()
	}
	sess.il = newInterleaver(sess.tracks)
	if len(sess.tracks) == 0 {
		return nil, fmt.Errorf("record %s as %s: %w", sess.path, rule.Format, errNoTracks)
	}
	if _, ok := formatExt[rule.Format]; !ok {
		return nil, fmt.Errorf("record %s: unknown format %q", sess.path, rule.Format)
	}
	sess.q = newQueue(rule.QueueBytes, sess.hasVideo, sess.c)
	sess.r = s.NewReader(m.ctx, stream.ReaderOptions{
		Protocol: "recorder",
		OnOverrun: func(skipped uint64) {
			sess.q.pushGap("recorder fell a ring behind the publisher", skipped)
			sess.reportLoss("recorder fell a ring behind the publisher")
		},
	})
	sess.log.Info("recording started", "format", rule.Format, "segment", rule.SegmentDuration, "part", rule.PartDuration)
	return sess, nil
}

// stop ends the recording: the reader stops, the writer drains the queue
// and finishes the open segment.
func (sess *session) stop() { sess.r.Close() }

func (sess *session) state() (file string, failing bool) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.curFile, sess.curFail
}

func (sess *session) readLoop() {
	defer sess.m.wg.Done()
	defer sess.q.close()
	for {
		u, err := sess.r.Read()
		if err != nil {
			return
		}
		if !sess.selected[u.Track] {
			continue
		}
		if sess.q.push(u) {
			sess.reportLoss("queue overflow: the disk is slower than the stream")
		}
	}
}

// reportLoss announces that units are being dropped; the writer closes the
// segment when it reaches the gap and resumes at the next keyframe.
func (sess *session) reportLoss(reason string) {
	sess.c.errors.Add(1)
	sess.log.Error("recording lost data", "reason", reason, "queue_bytes", sess.rule.QueueBytes)
	sess.m.bus.Publish(events.Event{Type: EventError, Path: sess.path, Data: map[string]any{
		"error": reason, "lost_units": sess.c.lostUnits.Load(), "lost_bytes": sess.c.lostBytes.Load(),
	}})
}

func (sess *session) writeLoop() {
	defer sess.m.wg.Done()
	defer sess.m.sessionEnded(sess)
	for {
		it, ok := sess.q.pop()
		if !ok {
			break
		}
		if it.gap != "" {
			sess.il.flush(sess.handle)
			sess.endSegment(-1)
			continue
		}
		// Units reach the segments in DTS order across tracks, so a cut
		// at a keyframe splits the audio there too.
		for _, u := range splitFrames(it.u) {
			sess.il.push(u, sess.handle)
		}
	}
	sess.il.flush(sess.handle)
	sess.endSegment(-1)
	sess.log.Info("recording stopped")
}

func (sess *session) handle(u *stream.Unit) {
	start := isStart(u, sess.hasVideo)
	if sess.seg != nil && start && u.DTS-sess.seg.startDTS >= sess.rule.SegmentDuration {
		sess.endSegment(u.DTS)
	}
	if sess.seg == nil {
		if !start {
			if sess.failing {
				sess.lose(u)
			}
			return
		}
		if sess.failing && time.Now().Before(sess.retryAt) {
			sess.lose(u)
			return
		}
		if err := sess.openSegment(u); err != nil {
			sess.diskError(err)
			sess.lose(u)
			return
		}
	}
	if err := sess.seg.w.write(u); err != nil {
		seg := sess.seg
		sess.seg = nil
		sess.abortSegment(seg)
		sess.diskError(err)
		sess.lose(u)
		return
	}
	sess.progress(sess.seg, true)
	// Failing ends when data reaches the disk again, not when a file
	// could merely be created (a full disk allows that).
	if sess.failing && sess.seg.size > 0 {
		sess.failing = false
		sess.setState(sess.seg.rel, false)
		sess.log.Info("recording resumed", "file", sess.seg.rel)
	}
}

func (sess *session) lose(u *stream.Unit) {
	sess.c.lostUnits.Add(1)
	sess.c.lostBytes.Add(uint64(u.Size()))
}

// openSegment creates the file for a segment starting with u.
func (sess *session) openSegment(u *stream.Unit) error {
	m := sess.m
	if !sess.originSet {
		sess.originSet = true
		sess.wallOrigin = u.Time
		if sess.wallOrigin.IsZero() {
			sess.wallOrigin = time.Now()
		}
		sess.dtsOrigin = u.DTS
	}
	// File names follow media time from the session's first unit, so
	// consecutive segments' names differ by exactly their durations.
	start := sess.wallOrigin.Add(u.DTS - sess.dtsOrigin).Truncate(time.Microsecond)
	var (
		f   *os.File
		rel string
		err error
	)
	for try := 0; try < 10; try++ {
		rel = m.tpl.render(sess.path, start, sess.rule.Format)
		abs := filepath.Join(m.cfg.Dir, filepath.FromSlash(rel))
		if err = os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return fmt.Errorf("create recording directory: %w", err)
		}
		f, err = os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			start = start.Add(time.Microsecond)
			continue
		}
		break
	}
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	var w io.Writer = f
	if m.cfg.WrapWriter != nil {
		w = m.cfg.WrapWriter(f.Name(), f)
	}
	sw, err := newSegmentWriter(sess.rule.Format, w, sess.tracks, sess.rule.PartDuration, &sess.ts)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	entry := &Segment{
		Path: sess.path, Name: filepath.Base(rel), Start: start, Format: sess.rule.Format,
		Recording: true, file: f.Name(),
	}
	m.ix.add(entry)
	m.journalSegment(entry, m.cfg.Rule(sess.path))
	sess.seg = &openSegment{f: f, w: sw, entry: entry, rel: rel, startDTS: u.DTS}
	sess.setState(rel, sess.failing)
	sess.log.Debug("segment started", "file", rel)
	m.bus.Publish(events.Event{Type: EventSegmentStarted, Path: sess.path, Data: map[string]any{
		"file": rel, "start": start.Format(time.RFC3339Nano),
	}})
	return nil
}

// progress publishes the open segment's growth to the index and counters.
func (sess *session) progress(seg *openSegment, recording bool) {
	n := seg.w.written()
	if n == seg.size && recording {
		return
	}
	sess.c.bytes.Add(uint64(n - seg.size))
	seg.size = n
	sess.m.ix.update(seg.entry, n, seg.w.duration(), seg.w.initSize(), recording)
}

// endSegment finishes the open segment; next is the DTS of the keyframe
// that starts the following one, or -1.
func (sess *session) endSegment(next time.Duration) {
	seg := sess.seg
	if seg == nil {
		return
	}
	sess.seg = nil
	sess.setState("", sess.failing)
	sess.closeSegment(seg, next)
}

// closeSegment finishes seg's file, publishes its final size and
// announces it.
func (sess *session) closeSegment(seg *openSegment, next time.Duration) {
	err := seg.w.finish(next)
	if err == nil {
		err = seg.f.Sync()
	}
	if cerr := seg.f.Close(); err == nil {
		err = cerr
	}
	sess.progress(seg, false)
	if seg.size == 0 {
		os.Remove(seg.f.Name())
		sess.m.ix.remove(seg.entry)
	}
	sess.m.segmentDone(seg.entry, seg.size)
	if err != nil {
		sess.diskError(err)
		return
	}
	if seg.size == 0 {
		return
	}
	sess.c.segments.Add(1)
	sess.log.Info("segment completed", "file", seg.rel, "duration", seg.w.duration(), "size", seg.size)
	sess.m.bus.Publish(events.Event{Type: EventSegmentCompleted, Path: sess.path, Data: map[string]any{
		"file": seg.rel, "start": seg.entry.Start.Format(time.RFC3339Nano),
		"duration": seg.w.duration().Seconds(), "size": seg.size,
	}})
}

// abortSegment closes seg after a write error, keeping what reached the
// disk.
func (sess *session) abortSegment(seg *openSegment) {
	seg.f.Close()
	sess.progress(seg, false)
	if seg.size == 0 {
		os.Remove(seg.f.Name())
		sess.m.ix.remove(seg.entry)
	}
	sess.m.segmentDone(seg.entry, seg.size)
}

// diskError stops writing until the next retry: the first failure of a
// run is announced, later ones back off up to RetryMax.
func (sess *session) diskError(err error) {
	cfg := sess.m.cfg
	if !sess.failing {
		sess.failing = true
		sess.backoff = cfg.RetryMin
		sess.c.errors.Add(1)
		sess.log.Error("recording stopped by a disk error; retrying", "error", err)
		sess.m.bus.Publish(events.Event{Type: EventError, Path: sess.path, Data: map[string]any{"error": err.Error()}})
	} else {
		sess.backoff = min(sess.backoff*2, cfg.RetryMax)
		sess.log.Warn("recording still failing", "error", err, "retry_in", sess.backoff)
	}
	sess.retryAt = time.Now().Add(sess.backoff)
	sess.setState("", true)
}

func (sess *session) setState(file string, failing bool) {
	sess.mu.Lock()
	sess.curFile, sess.curFail = file, failing
	sess.mu.Unlock()
}
