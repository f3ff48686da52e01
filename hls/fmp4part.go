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

// partSample is one sample of a part. A video sample keeps its access
// unit's NAL units as the stream holds them, and marshalPart writes them
// with their AVCC length prefixes straight into the part: a picture is
// copied once, where an intermediate AVCC buffer per picture was 5% of the
// server's CPU with 10 LL-HLS streams.
type partSample struct {
	fmp4.Sample          // Payload holds an audio frame
	nalus       [][]byte // a video sample's NAL units (Payload unused)
}

// size is the sample's size in the mdat.
func (s *partSample) size() int {
	if s.nalus == nil {
		return len(s.Payload)
	}
	n := 0
	for _, u := range s.nalus {
		n += 4 + len(u)
	}
	return n
}

// appendData appends the sample's bytes as they go in the mdat.
func (s *partSample) appendData(w []byte) []byte {
	if s.nalus == nil {
		return append(w, s.Payload...)
	}
	for _, u := range s.nalus {
		w = binary.BigEndian.AppendUint32(w, uint32(len(u)))
		w = append(w, u...)
	}
	return w
}

// partTrack is one track's run of samples in a part.
type partTrack struct {
	ID       int
	BaseTime uint64
	Samples  []*partSample
}

// marshalPart writes a part's moof and mdat into one buffer of the exact
// size. It writes the same bytes as mediacommon's fmp4.Part.Marshal (a
// test checks this) without go-mp4's reflection, which was most of the
// muxer's CPU: moof { mfhd, traf { tfhd (default-base-is-moof), tfdt v1,
// trun v1 with data offset, durations, sizes, and flags and composition
// offsets when a sample needs them } per track }, then mdat.
func marshalPart(seq uint32, tracks []partTrack) []byte {
	moofSize := boxHeaderSize + mfhdSize
	dataSize := 0
	for i := range tracks {
		t := &tracks[i]
		moofSize += trafHeaderSize + tfhdSize + tfdtSize + trunBoxSize(t)
		for _, s := range t.Samples {
			dataSize += s.size()
		}
	}
	b := make([]byte, moofSize+boxHeaderSize+dataSize)
	w := b[:0]
	w = boxHeader(w, moofSize, "moof")
	w = boxHeader(w, mfhdSize, "mfhd")
	w = binary.BigEndian.AppendUint32(w, 0)
	w = binary.BigEndian.AppendUint32(w, seq)
	dataOffset := moofSize + boxHeaderSize
	for i := range tracks {
		w, dataOffset = appendTraf(w, &tracks[i], dataOffset)
	}
	w = boxHeader(w, boxHeaderSize+dataSize, "mdat")
	for i := range tracks {
		for _, s := range tracks[i].Samples {
			w = s.appendData(w)
		}
	}
	return w
}

// appendTraf appends a track's traf box whose samples start at dataOffset
// from the moof, and returns the offset after them.
func appendTraf(w []byte, t *partTrack, dataOffset int) ([]byte, int) {
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
		n := s.size()
		w = binary.BigEndian.AppendUint32(w, s.Duration)
		w = binary.BigEndian.AppendUint32(w, uint32(n))
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
		dataOffset += n
	}
	return w, dataOffset
}

func boxHeader(w []byte, size int, typ string) []byte {
	w = binary.BigEndian.AppendUint32(w, uint32(size))
	return append(w, typ...)
}

// trunFlags has sample flags when a sample is not a sync sample, and
// composition offsets when a sample's PTS differs from its DTS.
func trunFlags(t *partTrack) uint32 {
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
func trunBoxSize(t *partTrack) int {
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
