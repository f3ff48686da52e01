package tsconv

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg1audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"mps/internal/stream"
)

// Bounds of the probe that NewDemuxer runs to find in-band parameters, and
// of the garbage a stream may send between two decodable units.
const (
	// probeMaxUnits caps how many units NewDemuxer buffers while waiting
	// for every video track's parameter sets.
	probeMaxUnits = 1024
	// probeMaxDuration caps the media time NewDemuxer buffers while
	// waiting: a GOP of up to this length starting mid-way still yields
	// its SPS/PPS at the next keyframe.
	probeMaxDuration = 2 * time.Second
	// maxBytesWithoutUnit ends a stream that sends this much without one
	// decodable unit: it is garbage, or nothing this package can carry.
	maxBytesWithoutUnit = 8 << 20
)

// Errors a caller may want to tell apart from I/O errors.
var (
	// ErrNoTracks means the program has no elementary stream the core can
	// carry (H.264, H.265, AAC, Opus, MPEG-1 audio).
	ErrNoTracks = errors.New("mpegts: no supported tracks")
	// ErrNoMedia means the input went on for maxBytesWithoutUnit bytes
	// without a decodable unit.
	ErrNoMedia = errors.New("mpegts: no decodable media in input")
)

// Demuxer reads an MPEG-TS byte stream and returns the media core's tracks
// and units. It is not safe for concurrent use.
type Demuxer struct {
	in     countingReader
	r      mpegts.Reader
	tracks []*stream.Track
	td     mpegts.TimeDecoder

	queue []*stream.Unit
	head  int
	err   error

	probing    bool
	pending    map[*stream.Track]bool
	probeFirst time.Duration
	probeLast  time.Duration
	probeSeen  bool

	decodeErrors uint64
}

// NewDemuxer reads r until it knows the stream's tracks: the PMT, the
// first ADTS header of each AAC track, and the first in-band parameter sets
// of each video track (its SPS/PPS and picture size), so that the returned
// tracks describe the stream completely. The units read meanwhile are kept
// and returned by ReadUnit. The wait for parameter sets is bounded (about
// two seconds of media or a thousand units); a video track whose parameters
// were not seen by then is returned without them.
func NewDemuxer(r io.Reader) (*Demuxer, error) {
	d := &Demuxer{pending: make(map[*stream.Track]bool)}
	d.in.r = r
	d.r.R = &d.in
	if err := d.r.Initialize(); err != nil {
		return nil, fmt.Errorf("mpegts: reading program tables: %w", err)
	}
	d.r.OnDecodeError(func(error) { d.decodeErrors++ })

	var unsupported []string
	for _, mt := range d.r.Tracks() {
		t, ok := coreTrack(mt)
		if !ok {
			unsupported = append(unsupported, fmt.Sprintf("%T", mt.Codec))
			continue
		}
		d.tracks = append(d.tracks, t)
		d.register(mt, t)
	}
	if len(d.tracks) == 0 {
		return nil, fmt.Errorf("%w (found %v)", ErrNoTracks, unsupported)
	}

	d.probe()
	if d.err != nil && d.head >= len(d.queue) && !errors.Is(d.err, io.EOF) {
		return nil, d.err
	}
	return d, nil
}

// probe reads until every track that needs in-band parameters has them or
// a bound is reached.
func (d *Demuxer) probe() {
	d.probing = true
	defer func() { d.probing = false }()
	for len(d.pending) > 0 && d.err == nil {
		if len(d.queue) >= probeMaxUnits || (d.probeSeen && d.probeLast-d.probeFirst > probeMaxDuration) {
			return
		}
		d.readOnce()
	}
}

// Tracks returns the supported tracks of the stream, in PMT order. The
// units returned by ReadUnit point to these tracks.
func (d *Demuxer) Tracks() []*stream.Track { return d.tracks }

// DecodeErrors returns how many malformed packets or PES payloads were
// skipped so far, for logs and metrics.
func (d *Demuxer) DecodeErrors() uint64 { return d.decodeErrors }

// ReadUnit returns the next unit in stream order. Timestamps start near
// zero at the stream's first timestamp and continue across the 33-bit wrap
// of MPEG-TS clocks. It returns io.EOF at the end of the input, ErrNoMedia
// for an input that stopped carrying media, or the reader's error.
func (d *Demuxer) ReadUnit() (*stream.Unit, error) {
	for d.head >= len(d.queue) {
		if d.err != nil {
			return nil, d.err
		}
		d.queue, d.head = d.queue[:0], 0
		d.readOnce()
	}
	u := d.queue[d.head]
	d.queue[d.head] = nil
	d.head++
	return u, nil
}

// readOnce feeds one demuxed item through the callbacks, recording a fatal
// error in d.err.
func (d *Demuxer) readOnce() {
	if err := d.r.Read(); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			d.err = io.EOF
		} else {
			d.err = fmt.Errorf("mpegts: %w", err)
		}
		return
	}
}

func (d *Demuxer) push(u *stream.Unit) {
	d.queue = append(d.queue, u)
	d.in.lastUnitAt = d.in.n
	if d.probing {
		if !d.probeSeen || u.DTS < d.probeFirst {
			d.probeFirst = u.DTS
		}
		if !d.probeSeen || u.DTS > d.probeLast {
			d.probeLast = u.DTS
		}
		d.probeSeen = true
	}
}

// time converts a 33-bit PES timestamp to a core timestamp on a clock
// shared by all tracks, unwrapping wrap-arounds.
func (d *Demuxer) time(ts int64) time.Duration {
	return ticksToDuration(d.td.Decode(ts & tsMask))
}

// frameTimes returns the timestamps of consecutive audio frames of
// samples[i] samples each at rate, the first at PES timestamp pts. They are
// computed in 90 kHz ticks, like the PES timestamps a muxer would write
// for each frame, so a demux-mux-demux round trip is exact.
func (d *Demuxer) frameTimes(pts int64, samples []int64, rate int) []time.Duration {
	base := d.td.Decode(pts & tsMask)
	out := make([]time.Duration, len(samples))
	var sum int64
	for i, n := range samples {
		off := int64(0)
		if rate > 0 {
			off = (sum*clockRate + int64(rate)/2) / int64(rate)
		}
		out[i] = ticksToDuration(base + off)
		sum += n
	}
	return out
}

func (d *Demuxer) register(mt *mpegts.Track, t *stream.Track) {
	switch c := mt.Codec.(type) {
	case *codecs.H264:
		d.pending[t] = true
		d.r.OnDataH264(mt, func(pts, dts int64, au [][]byte) error {
			d.onVideo(t, pts, dts, au)
			return nil
		})
	case *codecs.H265:
		d.pending[t] = true
		d.r.OnDataH265(mt, func(pts, dts int64, au [][]byte) error {
			d.onVideo(t, pts, dts, au)
			return nil
		})
	case *codecs.MPEG4Audio:
		frameLen := int64(1024)
		if c.Config.FrameLengthFlag {
			frameLen = 960
		}
		d.r.OnDataMPEG4Audio(mt, func(pts int64, aus [][]byte) error {
			samples := make([]int64, len(aus))
			for i := range samples {
				samples[i] = frameLen
			}
			times := d.frameTimes(pts, samples, t.SampleRate)
			for i, au := range aus {
				if len(au) == 0 {
					continue
				}
				d.push(&stream.Unit{Track: t, PTS: times[i], DTS: times[i], Key: true, Payload: [][]byte{au}})
			}
			return nil
		})
	case *codecs.Opus:
		d.r.OnDataOpus(mt, func(pts int64, packets [][]byte) error {
			samples := make([]int64, len(packets))
			for i, p := range packets {
				samples[i] = opus.PacketDuration2(p)
			}
			times := d.frameTimes(pts, samples, 48000)
			for i, p := range packets {
				if len(p) == 0 {
					continue
				}
				d.push(&stream.Unit{Track: t, PTS: times[i], DTS: times[i], Key: true, Payload: [][]byte{p}})
			}
			return nil
		})
	case *codecs.MPEG1Audio:
		d.pending[t] = true
		d.r.OnDataMPEG1Audio(mt, func(pts int64, frames [][]byte) error {
			var h mpeg1audio.FrameHeader
			if len(frames) == 0 || h.Unmarshal(frames[0]) != nil || h.SampleRate <= 0 {
				d.decodeErrors++
				return nil
			}
			if d.probing && d.pending[t] {
				t.SampleRate = h.SampleRate
				t.Channels = 2
				if h.ChannelMode == mpeg1audio.ChannelModeMono {
					t.Channels = 1
				}
				delete(d.pending, t)
			}
			samples := make([]int64, len(frames))
			for i := range samples {
				samples[i] = int64(h.SampleCount())
			}
			times := d.frameTimes(pts, samples, h.SampleRate)
			for i, f := range frames {
				d.push(&stream.Unit{Track: t, PTS: times[i], DTS: times[i], Key: true, Payload: [][]byte{f}})
			}
			return nil
		})
	}
}

// onVideo turns one H.264/H.265 access unit into a unit, learning the
// track's parameter sets from it while probing.
func (d *Demuxer) onVideo(t *stream.Track, pts, dts int64, au [][]byte) {
	au = dropEmpty(au)
	if len(au) == 0 {
		d.decodeErrors++
		return
	}
	dtsD := d.time(dts)
	ptsD := d.time(pts)
	var key bool
	if t.Codec == stream.CodecH264 {
		key = h264.IsRandomAccess(au)
	} else {
		key = h265.IsRandomAccess(au)
	}
	if d.probing && d.pending[t] {
		learnParams(t, au)
		if t.SPS != nil && t.PPS != nil && (t.Codec == stream.CodecH264 || t.VPS != nil) {
			delete(d.pending, t)
		}
	}
	d.push(&stream.Unit{Track: t, PTS: ptsD, DTS: dtsD, Key: key, Payload: au})
}

// learnParams copies the first valid parameter sets found in au into t.
func learnParams(t *stream.Track, au [][]byte) {
	for _, n := range au {
		if t.Codec == stream.CodecH264 {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				if t.SPS == nil {
					if nt, err := stream.NewH264Track(n, nil); err == nil {
						t.SPS, t.Width, t.Height = clone(n), nt.Width, nt.Height
					}
				}
			case h264.NALUTypePPS:
				if t.PPS == nil {
					t.PPS = clone(n)
				}
			}
			continue
		}
		switch h265.NALUType((n[0] >> 1) & 0x3f) {
		case h265.NALUType_VPS_NUT:
			if t.VPS == nil {
				t.VPS = clone(n)
			}
		case h265.NALUType_SPS_NUT:
			if t.SPS == nil {
				if nt, err := stream.NewH265Track(nil, n, nil); err == nil {
					t.SPS, t.Width, t.Height = clone(n), nt.Width, nt.Height
				}
			}
		case h265.NALUType_PPS_NUT:
			if t.PPS == nil {
				t.PPS = clone(n)
			}
		}
	}
}

func dropEmpty(au [][]byte) [][]byte {
	out := au[:0]
	for _, n := range au {
		if len(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// countingReader counts the bytes read from the input and fails with
// ErrNoMedia once too many came without a unit. The check sits here, below
// mediacommon, because its resynchronisation loop would otherwise read a
// stream without sync bytes forever without returning.
type countingReader struct {
	r          io.Reader
	n          int64
	lastUnitAt int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n-c.lastUnitAt > maxBytesWithoutUnit {
		return 0, ErrNoMedia
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
