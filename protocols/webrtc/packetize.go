package webrtc

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpav1"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpsimpleaudio"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp8"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp9"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
)

// payloadMaxSize leaves room in a 1500-byte MTU for IP/UDP, SRTP and the
// RTP header extensions the interceptors add.
const payloadMaxSize = 1200

// packetizer turns one track's units into RTP packets. The payload type
// and SSRC it sets are replaced per binding by TrackLocalStaticRTP.
type packetizer struct {
	src   *stream.Track
	clock int64
	base  uint32

	h264 *rtph264.Encoder
	vp8  *rtpvp8.Encoder
	vp9  *rtpvp9.Encoder
	av1  *rtpav1.Encoder
	raw  *rtpsimpleaudio.Encoder
}

// egressCapability returns the codec a WHEP track is offered with and
// the SDP encoding name the offer must list for it, or ok=false when
// WebRTC cannot carry the track as it is.
func egressCapability(t *stream.Track) (c webrtc.RTPCodecCapability, sdpName string, ok bool) {
	switch t.Codec {
	case stream.CodecH264:
		pli := "42e01f"
		if len(t.SPS) >= 4 {
			pli = hex.EncodeToString(t.SPS[1:4])
		}
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp(pli)}, "H264", true
	case stream.CodecVP8:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "VP8", true
	case stream.CodecVP9:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0"}, "VP9", true
	case stream.CodecAV1:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000}, "AV1", true
	case stream.CodecOpus:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, "OPUS", true
	case stream.CodecPCMU, stream.CodecPCMA:
		if (t.SampleRate != 0 && t.SampleRate != 8000) || t.Channels > 1 {
			return c, "", false // WebRTC's G.711 is 8 kHz mono only
		}
		mt, name := webrtc.MimeTypePCMU, "PCMU"
		if t.Codec == stream.CodecPCMA {
			mt, name = webrtc.MimeTypePCMA, "PCMA"
		}
		return webrtc.RTPCodecCapability{MimeType: mt, ClockRate: 8000}, name, true
	}
	return c, "", false
}

func newPacketizer(t *stream.Track) (*packetizer, error) {
	p := &packetizer{src: t, clock: int64(t.ClockRate)}
	if t.Codec == stream.CodecOpus {
		p.clock = 48000 // RTP Opus always counts 48 kHz
	}
	if p.clock <= 0 {
		return nil, fmt.Errorf("%s track has no clock rate", t.Codec)
	}
	var err error
	switch t.Codec {
	case stream.CodecH264:
		p.h264 = &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: payloadMaxSize}
		err = p.h264.Init()
	case stream.CodecVP8:
		p.vp8 = &rtpvp8.Encoder{PayloadType: 96, PayloadMaxSize: payloadMaxSize}
		err = p.vp8.Init()
	case stream.CodecVP9:
		p.vp9 = &rtpvp9.Encoder{PayloadType: 96, PayloadMaxSize: payloadMaxSize}
		err = p.vp9.Init()
	case stream.CodecAV1:
		p.av1 = &rtpav1.Encoder{PayloadType: 96, PayloadMaxSize: payloadMaxSize}
		err = p.av1.Init()
	default:
		p.raw = &rtpsimpleaudio.Encoder{PayloadType: 96, PayloadMaxSize: payloadMaxSize}
		err = p.raw.Init()
	}
	if err != nil {
		return nil, fmt.Errorf("%s encoder: %w", t.Codec, err)
	}
	return p, nil
}

// packets packetizes one unit, stamping every packet with the unit's PTS
// on the track's RTP clock.
func (p *packetizer) packets(u *stream.Unit) ([]*rtp.Packet, error) {
	ts := p.base + uint32(durationTicks(u.PTS, p.clock))
	var pkts []*rtp.Packet
	var err error
	switch {
	case p.h264 != nil:
		pkts, err = p.h264.Encode(p.h264AU(u))
	case p.av1 != nil:
		pkts, err = p.av1.Encode(u.Payload)
	default:
		for _, f := range u.Payload {
			var more []*rtp.Packet
			switch {
			case p.vp8 != nil:
				more, err = p.vp8.Encode(f)
			case p.vp9 != nil:
				more, err = p.vp9.Encode(f)
			default:
				var pkt *rtp.Packet
				pkt, err = p.raw.Encode(f)
				more = []*rtp.Packet{pkt}
			}
			if err != nil {
				break
			}
			pkts = append(pkts, more...)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, pkt := range pkts {
		pkt.Timestamp = ts
	}
	return pkts, nil
}

// h264AU drops delimiters and puts the track's SPS/PPS in front of an IDR
// that does not carry its own, so a player can decode from any keyframe.
// The unit is shared and left untouched.
func (p *packetizer) h264AU(u *stream.Unit) [][]byte {
	hasSPS, hasPPS, hasAUD := false, false, false
	for _, n := range u.Payload {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			hasSPS = true
		case h264.NALUTypePPS:
			hasPPS = true
		case h264.NALUTypeAccessUnitDelimiter:
			hasAUD = true
		}
	}
	addParams := u.Key && (!hasSPS || !hasPPS) && p.src.SPS != nil && p.src.PPS != nil
	if !addParams && !hasAUD {
		return u.Payload
	}
	au := make([][]byte, 0, len(u.Payload)+2)
	if addParams {
		if !hasSPS {
			au = append(au, p.src.SPS)
		}
		if !hasPPS {
			au = append(au, p.src.PPS)
		}
	}
	for _, n := range u.Payload {
		if len(n) == 0 || h264.NALUType(n[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			continue
		}
		au = append(au, n)
	}
	return au
}

// durationTicks converts d to ticks of a clock without overflowing for
// streams that run for days.
func durationTicks(d time.Duration, clock int64) int64 {
	sec, rem := int64(d/time.Second), int64(d%time.Second)
	return sec*clock + rem*clock/int64(time.Second)
}
