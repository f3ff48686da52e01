package pathmgr

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"mps/internal/stream"
)

// SourceFunc pulls url and publishes it into hub as path until the remote
// ends (returning nil or an error) or ctx is cancelled. The server supplies
// one that dispatches on the URL scheme to the protocol clients.
type SourceFunc func(ctx context.Context, url, path string, hub stream.Hub) error

// SetSourceFunc installs the puller used for paths with a source. It must be
// called before sources are started.
func (m *Manager) SetSourceFunc(f SourceFunc) { m.pull = f }

// Source states shown by the API.
const (
	// SourceIdle is a configured source that is not pulling: an on-demand
	// one waiting for its first reader, or one that stopped when idle.
	SourceIdle = "idle"
	// SourceStarting is a pull connecting to the remote.
	SourceStarting = "starting"
	// SourceRunning is a pull that publishes the path.
	SourceRunning = "running"
	// SourceFailed is a pull whose last attempt failed; it retries at
	// RetryAt.
	SourceFailed = "failed"
)

// source is one running pull: a goroutine owned by the manager that
// reconnects with backoff until stopped.
type source struct {
	path, url string
	pol       Policy
	cancel    context.CancelFunc
	done      chan struct{}

	mu       sync.Mutex
	state    string
	lastErr  string
	restarts int
	since    time.Time
	retryAt  time.Time
}

// sourceHistory is what the manager remembers of a source that stopped, so
// an idle source still shows why it last failed.
type sourceHistory struct {
	lastErr  string
	restarts int
	since    time.Time
}

// SourceState is a pull source as the API shows it.
type SourceState struct {
	Path     string `json:"path"`
	URL      string `json:"url"`
	OnDemand bool   `json:"on_demand"`
	// State is idle, starting, running or failed.
	State   string `json:"state"`
	LastErr string `json:"last_error,omitempty"`
	// RetryAt is when a failed source tries again.
	RetryAt  *time.Time `json:"retry_at,omitempty"`
	Restarts int        `json:"restarts"`
	// Since is when the source entered its state (zero for a source that
	// never ran).
	Since time.Time `json:"since"`
}

// Sources returns every configured source (as last given to SyncSources)
// and every running one, with its state: a configured source that is not
// pulling is idle, with the error it last stopped on.
func (m *Manager) Sources() []SourceState {
	m.mu.Lock()
	list := make([]*source, 0, len(m.sources))
	for _, s := range m.sources {
		list = append(list, s)
	}
	var out []SourceState
	for p, pol := range m.configured {
		if _, ok := m.sources[p]; ok {
			continue
		}
		h := m.history[p]
		if h.lastErr != "" && h.since.IsZero() {
			h.since = time.Now()
		}
		out = append(out, SourceState{Path: p, URL: redact(pol.Source), OnDemand: pol.SourceOnDemand, State: SourceIdle,
			LastErr: h.lastErr, Restarts: h.restarts, Since: h.since})
	}
	m.mu.Unlock()
	for _, s := range list {
		s.mu.Lock()
		st := SourceState{Path: s.path, URL: redact(s.url), OnDemand: s.pol.SourceOnDemand, State: s.state,
			LastErr: s.lastErr, Restarts: s.restarts, Since: s.since}
		if s.state == SourceFailed {
			st.RetryAt = new(s.retryAt)
		}
		s.mu.Unlock()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// SyncSources makes the always-on sources match paths (exact path names
// with their policies): it starts the missing ones and stops those whose
// path is gone or whose source changed. On-demand sources are left to
// their readers. The server calls it at start and after every reload.
func (m *Manager) SyncSources(paths map[string]Policy) {
	m.mu.Lock()
	m.configured = make(map[string]Policy, len(paths))
	for p, pol := range paths {
		if pol.Source != "" {
			m.configured[p] = pol
		}
	}
	var stop []*source
	for p, s := range m.sources {
		pol, ok := paths[p]
		if s.pol.SourceOnDemand && (!ok || pol.Source == s.url) {
			continue
		}
		if !ok || pol.Source != s.url || pol.SourceOnDemand != s.pol.SourceOnDemand {
			stop = append(stop, s)
			delete(m.sources, p)
		}
	}
	m.mu.Unlock()
	for _, s := range stop {
		s.cancel()
		<-s.done
	}
	for p, pol := range paths {
		if pol.Source != "" && !pol.SourceOnDemand {
			m.startSource(p, pol)
		}
	}
}

// startSource starts the pull of path unless one runs already.
func (m *Manager) startSource(path string, pol Policy) {
	if m.pull == nil {
		return
	}
	m.mu.Lock()
	if _, ok := m.sources[path]; ok || m.closed {
		m.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	s := &source{path: path, url: pol.Source, pol: pol, cancel: cancel, done: make(chan struct{}), state: SourceStarting, since: time.Now()}
	m.sources[path] = s
	m.wg.Add(1)
	m.mu.Unlock()
	m.log.Info("source starting", "path", path, "url", redact(pol.Source), "on_demand", pol.SourceOnDemand)
	go m.runSource(ctx, s)
}

// runSource pulls until cancelled, reconnecting with exponential backoff;
// an on-demand source also stops itself once it has had no reader for
// SourceCloseAfter.
func (m *Manager) runSource(ctx context.Context, s *source) {
	defer m.wg.Done()
	defer close(s.done)
	defer func() {
		s.mu.Lock()
		h := sourceHistory{lastErr: s.lastErr, restarts: s.restarts, since: time.Now()}
		s.mu.Unlock()
		m.mu.Lock()
		if m.sources[s.path] == s {
			delete(m.sources, s.path)
			m.history[s.path] = h
		}
		m.mu.Unlock()
	}()
	if s.pol.SourceOnDemand {
		idleCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go m.idleStop(idleCtx, s)
	}
	hub := sourceHub{m: m, s: s}
	backoff := s.pol.SourceRetry
	if backoff <= 0 {
		backoff = time.Second
	}
	for {
		started := time.Now()
		err := m.pull(ctx, s.url, s.path, hub)
		if ctx.Err() != nil {
			m.log.Info("source stopped", "path", s.path)
			return
		}
		if err == nil {
			err = errors.New("remote ended the stream")
		}
		if time.Since(started) > time.Minute {
			backoff = s.pol.SourceRetry // it ran fine for a while: start over
			if backoff <= 0 {
				backoff = time.Second
			}
		}
		s.mu.Lock()
		s.state, s.lastErr, s.since = SourceFailed, err.Error(), time.Now()
		s.retryAt = s.since.Add(backoff)
		s.restarts++
		s.mu.Unlock()
		m.log.Warn("source failed, retrying", "path", s.path, "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
		s.mu.Lock()
		s.state, s.since = SourceStarting, time.Now()
		s.mu.Unlock()
	}
}

// idleStop cancels an on-demand source after SourceCloseAfter without any
// reader of its stream.
func (m *Manager) idleStop(ctx context.Context, s *source) {
	closeAfter := s.pol.SourceCloseAfter
	if closeAfter <= 0 {
		closeAfter = 10 * time.Second
	}
	tick := min(time.Second, closeAfter/4)
	t := time.NewTicker(tick)
	defer t.Stop()
	idleSince := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if st := m.Get(s.path); st != nil && len(st.Stats().PerReader) > 0 {
				idleSince = now
				continue
			}
			if now.Sub(idleSince) >= closeAfter {
				m.log.Info("on-demand source idle, stopping", "path", s.path, "idle", closeAfter)
				s.cancel()
				return
			}
		}
	}
}

// sourceHub is the hub a source publishes through: it skips publisher
// credentials (the source is configured, not a client) and records the
// source's state.
type sourceHub struct {
	m *Manager
	s *source
}

func (h sourceHub) Publish(ctx context.Context, req stream.Request, tracks []*stream.Track, opts stream.Options) (*stream.Stream, error) {
	if req.Path != h.s.path {
		return nil, fmt.Errorf("source of %s cannot publish %s", h.s.path, req.Path)
	}
	st, err := h.m.publish(ctx, req, tracks, opts, false)
	if err == nil {
		h.s.mu.Lock()
		h.s.state, h.s.lastErr, h.s.since = SourceRunning, "", time.Now()
		h.s.mu.Unlock()
	}
	return st, err
}

func (h sourceHub) Read(ctx context.Context, req stream.Request) (*stream.Stream, error) {
	return h.m.Read(ctx, req)
}
