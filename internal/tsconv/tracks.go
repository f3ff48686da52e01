package tsconv

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/substructs"

	"mps/internal/stream"
)

// coreTrack builds the core track for a TS elementary stream, or reports
// false when the core cannot carry its codec. Parameters that only travel
// in-band (SPS/PPS, the MP3 frame header) are filled in later by the
// demuxer's probe.
func coreTrack(mt *mpegts.Track) (*stream.Track, bool) {
	switch c := mt.Codec.(type) {
	case *codecs.H264:
		return &stream.Track{Codec: stream.CodecH264, ClockRate: clockRate}, true
	case *codecs.H265:
		return &stream.Track{Codec: stream.CodecH265, ClockRate: clockRate}, true
	case *codecs.MPEG4Audio:
		asc, err := c.Config.Marshal()
		if err != nil {
			return nil, false
		}
		t, err := stream.NewAACTrack(asc)
		if err != nil || t.SampleRate <= 0 {
			return nil, false
		}
		return t, true
	case *codecs.Opus:
		ch := 2
		if c.Desc != nil {
			ch = c.Desc.ChannelCount()
		}
		if ch <= 0 {
			ch = 2
		}
		return &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: ch}, true
	case *codecs.MPEG1Audio:
		// RTP's clock for MPEG audio (RFC 3551) is 90 kHz whatever the rate.
		return &stream.Track{Codec: stream.CodecMP3, ClockRate: clockRate}, true
	}
	return nil, false
}

// tsCodec returns the TS codec that carries a core track, or an error
// saying why it cannot be carried.
func tsCodec(t *stream.Track) (codecs.Codec, error) {
	switch t.Codec {
	case stream.CodecH264:
		return &codecs.H264{}, nil
	case stream.CodecH265:
		return &codecs.H265{}, nil
	case stream.CodecAAC:
		var asc mpeg4audio.AudioSpecificConfig
		if err := asc.Unmarshal(t.AudioConfig); err != nil {
			return nil, fmt.Errorf("AAC track without a valid AudioSpecificConfig: %w", err)
		}
		return &codecs.MPEG4Audio{Config: asc}, nil
	case stream.CodecOpus:
		ch := t.Channels
		if ch <= 0 {
			ch = 2
		}
		if ch > 8 {
			return nil, fmt.Errorf("opus with %d channels", ch)
		}
		return &codecs.Opus{Desc: &substructs.OpusAudioDescriptor{ChannelConfigCode: uint8(ch)}}, nil
	case stream.CodecMP3:
		if t.SampleRate > 0 && t.SampleRate < 32000 {
			return nil, fmt.Errorf("MPEG-2 audio (%d Hz): only MPEG-1 audio fits in MPEG-TS here", t.SampleRate)
		}
		return &codecs.MPEG1Audio{}, nil
	}
	return nil, fmt.Errorf("codec %s is not carried in MPEG-TS", t.Codec)
}
