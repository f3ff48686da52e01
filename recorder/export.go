package recorder

import (
	"errors"
	"fmt"
	"io"
	"time"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// feeder stitches the segments of a range into one continuous MPEG-TS
// stream for ffmpeg. Each segment's units are read on its own timeline and
// placed at the segment's wall-clock start from the index, so the frames
// run on at their own pace across boundaries; the stream starts at the
// keyframe at or before the range start (ffmpeg trims from there when the
// cut is precise) and stops at the range end.
type feeder struct {
	segs     []Segment
	start    time.Time
	end      time.Duration // from start: units at or after it are not sent
	hasVideo bool
	tracks   []*stream.Track // the first segment's: the ones muxed
	open     func(Segment) (segmentData, error)

	idx int
	cur *segmentReader
	// pending holds the units from the keyframe to just past the start,
	// read to find the keyframe before ffmpeg starts.
	pending []*stream.Unit
	key     time.Duration // the keyframe's time from start (<= 0 normally)
}

// newFeeder opens the range and reads up to its start. It returns
// errNotReadable when the segments hold codecs it cannot carry.
func newFeeder(segs []Segment, start time.Time, end time.Duration, open func(Segment) (segmentData, error)) (*feeder, error) {
	f := &feeder{segs: segs, start: start, end: end, open: open}
	r, err := openSegmentReader(segs[0], start.Sub(segs[0].Start), open)
	if err != nil {
		return nil, err
	}
	f.cur, f.tracks = r, r.tracks
	for _, t := range f.tracks {
		f.hasVideo = f.hasVideo || t.IsVideo()
	}
	if _, err := tsconv.NewMuxer(io.Discard, f.tracks); err != nil {
		f.close()
		return nil, fmt.Errorf("%w: %w", errNotReadable, err)
	}
	if err := f.findKey(); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (f *feeder) close() {
	if f.cur != nil {
		f.cur.close()
		f.cur = nil
	}
}

// findKey reads to the first unit past the start, keeping the units from
// the last keyframe at or before the start (the first keyframe when the
// recording begins after the start).
func (f *feeder) findKey() error {
	found := false
	for {
		u, err := f.next()
		if errors.Is(err, io.EOF) {
			if !found {
				return errors.New("no keyframe in the range")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if isStart(u, f.hasVideo) && (u.DTS <= 0 || !found) {
			found, f.key = true, u.DTS
			f.pending = f.pending[:0]
		}
		if !found || u.DTS < f.key {
			continue
		}
		f.pending = append(f.pending, u)
		if u.DTS > 0 && (u.Track.IsVideo() || !f.hasVideo) {
			return nil
		}
	}
}

// next returns the next unit of the range with its time from start,
// moving on to the next segment at the end of one. A segment with other
// tracks than the first ends the range.
func (f *feeder) next() (*stream.Unit, error) {
	for {
		if f.cur == nil {
			return nil, io.EOF
		}
		u, err := f.cur.read()
		if err == nil {
			off := f.segs[f.idx].Start.Sub(f.start)
			u.DTS += off
			u.PTS += off
			return u, nil
		}
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
		f.cur.close()
		f.cur = nil
		f.idx++
		if f.idx >= len(f.segs) {
			return nil, io.EOF
		}
		r, err := openSegmentReader(f.segs[f.idx], 0, f.open)
		if err != nil {
			return nil, io.EOF
		}
		if !f.remap(r) {
			r.close()
			return nil, io.EOF
		}
		f.cur = r
	}
}

// remap makes r's units use the first segment's tracks, which the muxer
// knows; it reports false when r's tracks differ in kind.
func (f *feeder) remap(r *segmentReader) bool {
	if len(r.tracks) != len(f.tracks) {
		return false
	}
	m := make(map[*stream.Track]*stream.Track, len(r.tracks))
	for i, t := range r.tracks {
		if t.Codec != f.tracks[i].Codec {
			return false
		}
		m[t] = f.tracks[i]
	}
	inner := r.next
	r.next = func() (*stream.Unit, error) {
		u, err := inner()
		if err != nil {
			return nil, err
		}
		v := *u
		if v.Key && v.Track.IsVideo() {
			// The segment's own parameter sets travel in-band.
			v.Payload = v.Track.WithParams(v.Payload)
		}
		v.Track = m[u.Track]
		return &v, nil
	}
	// The units already read for the origin keep their own tracks.
	for i, u := range r.pending {
		v := *u
		if v.Key && v.Track.IsVideo() {
			v.Payload = v.Track.WithParams(v.Payload)
		}
		v.Track = m[u.Track]
		r.pending[i] = &v
	}
	return true
}

// run writes the range as MPEG-TS to w, from the keyframe on, with times
// from the keyframe.
func (f *feeder) run(w io.Writer) error {
	defer f.close()
	mux, err := tsconv.NewMuxer(w, f.tracks)
	if err != nil {
		return err
	}
	write := func(u *stream.Unit) error {
		v := *u
		v.DTS -= f.key
		v.PTS -= f.key
		return mux.WriteUnit(&v)
	}
	for _, u := range f.pending {
		if u.DTS < f.end {
			if err := write(u); err != nil {
				return err
			}
		}
	}
	f.pending = nil
	for {
		u, err := f.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.DTS >= f.end {
			if u.DTS >= f.end+time.Second {
				return nil // every track is past the end
			}
			continue
		}
		if err := write(u); err != nil {
			return err
		}
	}
}
