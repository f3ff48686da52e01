package recorder

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// tsSession is the MPEG-TS muxer of one recording session, shared by its
// segments so that continuity counters go on from one file to the next: the
// files of a session then play back to back (HLS, concatenation) without a
// corrupt packet at each boundary. Its buffer is switched to the file of
// the segment being written, flushed before every switch.
type tsSession struct {
	out switchWriter
	bw  *bufio.Writer
	mux *tsconv.Muxer
}

// switchWriter forwards to the current segment's file.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// target makes w the destination of what is written next.
func (ts *tsSession) target(w io.Writer) error {
	if ts.out.w == w {
		return nil
	}
	err := ts.bw.Flush()
	ts.out.w = w
	return err
}

// tsWriter writes an MPEG-TS segment with the session's TS muxer (which
// also repeats the parameter sets on keyframes, so a segment of a
// publisher that sends them out of band still decodes), through a buffer
// flushed once per part, so the disk sees one write per part as with fMP4.
// Each segment's timestamps start again at the muxer's origin (one
// second): the segment is a clip of its own.
type tsWriter struct {
	cw   *countingWriter
	ts   *tsSession
	part time.Duration

	started   bool
	segStart  time.Duration
	partStart time.Duration
	inPart    bool
	maxEnd    time.Duration
	lastVideo time.Duration
	videoDur  time.Duration
	hasVideo  bool
}

func newTSWriter(w io.Writer, tracks []*stream.Track, part time.Duration, ts *tsSession) (*tsWriter, error) {
	t := &tsWriter{cw: &countingWriter{w: w}, part: part, ts: ts}
	if ts.mux == nil {
		ts.bw = bufio.NewWriterSize(&ts.out, 256<<10)
		mux, err := tsconv.NewMuxer(ts.bw, tracks)
		if err != nil {
			return nil, fmt.Errorf("mpegts muxer: %w", err)
		}
		ts.mux = mux
	}
	// A new file starts with a clean buffer: what an earlier, failed file
	// left unflushed is dropped along with its sticky error.
	if err := ts.bw.Flush(); err != nil {
		ts.bw.Reset(&ts.out)
	}
	ts.out.w = t.cw
	for _, st := range tracks {
		t.hasVideo = t.hasVideo || st.IsVideo()
	}
	return t, nil
}

func (t *tsWriter) written() int64          { return t.cw.n }
func (t *tsWriter) duration() time.Duration { return t.maxEnd }
func (t *tsWriter) initSize() int64         { return 0 }

func (t *tsWriter) write(u *stream.Unit) error {
	if len(u.Payload) == 0 {
		return nil
	}
	if !t.started {
		t.started = true
		t.segStart = u.DTS
	}
	if !t.inPart {
		t.inPart = true
		t.partStart = u.DTS
	}
	if err := t.ts.target(t.cw); err != nil {
		return err
	}
	// The unit is shared with other readers: shift a copy onto the
	// segment's timeline.
	v := *u
	v.DTS -= t.segStart
	v.PTS -= t.segStart
	if err := t.ts.mux.WriteUnit(&v); err != nil {
		return err
	}
	if u.Track.IsVideo() || !t.hasVideo {
		rel := u.DTS - t.segStart
		if t.lastVideo != 0 && rel > t.lastVideo {
			t.videoDur = rel - t.lastVideo
		}
		t.lastVideo = rel
		t.maxEnd = max(t.maxEnd, rel+t.videoDur)
	}
	if u.DTS-t.partStart >= t.part {
		t.inPart = false
		return t.ts.bw.Flush()
	}
	return nil
}

func (t *tsWriter) finish(next time.Duration) error {
	if next >= 0 && t.started && t.hasVideo {
		t.maxEnd = max(t.maxEnd, next-t.segStart)
	}
	if err := t.ts.target(t.cw); err != nil {
		return err
	}
	return t.ts.bw.Flush()
}
