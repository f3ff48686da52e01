package webrtc

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpav1"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpsimpleaudio"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp8"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp9"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
)

// frame is one depacketized access unit, before it becomes a stream.Unit.
type frame struct {
	payload [][]byte
	key     bool
	pts     time.Duration
	dts     time.Duration
}

// depacketizer turns one track's in-order RTP packets into frames and
// learns, from the first keyframe, what the core needs to describe the
// track. It is used by one goroutine.
type depacketizer struct {
	codec stream.Codec
	clock rtpClock

	h264 *rtph264.Decoder
	vp8  *rtpvp8.Decoder
	vp9  *rtpvp9.Decoder
	av1  *rtpav1.Decoder
	raw  *rtpsimpleaudio.Decoder

	// H.264 parameter sets seen so far, and the DTS extractor.
	sps, pps []byte
	dtsx     *h264.DTSExtractor
	// AV1 sequence header, VP8 picture size.
	seqHdr        []byte
	width, height int
	channels      int

	keySeen bool
}

// errUnsupportedCodec is returned for a negotiated codec the core cannot
// carry; the engine registers none, so it means a pion surprise.
var errUnsupportedCodec = errors.New("codec not supported")

// newDepacketizer returns the depacketizer for a negotiated codec.
func newDepacketizer(c webrtc.RTPCodecParameters) (*depacketizer, error) {
	d := &depacketizer{}
	var err error
	switch strings.ToLower(c.MimeType) {
	case strings.ToLower(webrtc.MimeTypeH264):
		d.codec = stream.CodecH264
		d.h264 = &rtph264.Decoder{PacketizationMode: 1}
		err = d.h264.Init()
	case strings.ToLower(webrtc.MimeTypeVP8):
		d.codec = stream.CodecVP8
		d.vp8 = &rtpvp8.Decoder{}
		err = d.vp8.Init()
	case strings.ToLower(webrtc.MimeTypeVP9):
		d.codec = stream.CodecVP9
		d.vp9 = &rtpvp9.Decoder{}
		err = d.vp9.Init()
	case strings.ToLower(webrtc.MimeTypeAV1):
		d.codec = stream.CodecAV1
		d.av1 = &rtpav1.Decoder{}
		err = d.av1.Init()
	case strings.ToLower(webrtc.MimeTypeOpus):
		d.codec = stream.CodecOpus
		d.channels = 2
	case strings.ToLower(webrtc.MimeTypePCMU):
		d.codec = stream.CodecPCMU
		d.channels = 1
	case strings.ToLower(webrtc.MimeTypePCMA):
		d.codec = stream.CodecPCMA
		d.channels = 1
	default:
		return nil, fmt.Errorf("%s: %w", c.MimeType, errUnsupportedCodec)
	}
	if err != nil {
		return nil, fmt.Errorf("%s decoder: %w", c.MimeType, err)
	}
	if !d.codec.IsVideo() {
		d.raw = &rtpsimpleaudio.Decoder{}
		if err := d.raw.Init(); err != nil {
			return nil, fmt.Errorf("%s decoder: %w", c.MimeType, err)
		}
	}
	if c.ClockRate == 0 {
		return nil, fmt.Errorf("%s: zero clock rate", c.MimeType)
	}
	d.clock.rate = int64(c.ClockRate)
	return d, nil
}

// push decodes one packet; it returns a frame when the packet completed
// one. Packets that do not (fragments, broken payloads) give nil and a
// possibly nil error; errors are per packet and never fatal.
func (d *depacketizer) push(pkt *rtp.Packet) (*frame, error) {
	var payload [][]byte
	var err error
	switch {
	case d.h264 != nil:
		payload, err = d.h264.Decode(pkt)
	case d.av1 != nil:
		payload, err = d.av1.Decode(pkt)
	default:
		var f []byte
		switch {
		case d.vp8 != nil:
			f, err = d.vp8.Decode(pkt)
		case d.vp9 != nil:
			f, err = d.vp9.Decode(pkt)
		default:
			f, err = d.raw.Decode(pkt)
		}
		if err == nil {
			if len(f) == 0 {
				return nil, nil
			}
			payload = [][]byte{f}
		}
	}
	if err != nil {
		if isMorePackets(err) {
			return nil, nil
		}
		return nil, err
	}
	if len(payload) == 0 {
		return nil, nil
	}
	pts := d.clock.pts(pkt.Timestamp)
	fr := &frame{payload: payload, pts: pts, dts: pts, key: true}
	switch d.codec {
	case stream.CodecH264:
		return d.h264Frame(fr)
	case stream.CodecVP8:
		fr.key = payload[0][0]&1 == 0
		if fr.key && len(payload[0]) >= 10 {
			p := payload[0]
			d.width = int(uint16(p[6])|uint16(p[7])<<8) & 0x3fff
			d.height = int(uint16(p[8])|uint16(p[9])<<8) & 0x3fff
		}
	case stream.CodecVP9:
		fr.key = vp9.IsRandomAccess(payload[0])
	case stream.CodecAV1:
		fr.key = av1.IsRandomAccess2(payload)
		for _, obu := range payload {
			if len(obu) > 0 && (obu[0]>>3)&0x0f == 1 { // OBU_SEQUENCE_HEADER
				d.seqHdr = obu
			}
		}
	}
	if fr.key {
		d.keySeen = true
	}
	return fr, nil
}

func isMorePackets(err error) bool {
	return errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtpvp8.ErrMorePacketsNeeded) ||
		errors.Is(err, rtpvp9.ErrMorePacketsNeeded) || errors.Is(err, rtpav1.ErrMorePacketsNeeded) ||
		errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) || errors.Is(err, rtpvp8.ErrNonStartingPacketAndNoPrevious) ||
		errors.Is(err, rtpvp9.ErrNonStartingPacketAndNoPrevious) || errors.Is(err, rtpav1.ErrNonStartingPacketAndNoPrevious)
}

// h264Frame tracks parameter sets, drops access unit delimiters, puts
// SPS/PPS in front of IDRs that lack them (so any consumer can start at a
// GOP-cache keyframe) and computes DTS.
func (d *depacketizer) h264Frame(fr *frame) (*frame, error) {
	au := make([][]byte, 0, len(fr.payload)+2)
	hasSPS, hasPPS := false, false
	for _, n := range fr.payload {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			d.sps, hasSPS = n, true
		case h264.NALUTypePPS:
			d.pps, hasPPS = n, true
		case h264.NALUTypeAccessUnitDelimiter:
			continue
		}
		au = append(au, n)
	}
	if len(au) == 0 {
		return nil, nil
	}
	fr.key = h264.IsRandomAccess(au)
	if fr.key {
		if d.sps == nil || d.pps == nil {
			return nil, errors.New("H.264 IDR before any SPS/PPS")
		}
		if !hasSPS || !hasPPS {
			withParams := make([][]byte, 0, len(au)+2)
			if !hasSPS {
				withParams = append(withParams, d.sps)
			}
			if !hasPPS {
				withParams = append(withParams, d.pps)
			}
			au = append(withParams, au...)
		}
		d.keySeen = true
	}
	if !d.keySeen {
		return nil, nil // nothing is decodable before the first IDR
	}
	fr.payload = au
	if d.dtsx == nil {
		if !fr.key {
			return nil, nil
		}
		d.dtsx = &h264.DTSExtractor{}
		d.dtsx.Initialize()
	}
	pts90 := int64(fr.pts) * 90000 / int64(time.Second)
	dts90, err := d.dtsx.Extract(au, pts90)
	if err != nil {
		d.dtsx = nil // start over at the next IDR
		return nil, fmt.Errorf("H.264 DTS: %w", err)
	}
	fr.dts = time.Duration(dts90) * time.Second / 90000
	if fr.dts > fr.pts {
		fr.dts = fr.pts
	}
	return fr, nil
}

// ready reports whether the depacketizer knows enough to describe its
// track: a keyframe for video (with SPS/PPS for H.264), at once for audio.
func (d *depacketizer) ready() bool {
	if !d.codec.IsVideo() {
		return true
	}
	if d.codec == stream.CodecH264 {
		return d.keySeen && d.sps != nil && d.pps != nil
	}
	return d.keySeen
}

// track describes the track for the hub; call it once ready.
func (d *depacketizer) track() (*stream.Track, error) {
	switch d.codec {
	case stream.CodecH264:
		return stream.NewH264Track(d.sps, d.pps)
	case stream.CodecVP8, stream.CodecVP9:
		return &stream.Track{Codec: d.codec, ClockRate: 90000, Width: d.width, Height: d.height}, nil
	case stream.CodecAV1:
		return &stream.Track{Codec: d.codec, ClockRate: 90000, CodecData: d.seqHdr}, nil
	default:
		rate := int(d.clock.rate)
		return &stream.Track{Codec: d.codec, ClockRate: rate, SampleRate: rate, Channels: d.channels}, nil
	}
}

// rtpClock turns 32-bit RTP timestamps, which wrap, into a duration since
// the track's first packet plus the track's offset from the session's
// origin.
type rtpClock struct {
	rate    int64
	offset  time.Duration
	started bool
	last    uint32
	acc     int64
}

func (c *rtpClock) pts(ts uint32) time.Duration {
	if !c.started {
		c.started, c.last = true, ts
	}
	c.acc += int64(int32(ts - c.last))
	c.last = ts
	sec, rem := c.acc/c.rate, c.acc%c.rate
	return c.offset + time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(c.rate)
}
