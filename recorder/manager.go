package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// Manager records the streams its rules (and runtime overrides) select,
// keeps the index of recorded segments, enforces retention and serves the
// recordings API. It is safe for concurrent use.
type Manager struct {
	cfg Config
	tpl *template
	bus *events.Bus
	log *slog.Logger
	ix  *index
	up  *journal // upload queue and where uploaded segments are

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	play   chan struct{} // playback (ffmpeg) slots

	mu        sync.Mutex
	closed    bool
	overrides map[string]bool // path -> forced on/off by the API
	live      map[string]*stream.Stream
	sessions  map[string]*session
	counters  map[string]*counters
}

// counters are a path's cumulative recording figures; they outlive the
// sessions so that metrics never go backwards.
type counters struct {
	bytes     atomic.Uint64
	segments  atomic.Uint64
	errors    atomic.Uint64
	lostUnits atomic.Uint64
	lostBytes atomic.Uint64
	// uploads and uploadErrors count confirmed uploads and failed attempts.
	uploads      atomic.Uint64
	uploadErrors atomic.Uint64
}

// New returns a manager recording under cfg.Dir. It starts rebuilding the
// segment index from the files already there in the background (see
// Indexed) and starts the retention janitor, and returns at once. A
// Dir that cannot be created is not an error here: recordings report it
// when they try to write, and resume when it is fixed.
func New(cfg Config, bus *events.Bus, log *slog.Logger) (*Manager, error) {
	cfg = cfg.withDefaults()
	if cfg.Dir == "" {
		return nil, fmt.Errorf("recorder: no recordings directory")
	}
	tpl, err := newTemplate(cfg.PathTemplate, cfg.Location)
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	if bus == nil {
		bus = events.NewBus()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		cfg: cfg, tpl: tpl, bus: bus, log: log, ix: newIndex(),
		play:      make(chan struct{}, cfg.MaxPlaybacks),
		overrides: map[string]bool{},
		live:      map[string]*stream.Stream{},
		sessions:  map[string]*session{},
		counters:  map[string]*counters{},
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		m.log.Warn("recordings directory not usable yet", "dir", cfg.Dir, "error", err)
	}
	m.up, err = loadJournal(cfg.Dir)
	if err != nil {
		// Set it aside rather than overwrite it: the local files are
		// all there, only the bucket copies are no longer listed.
		aside := m.up.file + ".unreadable-" + time.Now().UTC().Format("20060102T150405")
		m.log.Error("upload journal unreadable; set aside, starting an empty one", "error", err, "moved_to", aside)
		_ = os.Rename(m.up.file, aside)
		m.up.entries = map[string]*upload{}
		if err := m.up.compact(); err != nil {
			m.log.Error("upload journal not writable; uploads are queued in memory only", "error", err)
		}
	}
	m.restoreUploaded()
	m.wg.Add(3)
	go m.uploadLoop()
	go func() {
		defer m.wg.Done()
		start := time.Now()
		m.ix.rebuild(m.ctx, cfg.Dir, tpl, m.log, cfg.afterListing)
		if m.ctx.Err() == nil {
			m.log.Info("recordings index rebuilt", "took", time.Since(start).Round(time.Millisecond))
		}
	}()
	go m.janitor()
	return m, nil
}

// Close stops every recording, finishing the open segments, and waits for
// all the manager's goroutines.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for _, s := range m.sessions {
		s.stop()
	}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	m.up.close()
}

func (m *Manager) countersFor(path string) *counters {
	c, ok := m.counters[path]
	if !ok {
		c = &counters{}
		m.counters[path] = c
	}
	return c
}

// StreamStarted tells the recorder a stream was published; it starts
// recording it if the effective rule says so, and stops when it ends. Call
// it before the publisher writes, so the recording begins at the first
// keyframe.
func (m *Manager) StreamStarted(s *stream.Stream) {
	path := s.Path()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.live[path] = s
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		select {
		case <-s.Done():
		case <-m.ctx.Done():
			return
		}
		m.mu.Lock()
		if m.live[path] == s {
			delete(m.live, path)
		}
		m.mu.Unlock()
	}()
	m.apply(path)
}

// effective returns whether path should be recorded now, and its rule.
func (m *Manager) effective(path string) (bool, Rule) {
	rule := m.cfg.Rule(path)
	m.mu.Lock()
	on, ok := m.overrides[path]
	m.mu.Unlock()
	if !ok {
		on = rule.Enabled
	}
	return on, rule.withDefaults()
}

// apply starts or stops path's recording to match its effective rule.
func (m *Manager) apply(path string) {
	on, rule := m.effective(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	cur := m.sessions[path]
	s := m.live[path]
	if cur != nil && (cur.s != s || !on) {
		cur.stop()
		delete(m.sessions, path)
		cur = nil
	}
	if !on || s == nil || cur != nil {
		return
	}
	select {
	case <-s.Done():
		return
	default:
	}
	sess, err := m.newSession(s, rule)
	if err != nil {
		m.countersFor(path).errors.Add(1)
		m.log.Error("recording not started", "path", path, "error", err)
		m.bus.Publish(events.Event{Type: EventError, Path: path, Data: map[string]any{"error": err.Error()}})
		return
	}
	m.sessions[path] = sess
	m.wg.Add(2)
	go sess.readLoop()
	go sess.writeLoop()
}

// sessionEnded forgets sess once its writer has finished.
func (m *Manager) sessionEnded(sess *session) {
	m.mu.Lock()
	if m.sessions[sess.path] == sess {
		delete(m.sessions, sess.path)
	}
	m.mu.Unlock()
}

// Start forces recording of path on, over its rule, until Stop or
// ClearOverride; it takes effect at once if the path is live. The override
// lives in the manager, so a config reload does not undo it.
func (m *Manager) Start(path string) error { return m.setOverride(path, true) }

// Stop forces recording of path off, over its rule; the open segment is
// finished.
func (m *Manager) Stop(path string) error { return m.setOverride(path, false) }

// ClearOverride returns path to its configured rule.
func (m *Manager) ClearOverride(path string) error {
	if err := stream.ValidPath(path); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.overrides, path)
	m.mu.Unlock()
	m.apply(path)
	return nil
}

func (m *Manager) setOverride(path string, on bool) error {
	if err := stream.ValidPath(path); err != nil {
		return err
	}
	m.mu.Lock()
	m.overrides[path] = on
	m.mu.Unlock()
	m.apply(path)
	return nil
}

// Reload re-evaluates every live path against the (reloaded) rules, so a
// config change starts or stops recordings without waiting for the next
// publish. Overrides still win.
func (m *Manager) Reload() {
	m.mu.Lock()
	paths := make([]string, 0, len(m.live)+len(m.sessions))
	for p := range m.live {
		paths = append(paths, p)
	}
	for p := range m.sessions {
		paths = append(paths, p)
	}
	m.mu.Unlock()
	for _, p := range paths {
		m.apply(p)
	}
}

// Stats is a path's recording state and counters, for the API and metrics.
type Stats struct {
	Path string `json:"path"`
	// Live is true while the path has a stream.
	Live bool `json:"live"`
	// Recording is true while a recording session runs.
	Recording bool `json:"recording"`
	// Override is "start" or "stop" when the API overrides the rule.
	Override string `json:"override,omitempty"`
	// Segment is the file being written, relative to the root.
	Segment string `json:"segment,omitempty"`
	// Failing is true while disk errors keep the recording from writing.
	Failing bool `json:"failing"`
	// BytesWritten and SegmentsCompleted count since the server started.
	BytesWritten      uint64 `json:"bytes_written"`
	SegmentsCompleted uint64 `json:"segments_completed"`
	// Errors counts record.error events.
	Errors uint64 `json:"errors"`
	// LostUnits and LostBytes count what never reached the disk (queue
	// overflow, disk errors, ring overruns).
	LostUnits uint64 `json:"lost_units"`
	LostBytes uint64 `json:"lost_bytes"`
	// QueuedBytes is the payload waiting for the disk now.
	QueuedBytes int64 `json:"queued_bytes"`
	// Segments and Bytes describe what is recorded (on the disk or, once
	// uploaded, in a bucket).
	Segments  int   `json:"segments"`
	DiskBytes int64 `json:"disk_bytes"`
	// SegmentsUploaded and UploadErrors count confirmed uploads to the
	// rule's storage target and failed attempts since the server started;
	// UploadsPending is how many finished segments wait for an upload now,
	// and UploadError the last error of one of them.
	SegmentsUploaded uint64 `json:"segments_uploaded"`
	UploadErrors     uint64 `json:"upload_errors"`
	UploadsPending   int    `json:"uploads_pending"`
	UploadError      string `json:"upload_error,omitempty"`
}

// Stats returns path's recording state and counters.
func (m *Manager) Stats(path string) Stats {
	st := Stats{Path: path}
	m.mu.Lock()
	if o, ok := m.overrides[path]; ok {
		st.Override = map[bool]string{true: "start", false: "stop"}[o]
	}
	_, st.Live = m.live[path]
	sess := m.sessions[path]
	c := m.counters[path]
	m.mu.Unlock()
	if c != nil {
		st.BytesWritten = c.bytes.Load()
		st.SegmentsCompleted = c.segments.Load()
		st.Errors = c.errors.Load()
		st.LostUnits = c.lostUnits.Load()
		st.LostBytes = c.lostBytes.Load()
		st.SegmentsUploaded = c.uploads.Load()
		st.UploadErrors = c.uploadErrors.Load()
	}
	st.UploadsPending, st.UploadError = m.uploadState(path)
	if sess != nil {
		st.Recording = true
		st.QueuedBytes = sess.q.queued()
		st.Segment, st.Failing = sess.state()
	}
	st.Segments, st.DiskBytes = m.ix.totals(path)
	return st
}

// List returns the state of every path that is live, overridden, recording
// or has segments, sorted by path.
func (m *Manager) List() []Stats {
	set := map[string]bool{}
	m.mu.Lock()
	for p := range m.live {
		set[p] = true
	}
	for p := range m.overrides {
		set[p] = true
	}
	for p := range m.sessions {
		set[p] = true
	}
	m.mu.Unlock()
	for _, p := range m.ix.pathNames() {
		set[p] = true
	}
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := make([]Stats, 0, len(paths))
	for _, p := range paths {
		out = append(out, m.Stats(p))
	}
	return out
}

// Indexed reports whether the index rebuilt at start is complete; before,
// Segments and the listings may miss segments or their durations.
func (m *Manager) Indexed() bool { return m.ix.complete() }

// WaitIndexed waits until the index is complete or ctx ends.
func (m *Manager) WaitIndexed(ctx context.Context) error {
	select {
	case <-m.ix.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Segments lists path's segments overlapping [start, end) from the index;
// zero bounds are open. See Indexed.
func (m *Manager) Segments(path string, start, end time.Time) []Segment {
	return m.ix.list(path, start, end)
}
