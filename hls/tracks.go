package hls

import (
	"fmt"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"mps/internal/stream"
)

// mtrack is one track the muxer packages: the stream track plus what the
// containers need to describe it.
type mtrack struct {
	st        *stream.Track
	id        int // fMP4 track ID, from 1
	timeScale int
	// vps/sps/pps are the parameter sets: the track's, or the first ones
	// seen in-band when the publisher had none out of band.
	vps, sps, pps []byte
	asc           *mpeg4audio.AudioSpecificConfig
}

func (t *mtrack) isVideo() bool { return t.st.IsVideo() }

// ready reports whether the track's out-of-band parameters are known, so
// that an init segment can be written.
func (t *mtrack) ready() bool {
	switch t.st.Codec {
	case stream.CodecH264:
		return t.sps != nil && t.pps != nil
	case stream.CodecH265:
		return t.vps != nil && t.sps != nil && t.pps != nil
	}
	return true
}

// learnParams picks up parameter sets carried in a video unit.
func (t *mtrack) learnParams(au [][]byte) {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch t.st.Codec {
		case stream.CodecH264:
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				if t.sps == nil {
					t.sps = n
				}
			case h264.NALUTypePPS:
				if t.pps == nil {
					t.pps = n
				}
			}
		case stream.CodecH265:
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				if t.vps == nil {
					t.vps = n
				}
			case h265.NALUType_SPS_NUT:
				if t.sps == nil {
					t.sps = n
				}
			case h265.NALUType_PPS_NUT:
				if t.pps == nil {
					t.pps = n
				}
			}
		}
	}
}

// newTracks picks the first packageable video and audio tracks.
func newTracks(ts []*stream.Track) ([]*mtrack, error) {
	var video, audio *mtrack
	for _, t := range ts {
		switch t.Codec {
		case stream.CodecH264, stream.CodecH265:
			if video == nil {
				video = &mtrack{st: t, timeScale: 90000, vps: t.VPS, sps: t.SPS, pps: t.PPS}
			}
		case stream.CodecAAC:
			if audio == nil {
				var c mpeg4audio.AudioSpecificConfig
				if err := c.Unmarshal(t.AudioConfig); err != nil {
					return nil, fmt.Errorf("AAC track: %w", err)
				}
				audio = &mtrack{st: t, timeScale: c.SampleRate, asc: &c}
			}
		case stream.CodecOpus:
			if audio == nil {
				audio = &mtrack{st: t, timeScale: 48000}
			}
		}
	}
	var out []*mtrack
	if video != nil {
		out = append(out, video)
	}
	if audio != nil {
		out = append(out, audio)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no track HLS can carry (have %s; want H.264/H.265 video, AAC/Opus audio)", trackList(ts))
	}
	for i, t := range out {
		t.id = i + 1
	}
	return out, nil
}

func trackList(ts []*stream.Track) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += t.String()
	}
	return s
}

func (t *mtrack) channels() int {
	if t.st.Channels > 0 {
		return t.st.Channels
	}
	return 2
}

// mp4Codec describes the track for an fMP4 init segment.
func (t *mtrack) mp4Codec() mp4codecs.Codec {
	switch t.st.Codec {
	case stream.CodecH264:
		return &mp4codecs.H264{SPS: t.sps, PPS: t.pps}
	case stream.CodecH265:
		return &mp4codecs.H265{VPS: t.vps, SPS: t.sps, PPS: t.pps}
	case stream.CodecAAC:
		return &mp4codecs.MPEG4Audio{Config: *t.asc}
	default:
		return &mp4codecs.Opus{ChannelCount: t.channels()}
	}
}

// tsCodec describes the track for an MPEG-TS PMT.
func (t *mtrack) tsCodec() tscodecs.Codec {
	switch t.st.Codec {
	case stream.CodecH264:
		return &tscodecs.H264{}
	case stream.CodecH265:
		return &tscodecs.H265{}
	case stream.CodecAAC:
		return &tscodecs.MPEG4Audio{Config: *t.asc}
	default:
		return &tscodecs.Opus{ChannelCount: t.channels()}
	}
}

// codecString is the RFC 6381 name for the CODECS attribute.
func (t *mtrack) codecString() string {
	var c hlscodecs.Codec
	switch t.st.Codec {
	case stream.CodecH264:
		c = &hlscodecs.H264{SPS: t.sps, PPS: t.pps}
	case stream.CodecH265:
		c = &hlscodecs.H265{VPS: t.vps, SPS: t.sps, PPS: t.pps}
	case stream.CodecAAC:
		c = &hlscodecs.MPEG4Audio{Config: *t.asc}
	default:
		c = &hlscodecs.Opus{ChannelCount: t.channels()}
	}
	return codecparams.Marshal(c)
}

// resolution returns the picture size, from the track or its SPS.
func (t *mtrack) resolution() (int, int) {
	if t.st.Width > 0 && t.st.Height > 0 {
		return t.st.Width, t.st.Height
	}
	switch t.st.Codec {
	case stream.CodecH264:
		var s h264.SPS
		if s.Unmarshal(t.sps) == nil {
			return s.Width(), s.Height()
		}
	case stream.CodecH265:
		var s h265.SPS
		if s.Unmarshal(t.sps) == nil {
			return s.Width(), s.Height()
		}
	}
	return 0, 0
}

// frameTicks returns the duration of one audio frame in the track's time
// scale.
func (t *mtrack) frameTicks(frame []byte) int64 {
	if t.st.Codec == stream.CodecOpus {
		if d := opus.PacketDuration2(frame); d > 0 {
			return d
		}
		return 960
	}
	return mpeg4audio.SamplesPerAccessUnit
}

// toTicks converts a duration to a clock of rate Hz without overflowing
// for long streams.
func toTicks(d time.Duration, rate int) int64 {
	r := int64(rate)
	return int64(d/time.Second)*r + int64(d%time.Second)*r/int64(time.Second)
}

// fromTicks converts ticks of a clock of rate Hz to a duration.
func fromTicks(ticks int64, rate int) time.Duration {
	r := int64(rate)
	return time.Duration(ticks/r)*time.Second + time.Duration(ticks%r)*time.Second/time.Duration(r)
}
