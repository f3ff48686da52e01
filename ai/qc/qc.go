// Package qc is live quality control: a reader on a live stream's ring
// that watches it continuously and cheaply. Checks on the compressed units
// need no decode — frame rate, timestamp jumps, bitrate collapse, keyframe
// interval — and one ffmpeg decodes only what the rest needs at low cost
// (keyframes, or every picture, scaled to 64x36 for luma statistics; the
// audio for EBU R128 loudness) for black, frozen, silent and too quiet.
// Each problem's start and end is published as a stream.qc event, and the
// current values are kept for Prometheus.
package qc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/stream"
)

// EventQC is the event type of a problem starting or ending.
const EventQC = "stream.qc"

// Defaults of the thresholds of config.QC.
const (
	defaultBlack            = time.Second
	defaultFreeze           = 2 * time.Second
	defaultSilence          = time.Second
	defaultLoudnessMin      = -45.0
	defaultFPSDrop          = 0.8
	defaultBitrateCollapse  = 0.2
	defaultKeyframeInterval = 10 * time.Second
	defaultPTSJump          = time.Second
	// rateHold is how long a frame-rate drop or bitrate collapse must last.
	rateHold = 2 * time.Second
	// quietHold is how long the short-term loudness must stay low.
	quietHold = 3 * time.Second
	// warmup is how long rate checks wait after the start to learn the
	// stream's normal rates.
	warmup = 4 * time.Second
)

// WithDefaults returns r with every zero threshold set to its default.
func WithDefaults(r config.QC) config.QC {
	dur := func(d *config.Duration, def time.Duration) {
		if *d <= 0 {
			*d = config.Duration(def)
		}
	}
	dur(&r.Black, defaultBlack)
	dur(&r.Freeze, defaultFreeze)
	dur(&r.Silence, defaultSilence)
	dur(&r.KeyframeInterval, defaultKeyframeInterval)
	dur(&r.PTSJump, defaultPTSJump)
	if r.LoudnessMin == 0 {
		r.LoudnessMin = defaultLoudnessMin
	}
	if r.FPSDrop == 0 {
		r.FPSDrop = defaultFPSDrop
	}
	if r.BitrateCollapse == 0 {
		r.BitrateCollapse = defaultBitrateCollapse
	}
	if r.Decode == "" {
		r.Decode = config.QCDecodeKeyframes
	}
	return r
}

// Status is a checker's current values, for metrics and the API.
type Status struct {
	Path string `json:"path"`
	// FPS is video units per second over the last 2 s of wall time;
	// NominalFPS comes from the units' timestamps.
	FPS        float64 `json:"fps"`
	NominalFPS float64 `json:"nominal_fps"`
	// Bitrate is payload bits per second over the last second.
	Bitrate float64 `json:"bitrate"`
	// KeyframeInterval is the time between the last two keyframes (s).
	KeyframeInterval float64 `json:"keyframe_interval"`
	// Luma is the mean luma of the last decoded picture (0-255).
	Luma float64 `json:"luma"`
	// Loudness is the short-term loudness (LUFS) of the last audio block.
	Loudness float64 `json:"loudness"`
	// Active names the problems going on now.
	Active map[string]bool `json:"active"`
	// Counts is how many times each problem started.
	Counts map[string]uint64 `json:"counts"`
	// DecoderRestarts counts ffmpeg restarts.
	DecoderRestarts uint64 `json:"decoder_restarts"`
}

// Checker watches one live stream until its context ends or the stream
// does.
type Checker struct {
	path    string
	rule    config.QC
	publish func(events.Event)
	log     *slog.Logger
	done    chan struct{}

	mu       sync.Mutex
	status   Status
	trackers map[string]*tracker
	began    time.Time
}

// Start attaches a checker to s. publish receives the stream.qc events
// (the server passes its event bus). The checker stops when ctx ends or s
// ends; Done is closed then.
func Start(ctx context.Context, s *stream.Stream, rule config.QC, publish func(events.Event), log *slog.Logger) *Checker {
	rule = WithDefaults(rule)
	c := &Checker{path: s.Path(), rule: rule, publish: publish, log: log, done: make(chan struct{}), began: time.Now()}
	c.status = Status{Path: c.path, Active: map[string]bool{}, Counts: map[string]uint64{}}
	c.trackers = map[string]*tracker{
		CheckBlack:            newTracker(CheckBlack, rule.Black.D()),
		CheckFreeze:           newTracker(CheckFreeze, rule.Freeze.D()),
		CheckSilence:          newTracker(CheckSilence, rule.Silence.D()),
		CheckLoudness:         newTracker(CheckLoudness, quietHold),
		CheckFPSDrop:          newTracker(CheckFPSDrop, rateHold),
		CheckPTSJump:          newTracker(CheckPTSJump, 0),
		CheckBitrateCollapse:  newTracker(CheckBitrateCollapse, rateHold),
		CheckKeyframeInterval: newTracker(CheckKeyframeInterval, 0),
	}
	go c.run(ctx, s)
	return c
}

// Done is closed when the checker has stopped and released everything.
func (c *Checker) Done() <-chan struct{} { return c.done }

// Status returns a copy of the current values.
func (c *Checker) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.status
	st.Active, st.Counts = map[string]bool{}, map[string]uint64{}
	for k, t := range c.trackers {
		st.Active[k] = t.active
		st.Counts[k] = t.count
	}
	return st
}

// apply feeds one observation to a check's tracker and publishes the
// change it causes. Called with c.mu held.
func (c *Checker) apply(check string, bad bool, t time.Duration, value, threshold float64) {
	now := time.Now()
	ch, ok := c.trackers[check].observe(bad, t, now)
	if !ok {
		return
	}
	data := map[string]any{"check": check, "value": value, "threshold": threshold}
	if ch.start {
		data["state"] = "start"
		// The problem began when its first bad observation came, which is
		// hold before now.
		data["since"] = now.Add(-(t - ch.at)).UTC().Format(time.RFC3339Nano)
	} else {
		data["state"] = "end"
		data["duration"] = ch.lasted.Seconds()
	}
	c.log.Info("live qc", "path", c.path, "check", check, "state", data["state"], "value", value)
	if c.publish != nil {
		c.publish(events.Event{Type: EventQC, Time: now, Path: c.path, Data: data})
	}
}

// endAll ends every active problem, when the stream goes away.
func (c *Checker) endAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, check := range AllChecks {
		if c.trackers[check].active {
			c.apply(check, false, c.elapsed(), 0, 0)
		}
	}
}

// elapsed is wall time since the start, the clock of the rate checks.
func (c *Checker) elapsed() time.Duration { return time.Since(c.began) }
