package qc

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"sort"
	"time"

	"mps/internal/config"
	"mps/internal/stream"
	"mps/internal/tsconv"
)

// rates is the state of the compressed-unit checks, owned by run.
type rates struct {
	videoArrivals []time.Time // wall times of video units in the last 2 s
	bytes         []sized     // payload sizes in the last second
	meanRate      float64     // running mean bitrate (bits/s)
	lastKey       time.Time   // wall time of the last keyframe
	lastKeyPTS    time.Duration
	prevDTS       map[*stream.Track]time.Duration
	intervals     []time.Duration // recent video PTS steps, for the nominal rate
	lastVideoPTS  time.Duration   // the last video unit's DTS
	haveVideoPTS  bool
}

type sized struct {
	at time.Time
	n  int
}

// run is the checker's owner goroutine: it reads the ring, feeds the
// decoder (restarted with backoff when it fails), and evaluates the
// checks on units, samples and a 250 ms tick.
func (c *Checker) run(ctx context.Context, s *stream.Stream) {
	defer close(c.done)
	defer c.endAll()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rd := s.NewReader(ctx, stream.ReaderOptions{Protocol: "qc"})
	defer rd.Close()
	units := make(chan *stream.Unit, 256)
	go func() {
		defer close(units)
		for {
			u, err := rd.Read()
			if err != nil {
				return
			}
			select {
			case units <- u:
			case <-ctx.Done():
				return
			}
		}
	}()
	samples := make(chan sample, 64)
	feeds := c.feeders(ctx, s.Tracks(), samples)
	for _, f := range feeds {
		defer f.stop()
	}
	r := &rates{prevDTS: map[*stream.Track]time.Duration{}, lastKey: time.Now()}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-units:
			if !ok {
				return
			}
			c.onUnit(r, u)
			for _, f := range feeds {
				if slices.Contains(f.tracks, u.Track) {
					f.write(u)
				}
			}
		case sm := <-samples:
			c.onSample(sm)
		case <-tick.C:
			c.onTick(r)
			for _, f := range feeds {
				f.maybeRestart()
			}
		}
	}
}

// feeders plans the decoders. Decoding every picture, the picture and the
// sound get one ffmpeg each: in one process the audio branch, beside
// dense 720p video, fell seconds behind and stalled. Decoding keyframes
// only, one ffmpeg takes both: the audio keeps its demuxer moving between
// the sparse keyframes (alone, a keyframes-only input stalled in it).
func (c *Checker) feeders(ctx context.Context, tracks []*stream.Track, samples chan sample) []*feeder {
	var video, audio *stream.Track
	for _, t := range tracks {
		if t.IsVideo() && video == nil {
			video = t
		} else if !t.IsVideo() && audio == nil {
			audio = t
		}
	}
	mk := func(ts ...*stream.Track) *feeder {
		f := &feeder{c: c, ctx: ctx, samples: samples}
		for _, t := range ts {
			if t != nil {
				f.tracks = append(f.tracks, t)
				f.video = f.video || t.IsVideo()
				f.audio = f.audio || !t.IsVideo()
			}
		}
		return f
	}
	switch {
	case video == nil || audio == nil:
		return []*feeder{mk(video, audio)}
	case c.rule.Decode == config.QCDecodeAll:
		return []*feeder{mk(video), mk(audio)}
	default:
		return []*feeder{mk(video, audio)}
	}
}

// onUnit runs the checks on one compressed unit.
func (c *Checker) onUnit(r *rates, u *stream.Unit) {
	now := time.Now()
	r.bytes = append(r.bytes, sized{now, u.Size()})
	c.mu.Lock()
	defer c.mu.Unlock()
	jump := c.rule.PTSJump.D()
	if prev, ok := r.prevDTS[u.Track]; ok {
		d := u.DTS - prev
		c.apply(CheckPTSJump, d > jump || d < -jump, c.elapsed(), d.Seconds(), jump.Seconds())
	}
	r.prevDTS[u.Track] = u.DTS
	if !u.Track.IsVideo() {
		return
	}
	r.videoArrivals = append(r.videoArrivals, now)
	// Decode order: DTS steps are the frame interval even with B-frames.
	if r.haveVideoPTS {
		if d := u.DTS - r.lastVideoPTS; d > 0 && d < time.Second {
			r.intervals = append(r.intervals, d)
			if len(r.intervals) > 90 {
				r.intervals = r.intervals[1:]
			}
		}
	}
	r.lastVideoPTS, r.haveVideoPTS = u.DTS, true
	if u.Key {
		if !r.lastKey.IsZero() && r.lastKeyPTS > 0 {
			c.status.KeyframeInterval = round3((u.PTS - r.lastKeyPTS).Seconds())
		}
		r.lastKey, r.lastKeyPTS = now, u.PTS
	}
}

// onTick evaluates the wall-clock checks: frame rate, bitrate and time
// since the last keyframe (which also catches a stream that stalls).
func (c *Checker) onTick(r *rates) {
	now := time.Now()
	for len(r.videoArrivals) > 0 && now.Sub(r.videoArrivals[0]) > 2*time.Second {
		r.videoArrivals = r.videoArrivals[1:]
	}
	for len(r.bytes) > 0 && now.Sub(r.bytes[0].at) > time.Second {
		r.bytes = r.bytes[1:]
	}
	n := 0
	for _, b := range r.bytes {
		n += b.n
	}
	rate := float64(n) * 8
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.elapsed()
	c.status.Bitrate = rate
	if len(r.intervals) > 10 {
		c.status.NominalFPS = round3(1 / median(r.intervals).Seconds())
	}
	c.status.FPS = float64(len(r.videoArrivals)) / 2
	if el < warmup {
		r.meanRate = max(r.meanRate, rate)
		return
	}
	if c.status.NominalFPS > 0 {
		limit := c.rule.FPSDrop * c.status.NominalFPS
		c.apply(CheckFPSDrop, c.status.FPS < limit, el, c.status.FPS, limit)
	}
	limit := c.rule.BitrateCollapse * r.meanRate
	collapsed := rate < limit
	c.apply(CheckBitrateCollapse, collapsed, el, rate, limit)
	if !collapsed {
		r.meanRate += (rate - r.meanRate) * 0.02
	}
	if c.status.NominalFPS > 0 {
		since := now.Sub(r.lastKey)
		c.apply(CheckKeyframeInterval, since > c.rule.KeyframeInterval.D(), el, since.Seconds(), c.rule.KeyframeInterval.D().Seconds())
	}
}

// onSample evaluates the decoded checks.
func (c *Checker) onSample(s sample) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := time.Duration(s.t * float64(time.Second))
	if s.video {
		ymax, yavg, ydif := s.vals["YMAX"], s.vals["YAVG"], s.vals["YDIF"]
		c.status.Luma = round3(yavg)
		black := ymax <= 40
		c.apply(CheckBlack, black, t, ymax, 40)
		// Black pictures are frozen too: count them once, as black.
		c.apply(CheckFreeze, !black && ydif < 0.1, t, ydif, 0.1)
		return
	}
	m, st := s.vals["M"], s.vals["S"]
	c.status.Loudness = round3(math.Max(st, -120))
	silent := m < -60
	c.apply(CheckSilence, silent, t, m, -60)
	c.apply(CheckLoudness, !silent && st < c.rule.LoudnessMin, t, st, c.rule.LoudnessMin)
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// feeder keeps one decoder running and writes units to it: every audio
// unit and, in keyframes mode, only the video keyframes.
type feeder struct {
	c            *Checker
	ctx          context.Context
	tracks       []*stream.Track
	video, audio bool
	samples      chan sample

	dec      *decoder
	mux      *tsconv.Muxer
	decDone  <-chan struct{}
	failures int
	retryAt  time.Time
	started  bool
	sinceKey int
}

// flushUnits is how many units after each keyframe the keyframes mode
// feeds: the MPEG-TS demuxer and the decoder's reorder delay hold a
// picture until that many more arrive.
const flushUnits = 3

func (f *feeder) keysOnly() bool { return f.c.rule.Decode != config.QCDecodeAll }

// write sends u to the decoder, starting it first when needed. In
// keyframes mode a video unit goes only if it is a keyframe or one of the
// flushUnits after it (see decodeArgs).
func (f *feeder) write(u *stream.Unit) {
	if u.Track.IsVideo() && f.keysOnly() {
		if u.Key {
			f.sinceKey = 0
		} else {
			f.sinceKey++
		}
		if f.sinceKey > flushUnits {
			return
		}
	}
	if f.dec == nil {
		if !f.started && u.Track.IsVideo() && !u.Key {
			return
		}
		if time.Now().Before(f.retryAt) {
			return
		}
		if err := f.start(); err != nil {
			f.fail(err)
			return
		}
	}
	if err := f.mux.WriteUnit(u); err != nil {
		f.fail(err)
	}
}

func (f *feeder) start() error {
	dec, done, err := startDecoder(f.ctx, f.video, f.audio, f.keysOnly(), f.samples)
	if err != nil {
		return err
	}
	mux, err := tsconv.NewMuxer(dec.in, f.tracks)
	if err != nil {
		f.dec, f.decDone = dec, done
		f.stop()
		return err
	}
	f.dec, f.mux, f.decDone, f.started = dec, mux, done, true
	return nil
}

// fail stops the decoder and schedules a restart with backoff.
func (f *feeder) fail(err error) {
	if errors.Is(err, io.ErrClosedPipe) || f.ctx.Err() != nil {
		f.stop()
		return
	}
	f.c.log.Warn("live qc decoder failed", "path", f.c.path, "error", err)
	f.stop()
	f.failures++
	f.retryAt = time.Now().Add(min(time.Duration(f.failures)*time.Second, 30*time.Second))
	f.c.mu.Lock()
	f.c.status.DecoderRestarts++
	f.c.mu.Unlock()
}

// maybeRestart notices a decoder that exited on its own.
func (f *feeder) maybeRestart() {
	if f.dec == nil {
		return
	}
	select {
	case <-f.decDone:
		f.fail(errors.New("ffmpeg exited"))
	default:
	}
}

// stop closes the decoder's input and waits for it, draining its samples
// meanwhile so it cannot block on a full channel.
func (f *feeder) stop() {
	if f.dec == nil {
		return
	}
	f.dec.in.Close()
	for {
		select {
		case <-f.samples:
			continue
		case <-f.decDone:
		}
		break
	}
	_ = f.dec.cmd.Wait()
	f.dec, f.mux = nil, nil
}
