package rtsp

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpav1"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpfragmented"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg1audio"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp8"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp9"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg1audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp8"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// errUnsupportedCodec marks a format the media core cannot carry; its media
// is skipped rather than failing the whole session.
var errUnsupportedCodec = errors.New("codec not supported")

// ingestTrack turns the RTP packets of one format into units of one track.
type ingestTrack struct {
	media  *description.Media
	format format.Format
	track  *stream.Track
	// decode takes one RTP packet and its PTS in clock-rate ticks and
	// returns the units it completes (often none, while a picture is still
	// being reassembled).
	decode func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error)
}

// ingest maps an announced or described RTSP session onto core tracks.
type ingest struct {
	tracks  []*ingestTrack
	skipped []string
}

// newIngest picks, for every media of desc, the first format the core can
// carry. Medias with no such format are listed in skipped. It fails when
// nothing is left.
func newIngest(desc *description.Session) (*ingest, error) {
	if desc == nil {
		return nil, fmt.Errorf("no session description")
	}
	in := &ingest{}
	for _, m := range desc.Medias {
		if m.IsBackChannel {
			continue
		}
		var picked *ingestTrack
		for _, f := range m.Formats {
			it, err := newIngestTrack(f)
			if err != nil {
				in.skipped = append(in.skipped, fmt.Sprintf("%s/%s: %v", m.Type, f.Codec(), err))
				continue
			}
			it.media, it.format = m, f
			picked = it
			break
		}
		if picked != nil {
			in.tracks = append(in.tracks, picked)
		}
	}
	if len(in.tracks) == 0 {
		if len(in.skipped) == 0 {
			return nil, fmt.Errorf("session has no media")
		}
		return nil, fmt.Errorf("no media the server can carry (%s)", strings.Join(in.skipped, "; "))
	}
	return in, nil
}

// streamTracks returns the core tracks, in media order.
func (in *ingest) streamTracks() []*stream.Track {
	out := make([]*stream.Track, len(in.tracks))
	for i, it := range in.tracks {
		out[i] = it.track
	}
	return out
}

// isBenignDecodeError reports errors that only mean "wait for more
// packets" or "joined in the middle of a fragmented unit".
func isBenignDecodeError(err error) bool {
	for _, e := range []error{
		rtph264.ErrMorePacketsNeeded, rtph264.ErrNonStartingPacketAndNoPrevious,
		rtph265.ErrMorePacketsNeeded, rtph265.ErrNonStartingPacketAndNoPrevious,
		rtpmpeg4audio.ErrMorePacketsNeeded, rtpfragmented.ErrMorePacketsNeeded,
		rtpav1.ErrMorePacketsNeeded, rtpav1.ErrNonStartingPacketAndNoPrevious,
		rtpvp8.ErrMorePacketsNeeded, rtpvp8.ErrNonStartingPacketAndNoPrevious,
		rtpvp9.ErrMorePacketsNeeded, rtpvp9.ErrNonStartingPacketAndNoPrevious,
		rtpmpeg1audio.ErrMorePacketsNeeded, rtpmpeg1audio.ErrNonStartingPacketAndNoPrevious,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func newIngestTrack(f format.Format) (*ingestTrack, error) {
	switch f := f.(type) {
	case *format.H264:
		return newH264Ingest(f)
	case *format.H265:
		return newH265Ingest(f)
	case *format.MPEG4Audio:
		return newAACIngest(f)
	case *format.MPEG4AudioLATM:
		return newLATMIngest(f)
	case *format.Opus:
		return newOpusIngest(f)
	case *format.G711:
		return newG711Ingest(f)
	case *format.MPEG1Audio:
		return newMP3Ingest(f)
	case *format.AV1:
		return newAV1Ingest(f)
	case *format.VP8:
		return newVP8Ingest(f)
	case *format.VP9:
		return newVP9Ingest(f)
	}
	return nil, errUnsupportedCodec
}

func newAACIngest(f *format.MPEG4Audio) (*ingestTrack, error) {
	if f.Config == nil {
		return nil, fmt.Errorf("AAC without AudioSpecificConfig")
	}
	asc, err := f.Config.Marshal()
	if err != nil {
		return nil, fmt.Errorf("AAC config: %w", err)
	}
	tr, err := stream.NewAACTrack(asc)
	if err != nil {
		return nil, err
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("AAC decoder: %w", err)
	}
	spf := aacSamplesPerFrame(f.Config)
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		aus, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		return audioUnits(tr, aus, pts, spf, f.ClockRate(), now), nil
	}}, nil
}

func aacSamplesPerFrame(c *mpeg4audio.AudioSpecificConfig) int64 {
	if c.FrameLengthFlag {
		return 960
	}
	return 1024
}

// audioUnits makes one unit per frame, each stamped after the previous one,
// so consumers never have to know a codec's frame duration.
func audioUnits(tr *stream.Track, frames [][]byte, pts, samplesPerFrame int64, rate int, now time.Time) []*stream.Unit {
	out := make([]*stream.Unit, 0, len(frames))
	for i, fr := range frames {
		if len(fr) == 0 {
			continue
		}
		t := ticksToDuration(pts+int64(i)*samplesPerFrame, rate)
		out = append(out, &stream.Unit{Track: tr, PTS: t, DTS: t, Key: true, Payload: [][]byte{fr}, Time: now})
	}
	return out
}

func newLATMIngest(f *format.MPEG4AudioLATM) (*ingestTrack, error) {
	smc := f.StreamMuxConfig
	if smc == nil || len(smc.Programs) == 0 || len(smc.Programs[0].Layers) == 0 ||
		smc.Programs[0].Layers[0].AudioSpecificConfig == nil {
		return nil, fmt.Errorf("LATM without StreamMuxConfig")
	}
	ascp := smc.Programs[0].Layers[0].AudioSpecificConfig
	asc, err := ascp.Marshal()
	if err != nil {
		return nil, fmt.Errorf("LATM config: %w", err)
	}
	tr, err := stream.NewAACTrack(asc)
	if err != nil {
		return nil, err
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("LATM decoder: %w", err)
	}
	spf := aacSamplesPerFrame(ascp)
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		buf, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		ame := mpeg4audio.AudioMuxElement{MuxConfigPresent: f.CPresent, StreamMuxConfig: smc}
		if err := ame.Unmarshal(buf); err != nil {
			return nil, fmt.Errorf("LATM AudioMuxElement: %w", err)
		}
		var frames [][]byte
		for _, sub := range ame.Payloads {
			if len(sub) > 0 && len(sub[0]) > 0 {
				frames = append(frames, sub[0][0])
			}
		}
		return audioUnits(tr, frames, pts, spf, f.ClockRate(), now), nil
	}}, nil
}

func newOpusIngest(f *format.Opus) (*ingestTrack, error) {
	ch := f.ChannelCount
	if ch == 0 {
		ch = 2
	}
	tr := &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: ch}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		fr, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		return audioUnits(tr, [][]byte{fr}, pts, 0, 48000, now), nil
	}}, nil
}

func newG711Ingest(f *format.G711) (*ingestTrack, error) {
	codec := stream.CodecPCMA
	if f.MULaw {
		codec = stream.CodecPCMU
	}
	rate, ch := f.SampleRate, f.ChannelCount
	if rate == 0 {
		rate = 8000
	}
	if ch == 0 {
		ch = 1
	}
	tr := &stream.Track{Codec: codec, ClockRate: rate, SampleRate: rate, Channels: ch}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("G.711 decoder: %w", err)
	}
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		samples, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		return audioUnits(tr, [][]byte{samples}, pts, 0, rate, now), nil
	}}, nil
}

func newMP3Ingest(f *format.MPEG1Audio) (*ingestTrack, error) {
	tr := &stream.Track{Codec: stream.CodecMP3, ClockRate: 90000}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("MPEG audio decoder: %w", err)
	}
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		frames, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		out := make([]*stream.Unit, 0, len(frames))
		for _, fr := range frames {
			t := ticksToDuration(pts, 90000)
			out = append(out, &stream.Unit{Track: tr, PTS: t, DTS: t, Key: true, Payload: [][]byte{fr}, Time: now})
			var h mpeg1audio.FrameHeader
			if err := h.Unmarshal(fr); err == nil && h.SampleRate > 0 {
				pts += int64(h.SampleCount()) * 90000 / int64(h.SampleRate)
			}
		}
		return out, nil
	}}, nil
}

// videoKeyGate drops the pictures that precede the first key frame, which
// no decoder could use.
type videoKeyGate struct{ open bool }

func (g *videoKeyGate) pass(key bool) bool {
	if !g.open && key {
		g.open = true
	}
	return g.open
}

func newAV1Ingest(f *format.AV1) (*ingestTrack, error) {
	tr := &stream.Track{Codec: stream.CodecAV1, ClockRate: 90000}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("AV1 decoder: %w", err)
	}
	var gate videoKeyGate
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		tu, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		key := av1.IsRandomAccess2(tu)
		if !gate.pass(key) {
			return nil, nil
		}
		t := ticksToDuration(pts, 90000)
		return []*stream.Unit{{Track: tr, PTS: t, DTS: t, Key: key, Payload: tu, Time: now}}, nil
	}}, nil
}

func newVP8Ingest(f *format.VP8) (*ingestTrack, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("VP8 decoder: %w", err)
	}
	return frameIngest(stream.CodecVP8, dec.Decode, vp8.IsRandomAccess), nil
}

func newVP9Ingest(f *format.VP9) (*ingestTrack, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("VP9 decoder: %w", err)
	}
	return frameIngest(stream.CodecVP9, dec.Decode, vp9.IsRandomAccess), nil
}

// frameIngest is the ingest of a 90 kHz video codec whose RTP payload
// decodes to one frame per access unit (VP8, VP9): units start at a
// keyframe and carry the frame as their one payload.
func frameIngest(codec stream.Codec, decode func(*rtp.Packet) ([]byte, error), isKey func([]byte) bool) *ingestTrack {
	tr := &stream.Track{Codec: codec, ClockRate: 90000}
	var gate videoKeyGate
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		fr, err := decode(pkt)
		if err != nil {
			return nil, err
		}
		key := isKey(fr)
		if !gate.pass(key) {
			return nil, nil
		}
		t := ticksToDuration(pts, 90000)
		return []*stream.Unit{{Track: tr, PTS: t, DTS: t, Key: key, Payload: [][]byte{fr}, Time: now}}, nil
	}}
}
