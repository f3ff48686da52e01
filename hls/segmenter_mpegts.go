package hls

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"mps/internal/stream"
)

// tsOffset keeps MPEG-TS timestamps (and the PCR, which runs 100 ms behind
// the DTS) positive.
const tsOffset = 90000

// tsSegmenter produces MPEG-TS segments, each starting with PAT/PMT and a
// keyframe.
type tsSegmenter struct {
	tl                 *timeline
	video, audio, lead *mtrack
	segDur             time.Duration
	pdt                pdtClock

	buf      bytes.Buffer
	w        *mpegts.Writer
	tsTracks map[*mtrack]*mpegts.Track

	started  bool
	t0       time.Duration
	segStart time.Duration
	lastRel  time.Duration
	lastDur  time.Duration
	frames   int
	written  bool // the current segment has media
}

func newTSSegmenter(tl *timeline, tracks []*mtrack, cfg PathConfig, lossless bool) (*tsSegmenter, error) {
	s := &tsSegmenter{tl: tl, segDur: cfg.SegmentDuration, pdt: pdtClock{lossless: lossless}, tsTracks: map[*mtrack]*mpegts.Track{}}
	s.video, s.audio, s.lead = splitTracks(tracks)
	var tts []*mpegts.Track
	for _, t := range tracks {
		tt := &mpegts.Track{Codec: t.tsCodec()}
		s.tsTracks[t] = tt
		tts = append(tts, tt)
	}
	s.w = &mpegts.Writer{W: &s.buf, Tracks: tts}
	if err := s.w.Initialize(); err != nil {
		return nil, fmt.Errorf("MPEG-TS writer: %w", err)
	}
	return s, nil
}

func (s *tsSegmenter) write(u *stream.Unit) error {
	switch {
	case s.video != nil && u.Track == s.video.st:
		return s.writeVideo(u)
	case s.audio != nil && u.Track == s.audio.st:
		return s.writeAudio(u)
	}
	return nil
}

// begin opens a segment at lead time rel with PAT/PMT first.
func (s *tsSegmenter) begin(u *stream.Unit, rel time.Duration) error {
	s.buf.Reset()
	s.frames = 0
	s.written = false
	s.segStart = rel
	s.tl.startSegment(rel, s.pdt.origin(u, rel))
	if _, err := s.w.WriteTables(); err != nil {
		return fmt.Errorf("MPEG-TS tables: %w", err)
	}
	return nil
}

// finish closes the current segment at lead time end.
func (s *tsSegmenter) finish(end time.Duration) error {
	data := bytes.Clone(s.buf.Bytes())
	return s.tl.finishSegment(end-s.segStart, data, s.frames)
}

// lead advances the leading track's clock to rel and cuts a segment there
// when it is due.
func (s *tsSegmenter) advance(u *stream.Unit, rel time.Duration, key bool) error {
	if !s.started {
		s.started = true
		s.t0 = rel
		s.tl.setT0(rel)
		s.lastRel = 0
		return s.begin(u, 0)
	}
	rel -= s.t0
	if d := rel - s.lastRel; d > 0 {
		s.lastDur = d
	}
	s.lastRel = rel
	if newSeg, _ := boundary(rel, s.segStart, rel, s.lastDur, s.segDur, 0, key, false); newSeg && s.written {
		if err := s.finish(rel); err != nil {
			return err
		}
		return s.begin(u, rel)
	}
	return nil
}

func (s *tsSegmenter) writeVideo(u *stream.Unit) error {
	if !s.started {
		s.video.learnParams(u.Payload)
		if !u.Key || !s.video.ready() {
			return nil
		}
	}
	if s.started && u.DTS-s.t0 <= s.lastRel && s.written {
		return nil // DTS must grow
	}
	if err := s.advance(u, u.DTS, u.Key); err != nil {
		return err
	}
	dts := toTicks(u.DTS-s.t0, 90000) + tsOffset
	pts := toTicks(u.PTS-s.t0, 90000) + tsOffset
	t := s.tsTracks[s.video]
	au := u.Payload
	if u.Key {
		au = s.video.st.WithParams(au) // each segment decodable on its own
	}
	var err error
	if s.video.st.Codec == stream.CodecH265 {
		err = s.w.WriteH265(t, pts, dts, au)
	} else {
		err = s.w.WriteH264(t, pts, dts, au)
	}
	if err != nil {
		return fmt.Errorf("MPEG-TS video: %w", err)
	}
	s.frames++
	s.written = true
	return nil
}

func (s *tsSegmenter) writeAudio(u *stream.Unit) error {
	if len(u.Payload) == 0 {
		return nil
	}
	if s.lead == s.audio {
		if err := s.advance(u, u.PTS, true); err != nil {
			return err
		}
	} else if !s.started {
		return nil
	}
	rel := u.PTS - s.t0
	if rel < 0 {
		return nil
	}
	pts := toTicks(rel, 90000) + tsOffset
	t := s.tsTracks[s.audio]
	var err error
	if s.audio.st.Codec == stream.CodecOpus {
		err = s.w.WriteOpus(t, pts, u.Payload)
	} else {
		err = s.w.WriteMPEG4Audio(t, pts, u.Payload)
	}
	if err != nil {
		return fmt.Errorf("MPEG-TS audio: %w", err)
	}
	if s.lead == s.audio {
		s.written = true
		n := int64(0)
		for _, f := range u.Payload {
			n += s.audio.frameTicks(f)
		}
		s.lastDur = fromTicks(n, s.audio.timeScale)
	}
	return nil
}

func (s *tsSegmenter) flush() error {
	if !s.started || !s.written {
		return nil
	}
	d := s.lastDur
	if d <= 0 {
		d = time.Second / 30
	}
	return s.finish(s.lastRel + d)
}
