package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	amp4 "github.com/abema/go-mp4"
	"github.com/asticode/go-astits"
)

// probeInfo is what the index needs from a segment file that it did not
// see being written (after a restart or a crash).
type probeInfo struct {
	duration time.Duration
	initSize int64
}

// probeFile reads a segment's media duration from its structure without
// reading the media itself.
func probeFile(file, format string) (probeInfo, error) {
	f, err := os.Open(file)
	if err != nil {
		return probeInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return probeInfo{}, err
	}
	if format == FormatMPEGTS {
		return probeTS(f, st.Size())
	}
	if st.Size() <= probeInMemory {
		// The box walk makes many small reads: one read of a small file
		// is much cheaper (an index rebuild probes every file).
		b := make([]byte, st.Size())
		if _, err := io.ReadFull(f, b); err != nil {
			return probeInfo{}, err
		}
		return probeFMP4(bytes.NewReader(b), st.Size())
	}
	return probeFMP4(f, st.Size())
}

// probeInMemory is the largest fMP4 file probeFile reads whole.
const probeInMemory = 4 << 20

// probeFMP4 sums the sample durations of every complete moof+mdat pair: a
// fragment cut short by a crash does not count, since players cannot use
// it either.
func probeFMP4(r io.ReadSeeker, size int64) (probeInfo, error) {
	type trackInfo struct {
		scale uint32
		video bool
	}
	var (
		info     probeInfo
		tracks   = map[uint32]*trackInfo{}
		curTrak  uint32
		curTraf  uint32
		base     uint64
		pending  = map[uint32]uint64{} // ends of the moof being read
		ends     = map[uint32]uint64{} // committed ends
		starts   = map[uint32]uint64{} // first tfdt per track
		sawMoov  bool
		trakInfo = &trackInfo{}
	)
	_, err := amp4.ReadBoxStructure(r, func(h *amp4.ReadHandle) (any, error) {
		bi := h.BoxInfo
		switch bi.Type.String() {
		case "moov":
			sawMoov = true
			info.initSize = int64(bi.Offset + bi.Size)
			return h.Expand()
		case "trak":
			trakInfo = &trackInfo{}
			return h.Expand()
		case "mdia", "moof", "traf":
			if bi.Type.String() == "moof" {
				clear(pending)
			}
			return h.Expand()
		case "tkhd":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			curTrak = b.(*amp4.Tkhd).TrackID
			tracks[curTrak] = trakInfo
		case "mdhd":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			trakInfo.scale = b.(*amp4.Mdhd).Timescale
		case "hdlr":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			trakInfo.video = string(b.(*amp4.Hdlr).HandlerType[:]) == "vide"
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
			base = b.(*amp4.Tfdt).GetBaseMediaDecodeTime()
			if s, ok := starts[curTraf]; !ok || base < s {
				starts[curTraf] = base
			}
		case "trun":
			b, _, err := h.ReadPayload()
			if err != nil {
				return nil, err
			}
			end := base
			for _, e := range b.(*amp4.Trun).Entries {
				end += uint64(e.SampleDuration)
			}
			pending[curTraf] = end
		case "mdat":
			if int64(bi.Offset+bi.Size) <= size {
				for id, e := range pending {
					ends[id] = max(ends[id], e)
				}
			}
			clear(pending)
		}
		return nil, nil
	})
	if !sawMoov {
		if err == nil {
			err = errors.New("no moov box")
		}
		return info, fmt.Errorf("fmp4 probe: %w", err)
	}
	// An error past the init block is a fragment cut short by a crash:
	// what was committed before it stands.
	anyVideo := false
	for _, t := range tracks {
		anyVideo = anyVideo || t.video
	}
	for id, e := range ends {
		t := tracks[id]
		if t == nil || t.scale == 0 || (anyVideo && !t.video) {
			continue
		}
		info.duration = max(info.duration, fromTicks(int64(e-min(e, starts[id])), int64(t.scale)))
	}
	return info, nil
}

// probeTS reads the first and last video timestamps (any, without video)
// of a transport stream from its head and tail only, so a one-hour file
// costs two small reads.
func probeTS(r io.ReadSeeker, size int64) (probeInfo, error) {
	const window = 1 << 20
	head, err := tsTimes(io.LimitReader(r, window))
	if err != nil {
		return probeInfo{}, err
	}
	off := max(0, size-window)
	off -= off % 188
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return probeInfo{}, err
	}
	tail, err := tsTimes(r)
	if err != nil {
		return probeInfo{}, err
	}
	// The last frame lasts as long as the one before it.
	end := tail.last + tail.lastStep
	d := fromTicks(end-head.first, 90000)
	return probeInfo{duration: max(0, d)}, nil
}

type tsSpan struct {
	first, last, lastStep int64 // 90 kHz
}

// tsTimes returns the span of DTS (or PTS) of the video PES packets in r,
// or of all of them when there is no video.
func tsTimes(r io.Reader) (tsSpan, error) {
	dmx := astits.NewDemuxer(context.Background(), r, astits.DemuxerOptPacketSize(188))
	var video, all []int64
	for {
		d, err := dmx.NextData()
		if err != nil {
			break
		}
		if d.PES == nil || d.PES.Header == nil || d.PES.Header.OptionalHeader == nil {
			continue
		}
		oh := d.PES.Header.OptionalHeader
		ts := oh.DTS
		if ts == nil {
			ts = oh.PTS
		}
		if ts == nil {
			continue
		}
		all = append(all, ts.Base)
		if id := d.PES.Header.StreamID; id >= 0xe0 && id <= 0xef {
			video = append(video, ts.Base)
		}
	}
	ts := video
	if len(ts) == 0 {
		ts = all
	}
	if len(ts) == 0 {
		return tsSpan{}, errors.New("mpegts probe: no timestamps")
	}
	sp := tsSpan{first: ts[0], last: ts[0]}
	for i, v := range ts {
		sp.first = min(sp.first, v)
		if v >= sp.last {
			if i > 0 {
				sp.lastStep = v - ts[i-1]
			}
			sp.last = v
		}
	}
	return sp, nil
}
