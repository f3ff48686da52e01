package hls

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"mps/internal/stream"
)

// maxSkew bounds how long a closed part waits for the other track (audio
// behind video) before it is published without it. Publishers interleave
// tracks loosely (ffmpeg's MPEG-TS muxer holds audio back up to 0.7 s);
// parts whose tracks cover the same time span play far better in players,
// so the part waits for the audio up to this bound.
const maxSkew = time.Second

// fmp4Segmenter produces CMAF fragments: one moof+mdat per part (LL-HLS)
// or per segment (plain fMP4), concatenated into segments. The leading
// track (video, or audio alone) decides where parts and segments are cut;
// the other track's samples are added to the part whose time span holds
// them.
type fmp4Segmenter struct {
	tl                 *timeline
	tracks             []*mtrack
	video, audio, lead *mtrack
	follower           *mtrack // audio when video leads
	segDur, partDur    time.Duration
	cutParts           bool
	pdt                pdtClock

	started   bool
	t0        time.Duration
	seq       uint32
	segStart  time.Duration // lead time (from t0) where the open segment began
	partStart time.Duration
	lastDur   time.Duration
	leadNow   time.Duration // newest lead time seen

	leadSamples []*partSample
	leadBase    int64
	pending     *vsample // video sample waiting for its duration

	aNext    int64 // ticks of the next audio sample
	aStarted bool

	// follower samples not yet in a part, with their start ticks
	fSamples []*partSample
	fTicks   []int64

	queue []*closedPart // parts cut by the lead, waiting for the follower
}

// vsample is a video sample waiting for the next one to know its duration.
type vsample struct {
	rel      time.Duration
	dts, pts int64
	key      bool
	au       [][]byte
}

// closedPart is a part the leading track has finished.
type closedPart struct {
	samples     []*partSample
	base        int64
	start, end  time.Duration
	frames      int
	independent bool
	// segEnd: the part closes its segment, which lasted segDur; the next
	// one starts at end with PDT origin origin.
	segEnd bool
	segDur time.Duration
	origin time.Time
}

func newFMP4Segmenter(tl *timeline, tracks []*mtrack, cfg PathConfig, lossless bool) *fmp4Segmenter {
	s := &fmp4Segmenter{
		tl:       tl,
		tracks:   tracks,
		segDur:   cfg.SegmentDuration,
		partDur:  cfg.PartDuration,
		cutParts: cfg.Variant == VariantLowLatency,
		pdt:      pdtClock{lossless: lossless},
	}
	s.video, s.audio, s.lead = splitTracks(tracks)
	if s.video != nil {
		s.follower = s.audio
	}
	return s
}

func (s *fmp4Segmenter) write(u *stream.Unit) error {
	switch {
	case s.video != nil && u.Track == s.video.st:
		return s.writeVideo(u)
	case s.audio != nil && u.Track == s.audio.st:
		return s.writeAudio(u)
	}
	return nil
}

// start writes the init segment and opens the first segment at unit u.
func (s *fmp4Segmenter) start(u *stream.Unit, t0 time.Duration) error {
	init := fmp4.Init{}
	for _, t := range s.tracks {
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{ID: t.id, TimeScale: uint32(t.timeScale), Codec: t.mp4Codec()})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return fmt.Errorf("fMP4 init: %w", err)
	}
	s.t0 = t0
	s.tl.setT0(t0)
	s.started = true
	s.tl.setInit(buf.Bytes())
	s.tl.startSegment(0, s.pdt.origin(u, 0))
	return nil
}

func (s *fmp4Segmenter) writeVideo(u *stream.Unit) error {
	if !s.started {
		s.video.learnParams(u.Payload)
		if !u.Key || !s.video.ready() {
			return nil
		}
		if err := s.start(u, u.DTS); err != nil {
			return err
		}
	}
	rel := u.DTS - s.t0
	if s.pending != nil && rel <= s.pending.rel {
		return nil // DTS must grow; drop the unit
	}
	s.leadNow = rel
	dts := toTicks(rel, 90000)
	if p := s.pending; p != nil {
		if err := s.appendVideo(p, dts-p.dts); err != nil {
			return err
		}
		s.lastDur = rel - p.rel
		newSeg, newPart := boundary(rel, s.segStart, s.partStart, s.lastDur, s.segDur, s.partDur, u.Key, s.cutParts)
		if newSeg || newPart {
			if err := s.closePart(u, rel, newSeg); err != nil {
				return err
			}
		}
	}
	s.pending = &vsample{rel: rel, dts: dts, pts: toTicks(u.PTS-s.t0, 90000), key: u.Key, au: u.Payload}
	return nil
}

func (s *fmp4Segmenter) appendVideo(p *vsample, dur int64) error {
	if dur <= 0 {
		dur = 1
	}
	// H.264 and H.265 samples are both length-prefixed NAL units (AVCC),
	// which marshalPart writes from the NAL units themselves.
	smp := &partSample{Sample: fmp4.Sample{PTSOffset: int32(p.pts - p.dts)}, nalus: p.au}
	smp.Duration = uint32(dur)
	smp.IsNonSyncSample = !p.key
	if len(s.leadSamples) == 0 {
		s.leadBase = p.dts
	}
	s.leadSamples = append(s.leadSamples, smp)
	return nil
}

func (s *fmp4Segmenter) writeAudio(u *stream.Unit) error {
	if len(u.Payload) == 0 {
		return nil
	}
	if !s.started {
		if s.video != nil {
			return nil // wait for the first video keyframe
		}
		if err := s.start(u, u.PTS); err != nil {
			return err
		}
	}
	rel := u.PTS - s.t0
	if rel < 0 {
		return nil
	}
	rate := s.audio.timeScale
	ticks := toTicks(rel, rate)
	if !s.aStarted || absTicks(ticks-s.aNext) > 2*s.audio.frameTicks(u.Payload[0]) {
		s.aNext = ticks // first sample, or a gap: follow the timestamps
		s.aStarted = true
	}
	for _, f := range u.Payload {
		d := s.audio.frameTicks(f)
		smp := &partSample{Sample: fmp4.Sample{Duration: uint32(d), Payload: f}}
		if s.lead == s.audio {
			at := fromTicks(s.aNext, rate)
			s.leadNow = at
			if len(s.leadSamples) > 0 {
				s.lastDur = fromTicks(d, rate)
				newSeg, newPart := boundary(at, s.segStart, s.partStart, s.lastDur, s.segDur, s.partDur, true, s.cutParts)
				if newSeg || newPart {
					if err := s.closePart(u, at, newSeg); err != nil {
						return err
					}
				}
			}
			if len(s.leadSamples) == 0 {
				s.leadBase = s.aNext
			}
			s.leadSamples = append(s.leadSamples, smp)
		} else {
			s.fSamples = append(s.fSamples, smp)
			s.fTicks = append(s.fTicks, s.aNext)
		}
		s.aNext += d
	}
	if s.follower != nil {
		return s.drain(false)
	}
	return nil
}

func absTicks(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// closePart ends the lead's current part at lead time end (and with
// newSeg the segment), queues it and publishes what is complete.
func (s *fmp4Segmenter) closePart(u *stream.Unit, end time.Duration, newSeg bool) error {
	if len(s.leadSamples) == 0 {
		return nil
	}
	p := &closedPart{
		samples: s.leadSamples,
		base:    s.leadBase,
		start:   s.partStart,
		end:     end,
		segEnd:  newSeg,
	}
	if s.lead == s.video {
		p.frames = len(p.samples)
		p.independent = !p.samples[0].IsNonSyncSample
	} else {
		p.independent = true
	}
	if newSeg {
		p.segDur = end - s.segStart
		p.origin = s.pdt.origin(u, end)
		s.segStart = end
	}
	s.leadSamples = nil
	s.partStart = end
	s.queue = append(s.queue, p)
	return s.drain(false)
}

// drain publishes the queued parts whose follower samples have arrived
// (or are too late to wait for; force publishes all).
func (s *fmp4Segmenter) drain(force bool) error {
	for len(s.queue) > 0 {
		p := s.queue[0]
		n := 0
		if f := s.follower; f != nil {
			covered := fromTicks(s.aNext, f.timeScale)
			if !force && (!s.aStarted || covered < p.end) && s.leadNow-covered < maxSkew {
				return nil
			}
			endTicks := toTicks(p.end, f.timeScale)
			for n < len(s.fTicks) && s.fTicks[n] < endTicks {
				n++
			}
		}
		if err := s.publish(p, n); err != nil {
			return err
		}
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	return nil
}

// publish marshals a closed part with the first n follower samples.
func (s *fmp4Segmenter) publish(p *closedPart, n int) error {
	tracks := []partTrack{{ID: s.lead.id, BaseTime: uint64(p.base), Samples: p.samples}}
	if n > 0 {
		tracks = append(tracks, partTrack{ID: s.follower.id, BaseTime: uint64(s.fTicks[0]), Samples: s.fSamples[:n]})
	}
	data := marshalPart(s.seq, tracks)
	s.seq++
	if n > 0 {
		s.fSamples = append(s.fSamples[:0:0], s.fSamples[n:]...)
		s.fTicks = append(s.fTicks[:0:0], s.fTicks[n:]...)
	}
	s.tl.addPart(&part{dur: p.end - p.start, independent: p.independent, data: data}, p.frames)
	if p.segEnd {
		if err := s.tl.finishSegment(p.segDur, nil, 0); err != nil {
			return err
		}
		s.tl.startSegment(p.end, p.origin)
	}
	return nil
}

func (s *fmp4Segmenter) flush() error {
	if !s.started {
		return nil
	}
	var end time.Duration
	if p := s.pending; p != nil {
		d := s.lastDur
		if d <= 0 {
			d = time.Second / 30
		}
		if err := s.appendVideo(p, toTicks(p.rel+d, 90000)-p.dts); err != nil {
			return err
		}
		s.pending = nil
		end = p.rel + d
	} else if s.lead == s.audio {
		end = fromTicks(s.aNext, s.audio.timeScale)
	}
	if len(s.leadSamples) > 0 {
		p := &closedPart{samples: s.leadSamples, base: s.leadBase, start: s.partStart, end: end, segEnd: true, segDur: end - s.segStart}
		if s.lead == s.video {
			p.frames = len(p.samples)
			p.independent = !p.samples[0].IsNonSyncSample
		}
		s.leadSamples = nil
		s.queue = append(s.queue, p)
	}
	// The last segment ends here: no new one is opened after it.
	for len(s.queue) > 0 {
		p := s.queue[0]
		n := len(s.fTicks)
		if len(s.queue) > 1 && s.follower != nil {
			n = 0
			endTicks := toTicks(p.end, s.follower.timeScale)
			for n < len(s.fTicks) && s.fTicks[n] < endTicks {
				n++
			}
		}
		last := len(s.queue) == 1
		if last {
			p.segEnd = false
		}
		if err := s.publish(p, n); err != nil {
			return err
		}
		if last {
			if err := s.tl.finishSegment(end-s.segStart, nil, 0); err != nil {
				return err
			}
		}
		s.queue = s.queue[1:]
	}
	return nil
}
