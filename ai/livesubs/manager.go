package livesubs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mps/ai/speech"
	"mps/internal/stream"
)

// Config is what the manager needs from the server.
type Config struct {
	// Rule says whether path has live subtitles and in which language.
	Rule func(path string) (language string, ok bool)
	// Engine is the local recogniser (its models); nil uses the defaults.
	Engine *speech.Local
	// RestartBackoff is the first wait before restarting a dead
	// recogniser (default 1 s); it doubles up to MaxBackoff (default 30 s).
	RestartBackoff, MaxBackoff time.Duration
}

// Manager runs the recognisers of live paths and serves their cues.
type Manager struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	hubs  map[string]*hub
	feeds map[string]*feed
}

// New makes a manager; recognisers start as streams are published.
func New(cfg Config, log *slog.Logger) *Manager {
	if cfg.Engine == nil {
		cfg.Engine = &speech.Local{}
	}
	if cfg.RestartBackoff <= 0 {
		cfg.RestartBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{cfg: cfg, log: log, hubs: map[string]*hub{}, feeds: map[string]*feed{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close stops every recogniser and waits for them.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

// Enabled reports whether path has live subtitles.
func (m *Manager) Enabled(path string) bool {
	_, ok := m.cfg.Rule(path)
	return ok
}

// hub returns path's hub, creating it.
func (m *Manager) hub(path string) *hub {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hubs[path]
	if h == nil {
		h = newHub()
		m.hubs[path] = h
	}
	return h
}

// dropHub forgets path's hub when nothing uses it any more, so paths that
// come and go do not accumulate.
func (m *Manager) dropHub(path string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hubs[path]
	if h == nil || m.feeds[path] != nil {
		return
	}
	h.mu.Lock()
	idle := len(h.subs) == 0
	h.mu.Unlock()
	if idle {
		delete(m.hubs, path)
	}
}

// StreamStarted is the path manager's publish hook: it starts a
// recogniser for s when its path's rule asks for one.
func (m *Manager) StreamStarted(s *stream.Stream) {
	lang, ok := m.cfg.Rule(s.Path())
	if !ok {
		return
	}
	model, err := m.cfg.Engine.Model(lang)
	if err != nil {
		m.log.Error("live subtitles not started", "path", s.Path(), "error", err)
		return
	}
	var audio *stream.Track
	for _, t := range s.Tracks() {
		if !t.IsVideo() {
			audio = t
			break
		}
	}
	if audio == nil {
		m.log.Warn("live subtitles not started: the stream has no audio", "path", s.Path())
		return
	}
	m.mu.Lock()
	if m.ctx.Err() != nil {
		m.mu.Unlock()
		return
	}
	f := &feed{m: m, s: s, audio: audio, model: model, hub: nil}
	f.ctx, f.cancel = context.WithCancel(m.ctx)
	if old := m.feeds[s.Path()]; old != nil {
		old.cancel()
	}
	m.feeds[s.Path()] = f
	m.mu.Unlock()
	f.hub = m.hub(s.Path())
	m.wg.Add(1)
	go f.run()
}
