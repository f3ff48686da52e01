package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	amp4 "github.com/abema/go-mp4"
)

// A recorded fMP4 segment has its own timeline, from 0. The HLS VOD of a
// recording puts the segments of a continuous run back on one timeline, so
// players that ignore EXT-X-DISCONTINUITY in fMP4 (ffmpeg's HLS reader
// does) play them back to back: each media range is served with its tfdt
// decode times moved forward by the segment's offset in the run. Only the
// 64-bit tfdt fields change, in place; the file on disk is untouched.

// patch is 8 bytes to put at off in a served file.
type patch struct {
	off int64
	val [8]byte
}

// tfdtShifts finds every tfdt box of the fMP4 file in r (size bytes) and
// returns patches that add shift ticks (per track, in seconds×timescale
// computed by ticksOf) to their decode times.
func tfdtShifts(r io.ReadSeeker, ticksOf func(timescale uint32) uint64) ([]patch, error) {
	scales := map[uint32]uint32{}
	var (
		curTrak uint32
		curTraf uint32
		out     []patch
	)
	_, err := amp4.ReadBoxStructure(r, func(h *amp4.ReadHandle) (any, error) {
		bi := h.BoxInfo
		switch bi.Type.String() {
		case "moov", "trak", "mdia", "moof", "traf":
			return h.Expand()
		case "tkhd":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			curTrak = b.(*amp4.Tkhd).TrackID
		case "mdhd":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			scales[curTrak] = b.(*amp4.Mdhd).Timescale
		case "tfhd":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			curTraf = b.(*amp4.Tfhd).TrackID
		case "tfdt":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			t := b.(*amp4.Tfdt)
			if t.GetVersion() != 1 {
				return nil, errors.New("tfdt version 0: cannot shift in place")
			}
			scale := scales[curTraf]
			if scale == 0 {
				return nil, fmt.Errorf("tfdt of unknown track %d", curTraf)
			}
			p := patch{off: int64(bi.Offset + bi.HeaderSize + 4)}
			binary.BigEndian.PutUint64(p.val[:], t.BaseMediaDecodeTimeV1+ticksOf(scale))
			out = append(out, p)
		}
		return nil, nil
	})
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("fmp4 timeline: %w", err)
	}
	// An error past the last complete fragment (a file being written)
	// leaves the fragments before it shifted.
	return out, nil
}

// patchedReader reads r with patches applied, for http.ServeContent.
type patchedReader struct {
	r       *io.SectionReader
	pos     int64
	patches []patch // sorted by off
}

func (p *patchedReader) Read(b []byte) (int, error) {
	n, err := p.r.ReadAt(b, p.pos)
	start, end := p.pos, p.pos+int64(n)
	for _, pt := range p.patches {
		if pt.off+8 <= start || pt.off >= end {
			continue
		}
		for i := range int64(8) {
			if at := pt.off + i; at >= start && at < end {
				b[at-start] = pt.val[i]
			}
		}
	}
	p.pos = end
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (p *patchedReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += p.pos
	case io.SeekEnd:
		off += p.r.Size()
	default:
		return 0, errors.New("seek: bad whence")
	}
	if off < 0 {
		return 0, errors.New("seek: negative position")
	}
	p.pos = off
	return off, nil
}
