package recorder

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"mps/internal/stream"
)

// fmp4Track is one track's state inside a segment. A sample's duration is
// only known when the next sample of the track arrives, so the newest
// sample waits in last until then.
type fmp4Track struct {
	st    *stream.Track
	id    int
	scale int64

	last     *fmp4.Sample
	lastDTS  int64 // ticks, absolute
	lastDur  uint32
	firstDTS time.Duration
	started  bool

	// vps, sps, pps are the parameter sets for the init block: the
	// track's, or learnt from the first keyframe that carries them (the
	// shared Track is never modified).
	vps, sps, pps []byte

	ready []*fmp4.Sample // samples of the current part with known duration
	base  uint64         // track time of ready[0] (tfdt)
	end   uint64         // track time after the last ready sample
	init  bool           // base was set from the segment origin
}

// fmp4Writer writes a fragmented MP4 segment: ftyp+moov, then one
// moof+mdat per part, each part in one Write.
type fmp4Writer struct {
	w      *countingWriter
	tracks []*fmp4Track
	byID   map[*stream.Track]*fmp4Track
	part   time.Duration

	partStart  time.Duration
	inPart     bool
	seq        uint32
	wroteInit  bool
	initLen    int64
	origin     time.Duration
	dur        time.Duration
	buf        seekablebuffer.Buffer
	videoTrack *fmp4Track
}

func newFMP4Writer(w io.Writer, tracks []*stream.Track, part time.Duration) (*fmp4Writer, error) {
	f := &fmp4Writer{w: &countingWriter{w: w}, byID: map[*stream.Track]*fmp4Track{}, part: part}
	for i, t := range tracks {
		scale := int64(t.ClockRate)
		switch {
		case t.IsVideo():
			scale = 90000
		case t.Codec == stream.CodecOpus:
			scale = 48000
		case t.SampleRate > 0:
			scale = int64(t.SampleRate)
		}
		if scale <= 0 {
			return nil, fmt.Errorf("track %s: no clock rate", t)
		}
		ft := &fmp4Track{st: t, id: i + 1, scale: scale, vps: t.VPS, sps: t.SPS, pps: t.PPS}
		f.tracks = append(f.tracks, ft)
		f.byID[t] = ft
		if t.IsVideo() && f.videoTrack == nil {
			f.videoTrack = ft
		}
	}
	return f, nil
}

func (f *fmp4Writer) written() int64          { return f.w.n }
func (f *fmp4Writer) duration() time.Duration { return f.dur }
func (f *fmp4Writer) initSize() int64         { return f.initLen }

func (f *fmp4Writer) write(u *stream.Unit) error {
	t := f.byID[u.Track]
	if t == nil {
		return nil
	}
	if !f.inPart {
		f.partStart = u.DTS
		f.inPart = true
	}
	t.learnParams(u)
	if err := f.addUnit(t, u); err != nil {
		return err
	}
	if u.DTS-f.partStart >= f.part {
		return f.flush()
	}
	return nil
}

// addUnit turns u into one sample (video) or one per frame (audio).
func (f *fmp4Writer) addUnit(t *fmp4Track, u *stream.Unit) error {
	if !t.started {
		t.started = true
		t.firstDTS = u.DTS
	}
	dts := ticks(u.DTS, t.scale)
	switch t.st.Codec {
	case stream.CodecH264, stream.CodecH265:
		payload, err := h264.AVCC(u.Payload).Marshal()
		if err != nil {
			return fmt.Errorf("%s unit: %w", t.st.Codec, err)
		}
		t.add(dts, &fmp4.Sample{
			PTSOffset:       int32(ticks(u.PTS, t.scale) - dts),
			IsNonSyncSample: !u.Key,
			Payload:         payload,
		})
	case stream.CodecAV1:
		payload, err := av1.Bitstream(u.Payload).Marshal()
		if err != nil {
			return fmt.Errorf("av1 unit: %w", err)
		}
		t.add(dts, &fmp4.Sample{IsNonSyncSample: !u.Key, Payload: payload})
	case stream.CodecVP9:
		t.add(dts, &fmp4.Sample{IsNonSyncSample: !u.Key, Payload: bytes.Join(u.Payload, nil)})
	case stream.CodecAAC:
		for i, fr := range u.Payload {
			t.add(dts+int64(i)*mpeg4audio.SamplesPerAccessUnit, &fmp4.Sample{Payload: fr})
		}
	case stream.CodecOpus:
		off := int64(0)
		for _, pkt := range u.Payload {
			t.add(dts+off, &fmp4.Sample{Payload: pkt})
			off += opus.PacketDuration2(pkt)
		}
	}
	return nil
}

// add makes s the track's newest sample, fixing the duration of the one
// before it.
func (t *fmp4Track) add(dts int64, s *fmp4.Sample) {
	if t.last != nil {
		t.close(dts)
	}
	t.last = s
	t.lastDTS = dts
}

// close gives the waiting sample the duration up to next and moves it to
// the part.
func (t *fmp4Track) close(next int64) {
	d := next - t.lastDTS
	if d <= 0 || d > 1<<31 {
		d = int64(t.lastDur)
		if d == 0 {
			d = 1
		}
	}
	t.last.Duration = uint32(d)
	t.lastDur = uint32(d)
	t.ready = append(t.ready, t.last)
	t.last = nil
}

// defaultDur guesses a sample duration when no next sample will come.
func (t *fmp4Track) defaultDur() int64 {
	if t.lastDur > 0 {
		return int64(t.lastDur)
	}
	switch {
	case t.st.Codec == stream.CodecAAC:
		return mpeg4audio.SamplesPerAccessUnit
	case t.st.Codec == stream.CodecOpus:
		return t.scale / 50
	}
	return t.scale / 30
}

// finish closes every waiting sample and writes the last part.
func (f *fmp4Writer) finish(next time.Duration) error {
	for _, t := range f.tracks {
		if t.last == nil {
			continue
		}
		end := t.lastDTS + t.defaultDur()
		if next >= 0 && t.st.IsVideo() {
			if n := ticks(next, t.scale); n > t.lastDTS {
				end = n
			}
		}
		t.close(end)
	}
	return f.flush()
}

// learnParams fills missing H.264/H.265 parameter sets of a track from the
// first keyframe that carries them, for publishers that send them in-band
// only.
func (t *fmp4Track) learnParams(u *stream.Unit) {
	if !u.Key {
		return
	}
	switch t.st.Codec {
	case stream.CodecH264:
		if len(t.sps) > 0 && len(t.pps) > 0 {
			return
		}
		for _, n := range u.Payload {
			if len(n) == 0 {
				continue
			}
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				t.sps = n
			case h264.NALUTypePPS:
				t.pps = n
			}
		}
	case stream.CodecH265:
		if len(t.vps) > 0 && len(t.sps) > 0 && len(t.pps) > 0 {
			return
		}
		for _, n := range u.Payload {
			if len(n) == 0 {
				continue
			}
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				t.vps = n
			case h265.NALUType_SPS_NUT:
				t.sps = n
			case h265.NALUType_PPS_NUT:
				t.pps = n
			}
		}
	}
}

// flush writes the samples of known duration as one moof+mdat, preceded by
// the init block the first time.
func (f *fmp4Writer) flush() error {
	f.inPart = false
	if !f.wroteInit {
		var have []*fmp4Track
		for _, t := range f.tracks {
			if t.started {
				have = append(have, t)
			}
		}
		if len(have) == 0 {
			return nil
		}
		// The segment's time zero is the earliest sample of any of its
		// tracks: its first keyframe, since the session hands audio older
		// than the keyframe to the segment before.
		f.origin = have[0].firstDTS
		for _, t := range have {
			f.origin = min(f.origin, t.firstDTS)
		}
	}
	part := fmp4.Part{SequenceNumber: f.seq + 1}
	for _, t := range f.tracks {
		if len(t.ready) == 0 {
			continue
		}
		if !t.init {
			t.init = true
			t.base = uint64(max(0, ticks(t.firstDTS-f.origin, t.scale)))
			t.end = t.base
		}
		pt := &fmp4.PartTrack{ID: t.id, BaseTime: t.end, Samples: t.ready}
		for _, s := range t.ready {
			t.end += uint64(s.Duration)
		}
		part.Tracks = append(part.Tracks, pt)
		t.ready = nil
		// A segment's duration is its video's (or, without video, its
		// longest track's): a segment's start time is its first
		// keyframe's, so start+duration is the next segment's start.
		if d := fromTicks(int64(t.end-t.base), t.scale); d > f.dur {
			if f.videoTrack == nil || f.videoTrack == t {
				f.dur = d
			}
		}
	}
	if len(part.Tracks) == 0 {
		return nil
	}
	f.buf.Reset()
	if !f.wroteInit {
		init, err := f.initBlock()
		if err != nil {
			return err
		}
		if err := init.Marshal(&f.buf); err != nil {
			return fmt.Errorf("fmp4 init: %w", err)
		}
		f.initLen = int64(f.buf.Len())
	}
	if err := part.Marshal(&f.buf); err != nil {
		return fmt.Errorf("fmp4 part: %w", err)
	}
	if _, err := f.w.Write(f.buf.Bytes()); err != nil {
		return err
	}
	f.wroteInit = true
	f.seq++
	return nil
}

func (f *fmp4Writer) initBlock() (*fmp4.Init, error) {
	init := &fmp4.Init{}
	for _, t := range f.tracks {
		c, err := t.mp4Codec()
		if err != nil {
			return nil, err
		}
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{ID: t.id, TimeScale: uint32(t.scale), Codec: c})
	}
	return init, nil
}

func (ft *fmp4Track) mp4Codec() (mp4codecs.Codec, error) {
	t := ft.st
	switch t.Codec {
	case stream.CodecH264:
		if len(ft.sps) == 0 || len(ft.pps) == 0 {
			return nil, fmt.Errorf("h264 track without SPS/PPS")
		}
		return &mp4codecs.H264{SPS: ft.sps, PPS: ft.pps}, nil
	case stream.CodecH265:
		if len(ft.vps) == 0 || len(ft.sps) == 0 || len(ft.pps) == 0 {
			return nil, fmt.Errorf("h265 track without VPS/SPS/PPS")
		}
		return &mp4codecs.H265{VPS: ft.vps, SPS: ft.sps, PPS: ft.pps}, nil
	case stream.CodecAV1:
		return &mp4codecs.AV1{SequenceHeader: t.CodecData}, nil
	case stream.CodecVP9:
		return &mp4codecs.VP9{Width: t.Width, Height: t.Height, BitDepth: 8, ChromaSubsampling: 1}, nil
	case stream.CodecAAC:
		var c mpeg4audio.AudioSpecificConfig
		if err := c.Unmarshal(t.AudioConfig); err != nil {
			return nil, fmt.Errorf("aac config: %w", err)
		}
		return &mp4codecs.MPEG4Audio{Config: c}, nil
	case stream.CodecOpus:
		ch := t.Channels
		if ch == 0 {
			ch = 2
		}
		return &mp4codecs.Opus{ChannelCount: ch}, nil
	}
	return nil, fmt.Errorf("codec %s not supported in fMP4", t.Codec)
}
