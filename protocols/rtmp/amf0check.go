package rtmp

import (
	"encoding/binary"
	"fmt"
)

// maxAMFDepth bounds nesting: the AMF decoder recurses per level, and a
// 16 MB message of nested objects would otherwise exhaust the stack.
const maxAMFDepth = 32

var errAMFTruncated = fmt.Errorf("amf0: truncated value")

// checkAMF0 walks an AMF0 payload (a command or data message body) without
// allocating and rejects what would make go-amf0 allocate by a declared
// count (strict arrays), recurse too deep, or switch to AMF3.
func checkAMF0(b []byte) error {
	for len(b) > 0 {
		n, err := skipAMF0(b, 0)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// skipAMF0 returns the encoded length of the value at the start of b.
func skipAMF0(b []byte, depth int) (int, error) {
	if depth > maxAMFDepth {
		return 0, fmt.Errorf("amf0: nested deeper than %d", maxAMFDepth)
	}
	if len(b) == 0 {
		return 0, errAMFTruncated
	}
	need := func(n int) (int, error) {
		if len(b) < n {
			return 0, errAMFTruncated
		}
		return n, nil
	}
	switch b[0] {
	case 0x00: // number
		return need(9)
	case 0x01: // boolean
		return need(2)
	case 0x02: // string
		if len(b) < 3 {
			return 0, errAMFTruncated
		}
		return need(3 + int(binary.BigEndian.Uint16(b[1:])))
	case 0x03: // object
		n, err := skipProps(b[1:], depth)
		return 1 + n, err
	case 0x05, 0x06, 0x09, 0x0d: // null, undefined, object end, unsupported
		return 1, nil
	case 0x07: // reference
		return need(3)
	case 0x08: // ECMA array: the count is advisory, properties end with 00 00 09
		if len(b) < 5 {
			return 0, errAMFTruncated
		}
		n, err := skipProps(b[5:], depth)
		return 5 + n, err
	case 0x0a: // strict array
		if len(b) < 5 {
			return 0, errAMFTruncated
		}
		count := binary.BigEndian.Uint32(b[1:])
		if uint64(count) > uint64(len(b)-5) {
			return 0, fmt.Errorf("amf0: strict array of %d elements in %d bytes", count, len(b)-5)
		}
		off := 5
		for i := uint32(0); i < count; i++ {
			n, err := skipAMF0(b[off:], depth+1)
			if err != nil {
				return 0, err
			}
			off += n
		}
		return off, nil
	case 0x0b: // date
		return need(11)
	case 0x0c, 0x0f: // long string, XML document
		if len(b) < 5 {
			return 0, errAMFTruncated
		}
		l := uint64(binary.BigEndian.Uint32(b[1:]))
		if l > uint64(len(b)-5) {
			return 0, errAMFTruncated
		}
		return 5 + int(l), nil
	case 0x10: // typed object: class name then properties
		if len(b) < 3 {
			return 0, errAMFTruncated
		}
		off := 3 + int(binary.BigEndian.Uint16(b[1:]))
		if off > len(b) {
			return 0, errAMFTruncated
		}
		n, err := skipProps(b[off:], depth)
		return off + n, err
	default: // movieclip, recordset (reserved), AVM+ (AMF3), unknown
		return 0, fmt.Errorf("amf0: unsupported marker 0x%02x", b[0])
	}
}

// skipProps skips object properties up to and including the end marker.
func skipProps(b []byte, depth int) (int, error) {
	off := 0
	for {
		if len(b)-off < 2 {
			return 0, errAMFTruncated
		}
		kl := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		if kl == 0 && off < len(b) && b[off] == 0x09 {
			return off + 1, nil
		}
		off += kl
		if off > len(b) {
			return 0, errAMFTruncated
		}
		n, err := skipAMF0(b[off:], depth+1)
		if err != nil {
			return 0, err
		}
		off += n
	}
}
