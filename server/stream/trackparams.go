package stream

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// NewH264Track builds an H.264 track from its parameter sets, reading the
// picture size from the SPS so every adapter reports the same resolution.
func NewH264Track(sps, pps []byte) (*Track, error) {
	t := &Track{Codec: CodecH264, ClockRate: 90000, SPS: sps, PPS: pps}
	if len(sps) > 0 {
		var s h264.SPS
		if err := s.Unmarshal(sps); err != nil {
			return nil, fmt.Errorf("h264 SPS: %w", err)
		}
		t.Width, t.Height = s.Width(), s.Height()
	}
	return t, nil
}

// NewH265Track builds an H.265 track from its parameter sets.
func NewH265Track(vps, sps, pps []byte) (*Track, error) {
	t := &Track{Codec: CodecH265, ClockRate: 90000, VPS: vps, SPS: sps, PPS: pps}
	if len(sps) > 0 {
		var s h265.SPS
		if err := s.Unmarshal(sps); err != nil {
			return nil, fmt.Errorf("h265 SPS: %w", err)
		}
		t.Width, t.Height = s.Width(), s.Height()
	}
	return t, nil
}

// NewAACTrack builds an AAC track from its MPEG-4 AudioSpecificConfig.
func NewAACTrack(asc []byte) (*Track, error) {
	var c mpeg4audio.AudioSpecificConfig
	if err := c.Unmarshal(asc); err != nil {
		return nil, fmt.Errorf("AAC AudioSpecificConfig: %w", err)
	}
	ch := int(c.ChannelConfig)
	switch {
	case ch == 7:
		ch = 8
	case ch == 0:
		ch = 2
	}
	return &Track{Codec: CodecAAC, ClockRate: c.SampleRate, SampleRate: c.SampleRate, Channels: ch, AudioConfig: asc}, nil
}
