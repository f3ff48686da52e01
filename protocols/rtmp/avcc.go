package rtmp

import (
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// parseAVCC reads an AVCDecoderConfigurationRecord (ISO 14496-15 5.3.3.1),
// the body of an H.264 sequence header tag, and returns its parameter sets
// and the size of the NAL unit length prefix used by the coded frames.
func parseAVCC(b []byte) (sps, pps [][]byte, lengthSize int, err error) {
	if len(b) < 6 {
		return nil, nil, 0, fmt.Errorf("avcC: %d bytes, need at least 6", len(b))
	}
	if b[0] != 1 {
		return nil, nil, 0, fmt.Errorf("avcC: version %d", b[0])
	}
	lengthSize = int(b[4]&0x03) + 1
	if lengthSize == 3 {
		return nil, nil, 0, fmt.Errorf("avcC: 3-byte NAL unit lengths")
	}
	pos := 6
	readSets := func(count int) ([][]byte, error) {
		var out [][]byte
		for i := 0; i < count; i++ {
			if len(b)-pos < 2 {
				return nil, fmt.Errorf("avcC: truncated parameter set length")
			}
			l := int(binary.BigEndian.Uint16(b[pos:]))
			pos += 2
			if len(b)-pos < l {
				return nil, fmt.Errorf("avcC: truncated parameter set")
			}
			if l > 0 {
				out = append(out, append([]byte(nil), b[pos:pos+l]...))
			}
			pos += l
		}
		return out, nil
	}
	if sps, err = readSets(int(b[5] & 0x1f)); err != nil {
		return nil, nil, 0, err
	}
	if pos >= len(b) {
		return nil, nil, 0, fmt.Errorf("avcC: missing PPS count")
	}
	n := int(b[pos])
	pos++
	if pps, err = readSets(n); err != nil {
		return nil, nil, 0, err
	}
	if len(sps) == 0 || len(pps) == 0 {
		return nil, nil, 0, fmt.Errorf("avcC: no SPS or no PPS")
	}
	return sps, pps, lengthSize, nil
}

// buildAVCC writes an AVCDecoderConfigurationRecord with one SPS and one PPS.
func buildAVCC(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) == 0 || len(sps) > 0xffff || len(pps) > 0xffff {
		return nil, fmt.Errorf("avcC: invalid SPS (%d bytes) or PPS (%d bytes)", len(sps), len(pps))
	}
	out := make([]byte, 0, 11+len(sps)+len(pps))
	out = append(out, 1, sps[1], sps[2], sps[3], 0xff, 0xe1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(sps)))
	out = append(out, sps...)
	out = append(out, 1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(pps)))
	out = append(out, pps...)
	return out, nil
}

// splitNALUs splits length-prefixed NAL units (AVCC/HVCC framing). Empty
// units are dropped.
func splitNALUs(b []byte, lengthSize int) ([][]byte, error) {
	if lengthSize == 4 {
		var au h264.AVCC
		if err := au.Unmarshal(b); err != nil {
			return nil, err
		}
		return au, nil
	}
	if lengthSize != 1 && lengthSize != 2 {
		return nil, fmt.Errorf("NAL unit length size %d", lengthSize)
	}
	var out [][]byte
	for len(b) > 0 {
		if len(b) < lengthSize {
			return nil, fmt.Errorf("truncated NAL unit length")
		}
		l := int(b[0])
		if lengthSize == 2 {
			l = int(binary.BigEndian.Uint16(b))
		}
		b = b[lengthSize:]
		if len(b) < l {
			return nil, fmt.Errorf("NAL unit longer than the frame")
		}
		if l > 0 {
			out = append(out, b[:l])
		}
		b = b[l:]
	}
	if len(out) == 0 {
		return nil, h264.ErrAVCCNoNALUs
	}
	return out, nil
}

// joinNALUs writes NAL units with 4-byte length prefixes.
func joinNALUs(nalus [][]byte) []byte {
	n := 0
	for _, u := range nalus {
		n += 4 + len(u)
	}
	out := make([]byte, 0, n)
	for _, u := range nalus {
		out = binary.BigEndian.AppendUint32(out, uint32(len(u)))
		out = append(out, u...)
	}
	return out
}
