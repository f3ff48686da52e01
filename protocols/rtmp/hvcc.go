package rtmp

import (
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// H.265 NAL unit types of the parameter sets.
const (
	h265VPS = 32
	h265SPS = 33
	h265PPS = 34
)

// parseHVCC reads an HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1),
// the body of an H.265 sequence start, and returns its parameter sets.
func parseHVCC(b []byte) (vps, sps, pps [][]byte, lengthSize int, err error) {
	if len(b) < 23 {
		return nil, nil, nil, 0, fmt.Errorf("hvcC: %d bytes, need at least 23", len(b))
	}
	if b[0] != 1 {
		return nil, nil, nil, 0, fmt.Errorf("hvcC: version %d", b[0])
	}
	lengthSize = int(b[21]&0x03) + 1
	if lengthSize == 3 {
		return nil, nil, nil, 0, fmt.Errorf("hvcC: 3-byte NAL unit lengths")
	}
	arrays := int(b[22])
	pos := 23
	for i := 0; i < arrays; i++ {
		if len(b)-pos < 3 {
			return nil, nil, nil, 0, fmt.Errorf("hvcC: truncated array header")
		}
		typ := b[pos] & 0x3f
		count := int(binary.BigEndian.Uint16(b[pos+1:]))
		pos += 3
		for j := 0; j < count; j++ {
			if len(b)-pos < 2 {
				return nil, nil, nil, 0, fmt.Errorf("hvcC: truncated NAL unit length")
			}
			l := int(binary.BigEndian.Uint16(b[pos:]))
			pos += 2
			if len(b)-pos < l {
				return nil, nil, nil, 0, fmt.Errorf("hvcC: truncated NAL unit")
			}
			nalu := append([]byte(nil), b[pos:pos+l]...)
			pos += l
			if l == 0 {
				continue
			}
			switch typ {
			case h265VPS:
				vps = append(vps, nalu)
			case h265SPS:
				sps = append(sps, nalu)
			case h265PPS:
				pps = append(pps, nalu)
			}
		}
	}
	if len(vps) == 0 || len(sps) == 0 || len(pps) == 0 {
		return nil, nil, nil, 0, fmt.Errorf("hvcC: missing VPS, SPS or PPS")
	}
	return vps, sps, pps, lengthSize, nil
}

// buildHVCC writes an HEVCDecoderConfigurationRecord holding one VPS, SPS
// and PPS. Profile, tier and level are copied from the SPS.
func buildHVCC(vps, sps, pps []byte) ([]byte, error) {
	var s h265.SPS
	if err := s.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("hvcC: %w", err)
	}
	raw := h264.EmulationPreventionRemove(sps)
	// NAL header (2), VPS id/max sub layers/nesting (1), then the 12 bytes
	// of general profile_tier_level.
	if len(raw) < 15 {
		return nil, fmt.Errorf("hvcC: SPS too short")
	}
	for _, p := range [][]byte{vps, sps, pps} {
		if len(p) == 0 || len(p) > 0xffff {
			return nil, fmt.Errorf("hvcC: invalid parameter set size %d", len(p))
		}
	}
	out := make([]byte, 0, 23+3*5+len(vps)+len(sps)+len(pps))
	out = append(out, 1)
	out = append(out, raw[3:15]...)
	out = append(out,
		0xf0, 0x00, // min_spatial_segmentation_idc
		0xfc,                                // parallelismType unknown
		0xfc|byte(s.ChromaFormatIdc&0x03),   // chroma format
		0xf8|byte(s.BitDepthLumaMinus8&7),   // luma bit depth
		0xf8|byte(s.BitDepthChromaMinus8&7), // chroma bit depth
		0, 0,                                // avgFrameRate
		byte((s.MaxSubLayersMinus1+1)&7)<<3|boolBit(s.TemporalIDNestingFlag)<<2|3,
		3,
	)
	for _, a := range []struct {
		typ byte
		p   []byte
	}{{h265VPS, vps}, {h265SPS, sps}, {h265PPS, pps}} {
		out = append(out, 0x80|a.typ, 0, 1)
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.p)))
		out = append(out, a.p...)
	}
	return out, nil
}

func boolBit(b bool) byte {
	if b {
		return 1
	}
	return 0
}
