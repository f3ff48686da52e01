package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/storage"
	"mps/internal/vod"
)

// Service is one node of the task system: it accepts tasks (API, watch
// folders, recordings), runs up to Concurrency of them, and reports events.
type Service struct {
	cfg   Config
	bus   *events.Bus
	log   *slog.Logger
	node  string
	roots []string // allowed input roots, resolved
	env   *vod.Env

	schemes map[string]*config.Scheme
	buckets map[string]*storage.Watcher // bucket triggers by scheme

	nsMu      sync.Mutex
	ns        *server.Server // the embedded server, restarted by storeLoop
	natsPort  int            // the embedded server's port, kept across restarts
	natsToken string         // what this node's own connection presents (natsdoor.go)
	nc        *nats.Conn
	js        jetstream.JetStream
	kv        jetstream.KeyValue
	consumers []jetstream.Consumer
	subs      []*nats.Subscription

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}
	client *http.Client

	lastID    atomic.Int64
	index     *taskIndex
	stopIndex context.CancelFunc // stops the index watch

	storeCheck chan struct{} // wakes the store monitor
	healthMu   sync.Mutex
	health     Health

	hookMu     sync.Mutex
	hookQueues map[string]*hookQueue

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	started bool

	// runHook, if set (tests), is called when a task starts running.
	runHook func(id string)
}

// New checks cfg and prepares a service; nothing runs until Start.
func New(cfg Config, bus *events.Bus, log *slog.Logger) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if bus == nil {
		bus = events.NewBus()
	}
	node := cfg.NodeID
	if node == "" {
		h, _ := os.Hostname()
		node = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	s := &Service{
		cfg: cfg, bus: bus, log: log.With("node", node), node: node,
		schemes:    map[string]*config.Scheme{},
		buckets:    map[string]*storage.Watcher{},
		wake:       make(chan struct{}, 1),
		hookQueues: map[string]*hookQueue{},
		storeCheck: make(chan struct{}, 1),
		health:     Health{Status: "ok", Since: time.Now().UTC()},
		client:     cfg.HTTPClient,
		running:    map[string]context.CancelCauseFunc{},
		natsToken:  newLocalToken(),
	}
	if s.client == nil {
		// Requests carry their own time-outs (webhook posts, downloads).
		s.client = &http.Client{}
	}
	if s.client == nil {
		s.client = &http.Client{} // requests carry their own deadlines
	}
	for i := range cfg.Schemes {
		s.schemes[cfg.Schemes[i].Name] = &cfg.Schemes[i]
	}
	for _, d := range []string{filepath.Join(cfg.DataDir, "uploads"), filepath.Join(cfg.DataDir, "downloads"), cfg.Tasks.OutputDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("tasks: %w", err)
		}
	}
	roots := append([]string{cfg.DataDir}, cfg.Tasks.InputRoots...)
	if cfg.RecordingsDir != "" {
		roots = append(roots, cfg.RecordingsDir)
	}
	for _, sc := range cfg.Schemes {
		if w := sc.Trigger.Watch; w != nil {
			if err := os.MkdirAll(w.Dir, 0o755); err != nil {
				return nil, fmt.Errorf("tasks: scheme %s watch dir: %w", sc.Name, err)
			}
			roots = append(roots, w.Dir)
		}
	}
	for _, r := range roots {
		if real, err := realPath(r); err == nil {
			s.roots = append(s.roots, real)
		}
	}
	s.env = &vod.Env{Watermark: cfg.Watermarks, Enhancement: s.enhancement, Extensions: cfg.Extensions}
	return s, nil
}

// enhancement resolves an "enhance" template by name.
func (s *Service) enhancement(name string) (vod.EnhanceSpec, error) {
	op, ok := s.cfg.Templates[name]
	if !ok || op.Type != vod.TypeEnhance || op.Enhance == nil {
		return vod.EnhanceSpec{}, fmt.Errorf("no enhance template %q", name)
	}
	return *op.Enhance, nil
}

// Start connects to (or embeds) NATS, then starts the workers, watch
// folders and event forwarding. The API handler works once Start returns.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return fmt.Errorf("tasks: already started")
	}
	s.started = true
	s.mu.Unlock()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.connect(cctx); err != nil {
		s.Close()
		return fmt.Errorf("tasks: %w", err)
	}
	wake, err := s.nc.Subscribe(subjectPrefix+"*", func(*nats.Msg) { s.poke() })
	if err != nil {
		s.Close()
		return fmt.Errorf("tasks: subscribe: %w", err)
	}
	cancelSub, err := s.nc.Subscribe(cancelPrefix+"*", func(m *nats.Msg) {
		s.stopRunning(m.Subject[len(cancelPrefix):])
	})
	if err != nil {
		s.Close()
		return fmt.Errorf("tasks: subscribe: %w", err)
	}
	s.subs = append(s.subs, wake, cancelSub)
	if err := s.startIndex(); err != nil { //nolint:contextcheck // service loops run on the service's own context
		s.Close()
		return fmt.Errorf("tasks: %w", err)
	}
	s.wg.Add(1)
	go s.janitorLoop()
	s.wg.Add(1)
	go s.storeLoop() //nolint:contextcheck // service loops run on the service's own context
	busSub := s.bus.Subscribe(256)
	s.wg.Add(1)
	go s.busLoop(busSub)
	for _, sc := range s.cfg.Schemes {
		if sc.Trigger.Watch != nil {
			if err := s.startWatch(sc); err != nil {
				s.Close()
				return fmt.Errorf("tasks: scheme %s: %w", sc.Name, err)
			}
		}
		if sc.Trigger.Bucket != nil {
			if err := s.startBucket(sc); err != nil {
				s.Close()
				return fmt.Errorf("tasks: scheme %s: %w", sc.Name, err)
			}
		}
	}
	s.wg.Add(1)
	go s.workLoop() //nolint:contextcheck // service loops run on the service's own context
	s.log.Info("task service started", "concurrency", s.cfg.Tasks.Concurrency, "nats", s.natsDesc())
	return nil
}

func (s *Service) natsDesc() string {
	if s.cfg.NATS.URL != "" {
		return s.cfg.NATS.URL
	}
	if u := s.NATSURL(); u != "" {
		return "embedded " + u
	}
	return "embedded"
}

// Close stops accepting work, cancels running tasks (they are redelivered
// to a node later, as after a crash), and waits for every goroutine.
func (s *Service) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Lock()
	for _, c := range s.running {
		c(errShutdown)
	}
	s.mu.Unlock()
	s.wg.Wait()
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	if s.nc != nil {
		s.nc.Close()
	}
	if ns := s.embeddedServer(); ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

// poke wakes the work loop without blocking.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// stopRunning cancels a task running on this node.
func (s *Service) stopRunning(id string) {
	s.mu.Lock()
	c := s.running[id]
	s.mu.Unlock()
	if c != nil {
		c(errCanceled)
	}
}
