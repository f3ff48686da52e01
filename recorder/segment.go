package recorder

import (
	"errors"
	"fmt"
	"io"
	"time"

	"mps/internal/stream"
)

// segmentWriter turns units into one segment file. write is called with
// units in arrival order; it buffers up to a part and writes each part with
// one Write call. finish flushes what is buffered; next is the DTS of the
// unit that starts the following segment (or <0 when there is none), which
// gives the last video frame its exact duration.
type segmentWriter interface {
	write(u *stream.Unit) error
	finish(next time.Duration) error
	// written is the number of bytes handed to the file so far.
	written() int64
	// duration is the media time written so far.
	duration() time.Duration
	// initSize is the size of the header every reader needs (fMP4 init),
	// 0 when the format has none.
	initSize() int64
}

// errNoTracks refuses a recording with nothing the container can hold.
var errNoTracks = errors.New("no track this format can hold")

// supported reports whether format can hold tracks of codec c.
func supported(format string, c stream.Codec) bool {
	switch format {
	case FormatMPEGTS:
		switch c {
		case stream.CodecH264, stream.CodecH265, stream.CodecAAC, stream.CodecOpus, stream.CodecMP3:
			return true
		}
	default:
		switch c {
		case stream.CodecH264, stream.CodecH265, stream.CodecAV1, stream.CodecVP9, stream.CodecAAC, stream.CodecOpus:
			return true
		}
	}
	return false
}

// newSegmentWriter starts a segment of format on w. Each segment has its
// own timeline: it starts at the segment's first keyframe (time 0 in fMP4,
// the TS muxer's fixed origin in MPEG-TS), so a file opens in a player as
// a clip of its own; the index's wall-clock start places it in the
// recording. MPEG-TS segments share ts, the session's muxer, so continuity
// counters run on across the files and they concatenate cleanly.
func newSegmentWriter(format string, w io.Writer, tracks []*stream.Track, part time.Duration, ts *tsSession) (segmentWriter, error) {
	if len(tracks) == 0 {
		return nil, errNoTracks
	}
	switch format {
	case FormatMPEGTS:
		return newTSWriter(w, tracks, part, ts)
	case FormatFMP4:
		return newFMP4Writer(w, tracks, part)
	}
	return nil, fmt.Errorf("unknown recording format %q", format)
}

// ticks converts d to a clock of rate ticks per second, flooring so that
// differences of converted timestamps never drift.
func ticks(d time.Duration, rate int64) int64 {
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	if rem < 0 {
		sec--
		rem += int64(time.Second)
	}
	return sec*rate + rem*rate/int64(time.Second)
}

// fromTicks converts a tick count back to a duration.
func fromTicks(t int64, rate int64) time.Duration {
	return time.Duration(t/rate)*time.Second + time.Duration(t%rate)*time.Second/time.Duration(rate)
}

// countingWriter counts the bytes that reached the file.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}
