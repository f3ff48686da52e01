package rtmp

import (
	"encoding/binary"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/yutopp/go-amf0"

	"mps/internal/stream"
)

// flvTag is one audio or video message to send.
type flvTag struct {
	typ  uint8 // msgAudio or msgVideo
	ts   uint32
	body []byte
}

// tagMuxer turns stream units into FLV tag bodies for players and Push: it
// picks one video and one audio track, sends each track's sequence header
// before its first frame and again when in-band parameter sets change, and
// rebases timestamps on the first unit so every track shares one clock.
type tagMuxer struct {
	video, audio *stream.Track
	share        *tagShare // bodies shared with the stream's other players; may be nil

	base    time.Duration
	started bool

	videoHdr []byte // last video sequence header sent
	audioHdr bool
	vps      []byte
	sps, pps []byte
}

func newTagMuxer(tracks []*stream.Track) *tagMuxer {
	m := &tagMuxer{}
	for _, t := range tracks {
		switch t.Codec {
		case stream.CodecH264, stream.CodecH265, stream.CodecAV1, stream.CodecVP9:
			if m.video == nil {
				m.video = t
				m.vps, m.sps, m.pps = t.VPS, t.SPS, t.PPS
			}
		// Opus goes out only as Enhanced RTMP audio, which the players in
		// use (ffmpeg 5, VLC, Flash-era hardware) cannot read: a stream with
		// Opus audio is sent video-only rather than stalling them.
		case stream.CodecAAC, stream.CodecPCMA, stream.CodecPCMU:
			if m.audio == nil {
				m.audio = t
			}
		}
	}
	return m
}

// empty reports whether no track can be sent over RTMP.
func (m *tagMuxer) empty() bool { return m.video == nil && m.audio == nil }

// metadata is the onMetaData object describing the tracks.
func (m *tagMuxer) metadata() amf0.ECMAArray {
	md := amf0.ECMAArray{"duration": 0.0, "encoder": "MPS"}
	if v := m.video; v != nil {
		md["videocodecid"] = videoCodecID(v.Codec)
		if v.Width > 0 {
			md["width"] = float64(v.Width)
			md["height"] = float64(v.Height)
		}
	}
	if a := m.audio; a != nil {
		switch a.Codec {
		case stream.CodecAAC:
			md["audiocodecid"] = float64(soundAAC)
		case stream.CodecPCMA:
			md["audiocodecid"] = float64(soundPCMA)
		case stream.CodecPCMU:
			md["audiocodecid"] = float64(soundPCMU)
		case stream.CodecOpus:
			md["audiocodecid"] = float64(binary.BigEndian.Uint32(fourccOpus[:]))
		}
		if a.SampleRate > 0 {
			md["audiosamplerate"] = float64(a.SampleRate)
			md["audiosamplesize"] = 16.0
			md["stereo"] = a.Channels >= 2
		}
	}
	return md
}

func videoCodecID(c stream.Codec) float64 {
	switch c {
	case stream.CodecH264:
		return codecIDAVC
	case stream.CodecH265:
		return float64(binary.BigEndian.Uint32(fourccHEVC[:]))
	case stream.CodecAV1:
		return float64(binary.BigEndian.Uint32(fourccAV1[:]))
	case stream.CodecVP9:
		return float64(binary.BigEndian.Uint32(fourccVP9[:]))
	}
	return 0
}

func (m *tagMuxer) stamp(d time.Duration) uint32 {
	if !m.started {
		m.base, m.started = d, true
	}
	v := (d - m.base) / time.Millisecond
	if v < 0 {
		return 0
	}
	return uint32(v)
}

// mux returns the tags for u, appended to out.
func (m *tagMuxer) mux(u *stream.Unit, out []flvTag) []flvTag {
	switch {
	case u.Track == m.video && m.video != nil:
		return m.muxVideo(u, out)
	case u.Track == m.audio && m.audio != nil:
		return m.muxAudio(u, out)
	}
	return out
}

func (m *tagMuxer) muxVideo(u *stream.Unit, out []flvTag) []flvTag {
	ts := m.stamp(u.DTS)
	ct := int32((u.PTS - u.DTS) / time.Millisecond)
	ct = max(min(ct, 1<<23-1), -(1 << 23))
	frameType := uint8(frameInter)
	if u.Key {
		frameType = frameKey
	}
	var hdr, body []byte
	switch m.video.Codec {
	case stream.CodecH264:
		changed := false
		for _, n := range u.Payload {
			if len(n) == 0 {
				continue
			}
			switch n[0] & 0x1f {
			case 7:
				changed = changed || string(n) != string(m.sps)
				m.sps = n
			case 8:
				changed = changed || string(n) != string(m.pps)
				m.pps = n
			}
		}
		if (changed || m.videoHdr == nil) && len(m.sps) > 0 && len(m.pps) > 0 {
			if c, err := buildAVCC(m.sps, m.pps); err == nil {
				hdr = legacyVideoTag(codecIDAVC, frameKey, pktSequenceStart, 0, c)
			}
		}
		body = m.share.get(u, func() [][]byte {
			return [][]byte{avcFrameTag(frameType, ct, u.Payload, func(n []byte) bool { return n[0]&0x1f != 9 })}
		})[0]
	case stream.CodecH265:
		changed := false
		for _, n := range u.Payload {
			if len(n) < 2 {
				continue
			}
			switch (n[0] >> 1) & 0x3f {
			case h265VPS:
				changed = changed || string(n) != string(m.vps)
				m.vps = n
			case h265SPS:
				changed = changed || string(n) != string(m.sps)
				m.sps = n
			case h265PPS:
				changed = changed || string(n) != string(m.pps)
				m.pps = n
			}
		}
		if (changed || m.videoHdr == nil) && len(m.vps) > 0 && len(m.sps) > 0 && len(m.pps) > 0 {
			if c, err := buildHVCC(m.vps, m.sps, m.pps); err == nil {
				hdr = exVideoTag(fourccHEVC, frameKey, pktSequenceStart, 0, c)
			}
		}
		body = m.share.get(u, func() [][]byte {
			var nalus [][]byte
			for _, n := range u.Payload {
				if len(n) >= 2 && (n[0]>>1)&0x3f != 35 { // not an access unit delimiter
					nalus = append(nalus, n)
				}
			}
			if len(nalus) == 0 {
				return [][]byte{nil}
			}
			return [][]byte{exVideoTag(fourccHEVC, frameType, pktCodedFrames, ct, joinNALUs(nalus))}
		})[0]
	case stream.CodecAV1:
		seq := m.video.CodecData
		obus := make(av1.Bitstream, 0, len(u.Payload))
		for _, o := range u.Payload {
			if len(o) == 0 {
				continue
			}
			switch av1.OBUType((o[0] >> 3) & 0x0f) {
			case av1.OBUTypeSequenceHeader:
				seq = o
			case av1.OBUTypeTemporalDelimiter:
				continue
			}
			obus = append(obus, o)
		}
		if len(seq) > 0 {
			if c, err := buildAV1C(seq); err == nil {
				hdr = exVideoTag(fourccAV1, frameKey, pktSequenceStart, 0, c)
			}
		}
		if b, err := obus.Marshal(); err == nil && len(b) > 0 {
			body = exVideoTag(fourccAV1, frameType, pktCodedFrames, 0, b)
		}
	case stream.CodecVP9:
		var frame []byte
		for _, p := range u.Payload {
			frame = append(frame, p...)
		}
		c := m.video.CodecData
		if len(c) == 0 && u.Key {
			c, _ = buildVPCC(frame)
		}
		if len(c) > 0 {
			hdr = exVideoTag(fourccVP9, frameKey, pktSequenceStart, 0, c)
		}
		if len(frame) > 0 {
			body = exVideoTag(fourccVP9, frameType, pktCodedFrames, 0, frame)
		}
	}
	if hdr != nil && string(hdr) != string(m.videoHdr) {
		m.videoHdr = hdr
		out = append(out, flvTag{typ: msgVideo, ts: ts, body: hdr})
	}
	if m.videoHdr == nil || body == nil {
		return out // a decoder cannot use frames before their configuration
	}
	return append(out, flvTag{typ: msgVideo, ts: ts, body: body})
}

func (m *tagMuxer) muxAudio(u *stream.Unit, out []flvTag) []flvTag {
	ts := m.stamp(u.DTS)
	a := m.audio
	step := func(i int) uint32 { return 0 }
	switch a.Codec {
	case stream.CodecAAC:
		if !m.audioHdr {
			if len(a.AudioConfig) == 0 {
				return out
			}
			out = append(out, flvTag{typ: msgAudio, ts: ts, body: aacTag(pktSequenceStart, a.AudioConfig)})
			m.audioHdr = true
		}
		if a.SampleRate > 0 {
			step = func(i int) uint32 { return uint32(i * 1024 * 1000 / a.SampleRate) }
		}
	case stream.CodecOpus:
		if !m.audioHdr {
			head := a.CodecData
			if len(head) == 0 {
				head = buildOpusHead(a.Channels)
			}
			out = append(out, flvTag{typ: msgAudio, ts: ts, body: exAudioTag(fourccOpus, pktSequenceStart, head)})
			m.audioHdr = true
		}
		step = func(i int) uint32 { return uint32(i * 20) }
	}
	bodies := m.share.get(u, func() [][]byte { return audioBodies(a.Codec, u.Payload) })
	for i, body := range bodies {
		if body != nil {
			out = append(out, flvTag{typ: msgAudio, ts: ts + step(i), body: body})
		}
	}
	return out
}

// audioBodies makes the tag body of each audio frame; an empty frame gets
// a nil body, so indexes still give each frame's time.
func audioBodies(codec stream.Codec, frames [][]byte) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		if len(f) == 0 {
			continue
		}
		switch codec {
		case stream.CodecAAC:
			out[i] = aacTag(pktCodedFrames, f)
		case stream.CodecOpus:
			out[i] = exAudioTag(fourccOpus, pktCodedFrames, f)
		case stream.CodecPCMA:
			out[i] = g711Tag(soundPCMA, f)
		case stream.CodecPCMU:
			out[i] = g711Tag(soundPCMU, f)
		}
	}
	return out
}

// avcFrameTag makes a legacy AVC coded-frames tag body from the NAL units
// keep accepts, in one allocation; nil when none is kept.
func avcFrameTag(frameType uint8, ct int32, nalus [][]byte, keep func([]byte) bool) []byte {
	n := 0
	for _, u := range nalus {
		if len(u) > 0 && keep(u) {
			n += 4 + len(u)
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]byte, 5, 5+n)
	out[0] = frameType<<4 | codecIDAVC
	out[1] = pktCodedFrames
	putSI24(out[2:], ct)
	for _, u := range nalus {
		if len(u) > 0 && keep(u) {
			out = binary.BigEndian.AppendUint32(out, uint32(len(u)))
			out = append(out, u...)
		}
	}
	return out
}
