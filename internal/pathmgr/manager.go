package pathmgr

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"mps/internal/auth"
	"mps/internal/events"
	"mps/internal/stream"
)

// Manager is the table of live paths. It is safe for concurrent use.
type Manager struct {
	log    *slog.Logger
	bus    *events.Bus
	policy atomic.Pointer[PolicyFunc]
	auth   atomic.Pointer[Authorizer]

	pull   SourceFunc
	demand func(path string) bool
	hooks  []func(*stream.Stream)
	ctx    context.Context // ends at Close: the owner of source goroutines
	cancel context.CancelFunc

	mu      sync.Mutex
	streams map[string]*entry
	sources map[string]*source
	// configured are the sources of the exact-path rules (SyncSources);
	// history remembers how each stopped source ended.
	configured map[string]Policy
	history    map[string]sourceHistory
	published  chan struct{} // closed and replaced on every publish
	closed     bool
	wg         sync.WaitGroup

	totals Totals
}

type entry struct {
	s   *stream.Stream
	pub stream.Request
}

// Totals are counters of streams that have ended, so that cumulative
// metrics do not go backwards when a stream goes away.
type Totals struct {
	mu       sync.Mutex
	BytesIn  map[string]uint64
	BytesOut map[string]uint64
	Overruns uint64
}

// New returns a manager that takes path rules from policy and announces
// stream lifecycle events on bus.
func New(log *slog.Logger, bus *events.Bus, policy PolicyFunc) *Manager {
	m := &Manager{log: log, bus: bus, streams: make(map[string]*entry), sources: make(map[string]*source), history: make(map[string]sourceHistory), published: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.totals.BytesIn = make(map[string]uint64)
	m.totals.BytesOut = make(map[string]uint64)
	m.SetPolicy(policy)
	return m
}

// SetPolicy replaces the rule lookup, e.g. after a config reload. Live
// publishers and readers are not affected.
func (m *Manager) SetPolicy(p PolicyFunc) {
	if p == nil {
		p = func(string) Policy { return Policy{} }
	}
	m.policy.Store(&p)
}

func (m *Manager) policyFor(path string) Policy { return (*m.policy.Load())(path) }

// Publish implements stream.Hub.
func (m *Manager) Publish(ctx context.Context, req stream.Request, tracks []*stream.Track, opts stream.Options) (*stream.Stream, error) {
	return m.publish(ctx, req, tracks, opts, true)
}

// CheckPublish tells whether Publish would admit req now (valid path,
// credentials, path free or overridable), for protocols such as WHIP that
// must answer the client before they know the tracks to publish.
func (m *Manager) CheckPublish(req stream.Request) error {
	if err := ValidPath(req.Path); err != nil {
		return err
	}
	pol := m.policyFor(req.Path)
	if err := m.authorize(context.Background(), auth.ActionPublish, req, pol); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.streams[req.Path]; ok && !pol.OverridePublisher {
		return fmt.Errorf("publish %s: %w (%s from %s)", req.Path, stream.ErrPathBusy, e.pub.Protocol, e.pub.RemoteAddr)
	}
	return nil
}

// publish admits a publisher; auth is false for the server's own pull
// sources, which are configured rather than presented credentials.
func (m *Manager) publish(ctx context.Context, req stream.Request, tracks []*stream.Track, opts stream.Options, check bool) (*stream.Stream, error) {
	if err := ValidPath(req.Path); err != nil {
		return nil, err
	}
	if len(tracks) == 0 {
		return nil, fmt.Errorf("publish %s: no tracks", req.Path)
	}
	pol := m.policyFor(req.Path)
	if check {
		if err := m.authorize(ctx, auth.ActionPublish, req, pol); err != nil {
			return nil, err
		}
	}
	if opts.RingSize == 0 {
		opts.RingSize = pol.RingSize
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("publish %s: server shutting down", req.Path)
	}
	var old *stream.Stream
	if e, ok := m.streams[req.Path]; ok {
		if !pol.OverridePublisher {
			m.mu.Unlock()
			return nil, fmt.Errorf("publish %s: %w (%s from %s)", req.Path, stream.ErrPathBusy, e.pub.Protocol, e.pub.RemoteAddr)
		}
		old = e.s
	}
	s := stream.New(req.Path, tracks, opts)
	m.streams[req.Path] = &entry{s: s, pub: req}
	m.wg.Add(1)
	close(m.published)
	m.published = make(chan struct{})
	m.mu.Unlock()

	if old != nil {
		m.log.Info("publisher replaced", "path", req.Path, "protocol", req.Protocol, "remote", req.RemoteAddr)
		old.CloseWithError(stream.ErrKicked)
	}
	m.log.Info("stream published", "path", req.Path, "protocol", req.Protocol, "remote", req.RemoteAddr, "tracks", trackNames(tracks))
	m.bus.Publish(events.Event{Type: events.StreamPublished, Path: req.Path, Data: map[string]any{
		"protocol": req.Protocol, "remote": req.RemoteAddr, "tracks": trackNames(tracks),
	}})
	go m.watch(s, req)
	for _, h := range m.hooks {
		h(s)
	}
	return s, nil
}

// SetDemandFunc installs f, asked when a reader wants a path nobody
// publishes: if f starts something that will publish it (an on-demand
// transcoder's rung), it returns true and the reader waits for the stream.
// It must be called before the server starts.
func (m *Manager) SetDemandFunc(f func(path string) bool) { m.demand = f }

// OnPublish registers f to be called synchronously with every new stream
// before its publisher writes the first unit, so consumers that must see
// the whole stream (the recorder, forwarders) attach their readers in time.
// f must not block. Hooks are registered before the server starts.
func (m *Manager) OnPublish(f func(*stream.Stream)) { m.hooks = append(m.hooks, f) }

// watch removes s from the table when it ends and folds its counters into
// the totals.
func (m *Manager) watch(s *stream.Stream, req stream.Request) {
	defer m.wg.Done()
	<-s.Done()
	m.mu.Lock()
	if e, ok := m.streams[req.Path]; ok && e.s == s {
		delete(m.streams, req.Path)
	}
	m.mu.Unlock()
	st := s.Stats()
	m.totals.mu.Lock()
	m.totals.BytesIn[req.Protocol] += st.BytesIn
	for p, n := range st.BytesOut {
		m.totals.BytesOut[p] += n
	}
	m.totals.Overruns += st.Overruns
	m.totals.mu.Unlock()
	reason := "ended"
	if err := s.Err(); err != nil {
		reason = err.Error()
	}
	m.log.Info("stream unpublished", "path", req.Path, "protocol", req.Protocol, "reason", reason)
	m.bus.Publish(events.Event{Type: events.StreamUnpublished, Path: req.Path, Data: map[string]any{
		"protocol": req.Protocol, "reason": reason,
	}})
}

// Read implements stream.Hub.
func (m *Manager) Read(ctx context.Context, req stream.Request) (*stream.Stream, error) {
	return m.read(ctx, req, true)
}

// read finds or starts req's stream; check is false for the server's own
// readers (see Trusted).
func (m *Manager) read(ctx context.Context, req stream.Request, check bool) (*stream.Stream, error) {
	if err := ValidPath(req.Path); err != nil {
		return nil, err
	}
	pol := m.policyFor(req.Path)
	if check {
		if err := m.authorize(ctx, auth.ActionRead, req, pol); err != nil {
			return nil, err
		}
	}
	if s := m.Get(req.Path); s != nil {
		return s, nil
	}
	if pol.Source != "" && pol.SourceOnDemand && m.pull != nil {
		m.startSource(req.Path, pol) //nolint:contextcheck // a source outlives the request that started it
		return m.waitStream(ctx, req.Path, onDemandWait)
	}
	if m.demand != nil && m.demand(req.Path) {
		return m.waitStream(ctx, req.Path, onDemandWait)
	}
	return nil, fmt.Errorf("read %s: %w", req.Path, stream.ErrNotFound)
}

// onDemandWait bounds how long a reader waits for an on-demand source to
// publish.
const onDemandWait = 15 * time.Second

// waitStream waits until path has a stream, ctx ends or timeout passes.
func (m *Manager) waitStream(ctx context.Context, path string, timeout time.Duration) (*stream.Stream, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		m.mu.Lock()
		e, ok := m.streams[path]
		ch := m.published
		m.mu.Unlock()
		if ok {
			return e.s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("read %s: %w", path, ctx.Err())
		case <-t.C:
			return nil, fmt.Errorf("read %s: source did not publish within %s: %w", path, timeout, stream.ErrNotFound)
		case <-m.ctx.Done():
			return nil, fmt.Errorf("read %s: server shutting down", path)
		}
	}
}

// Get returns the live stream of path, or nil.
func (m *Manager) Get(path string) *stream.Stream {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.streams[path]; ok {
		return e.s
	}
	return nil
}

// Publisher returns the request of path's current publisher.
func (m *Manager) Publisher(path string) (stream.Request, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.streams[path]
	if !ok {
		return stream.Request{}, false
	}
	return e.pub, true
}

// Streams returns the live streams sorted by path.
func (m *Manager) Streams() []*stream.Stream {
	m.mu.Lock()
	out := make([]*stream.Stream, 0, len(m.streams))
	for _, e := range m.streams {
		out = append(out, e.s)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Path() < out[j].Path() })
	return out
}

// Kick ends path's stream as if its publisher had left; the publisher's
// adapter sees Stream.Done and hangs up. It reports whether there was one.
func (m *Manager) Kick(path string) bool {
	s := m.Get(path)
	if s == nil {
		return false
	}
	s.CloseWithError(stream.ErrKicked)
	return true
}

// Totals returns a copy of the counters of ended streams.
func (m *Manager) Totals() (bytesIn, bytesOut map[string]uint64, overruns uint64) {
	m.totals.mu.Lock()
	defer m.totals.mu.Unlock()
	bytesIn = make(map[string]uint64, len(m.totals.BytesIn))
	for k, v := range m.totals.BytesIn {
		bytesIn[k] = v
	}
	bytesOut = make(map[string]uint64, len(m.totals.BytesOut))
	for k, v := range m.totals.BytesOut {
		bytesOut[k] = v
	}
	return bytesIn, bytesOut, m.totals.Overruns
}

// Close ends every stream and waits for their bookkeeping to finish.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	all := make([]*stream.Stream, 0, len(m.streams))
	for _, e := range m.streams {
		all = append(all, e.s)
	}
	m.mu.Unlock()
	m.cancel() // stops the sources
	for _, s := range all {
		s.CloseWithError(stream.ErrKicked)
	}
	m.wg.Wait()
}

func trackNames(ts []*stream.Track) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}
