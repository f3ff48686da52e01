package rtmp

import (
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"
)

// parseAV1C reads an AV1CodecConfigurationRecord, the body of an 'av01'
// sequence start, and returns its sequence header OBU (without size field),
// the form stream.Track.CodecData holds.
func parseAV1C(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("av1C: %d bytes, need at least 4", len(b))
	}
	if b[0] != 0x81 {
		return nil, fmt.Errorf("av1C: bad marker/version 0x%02x", b[0])
	}
	return findAV1SequenceHeader(b[4:])
}

// findAV1SequenceHeader returns the sequence header among low-overhead
// format OBUs.
func findAV1SequenceHeader(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("av1: no OBUs")
	}
	var bs av1.Bitstream
	if err := bs.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("av1: %w", err)
	}
	for _, obu := range bs {
		if av1.OBUType((obu[0]>>3)&0x0f) == av1.OBUTypeSequenceHeader {
			return obu, nil
		}
	}
	return nil, fmt.Errorf("av1: no sequence header OBU")
}

// buildAV1C writes an AV1CodecConfigurationRecord around a sequence header.
func buildAV1C(seqHdr []byte) ([]byte, error) {
	var h av1.SequenceHeader
	if err := h.Unmarshal(seqHdr); err != nil {
		return nil, fmt.Errorf("av1C: %w", err)
	}
	var level uint8
	var tier bool
	if len(h.SeqLevelIdx) > 0 {
		level = h.SeqLevelIdx[0]
	}
	if len(h.SeqTier) > 0 {
		tier = h.SeqTier[0]
	}
	c := h.ColorConfig
	obus, err := av1.Bitstream{seqHdr}.Marshal()
	if err != nil {
		return nil, fmt.Errorf("av1C: %w", err)
	}
	out := []byte{
		0x81,
		h.SeqProfile<<5 | level&0x1f,
		boolBit(tier)<<7 | boolBit(c.HighBitDepth)<<6 | boolBit(c.TwelveBit)<<5 | boolBit(c.MonoChrome)<<4 |
			boolBit(c.SubsamplingX)<<3 | boolBit(c.SubsamplingY)<<2 | byte(c.ChromaSamplePosition)&3,
		0,
	}
	return append(out, obus...), nil
}

// buildVPCC writes a VPCodecConfigurationRecord (with its version and flags,
// as Enhanced RTMP carries it) from a VP9 key frame's header, for VP9 tracks
// that arrived without one.
func buildVPCC(keyframe []byte) ([]byte, error) {
	var h vp9.Header
	if err := h.Unmarshal(keyframe); err != nil {
		return nil, fmt.Errorf("vpcC: %w", err)
	}
	bitDepth, chroma, fullRange := byte(8), byte(1), byte(0) // 4:2:0 colocated
	if cc := h.ColorConfig; cc != nil {
		bitDepth = cc.BitDepth
		switch {
		case !cc.SubsamplingX && !cc.SubsamplingY:
			chroma = 3
		case cc.SubsamplingX && !cc.SubsamplingY:
			chroma = 2
		}
		fullRange = boolBit(cc.ColorRange)
	}
	return []byte{
		1, 0, 0, 0, // version 1, flags
		h.Profile, 0, // level: unknown
		bitDepth<<4 | chroma<<1 | fullRange,
		2, 2, 2, // colour primaries, transfer, matrix: unspecified
		0, 0, // no codec initialization data
	}, nil
}

// buildOpusHead writes the OpusHead identification header (RFC 7845 5.1)
// for Opus tracks that carry none.
func buildOpusHead(channels int) []byte {
	if channels < 1 || channels > 2 {
		channels = 2
	}
	out := append([]byte("OpusHead"), 1, byte(channels), 0, 0)
	out = binary.LittleEndian.AppendUint32(out, 48000)
	return append(out, 0, 0, 0)
}
