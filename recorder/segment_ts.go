package recorder

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// tsWriter writes an MPEG-TS segment with the server's shared TS muxer
// (which also repeats the parameter sets on keyframes, so a segment of a
// publisher that sends them out of band still decodes), through a buffer
// flushed once per part, so the disk sees one write per part as with fMP4.
// Each segment's timestamps start at one second.
type tsWriter struct {
	cw   *countingWriter
	bw   *bufio.Writer
	mux  *tsconv.Muxer
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

func newTSWriter(w io.Writer, tracks []*stream.Track, part time.Duration) (*tsWriter, error) {
	t := &tsWriter{cw: &countingWriter{w: w}, part: part}
	t.bw = bufio.NewWriterSize(t.cw, 256<<10)
	mux, err := tsconv.NewMuxer(t.bw, tracks)
	if err != nil {
		return nil, fmt.Errorf("mpegts muxer: %w", err)
	}
	t.mux = mux
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
	if err := t.mux.WriteUnit(u); err != nil {
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
		return t.bw.Flush()
	}
	return nil
}

func (t *tsWriter) finish(next time.Duration) error {
	if next >= 0 && t.started && t.hasVideo {
		t.maxEnd = max(t.maxEnd, next-t.segStart)
	}
	return t.bw.Flush()
}
