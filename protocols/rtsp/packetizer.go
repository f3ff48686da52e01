package rtsp

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// egressTrack packetizes the units of one core track into RTP.
type egressTrack struct {
	media *description.Media
	rate  int
	base  uint32 // random RTP timestamp offset, as RFC 3550 asks
	// encode returns the packets of one unit with timestamps relative to
	// the unit's PTS; packets() adds the absolute timestamp.
	encode func(u *stream.Unit) ([]*rtp.Packet, error)
}

// packetizer turns the units of a core stream into RTP packets of an RTSP
// session description. Used by each player's output and by Push.
type packetizer struct {
	desc    *description.Session
	tracks  map[*stream.Track]*egressTrack
	skipped []string

	ntpOrigin time.Time
}

// newPacketizer builds a session description from tracks, skipping those
// RTSP cannot carry. It fails when no track is left, so a player is refused
// with a reason instead of getting an empty session.
func newPacketizer(tracks []*stream.Track) (*packetizer, error) {
	p := &packetizer{desc: &description.Session{Title: "MPS"}, tracks: make(map[*stream.Track]*egressTrack)}
	for _, t := range tracks {
		pt := uint8(96 + len(p.desc.Medias))
		et, err := newEgressTrack(t, pt)
		if err != nil {
			p.skipped = append(p.skipped, fmt.Sprintf("%s: %v", t, err))
			continue
		}
		p.desc.Medias = append(p.desc.Medias, et.media)
		p.tracks[t] = et
	}
	if len(p.desc.Medias) == 0 {
		return nil, fmt.Errorf("no track RTSP can carry (%s)", strings.Join(p.skipped, "; "))
	}
	return p, nil
}

// packets returns the RTP packets of u, the media they belong to and the
// wall-clock time of u for RTCP sender reports. A unit of a skipped track
// gives no media.
func (p *packetizer) packets(u *stream.Unit) (*description.Media, []*rtp.Packet, time.Time, error) {
	et, ok := p.tracks[u.Track]
	if !ok {
		return nil, nil, time.Time{}, nil
	}
	pkts, err := et.encode(u)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("packetize %s: %w", u.Track.Codec, err)
	}
	ts := et.base + uint32(durationToTicks(u.PTS, et.rate))
	for _, pkt := range pkts {
		pkt.Timestamp += ts
	}
	if p.ntpOrigin.IsZero() {
		now := u.Time
		if now.IsZero() {
			now = time.Now()
		}
		p.ntpOrigin = now.Add(-u.PTS)
	}
	return et.media, pkts, p.ntpOrigin.Add(u.PTS), nil
}

func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

func newEgressTrack(t *stream.Track, pt uint8) (*egressTrack, error) {
	var (
		f   format.Format
		enc func(u *stream.Unit) ([]*rtp.Packet, error)
		err error
	)
	switch t.Codec {
	case stream.CodecH264:
		f, enc, err = h264Egress(t, pt)
	case stream.CodecH265:
		f, enc, err = h265Egress(t, pt)
	case stream.CodecAAC:
		f, enc, err = aacEgress(t, pt)
	case stream.CodecOpus:
		f, enc, err = opusEgress(t, pt)
	case stream.CodecPCMA, stream.CodecPCMU:
		f, enc, err = g711Egress(t, pt)
	case stream.CodecMP3:
		f, enc, err = mp3Egress()
	case stream.CodecAV1:
		f, enc, err = av1Egress(pt)
	case stream.CodecVP8:
		f, enc, err = vp8Egress(pt)
	case stream.CodecVP9:
		f, enc, err = vp9Egress(pt)
	default:
		return nil, errUnsupportedCodec
	}
	if err != nil {
		return nil, err
	}
	typ := description.MediaTypeAudio
	if t.IsVideo() {
		typ = description.MediaTypeVideo
	}
	return &egressTrack{
		media:  &description.Media{Type: typ, Formats: []format.Format{f}},
		rate:   f.ClockRate(),
		base:   randomUint32(),
		encode: enc,
	}, nil
}

func h264Egress(t *stream.Track, pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	f := &format.H264{PayloadTyp: pt, SPS: t.SPS, PPS: t.PPS, PacketizationMode: 1}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	params := &h264Params{sps: t.SPS, pps: t.PPS}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) {
		au, _ := params.complete(u.Payload)
		if len(au) == 0 {
			return nil, nil
		}
		return e.Encode(au)
	}, nil
}

func h265Egress(t *stream.Track, pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	f := &format.H265{PayloadTyp: pt, VPS: t.VPS, SPS: t.SPS, PPS: t.PPS}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	params := &h265Params{vps: t.VPS, sps: t.SPS, pps: t.PPS}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) {
		au, _ := params.complete(u.Payload)
		if len(au) == 0 {
			return nil, nil
		}
		return e.Encode(au)
	}, nil
}

func aacEgress(t *stream.Track, pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	var asc mpeg4audio.AudioSpecificConfig
	if err := asc.Unmarshal(t.AudioConfig); err != nil {
		return nil, nil, fmt.Errorf("AAC config: %w", err)
	}
	f := &format.MPEG4Audio{
		PayloadTyp: pt, ProfileLevelID: 1, Config: &asc,
		SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3,
	}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) { return e.Encode(u.Payload) }, nil
}

func opusEgress(t *stream.Track, pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	ch := t.Channels
	if ch == 0 {
		ch = 2
	}
	f := &format.Opus{PayloadTyp: pt, ChannelCount: ch}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) {
		out := make([]*rtp.Packet, 0, len(u.Payload))
		var ts uint32
		for _, fr := range u.Payload {
			pkt, err := e.Encode(fr)
			if err != nil {
				return nil, err
			}
			pkt.Timestamp = ts
			ts += uint32(opus.PacketDuration2(fr))
			out = append(out, pkt)
		}
		return out, nil
	}, nil
}

func g711Egress(t *stream.Track, pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	rate, ch := t.SampleRate, t.Channels
	if rate == 0 {
		rate = t.ClockRate
	}
	if rate == 0 {
		rate = 8000
	}
	if ch == 0 {
		ch = 1
	}
	mulaw := t.Codec == stream.CodecPCMU
	if rate == 8000 && ch == 1 {
		// The static payload types of RFC 3551, which every player knows.
		pt = 8
		if mulaw {
			pt = 0
		}
	}
	f := &format.G711{PayloadTyp: pt, MULaw: mulaw, SampleRate: rate, ChannelCount: ch}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) {
		if len(u.Payload) == 0 {
			return nil, nil
		}
		samples := u.Payload[0]
		if len(u.Payload) > 1 {
			samples = nil
			for _, p := range u.Payload {
				samples = append(samples, p...)
			}
		}
		if len(samples) == 0 {
			return nil, nil
		}
		return e.Encode(samples)
	}, nil
}

func mp3Egress() (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	f := &format.MPEG1Audio{}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) { return e.Encode(u.Payload) }, nil
}

func av1Egress(pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	f := &format.AV1{PayloadTyp: pt}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, func(u *stream.Unit) ([]*rtp.Packet, error) { return e.Encode(u.Payload) }, nil
}

// frameEncoder adapts a one-frame-per-call encoder to a unit whose payload
// is a list of frames (normally one).
func frameEncoder(enc func([]byte) ([]*rtp.Packet, error)) func(*stream.Unit) ([]*rtp.Packet, error) {
	return func(u *stream.Unit) ([]*rtp.Packet, error) {
		var out []*rtp.Packet
		for _, fr := range u.Payload {
			pkts, err := enc(fr)
			if err != nil {
				return nil, err
			}
			out = append(out, pkts...)
		}
		return out, nil
	}
}

func vp8Egress(pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	f := &format.VP8{PayloadTyp: pt}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, frameEncoder(e.Encode), nil
}

func vp9Egress(pt uint8) (format.Format, func(*stream.Unit) ([]*rtp.Packet, error), error) {
	f := &format.VP9{PayloadTyp: pt}
	e, err := f.CreateEncoder()
	if err != nil {
		return nil, nil, err
	}
	return f, frameEncoder(e.Encode), nil
}
