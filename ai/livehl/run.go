package livehl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"mps/ai/highlights"
	"mps/internal/stream"
	"mps/internal/tsconv"
)

// Backoff between analysis restarts: it doubles from backoffMin to
// backoffMax and starts over after a session that ran a minute.
const (
	backoffMin = time.Second
	backoffMax = 30 * time.Second
	// settleGrace is how long clips wait for their recording after the
	// stream ended.
	settleGrace = 30 * time.Second
)

// pathRun is the analysis of one stream of one path.
type pathRun struct {
	m    *Manager
	s    *stream.Stream
	path string
	rule Rule

	pending []Highlight // picked, waiting for the recording
}

// run analyses the stream until it ends or ctx does, restarting ffmpeg
// with backoff, then cuts the clips still pending.
func (r *pathRun) run(ctx context.Context) {
	wait := backoffMin
	for {
		began := time.Now()
		err := r.session(ctx)
		if ctx.Err() != nil || isDone(r.s) {
			break
		}
		if time.Since(began) > time.Minute {
			wait = backoffMin
		}
		r.m.cfg.Log.Warn("live highlights analysis stopped; restarting", "path", r.path, "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-r.s.Done():
		case <-time.After(wait):
		}
		wait = min(wait*2, backoffMax)
	}
	deadline := time.Now().Add(settleGrace)
	for len(r.pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		r.cutReady(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(r.m.cfg.Tick / 4):
		}
	}
	for _, h := range r.pending {
		r.m.cfg.Log.Warn("live highlight dropped: its recording never completed", "path", r.path, "start", h.Start)
	}
}

func isDone(s *stream.Stream) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// session runs one ffmpeg analysis of the stream. Its measures come back
// in its log (stderr); a ticker picks the clips meanwhile, and once more
// when the stream ends.
func (r *pathRun) session(ctx context.Context) error {
	video, audio := tracks(r.s)
	tl := highlights.NewTimeline(audio != nil)
	graph, maps := highlights.LiveGraph(audio != nil)
	// One decoding thread: the analysis keeps up with a live 720p30
	// stream at about 6% of a core, and many paths share the machine.
	args := append([]string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
		"-threads", "1", "-f", "mpegts", "-i", "pipe:0", "-filter_complex", graph}, maps...)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(sctx, r.m.cfg.FFmpeg, args...)
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	logr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	var errTail lastLines
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		_ = tl.Feed(logr, errTail.add)
		// The log ends when ffmpeg exits: stop feeding it (a reader
		// waiting on an idle stream would not notice otherwise).
		cancel()
	}()
	var anchor anchorTime
	tickDone := make(chan struct{})
	go func() { defer close(tickDone); r.ticker(sctx, tl, &anchor) }()
	ferr := feed(sctx, r.s, stdin, video, audio, &anchor)
	_ = stdin.Close()
	<-fed // the log ends when ffmpeg exits
	werr := cmd.Wait()
	cancel()
	<-tickDone
	if errors.Is(ferr, io.EOF) {
		// The stream ended: every clip measured so far is complete.
		r.pick(tl, &anchor, true)
		return nil
	}
	if werr != nil {
		return fmt.Errorf("ffmpeg: %w: %s", werr, errTail.String())
	}
	return ferr
}

// lastLines keeps the last few lines of ffmpeg's log that are not
// measures, for the error message when it fails.
type lastLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lastLines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > 8 {
		l.lines = l.lines[1:]
	}
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "; ")
}

// ticker picks clips and cuts the ready ones every Tick until ctx ends.
func (r *pathRun) ticker(ctx context.Context, tl *highlights.Timeline, a *anchorTime) {
	t := time.NewTicker(r.m.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.pick(tl, a, false)
			r.cutReady(ctx)
		}
	}
}

// tracks returns the stream's first video and audio tracks.
func tracks(s *stream.Stream) (video, audio *stream.Track) {
	for _, t := range s.Tracks() {
		switch {
		case t.IsVideo() && video == nil:
			video = t
		case !t.IsVideo() && audio == nil:
			audio = t
		}
	}
	return video, audio
}

// anchorTime maps stream time (seconds from the first unit fed, as
// ffmpeg counts) to wall-clock time, the recorder's timeline.
type anchorTime struct {
	mu   sync.Mutex
	wall time.Time
}

func (a *anchorTime) set(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wall.IsZero() {
		a.wall = t
	}
}

func (a *anchorTime) at(sec float64) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.wall.Add(time.Duration(sec * float64(time.Second))), !a.wall.IsZero()
}

// feed writes the stream's video and audio units to w as MPEG-TS until
// the stream ends (io.EOF), ctx ends or w fails. The first unit sets the
// anchor.
func feed(ctx context.Context, s *stream.Stream, w io.Writer, video, audio *stream.Track, a *anchorTime) error {
	return tsconv.Feed(ctx, s, w, video, audio, "highlights", func(u *stream.Unit) {
		if u.Time.IsZero() {
			a.set(time.Now())
		} else {
			a.set(u.Time)
		}
	})
}
