package hls

import (
	"time"

	"mps/internal/stream"
)

// segmenter cuts a stream's units into parts and segments and hands them
// to a timeline. It runs on the muxer's goroutine only.
type segmenter interface {
	// write takes the next unit from the reader.
	write(u *stream.Unit) error
	// flush closes the last part and segment when the stream ends.
	flush() error
}

// splitTracks returns the video and audio track (either may be nil) and
// the one that decides where segments are cut.
func splitTracks(ts []*mtrack) (video, audio, lead *mtrack) {
	for _, t := range ts {
		if t.isVideo() {
			video = t
		} else {
			audio = t
		}
	}
	lead = video
	if lead == nil {
		lead = audio
	}
	return video, audio, lead
}

// cutTolerance absorbs timestamp rounding (e.g. 90 kHz to nanoseconds) so
// that a part of exactly the target length is not cut one frame early.
const cutTolerance = time.Millisecond

// boundary decides where a new sample of the leading track starts: a new
// segment (on a keyframe once the segment is long enough), a new part, or
// neither. lastDur is the duration of the previous sample.
func boundary(rel, segStart, partStart, lastDur, segDur, partDur time.Duration, key, cutParts bool) (newSeg, newPart bool) {
	if key && rel-segStart+lastDur/2 >= segDur {
		return true, true
	}
	if cutParts && rel-partStart+lastDur > partDur+cutTolerance {
		return false, true
	}
	return false, false
}

// pdtClock gives each segment its EXT-X-PROGRAM-DATE-TIME. For a live
// stream it maps media time to the earliest wall-clock origin the units'
// arrival times imply, so the dates follow the publisher's clock, stay
// consistent with the segment durations, and are not pushed late by a
// burst of delayed units. Files, which arrive faster than real time, get a
// steady clock from their start.
type pdtClock struct {
	lossless bool
	base     time.Time
}

// origin returns the wall-clock time of media time zero, updated with u
// (at media time rel).
func (c *pdtClock) origin(u *stream.Unit, rel time.Duration) time.Time {
	origin := time.Now().Add(-rel)
	if !c.lossless && !u.Time.IsZero() {
		origin = u.Time.Add(-rel)
	} else if !c.base.IsZero() {
		origin = c.base
	}
	if c.base.IsZero() || origin.Before(c.base) {
		c.base = origin
	}
	return c.base
}
