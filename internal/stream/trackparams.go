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

// WithParams returns an H.264 or H.265 access unit with the track's
// parameter sets (VPS, SPS, PPS) in front — after a leading access unit
// delimiter — unless it already carries an SPS and a PPS. Adapters apply it
// to keyframes so that every keyframe in the core is decodable on its own,
// whatever the source (RTMP and WebRTC carry them out of band): a reader, a
// segment or a snapshot can then start at any keyframe. Other codecs and
// tracks without parameter sets are returned unchanged.
func (t *Track) WithParams(au [][]byte) [][]byte {
	hevc := t.Codec == CodecH265
	if (t.Codec != CodecH264 && !hevc) || len(t.SPS) == 0 || len(t.PPS) == 0 {
		return au
	}
	var hasSPS, hasPPS, hasAUD bool
	for i, n := range au {
		if len(n) == 0 {
			continue
		}
		if hevc {
			typ := h265.NALUType((n[0] >> 1) & 0x3f)
			hasSPS = hasSPS || typ == h265.NALUType_SPS_NUT
			hasPPS = hasPPS || typ == h265.NALUType_PPS_NUT
			hasAUD = hasAUD || (i == 0 && typ == h265.NALUType_AUD_NUT)
		} else {
			typ := h264.NALUType(n[0] & 0x1f)
			hasSPS = hasSPS || typ == h264.NALUTypeSPS
			hasPPS = hasPPS || typ == h264.NALUTypePPS
			hasAUD = hasAUD || (i == 0 && typ == h264.NALUTypeAccessUnitDelimiter)
		}
	}
	if hasSPS && hasPPS {
		return au
	}
	out := make([][]byte, 0, len(au)+3)
	if hasAUD {
		out = append(out, au[0])
		au = au[1:]
	}
	if hevc && len(t.VPS) > 0 {
		out = append(out, t.VPS)
	}
	out = append(out, t.SPS, t.PPS)
	return append(out, au...)
}
