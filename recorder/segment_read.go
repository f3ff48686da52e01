package recorder

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	amp4 "github.com/abema/go-mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// segmentReader reads a recorded segment back as units, with times on the
// segment's own timeline: 0 is its first keyframe (its first unit without
// video), whatever origin the container used.
type segmentReader struct {
	f      segmentData
	tracks []*stream.Track
	next   func() (*stream.Unit, error)

	origin  time.Duration
	pending []*stream.Unit // read while looking for the origin
}

// errNotReadable marks a segment whose codecs the export path cannot carry
// (it then falls back to ffmpeg's concat demuxer).
var errNotReadable = errors.New("segment codecs not supported by the unit reader")

// skipMargin is how far before the wanted time a reader that skips into
// a long fMP4 segment starts reading, so that it still finds the keyframe
// before that time (GOPs are shorter than this).
const skipMargin = 20 * time.Second

// openSegmentReader opens seg (of size bytes as the index knows it) with
// open (the local file or the bucket copy). skip
// is the segment time the caller needs from (0: the start): in a long fMP4
// segment the reader skips the fragments that end well before it, reading
// only their headers.
func openSegmentReader(seg Segment, skip time.Duration, open func(Segment) (segmentData, error)) (*segmentReader, error) {
	f, err := open(seg)
	if err != nil {
		return nil, err
	}
	sr := &segmentReader{f: f}
	sec := io.NewSectionReader(f, 0, seg.Size)
	if seg.Format == FormatMPEGTS {
		err = sr.openTS(sec)
		if err == nil {
			err = sr.findOrigin()
		}
	} else {
		err = sr.openFMP4(sec, skip)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read segment %s: %w", seg.Name, err)
	}
	return sr, nil
}

func (sr *segmentReader) close() { sr.f.Close() }

func (sr *segmentReader) openTS(r io.Reader) error {
	d, err := tsconv.NewDemuxer(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return err
	}
	sr.tracks = d.Tracks()
	// The demuxer returns a video frame only when the next one begins, so
	// audio comes out a frame early: put the units back in DTS order.
	sr.next = inDTSOrder(d.ReadUnit, sr.tracks)
	return nil
}

// inDTSOrder wraps a unit source so that its units come out in DTS order
// across tracks.
func inDTSOrder(next func() (*stream.Unit, error), tracks []*stream.Track) func() (*stream.Unit, error) {
	il := newInterleaver(tracks)
	var out []*stream.Unit
	var end error
	emit := func(u *stream.Unit) { out = append(out, u) }
	return func() (*stream.Unit, error) {
		for len(out) == 0 {
			if end != nil {
				return nil, end
			}
			u, err := next()
			if err != nil {
				end = err
				il.flush(emit)
				continue
			}
			il.push(u, emit)
		}
		u := out[0]
		out[0] = nil
		out = out[1:]
		return u, nil
	}
}

// findOrigin reads up to the first keyframe (any unit without video) and
// takes its DTS as time zero.
func (sr *segmentReader) findOrigin() error {
	hasVideo := false
	for _, t := range sr.tracks {
		hasVideo = hasVideo || t.IsVideo()
	}
	for {
		u, err := sr.next()
		if err != nil {
			return err
		}
		sr.pending = append(sr.pending, u)
		if isStart(u, hasVideo) {
			sr.origin = u.DTS
			return nil
		}
		if len(sr.pending) > 4096 {
			return errors.New("no keyframe")
		}
	}
}

// read returns the next unit with its times from the segment's origin, or
// io.EOF. A segment cut short by a crash ends at its last whole unit.
func (sr *segmentReader) read() (*stream.Unit, error) {
	var u *stream.Unit
	if len(sr.pending) > 0 {
		u, sr.pending = sr.pending[0], sr.pending[1:]
	} else {
		var err error
		if u, err = sr.next(); err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: %w", io.EOF, err)
			}
			return nil, err
		}
	}
	v := *u
	v.DTS -= sr.origin
	v.PTS -= sr.origin
	return &v, nil
}

// readTrack is an fMP4 track as read back: its core track and timescale.
type readTrack struct {
	t     *stream.Track
	scale uint32
}

// openFMP4 reads the init block and prepares to read the fragments. The
// origin is the first fragment's earliest decode time (its first keyframe:
// a segment starts with one); with skip beyond skipMargin, reading starts
// at the last fragment that begins skipMargin before skip.
func (sr *segmentReader) openFMP4(r *io.SectionReader, skip time.Duration) error {
	var init fmp4.Init
	byID := map[int]readTrack{}
	var queue []*stream.Unit
	pos := initEnd(r)
	sr.next = func() (*stream.Unit, error) {
		for len(queue) == 0 {
			if _, err := r.Seek(pos, io.SeekStart); err != nil {
				return nil, err
			}
			bi, err := amp4.ReadBoxInfo(r)
			if err != nil {
				return nil, io.EOF
			}
			end := int64(bi.Offset + bi.Size)
			if end > r.Size() {
				return nil, io.EOF // a fragment cut short
			}
			switch bi.Type.String() {
			case "moof":
				// A part is a moof and the mdat after it.
				if _, err := r.Seek(end, io.SeekStart); err != nil {
					return nil, err
				}
				mi, err := amp4.ReadBoxInfo(r)
				if err != nil || mi.Type.String() != "mdat" || int64(mi.Offset+mi.Size) > r.Size() {
					return nil, io.EOF
				}
				buf := make([]byte, int64(mi.Offset+mi.Size)-pos)
				if _, err := r.ReadAt(buf, pos); err != nil {
					return nil, io.EOF
				}
				pos = int64(mi.Offset + mi.Size)
				var parts fmp4.Parts
				if err := parts.Unmarshal(buf); err != nil {
					return nil, fmt.Errorf("fmp4 part: %w", err)
				}
				queue = partUnits(parts, byID)
				continue
			}
			pos = end
		}
		u := queue[0]
		queue = queue[1:]
		return u, nil
	}
	if err := init.Unmarshal(io.NewSectionReader(r, 0, initEnd(r))); err != nil {
		return fmt.Errorf("fmp4 init: %w", err)
	}
	for _, it := range init.Tracks {
		t, err := coreTrack(it.Codec)
		if err != nil {
			return err
		}
		byID[it.ID] = readTrack{t: t, scale: it.TimeScale}
		sr.tracks = append(sr.tracks, t)
	}
	if len(sr.tracks) == 0 {
		return errors.New("fmp4: no tracks")
	}
	frags := fragmentTimes(r, pos, byID)
	if len(frags) == 0 {
		return errors.New("fmp4: no complete fragment")
	}
	sr.origin = frags[0].dts
	for _, fr := range frags {
		if skip > skipMargin && fr.dts-sr.origin <= skip-skipMargin {
			pos = fr.pos
		}
	}
	return nil
}

// fragment is where a moof starts and the earliest decode time in it.
type fragment struct {
	pos int64
	dts time.Duration
}

// fragmentTimes lists the fragments of an fMP4 file from pos on, reading
// only their moof boxes.
func fragmentTimes(r *io.SectionReader, pos int64, byID map[int]readTrack) []fragment {
	var out []fragment
	for {
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return out
		}
		bi, err := amp4.ReadBoxInfo(r)
		if err != nil || int64(bi.Offset+bi.Size) > r.Size() {
			return out
		}
		if bi.Type.String() == "moof" {
			if dts, ok := moofTime(io.NewSectionReader(r, pos, int64(bi.Size)), byID); ok {
				out = append(out, fragment{pos: pos, dts: dts})
			}
		}
		pos = int64(bi.Offset + bi.Size)
	}
}

// moofTime returns the earliest tfdt of a moof's video (of any track
// without video), as a duration.
func moofTime(r io.ReadSeeker, byID map[int]readTrack) (time.Duration, bool) {
	hasVideo := false
	for _, rt := range byID {
		hasVideo = hasVideo || rt.t.IsVideo()
	}
	var (
		cur   uint32
		best  time.Duration
		found bool
	)
	_, err := amp4.ReadBoxStructure(r, func(h *amp4.ReadHandle) (any, error) {
		switch h.BoxInfo.Type.String() {
		case "moof", "traf":
			return h.Expand()
		case "tfhd":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			cur = b.(*amp4.Tfhd).TrackID
		case "tfdt":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			rt, ok := byID[int(cur)]
			if !ok || rt.scale == 0 || hasVideo && !rt.t.IsVideo() {
				return nil, nil
			}
			d := fromTicks(int64(b.(*amp4.Tfdt).GetBaseMediaDecodeTime()), int64(rt.scale))
			if !found || d < best {
				best, found = d, true
			}
		}
		return nil, nil
	})
	return best, err == nil && found
}

// initEnd returns where the init block (ftyp, moov) of an fMP4 file ends.
func initEnd(r *io.SectionReader) int64 {
	pos := int64(0)
	for {
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return pos
		}
		bi, err := amp4.ReadBoxInfo(r)
		if err != nil {
			return pos
		}
		pos = int64(bi.Offset + bi.Size)
		if bi.Type.String() == "moov" {
			return pos
		}
	}
}

// partUnits turns the samples of a part into units in DTS order across
// tracks.
func partUnits(parts fmp4.Parts, byID map[int]readTrack) []*stream.Unit {
	var out []*stream.Unit
	for _, p := range parts {
		for _, pt := range p.Tracks {
			rt, ok := byID[pt.ID]
			if !ok {
				continue
			}
			dts := pt.BaseTime
			for _, s := range pt.Samples {
				u := &stream.Unit{Track: rt.t, Key: !s.IsNonSyncSample || !rt.t.IsVideo()}
				u.DTS = fromTicks(int64(dts), int64(rt.scale))
				u.PTS = fromTicks(int64(dts)+int64(s.PTSOffset), int64(rt.scale))
				switch rt.t.Codec {
				case stream.CodecH264, stream.CodecH265:
					var au h264.AVCC
					if err := au.Unmarshal(s.Payload); err != nil {
						dts += uint64(s.Duration)
						continue
					}
					u.Payload = au
				default:
					u.Payload = [][]byte{s.Payload}
				}
				out = append(out, u)
				dts += uint64(s.Duration)
			}
		}
	}
	// Tracks come one after the other in a part: interleave them.
	slices.SortStableFunc(out, func(a, b *stream.Unit) int { return cmp.Compare(a.DTS, b.DTS) })
	return out
}

// coreTrack builds the core track of an fMP4 codec the export can carry in
// MPEG-TS.
func coreTrack(c mp4codecs.Codec) (*stream.Track, error) {
	switch c := c.(type) {
	case *mp4codecs.H264:
		return stream.NewH264Track(c.SPS, c.PPS)
	case *mp4codecs.H265:
		return stream.NewH265Track(c.VPS, c.SPS, c.PPS)
	case *mp4codecs.MPEG4Audio:
		asc, err := c.Config.Marshal()
		if err != nil {
			return nil, err
		}
		return stream.NewAACTrack(asc)
	case *mp4codecs.Opus:
		return &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: c.ChannelCount}, nil
	}
	return nil, fmt.Errorf("%w: %T", errNotReadable, c)
}
