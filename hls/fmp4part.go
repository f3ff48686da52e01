package hls

import (
	"encoding/binary"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// trun flags and the sample flag MPS's parts use (ISO/IEC 14496-12 8.8.8).
const (
	trunFlagDataOffset  = 0x001
	trunFlagDuration    = 0x100
	trunFlagSize        = 0x200
	trunFlagSampleFlags = 0x400
	trunFlagCompOffset  = 0x800
	sampleNonSync       = 1 << 16
	tfhdBaseIsMoof      = 0x020000
	mfhdSize            = 16
	tfhdSize            = 16
	tfdtSize            = 20
	trunHeaderSize      = 20 // box header, version and flags, count, data offset
	trafHeaderSize      = 8
	boxHeaderSize       = 8
	trunEntryBaseSize   = 8 // duration and size
)

// marshalPart writes a part's moof and mdat into one buffer of the exact
// size. It writes the same bytes as mediacommon's fmp4.Part.Marshal (a
// test checks this) without go-mp4's reflection, which was most of the
// muxer's CPU: moof { mfhd, traf { tfhd (default-base-is-moof), tfdt v1,
// trun v1 with data offset, durations, sizes, and flags and composition
// offsets when a sample needs them } per track }, then mdat.
func marshalPart(p *fmp4.Part) []byte {
	moofSize := boxHeaderSize + mfhdSize
	dataSize := 0
	for _, t := range p.Tracks {
		moofSize += trafHeaderSize + tfhdSize + tfdtSize + trunBoxSize(t)
		for _, s := range t.Samples {
			dataSize += len(s.Payload)
		}
	}
	b := make([]byte, moofSize+boxHeaderSize+dataSize)
	w := b[:0]
	w = boxHeader(w, moofSize, "moof")
	w = boxHeader(w, mfhdSize, "mfhd")
	w = binary.BigEndian.AppendUint32(w, 0)
	w = binary.BigEndian.AppendUint32(w, p.SequenceNumber)
	dataOffset := moofSize + boxHeaderSize
	for _, t := range p.Tracks {
		ts := trunBoxSize(t)
		w = boxHeader(w, trafHeaderSize+tfhdSize+tfdtSize+ts, "traf")
		w = boxHeader(w, tfhdSize, "tfhd")
		w = binary.BigEndian.AppendUint32(w, tfhdBaseIsMoof)
		w = binary.BigEndian.AppendUint32(w, uint32(t.ID))
		w = boxHeader(w, tfdtSize, "tfdt")
		w = binary.BigEndian.AppendUint32(w, 1<<24)
		w = binary.BigEndian.AppendUint64(w, t.BaseTime)
		flags := trunFlags(t)
		w = boxHeader(w, ts, "trun")
		w = binary.BigEndian.AppendUint32(w, 1<<24|flags)
		w = binary.BigEndian.AppendUint32(w, uint32(len(t.Samples)))
		w = binary.BigEndian.AppendUint32(w, uint32(dataOffset))
		for _, s := range t.Samples {
			w = binary.BigEndian.AppendUint32(w, s.Duration)
			w = binary.BigEndian.AppendUint32(w, uint32(len(s.Payload)))
			if flags&trunFlagSampleFlags != 0 {
				var f uint32
				if s.IsNonSyncSample {
					f = sampleNonSync
				}
				w = binary.BigEndian.AppendUint32(w, f)
			}
			if flags&trunFlagCompOffset != 0 {
				w = binary.BigEndian.AppendUint32(w, uint32(s.PTSOffset))
			}
			dataOffset += len(s.Payload)
		}
	}
	w = boxHeader(w, boxHeaderSize+dataSize, "mdat")
	for _, t := range p.Tracks {
		for _, s := range t.Samples {
			w = append(w, s.Payload...)
		}
	}
	return w
}

func boxHeader(w []byte, size int, typ string) []byte {
	w = binary.BigEndian.AppendUint32(w, uint32(size))
	return append(w, typ...)
}

// trunFlags has sample flags when a sample is not a sync sample, and
// composition offsets when a sample's PTS differs from its DTS.
func trunFlags(t *fmp4.PartTrack) uint32 {
	flags := uint32(trunFlagDataOffset | trunFlagDuration | trunFlagSize)
	for _, s := range t.Samples {
		if s.IsNonSyncSample {
			flags |= trunFlagSampleFlags
		}
		if s.PTSOffset != 0 {
			flags |= trunFlagCompOffset
		}
	}
	return flags
}

// trunBoxSize is the size of a track's trun box.
func trunBoxSize(t *fmp4.PartTrack) int {
	per := trunEntryBaseSize
	flags := trunFlags(t)
	if flags&trunFlagSampleFlags != 0 {
		per += 4
	}
	if flags&trunFlagCompOffset != 0 {
		per += 4
	}
	return trunHeaderSize + per*len(t.Samples)
}
