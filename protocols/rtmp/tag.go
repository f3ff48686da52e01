package rtmp

import (
	"encoding/binary"
	"fmt"

	"mps/internal/stream"
)

// Packet kinds of a video or audio tag body, normalized across the legacy
// (AVCPacketType, AACPacketType) and Enhanced RTMP (PacketType) encodings.
const (
	pktSequenceStart = 0
	pktCodedFrames   = 1
	pktSequenceEnd   = 2
	pktCodedFramesX  = 3 // Enhanced RTMP: coded frames without composition time
	pktMetadata      = 4
	pktMPEG2TSStart  = 5
	pktMultitrack    = 6
	pktModEx         = 7
)

// FLV frame types.
const (
	frameKey     = 1
	frameInter   = 2
	frameCommand = 5 // video info/command frame: no picture
)

// Legacy FLV codec IDs.
const (
	codecIDAVC  = 7
	codecIDHEVC = 12 // not in the FLV spec, but widely used before Enhanced RTMP

	soundMP3  = 2
	soundPCMA = 7
	soundPCMU = 8
	soundExHd = 9 // Enhanced RTMP audio: FourCC follows
	soundAAC  = 10
)

// Enhanced RTMP FourCCs.
var (
	fourccAVC  = [4]byte{'a', 'v', 'c', '1'}
	fourccHEVC = [4]byte{'h', 'v', 'c', '1'}
	fourccAV1  = [4]byte{'a', 'v', '0', '1'}
	fourccVP9  = [4]byte{'v', 'p', '0', '9'}
	fourccOpus = [4]byte{'O', 'p', 'u', 's'}
	fourccAAC  = [4]byte{'m', 'p', '4', 'a'}
)

// videoTag is a parsed FLV VIDEODATA body. Data aliases the input.
type videoTag struct {
	Codec      stream.Codec // "" when the codec is not one we carry
	FrameType  uint8
	PacketType uint8
	// CompositionTime is PTS-DTS in milliseconds (AVC and HEVC only).
	CompositionTime int32
	Data            []byte
}

// audioTag is a parsed FLV AUDIODATA body. Data aliases the input.
type audioTag struct {
	Codec      stream.Codec
	PacketType uint8 // pktSequenceStart or pktCodedFrames
	Data       []byte
}

func si24(b []byte) int32 {
	v := int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2])
	if v&0x800000 != 0 {
		v -= 1 << 24
	}
	return v
}

func putSI24(b []byte, v int32) {
	b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
}

func videoCodecOf(fourcc [4]byte) stream.Codec {
	switch fourcc {
	case fourccAVC:
		return stream.CodecH264
	case fourccHEVC:
		return stream.CodecH265
	case fourccAV1:
		return stream.CodecAV1
	case fourccVP9:
		return stream.CodecVP9
	}
	return ""
}

// parseVideoTag parses a video message body, legacy or Enhanced RTMP.
func parseVideoTag(b []byte) (videoTag, error) {
	var t videoTag
	if len(b) < 1 {
		return t, fmt.Errorf("empty video tag")
	}
	if b[0]&0x80 == 0 {
		t.FrameType = b[0] >> 4
		codecID := b[0] & 0x0f
		if t.FrameType == frameCommand {
			t.PacketType = pktMetadata
			return t, nil
		}
		switch codecID {
		case codecIDAVC:
			t.Codec = stream.CodecH264
		case codecIDHEVC:
			t.Codec = stream.CodecH265
		default:
			return t, nil
		}
		if len(b) < 5 {
			return t, fmt.Errorf("short %s tag header", t.Codec)
		}
		switch b[1] {
		case 0:
			t.PacketType = pktSequenceStart
		case 1:
			t.PacketType = pktCodedFrames
		case 2:
			t.PacketType = pktSequenceEnd
		default:
			return t, fmt.Errorf("unknown AVC packet type %d", b[1])
		}
		t.CompositionTime = si24(b[2:])
		t.Data = b[5:]
		return t, nil
	}

	// Enhanced RTMP: [IsExHeader:1 FrameType:3 PacketType:4] [ModEx...] FourCC.
	t.FrameType = (b[0] >> 4) & 0x07
	t.PacketType = b[0] & 0x0f
	b = b[1:]
	for t.PacketType == pktModEx {
		if len(b) < 1 {
			return t, fmt.Errorf("truncated ModEx")
		}
		size := int(b[0]) + 1
		b = b[1:]
		if size == 256 {
			if len(b) < 2 {
				return t, fmt.Errorf("truncated ModEx")
			}
			size = int(binary.BigEndian.Uint16(b)) + 1
			b = b[2:]
		}
		if len(b) < size+1 {
			return t, fmt.Errorf("truncated ModEx")
		}
		t.PacketType = b[size] & 0x0f
		b = b[size+1:]
	}
	if t.FrameType == frameCommand && t.PacketType != pktMetadata {
		return t, nil
	}
	if t.PacketType == pktMultitrack {
		return t, fmt.Errorf("multitrack video is not supported")
	}
	if len(b) < 4 {
		return t, fmt.Errorf("truncated FourCC")
	}
	t.Codec = videoCodecOf([4]byte(b[:4]))
	b = b[4:]
	switch t.PacketType {
	case pktCodedFrames:
		if t.Codec == stream.CodecH264 || t.Codec == stream.CodecH265 {
			if len(b) < 3 {
				return t, fmt.Errorf("truncated composition time")
			}
			t.CompositionTime = si24(b)
			b = b[3:]
		}
	case pktCodedFramesX:
		t.PacketType = pktCodedFrames
	case pktMPEG2TSStart:
		if t.Codec != stream.CodecAV1 {
			return t, fmt.Errorf("MPEG2TSSequenceStart for %s", t.Codec)
		}
	case pktSequenceStart, pktSequenceEnd, pktMetadata:
	default:
		return t, fmt.Errorf("unknown video packet type %d", t.PacketType)
	}
	t.Data = b
	return t, nil
}

// parseAudioTag parses an audio message body, legacy or Enhanced RTMP.
func parseAudioTag(b []byte) (audioTag, error) {
	var t audioTag
	if len(b) < 1 {
		return t, fmt.Errorf("empty audio tag")
	}
	format := b[0] >> 4
	switch format {
	case soundAAC:
		if len(b) < 2 {
			return t, fmt.Errorf("short AAC tag header")
		}
		t.Codec = stream.CodecAAC
		switch b[1] {
		case 0:
			t.PacketType = pktSequenceStart
		case 1:
			t.PacketType = pktCodedFrames
		default:
			return t, fmt.Errorf("unknown AAC packet type %d", b[1])
		}
		t.Data = b[2:]
	case soundPCMA, soundPCMU:
		t.Codec = stream.CodecPCMA
		if format == soundPCMU {
			t.Codec = stream.CodecPCMU
		}
		t.PacketType = pktCodedFrames
		t.Data = b[1:]
	case soundExHd:
		t.PacketType = b[0] & 0x0f
		b = b[1:]
		if t.PacketType == pktModEx || t.PacketType == pktMultitrack {
			return t, fmt.Errorf("audio packet type %d is not supported", t.PacketType)
		}
		if len(b) < 4 {
			return t, fmt.Errorf("truncated FourCC")
		}
		switch [4]byte(b[:4]) {
		case fourccOpus:
			t.Codec = stream.CodecOpus
		case fourccAAC:
			t.Codec = stream.CodecAAC
		}
		switch t.PacketType {
		case pktSequenceStart, pktCodedFrames, pktSequenceEnd:
		default:
			return t, fmt.Errorf("unknown audio packet type %d", t.PacketType)
		}
		t.Data = b[4:]
	default:
		// MP3, Speex, Nellymoser...: not carried.
	}
	return t, nil
}

// Tag body writers. Each returns a new slice holding header and data.

func legacyVideoTag(codecID, frameType, pktType uint8, ct int32, data []byte) []byte {
	out := make([]byte, 5+len(data))
	out[0] = frameType<<4 | codecID
	out[1] = pktType
	putSI24(out[2:], ct)
	copy(out[5:], data)
	return out
}

func exVideoTag(fourcc [4]byte, frameType, pktType uint8, ct int32, data []byte) []byte {
	withCT := pktType == pktCodedFrames && (fourcc == fourccHEVC || fourcc == fourccAVC)
	if withCT && ct == 0 {
		pktType, withCT = pktCodedFramesX, false
	}
	n := 5
	if withCT {
		n += 3
	}
	out := make([]byte, n+len(data))
	out[0] = 0x80 | frameType<<4 | pktType
	copy(out[1:], fourcc[:])
	if withCT {
		putSI24(out[5:], ct)
	}
	copy(out[n:], data)
	return out
}

func aacTag(pktType uint8, data []byte) []byte {
	out := make([]byte, 2+len(data))
	out[0] = soundAAC<<4 | 3<<2 | 1<<1 | 1 // 44 kHz, 16 bit, stereo: fixed for AAC
	out[1] = pktType
	copy(out[2:], data)
	return out
}

func g711Tag(format uint8, data []byte) []byte {
	out := make([]byte, 1+len(data))
	out[0] = format<<4 | 1<<1 // 5.5 kHz field is ignored for G.711; 16 bit, mono
	copy(out[1:], data)
	return out
}

func exAudioTag(fourcc [4]byte, pktType uint8, data []byte) []byte {
	out := make([]byte, 5+len(data))
	out[0] = soundExHd<<4 | pktType
	copy(out[1:], fourcc[:])
	copy(out[5:], data)
	return out
}
