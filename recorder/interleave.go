package recorder

import (
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"

	"mps/internal/stream"
)

// maxInterleaveWait is how far (in media time) the newest unit may run
// ahead of a track that has sent nothing before the interleaver gives up
// waiting for that track: a stalled or ended track must not hold the
// recording back.
const maxInterleaveWait = time.Second

// interleaver puts the units of a session in decoding-time order across
// tracks. Publishers interleave loosely (audio a few hundred milliseconds
// ahead of or behind video), and a segment cut at a keyframe must get
// exactly the audio from that keyframe on: in DTS order, every unit older
// than the keyframe has been written to the segment before when the
// keyframe comes. A unit is released once every track has a unit at least
// as new queued (a merge of per-track FIFOs), so the delay is the
// publisher's own skew, bounded by maxInterleaveWait.
type interleaver struct {
	queues map[*stream.Track][]*stream.Unit
	tracks []*stream.Track
	newest time.Duration
	any    bool
}

func newInterleaver(tracks []*stream.Track) *interleaver {
	il := &interleaver{queues: make(map[*stream.Track][]*stream.Unit, len(tracks)), tracks: tracks}
	for _, t := range tracks {
		il.queues[t] = nil
	}
	return il
}

// push queues u and hands every unit that can go to out, oldest first.
func (il *interleaver) push(u *stream.Unit, out func(*stream.Unit)) {
	q, ok := il.queues[u.Track]
	if !ok {
		return
	}
	il.queues[u.Track] = append(q, u)
	if !il.any || u.DTS > il.newest {
		il.newest, il.any = u.DTS, true
	}
	for {
		next := il.oldest()
		if next == nil {
			return
		}
		h := il.queues[next][0]
		if !il.ready(h) {
			return
		}
		il.pop(next)
		out(h)
	}
}

// flush hands every queued unit to out in DTS order.
func (il *interleaver) flush(out func(*stream.Unit)) {
	for {
		next := il.oldest()
		if next == nil {
			il.any = false
			return
		}
		out(il.pop(next))
	}
}

// oldest returns the track whose queued head has the smallest DTS.
func (il *interleaver) oldest() *stream.Track {
	var best *stream.Track
	for _, t := range il.tracks {
		q := il.queues[t]
		if len(q) > 0 && (best == nil || q[0].DTS < il.queues[best][0].DTS) {
			best = t
		}
	}
	return best
}

// ready reports whether h, the oldest queued unit, can go: every other
// track has queued something at least as new, or has been silent for
// longer than maxInterleaveWait.
func (il *interleaver) ready(h *stream.Unit) bool {
	if il.newest-h.DTS > maxInterleaveWait {
		return true
	}
	for _, t := range il.tracks {
		if len(il.queues[t]) == 0 {
			return false
		}
	}
	return true
}

func (il *interleaver) pop(t *stream.Track) *stream.Unit {
	q := il.queues[t]
	u := q[0]
	q[0] = nil
	q = q[1:]
	if len(q) == 0 {
		q = q[:0:0]
	}
	il.queues[t] = q
	return u
}

// splitFrames returns u as one unit per audio frame when it carries
// several (an MPEG-TS PES often holds a handful of AAC frames), so that a
// cut between segments falls between frames at the keyframe's time rather
// than after the last frame of a long unit. Other units are returned as
// they are; the shared unit is never modified.
func splitFrames(u *stream.Unit) []*stream.Unit {
	if len(u.Payload) < 2 {
		return []*stream.Unit{u}
	}
	var step func(frame []byte) time.Duration
	switch u.Track.Codec {
	case stream.CodecAAC:
		if u.Track.SampleRate <= 0 {
			return []*stream.Unit{u}
		}
		d := time.Duration(mpeg4audio.SamplesPerAccessUnit) * time.Second / time.Duration(u.Track.SampleRate)
		step = func([]byte) time.Duration { return d }
	case stream.CodecOpus:
		step = func(p []byte) time.Duration { return time.Duration(opus.PacketDuration2(p)) * time.Second / 48000 }
	default:
		return []*stream.Unit{u}
	}
	out := make([]*stream.Unit, len(u.Payload))
	off := time.Duration(0)
	for i, fr := range u.Payload {
		v := *u
		v.Payload = u.Payload[i : i+1 : i+1]
		v.DTS += off
		v.PTS += off
		out[i] = &v
		off += step(fr)
	}
	return out
}
