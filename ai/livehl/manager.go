package livehl

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// HighlightCreated is the event type of a new clip. Its data: name,
// start and end (RFC 3339), duration (seconds), score, reasons and url.
const HighlightCreated = "highlight.created"

// Rule is a path's live highlights setting.
type Rule struct {
	Enabled bool
	// Window is how far back the rolling list reaches.
	Window time.Duration
	// Top is how many clips the list holds at most.
	Top int
	// MinSeconds and MaxSeconds bound a clip's length.
	MinSeconds, MaxSeconds float64
}

// Recording is the path's recording, from which clips are cut.
type Recording interface {
	// RecordedUntil returns when path's recorded media ends (zero when
	// nothing is recorded).
	RecordedUntil(path string) time.Time
	// Export writes [start, start+dur) of path's recording to out as
	// MP4 (stream copy: it may start at the keyframe before start).
	Export(ctx context.Context, path string, start time.Time, dur time.Duration, out string) error
}

// Config is what a Manager needs from the server.
type Config struct {
	// Dir holds the clips, as Dir/PATH/NAME.mp4.
	Dir string
	// FFmpeg is the ffmpeg binary (default "ffmpeg").
	FFmpeg string
	// Rule gives a path's setting; read when its stream starts.
	Rule      func(path string) Rule
	Recording Recording
	Bus       *events.Bus
	Log       *slog.Logger
	// Tick is how often the clips are picked (default 2 s).
	Tick time.Duration
}

// Manager runs the live analysis of every path with highlights on, and
// holds each path's rolling list.
type Manager struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	lists map[string][]Highlight // per path, in time order
	runs  map[string]*stream.Stream
}

// New returns a manager; it starts nothing until a stream starts.
func New(cfg Config) *Manager {
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 2 * time.Second
	}
	m := &Manager{cfg: cfg, lists: map[string][]Highlight{}, runs: map[string]*stream.Stream{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close stops every analysis and waits for it.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

// StreamStarted is the path manager's publish hook: it starts the
// analysis of s when its path's rule turns highlights on.
func (m *Manager) StreamStarted(s *stream.Stream) {
	rule := m.cfg.Rule(s.Path())
	if !rule.Enabled || m.cfg.Dir == "" || m.cfg.Recording == nil {
		return
	}
	var video *stream.Track
	for _, t := range s.Tracks() {
		if t.IsVideo() {
			video = t
			break
		}
	}
	if video == nil {
		m.cfg.Log.Warn("live highlights need a video track", "path", s.Path())
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil || m.runs[s.Path()] == s {
		return
	}
	m.runs[s.Path()] = s
	r := &pathRun{m: m, s: s, path: s.Path(), rule: rule}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r.run(m.ctx)
		m.mu.Lock()
		if m.runs[r.path] == s {
			delete(m.runs, r.path)
		}
		m.mu.Unlock()
	}()
}

// List returns path's current highlights, best first.
func (m *Manager) List(path string) []Highlight {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Highlight(nil), m.lists[path]...)
	sortBest(out)
	return out
}
