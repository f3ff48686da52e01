package tsconv

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"mps/internal/stream"
)

// startDTS is where the first unit's DTS lands in the output. The margin
// keeps the PCR (written 100 ms before the DTS) and units of other tracks
// that are slightly older than the first one above zero.
const startDTS = time.Second

// ErrNoMuxableTracks is returned by NewMuxer when none of the tracks can be
// carried in MPEG-TS.
var ErrNoMuxableTracks = errors.New("mpegts: no track can be carried in MPEG-TS")

// Muxer writes core units as an MPEG-TS byte stream. Tracks whose codec
// MPEG-TS cannot carry are skipped (see Skipped) and their units ignored.
// It is not safe for concurrent use.
type Muxer struct {
	w       mpegts.Writer
	tracks  map[*stream.Track]*mpegts.Track
	skipped []*stream.Track

	started bool
	offset  int64 // added to every timestamp, in ticks
	dropped uint64
}

// NewMuxer prepares a muxer writing to w. Nothing is written until the
// first unit. It fails only when no track can be carried.
func NewMuxer(w io.Writer, tracks []*stream.Track) (*Muxer, error) {
	m := &Muxer{tracks: make(map[*stream.Track]*mpegts.Track)}
	var why []error
	for _, t := range tracks {
		c, err := tsCodec(t)
		if err != nil {
			m.skipped = append(m.skipped, t)
			why = append(why, err)
			continue
		}
		mt := &mpegts.Track{Codec: c}
		m.tracks[t] = mt
		m.w.Tracks = append(m.w.Tracks, mt)
	}
	if len(m.w.Tracks) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoMuxableTracks, errors.Join(why...))
	}
	m.w.W = w
	if err := m.w.Initialize(); err != nil {
		return nil, fmt.Errorf("mpegts writer: %w", err)
	}
	return m, nil
}

// Skipped returns the tracks that MPEG-TS cannot carry; their units are
// ignored by WriteUnit.
func (m *Muxer) Skipped() []*stream.Track { return m.skipped }

// Dropped returns how many units were ignored because they were empty or
// older than the first unit by more than the start margin.
func (m *Muxer) Dropped() uint64 { return m.dropped }

// WriteUnit writes one unit. Timestamps are shifted together so that the
// first unit's DTS is one second, and wrap at 33 bits as MPEG-TS clocks do.
// H.264/H.265 keyframes get the track's parameter sets prepended when they
// do not carry their own, so that any keyframe can start decoding. An
// error comes from the underlying writer or from a malformed payload.
func (m *Muxer) WriteUnit(u *stream.Unit) error {
	mt, ok := m.tracks[u.Track]
	if !ok {
		return nil
	}
	payload := nonEmpty(u.Payload)
	if len(payload) == 0 {
		m.dropped++
		return nil
	}
	dts, pts := durationToTicks(u.DTS), durationToTicks(u.PTS)
	if !m.started {
		m.started = true
		m.offset = durationToTicks(startDTS) - dts
	}
	dts += m.offset
	pts += m.offset
	if dts < 0 || pts < 0 {
		m.dropped++
		return nil
	}
	dts &= tsMask
	pts &= tsMask

	var err error
	switch u.Track.Codec {
	case stream.CodecH264:
		if u.Key {
			payload = u.Track.WithParams(payload)
		}
		err = m.w.WriteH264(mt, pts, dts, payload)
	case stream.CodecH265:
		if u.Key {
			payload = u.Track.WithParams(payload)
		}
		err = m.w.WriteH265(mt, pts, dts, payload)
	case stream.CodecAAC:
		err = m.w.WriteMPEG4Audio(mt, pts, payload)
	case stream.CodecOpus:
		err = m.w.WriteOpus(mt, pts, payload)
	case stream.CodecMP3:
		err = m.w.WriteMPEG1Audio(mt, pts, payload)
	}
	if err != nil {
		return fmt.Errorf("mpegts write %s: %w", u.Track.Codec, err)
	}
	return nil
}

// nonEmpty returns p without empty entries, copying only when needed so
// that the shared unit is never modified.
func nonEmpty(p [][]byte) [][]byte {
	for i, b := range p {
		if len(b) == 0 {
			out := append([][]byte(nil), p[:i]...)
			for _, c := range p[i+1:] {
				if len(c) > 0 {
					out = append(out, c)
				}
			}
			return out
		}
	}
	return p
}
