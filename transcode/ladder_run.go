package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// ladderRun is one source path's ladder: the ffmpeg that encodes its
// rungs, restarted while the source lives, and the source rungs copied in
// Go.
type ladderRun struct {
	m       *Manager
	s       *stream.Stream
	path    string
	ladder  Ladder
	prev    *ladderRun // a run of the path's previous stream, to wait for
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	started time.Time

	idle atomic.Bool // stopped by stopWhenIdle

	mu       sync.Mutex
	outs     map[*stream.Stream]struct{} // published rung streams, for the idle check
	state    string
	restarts int
	lastErr  string
	pid      int
	prog     *progress
	roi      *ROIStatus // nil without ROI rungs
}

func (r *ladderRun) rungPaths() []string {
	out := make([]string, len(r.ladder.Rungs))
	for i, g := range r.ladder.Rungs {
		out[i] = r.path + "/" + g.Name
	}
	return out
}

func (r *ladderRun) status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{Path: r.path, Ladder: r.ladder.Name, State: r.state, Restarts: r.restarts,
		LastError: r.lastErr, Started: r.started, PID: r.pid, Rungs: r.rungPaths()}
	if r.prog != nil {
		st.Speed, st.FPS = r.prog.get()
	}
	if r.roi != nil {
		c := *r.roi
		st.ROI = &c
	}
	return st
}

func (r *ladderRun) setState(s string) {
	r.mu.Lock()
	r.state = s
	r.mu.Unlock()
}

// startLadder registers and starts the ladder of s, unless the cap is
// reached or the ladder is invalid.
func (m *Manager) startLadder(s *stream.Stream, l Ladder) {
	path := s.Path()
	if err := l.Validate(); err != nil {
		m.failures.Add(1)
		m.log.Error("ladder not started", "path", path, "ladder", l.Name, "error", err)
		m.emit(EventFailed, path, map[string]any{"ladder": l.Name, "error": err.Error()})
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	prev := m.ladders[path]
	if prev != nil && prev.s == s {
		m.mu.Unlock()
		return
	}
	if prev == nil && m.cfg.MaxTranscoders > 0 && len(m.ladders) >= m.cfg.MaxTranscoders {
		m.mu.Unlock()
		m.refused.Add(1)
		m.log.Warn("ladder refused: too many transcoders", "path", path, "ladder", l.Name, "max_transcoders", m.cfg.MaxTranscoders)
		m.emit(EventRefused, path, map[string]any{"ladder": l.Name, "reason": "max_transcoders reached", "max_transcoders": m.cfg.MaxTranscoders})
		return
	}
	r := &ladderRun{m: m, s: s, path: path, ladder: l, prev: prev, done: make(chan struct{}), state: "starting", started: time.Now()}
	r.ctx, r.cancel = context.WithCancel(m.ctx)
	if prev != nil {
		prev.cancel()
	}
	m.ladders[path] = r
	for _, p := range r.rungPaths() {
		m.outputs[p]++
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go r.run()
}

func (r *ladderRun) finish() {
	m := r.m
	m.mu.Lock()
	if m.ladders[r.path] == r {
		delete(m.ladders, r.path)
	}
	for _, p := range r.rungPaths() {
		if m.outputs[p]--; m.outputs[p] <= 0 {
			delete(m.outputs, p)
		}
	}
	m.mu.Unlock()
	r.cancel()
	close(r.done)
	m.wg.Done()
}

func (r *ladderRun) run() {
	defer r.finish()
	m := r.m
	if r.prev != nil {
		<-r.prev.done // its rung paths must be free before we publish them
	}
	video, audio := feedTracks(r.s.Tracks())
	if video == nil {
		m.failures.Add(1)
		err := errors.New("source has no H.264/H.265 video track")
		m.log.Error("ladder not started", "path", r.path, "ladder", r.ladder.Name, "error", err)
		m.emit(EventFailed, r.path, map[string]any{"ladder": r.ladder.Name, "error": err.Error()})
		return
	}
	var wg sync.WaitGroup
	var plan ladderPlan
	hasEncoded := false
	for _, g := range r.ladder.Rungs {
		hasEncoded = hasEncoded || g.codec() != CodecSource
	}
	var faces FaceTracker
	if hasEncoded {
		src := ladderSource{Width: video.Width, Height: video.Height, HasAudio: audio != nil}
		if slices.ContainsFunc(r.ladder.Rungs, func(g Rung) bool { return g.ROI != nil }) {
			dir, err := os.MkdirTemp("", "mps-roi-")
			if err == nil {
				defer os.RemoveAll(dir)
				src.Control = filepath.Join(dir, "ctl")
			}
			faces = r.startFaces()
		}
		var err error
		plan, err = buildLadderArgs(r.ladder, src, m.cfg.Watermarks)
		if err != nil {
			m.failures.Add(1)
			m.log.Error("ladder not started", "path", r.path, "ladder", r.ladder.Name, "error", err)
			m.emit(EventFailed, r.path, map[string]any{"ladder": r.ladder.Name, "error": err.Error()})
			return
		}
	}
	if r.ladder.OnDemand {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.stopWhenIdle()
		}()
	}
	m.log.Info("ladder started", "path", r.path, "ladder", r.ladder.Name, "rungs", r.rungPaths())
	m.emit(EventStarted, r.path, map[string]any{"ladder": r.ladder.Name, "rungs": r.rungPaths()})

	for _, g := range r.ladder.Rungs {
		if g.codec() == CodecSource {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.passthrough(g)
			}()
		}
	}
	reason := "source ended"
	backoff := m.cfg.RestartBackoff
	for hasEncoded {
		began := time.Now()
		err := r.runOnce(plan, video, audio, faces)
		if isDone(r.s.Done()) || r.ctx.Err() != nil {
			if r.ctx.Err() != nil && !isDone(r.s.Done()) {
				reason = "stopped"
				if r.idle.Load() {
					reason = "no reader"
				}
			}
			break
		}
		if err == nil {
			err = errors.New("ffmpeg exited while the source is live")
		}
		if time.Since(began) > m.cfg.MaxBackoff {
			backoff = m.cfg.RestartBackoff
		}
		r.mu.Lock()
		r.restarts++
		r.lastErr = err.Error()
		r.state = "restarting"
		n := r.restarts
		r.mu.Unlock()
		m.restarts.Add(1)
		m.log.Warn("ladder ffmpeg died; restarting", "path", r.path, "ladder", r.ladder.Name, "restarts", n, "in", backoff, "error", err)
		m.emit(EventFailed, r.path, map[string]any{"ladder": r.ladder.Name, "error": err.Error(), "restarts": n, "restart_in": backoff.String()})
		if !sleep(r.ctx, r.s.Done(), backoff) {
			break
		}
		backoff = min(2*backoff, m.cfg.MaxBackoff)
	}
	r.setState("stopping")
	wg.Wait()
	m.log.Info("ladder stopped", "path", r.path, "ladder", r.ladder.Name, "reason", reason)
	m.emit(EventStopped, r.path, map[string]any{"ladder": r.ladder.Name, "reason": reason})
}

// anchor carries the PTS of the first source video unit fed to ffmpeg, to
// put the rungs back on the source's timeline: every rung's first video
// frame is that unit, whatever origin its MPEG-TS demuxer picked. So the
// rungs share timestamps exactly, with each other and with the source.
type anchor struct {
	once sync.Once
	set  chan struct{}
	pts  time.Duration
}

func newAnchor() *anchor { return &anchor{set: make(chan struct{})} }

func (a *anchor) mark(pts time.Duration) {
	a.once.Do(func() {
		a.pts = pts
		close(a.set)
	})
}

// runOnce runs ffmpeg until it exits: the source feeds its stdin and each
// encoded rung is read from its own pipe and published.
func (r *ladderRun) runOnce(plan ladderPlan, video, audio *stream.Track, faces FaceTracker) error {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()

	var parentEnds, childEnds []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	pipe := func() (*os.File, *os.File, error) {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("pipe: %w", err)
		}
		return pr, pw, nil
	}
	stdinR, stdinW, err := pipe()
	if err != nil {
		return err
	}
	parentEnds, childEnds = append(parentEnds, stdinW), append(childEnds, stdinR)
	nout := len(plan.Rungs) + 1 // rungs, then progress, then the frame tap
	if plan.Tap != nil {
		nout++
	}
	outs := make([]*os.File, 0, nout)
	extra := make([]*os.File, 0, nout)
	for range nout {
		pr, pw, err := pipe()
		if err != nil {
			closeAll(parentEnds)
			closeAll(childEnds)
			return err
		}
		outs = append(outs, pr)
		extra = append(extra, pw)
		parentEnds, childEnds = append(parentEnds, pr), append(childEnds, pw)
	}

	stderr := &tail{max: 8192}
	cmd := exec.CommandContext(ctx, r.m.cfg.FFmpeg, plan.Args...)
	cmd.Stdin = stdinR
	cmd.ExtraFiles = extra
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		closeAll(parentEnds)
		closeAll(childEnds)
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	closeAll(childEnds) // ffmpeg holds them now; EOF follows its exit
	prog := &progress{}
	r.mu.Lock()
	r.pid, r.prog, r.state = cmd.Process.Pid, prog, "running"
	r.mu.Unlock()
	r.m.log.Debug("ladder ffmpeg started", "path", r.path, "pid", cmd.Process.Pid, "args", plan.Args)

	a := newAnchor()
	var wg sync.WaitGroup
	wg.Add(2 + len(plan.Rungs))
	go func() {
		defer wg.Done()
		err := feed(ctx, r.s, stdinW, video, audio, a)
		stdinW.Close()
		if errors.Is(err, io.EOF) {
			// The source ended: ffmpeg flushes and exits; make sure.
			t := time.AfterFunc(10*time.Second, cancel)
			<-ctx.Done()
			t.Stop()
		}
	}()
	for i, g := range plan.Rungs {
		go func() {
			defer wg.Done()
			r.rungOut(ctx, g, outs[i], a)
		}()
	}
	go func() {
		defer wg.Done()
		prog.read(outs[len(plan.Rungs)])
		outs[len(plan.Rungs)].Close()
	}()
	if plan.Tap != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.followFaces(ctx, plan, outs[len(plan.Rungs)+1], faces)
		}()
	}

	werr := cmd.Wait()
	cancel()
	wg.Wait()
	r.mu.Lock()
	r.pid = 0
	r.mu.Unlock()
	if werr != nil {
		if msg := stderr.lastLines(3); msg != "" {
			return fmt.Errorf("ffmpeg: %w: %s", werr, msg)
		}
		return fmt.Errorf("ffmpeg: %w", werr)
	}
	return nil
}

// feed writes the source's video and audio units to w as MPEG-TS until
// the source ends (io.EOF), ctx ends or w fails; the first video unit
// sets the anchor.
func feed(ctx context.Context, s *stream.Stream, w io.Writer, video, audio *stream.Track, a *anchor) error {
	return tsconv.Feed(ctx, s, w, video, audio, "transcode", func(u *stream.Unit) {
		if u.Track == video && a != nil {
			a.mark(u.PTS)
		}
	})
}

// rungOut demuxes one rung's MPEG-TS from ffmpeg and publishes it as
// PATH/RUNG, on the source's timeline. It drains the pipe to the end
// whatever happens, so one stuck rung never blocks ffmpeg's other outputs.
func (r *ladderRun) rungOut(ctx context.Context, g Rung, rd *os.File, a *anchor) {
	defer rd.Close()
	defer func() { _, _ = io.Copy(io.Discard, rd) }()
	path := r.path + "/" + g.Name
	d, err := tsconv.NewDemuxer(rd)
	if err != nil {
		if ctx.Err() == nil {
			r.m.log.Debug("rung output unreadable", "path", path, "error", err)
		}
		return
	}
	var (
		out      *stream.Stream
		pending  []*stream.Unit
		offset   time.Duration
		anchored bool
	)
	defer func() {
		if out != nil {
			out.Close()
		}
	}()
	for {
		u, err := d.ReadUnit()
		if err != nil {
			return
		}
		if !anchored {
			if !u.Track.IsVideo() {
				if len(pending) < 512 {
					pending = append(pending, u)
				}
				continue
			}
			select {
			case <-a.set:
			case <-ctx.Done():
				return
			}
			offset, anchored = a.pts-u.PTS, true
			out, err = r.m.hub.Publish(r.ctx, stream.Request{Path: path, Protocol: "transcode", RemoteAddr: "ffmpeg"}, d.Tracks(), stream.Options{}) //nolint:contextcheck // a rung lives as long as its ladder run
			if err != nil {
				r.m.log.Warn("rung not published", "path", path, "error", err)
				out = nil
			} else {
				r.addOut(out)
			}
			for _, p := range pending {
				r.write(&out, p, offset)
			}
			pending = nil
		}
		r.write(&out, u, offset)
	}
}

func (r *ladderRun) write(out **stream.Stream, u *stream.Unit, offset time.Duration) {
	if *out == nil {
		return
	}
	u.PTS += offset
	u.DTS += offset
	u.Time = time.Now()
	if err := (*out).Write(u); err != nil {
		(*out).Close()
		*out = nil // kicked: drain the rest
	}
}

// passthrough publishes the source's own units as a "source" rung: no
// ffmpeg, no copy of the payloads, only new Unit headers that point to the
// rung's tracks.
func (r *ladderRun) passthrough(g Rung) {
	path := r.path + "/" + g.Name
	src := r.s.Tracks()
	tracks := make([]*stream.Track, len(src))
	byTrack := make(map[*stream.Track]*stream.Track, len(src))
	for i, t := range src {
		c := *t
		tracks[i] = &c
		byTrack[t] = &c
	}
	rd := r.s.NewReader(r.ctx, stream.ReaderOptions{Protocol: "transcode"})
	defer rd.Close()
	out, err := r.m.hub.Publish(r.ctx, stream.Request{Path: path, Protocol: "transcode", RemoteAddr: "source"}, tracks, stream.Options{})
	if err != nil {
		r.m.log.Warn("rung not published", "path", path, "error", err)
		return
	}
	r.addOut(out)
	defer out.Close()
	for {
		u, err := rd.Read()
		if err != nil {
			return
		}
		c := *u
		c.Track = byTrack[u.Track]
		if out.Write(&c) != nil {
			return
		}
	}
}

func (r *ladderRun) addOut(s *stream.Stream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outs == nil {
		r.outs = make(map[*stream.Stream]struct{})
	}
	r.outs[s] = struct{}{}
}

// readers counts the readers of the rung streams still live.
func (r *ladderRun) readers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for s := range r.outs {
		if isDone(s.Done()) {
			delete(r.outs, s)
			continue
		}
		n += len(s.Stats().PerReader)
	}
	return n
}

// stopWhenIdle stops an on-demand ladder once its rungs have had no reader
// for the ladder's CloseAfter (default 30 s); the next Demand restarts it.
func (r *ladderRun) stopWhenIdle() {
	closeAfter := r.ladder.CloseAfter
	if closeAfter <= 0 {
		closeAfter = 30 * time.Second
	}
	t := time.NewTicker(min(time.Second, closeAfter/4))
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			if r.readers() > 0 {
				last = now
				continue
			}
			if now.Sub(last) >= closeAfter {
				r.m.log.Info("on-demand ladder idle, stopping", "path", r.path, "idle", closeAfter)
				r.idle.Store(true)
				r.cancel()
				return
			}
		}
	}
}
