package transcode

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
	"mps/internal/watermark"
)

// Event types published on the bus.
const (
	EventStarted         = "transcode.started"
	EventStopped         = "transcode.stopped"
	EventFailed          = "transcode.failed"
	EventRefused         = "transcode.refused"
	EventSnapshotCreated = "snapshot.created"
)

// Config is the transcoder's configuration, mapped from the server's YAML
// by the caller. Lookups are functions so a config reload applies to the
// next stream without restarting running ones.
type Config struct {
	// FFmpeg is the ffmpeg binary (default "ffmpeg" from PATH).
	FFmpeg string
	// MaxTranscoders caps concurrent ladders; 0 means no cap. Extra
	// ladders are refused with a log line and a transcode.refused event.
	MaxTranscoders int
	// Ladder returns the ladder of a source path, if it has one.
	Ladder func(path string) (Ladder, bool)
	// Watermarks resolves the watermark names of ladders and rungs.
	Watermarks func(name string) (watermark.Template, bool)
	// Faces makes the face tracker of a ladder with ROI rungs (one per
	// ladder run). Without it such rungs are encoded without regions, and
	// the ladder says so.
	Faces func() (FaceTracker, error)
	// RestartBackoff is the first delay before restarting a crashed
	// ffmpeg (default 1 s); it doubles up to MaxBackoff and resets after
	// a run that lasted longer than MaxBackoff.
	RestartBackoff time.Duration
	// MaxBackoff caps the restart delay (default 30 s).
	MaxBackoff time.Duration

	// Snapshot returns the snapshot rule of a path, if it has one.
	Snapshot func(path string) (SnapshotRule, bool)
	// Dir is the data directory; snapshots go to Dir/snapshots/PATH/.
	Dir string

	// OpusBitrate and AACBitrate are the audio transcoders' bitrates in
	// bits/s (defaults 64000 and 128000).
	OpusBitrate, AACBitrate int

	// Events receives transcode.* and snapshot.created events (optional).
	Events *events.Bus
}

// Manager starts, restarts and stops the ffmpeg processes of live paths:
// ladders, snapshotters and audio transcoders. It is safe for concurrent
// use.
type Manager struct {
	cfg Config
	hub stream.Hub
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	ladders map[string]*ladderRun
	pending map[string]pendingLadder // on-demand ladders waiting for a reader
	outputs map[string]int           // rung paths we publish: never a ladder source
	snaps   map[string]*snapshotter
	audio   map[audioKey]*audioFeed

	refused, restarts, failures, snapshots atomic.Uint64
}

// New returns a manager; nothing runs until StreamStarted or Opus/AAC.
func New(cfg Config, hub stream.Hub, log *slog.Logger) *Manager {
	if cfg.FFmpeg == "" {
		cfg.FFmpeg = "ffmpeg"
	}
	if cfg.RestartBackoff <= 0 {
		cfg.RestartBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.OpusBitrate <= 0 {
		cfg.OpusBitrate = 64000
	}
	if cfg.AACBitrate <= 0 {
		cfg.AACBitrate = 128000
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{
		cfg: cfg, hub: hub, log: log,
		ladders: make(map[string]*ladderRun),
		pending: make(map[string]pendingLadder),
		outputs: make(map[string]int),
		snaps:   make(map[string]*snapshotter),
		audio:   make(map[audioKey]*audioFeed),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// StreamStarted starts what the configuration asks for on a newly
// published stream: its ladder and its snapshotter. It never blocks, so
// it can be a path manager OnPublish hook. Streams the manager publishes
// itself (rungs) are ignored, so a ladder never feeds on its own output.
func (m *Manager) StreamStarted(s *stream.Stream) {
	path := s.Path()
	m.mu.Lock()
	own := m.outputs[path] > 0 || m.closed
	m.mu.Unlock()
	if own {
		return
	}
	if m.cfg.Snapshot != nil {
		if rule, ok := m.cfg.Snapshot(path); ok {
			m.startSnapshotter(s, rule)
		}
	}
	if m.cfg.Ladder != nil {
		if l, ok := m.cfg.Ladder(path); ok {
			if l.OnDemand {
				m.mu.Lock()
				m.pending[path] = pendingLadder{s: s, l: l}
				m.mu.Unlock()
				return
			}
			m.startLadder(s, l)
		}
	}
}

// pendingLadder is an on-demand ladder's source, kept until a reader of a
// rung asks for it.
type pendingLadder struct {
	s *stream.Stream
	l Ladder
}

// Demand starts the on-demand ladder that publishes path (a rung path
// SOURCE/RUNG) if its source is live, and reports whether path will be
// published, so the hub can make the reader wait for it.
func (m *Manager) Demand(path string) bool {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return false
	}
	src, rung := path[:i], path[i+1:]
	m.mu.Lock()
	p, ok := m.pending[src]
	if ok && (isDone(p.s.Done()) || m.closed) {
		delete(m.pending, src)
		ok = false
	}
	running := ok && m.ladders[src] != nil && m.ladders[src].s == p.s
	m.mu.Unlock()
	if !ok || !slices.ContainsFunc(p.l.Rungs, func(g Rung) bool { return g.Name == rung }) {
		return false
	}
	if !running {
		m.startLadder(p.s, p.l)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ladders[src] != nil && m.ladders[src].s == p.s
}

// Status describes one running ladder for the API.
type Status struct {
	Path   string `json:"path"`
	Ladder string `json:"ladder"`
	// State is starting, running, restarting or stopping.
	State string `json:"state"`
	// Speed is ffmpeg's speed in × realtime: below 1 the ladder cannot
	// keep up and its rungs stall.
	Speed     float64   `json:"speed"`
	FPS       float64   `json:"fps"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
	Started   time.Time `json:"started"`
	// PID is the current ffmpeg process (0 between restarts).
	PID int `json:"pid,omitempty"`
	// Rungs are the paths the ladder publishes.
	Rungs []string `json:"rungs"`
	// ROI reports the face search of a ladder with ROI rungs.
	ROI *ROIStatus `json:"roi,omitempty"`
}

// ROIStatus counts the frames searched for faces and the current box.
type ROIStatus struct {
	// Samples frames were searched; faces were found in SamplesWithFaces.
	Samples          int `json:"samples"`
	SamplesWithFaces int `json:"samples_with_faces"`
	// Box is the favoured region in the source's sampled frame (x, y,
	// width, height), empty when no face is seen.
	Box [4]int `json:"box"`
	// Error is why the search is not running, if it is not.
	Error string `json:"error,omitempty"`
}

// List returns the running ladders, by path.
func (m *Manager) List() []Status {
	m.mu.Lock()
	runs := make([]*ladderRun, 0, len(m.ladders))
	for _, r := range m.ladders {
		runs = append(runs, r)
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Stats are cumulative counters and gauges for Prometheus.
type Stats struct {
	// Ladders is the number of running ladders; Snapshotters and
	// AudioFeeds likewise.
	Ladders, Snapshotters, AudioFeeds int
	// Refused counts ladders refused by MaxTranscoders, Restarts ffmpeg
	// restarts after a crash, Failures ladders that could not start.
	Refused, Restarts, Failures uint64
	// Snapshots counts JPEG files written.
	Snapshots uint64
}

// Stats returns the manager's counters.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{
		Ladders: len(m.ladders), Snapshotters: len(m.snaps), AudioFeeds: len(m.audio),
		Refused: m.refused.Load(), Restarts: m.restarts.Load(), Failures: m.failures.Load(),
		Snapshots: m.snapshots.Load(),
	}
}

// Close stops every ffmpeg the manager started and waits for them.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

func (m *Manager) emit(typ, path string, data map[string]any) {
	if m.cfg.Events != nil {
		m.cfg.Events.Publish(events.Event{Type: typ, Path: path, Data: data})
	}
}

// sleep waits d, reporting false if ctx or done ended first.
func sleep(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-done:
	}
	return false
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
