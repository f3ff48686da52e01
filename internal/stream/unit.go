package stream

import "time"

// Unit is one access unit of one track: a whole picture or a group of audio
// frames with one timestamp. Once passed to Stream.Write a Unit is shared by
// every reader and must not be modified by anyone; the same Unit may be
// written into several streams.
type Unit struct {
	// Track is the track this unit belongs to.
	Track *Track
	// PTS is the presentation time and DTS the decoding time, both relative
	// to the same origin for every track of a stream. DTS equals PTS for
	// audio and for video without B-frames.
	PTS, DTS time.Duration
	// Key marks a unit a decoder can start from (an IDR picture, a key
	// frame). Audio units are always Key.
	Key bool
	// Payload is the unit's data: NAL units without start codes or length
	// prefixes for H.264/H.265, OBUs for AV1, frames for VP8/VP9 and audio.
	Payload [][]byte
	// Time is the wall-clock time the unit was received, used for
	// PROGRAM-DATE-TIME and latency figures.
	Time time.Time
}

// Size returns the number of payload bytes in the unit.
func (u *Unit) Size() int {
	n := 0
	for _, p := range u.Payload {
		n += len(p)
	}
	return n
}
