package tasks

import (
	"fmt"
	"net/http"
	"path"
	"path/filepath"
	"time"

	"mps/internal/config"
	"mps/internal/storage"
	"mps/internal/vod"
	"mps/internal/watermark"
)

// Config is what the task service runs on. The workflow settings are the
// config package's own YAML types (schemes, webhooks, the tasks and nats
// sections), passed as they are: there is one definition of a scheme, and
// what the file says is what runs. The remaining fields are either facts
// of the process (data directory, node id, clients) or tuning knobs that
// tests lower. Zero values take the defaults noted on each field.
type Config struct {
	// DataDir (storage.data_dir) holds uploads and downloads, and resolves
	// relative directories of the sections below.
	DataDir string
	// NodeID names this node in task records (default: host name + pid).
	NodeID string
	// NATS is the nats section; a relative store_dir is under DataDir.
	NATS config.NATS
	// Tasks is the tasks section: concurrency (default 1), upload_limit
	// (default 4 GiB), input_roots and output_dir (relative ones under
	// DataDir; output_dir defaults to "outputs").
	Tasks config.Tasks
	// RecordingsDir resolves the relative "file" of recording events.
	RecordingsDir string
	// Templates are named operations; tasks and schemes refer to them by
	// name, and "enhance" templates double as enhancement names.
	Templates map[string]vod.Operation
	// Schemes are the workflows; a relative watch dir is under DataDir.
	Schemes []config.Scheme
	// Webhooks receive every event their filter takes.
	Webhooks []config.Webhook
	// Watermarks looks up watermark templates by name.
	Watermarks func(name string) (watermark.Template, error)
	// HTTPClient fetches URL inputs and posts webhooks (default: a plain
	// client). The server passes one that refuses private addresses.
	HTTPClient *http.Client
	// NATSAuth, when set, guards the embedded NATS server when it listens
	// (nats.listen): every client but this node's own must pass it.
	NATSAuth NATSAuthorizer
	// Storage holds the storage targets that s3://TARGET/KEY inputs and
	// bucket triggers name (nil: none).
	Storage *storage.Set

	// DownloadLimit caps a URL input in bytes (default upload_limit);
	// DownloadTimeout bounds its transfer (default 10 min).
	DownloadLimit   int64
	DownloadTimeout time.Duration
	// Extensions run the operation types implemented above the foundation
	// (the media-AI operations), keyed by type; see vod.Env.
	Extensions map[string]vod.Extension
	// AckWait is how long a task may go without a heartbeat before another
	// node takes it over (default 30 s; heartbeats every AckWait/3).
	AckWait time.Duration
	// MaxAttempts bounds how often a task is started (default 3): a task
	// that keeps killing its node is failed instead of looping.
	MaxAttempts int
	// WatchSettle is the settle time of watch triggers that set none
	// (default 2 s).
	WatchSettle time.Duration
	// WebhookAttempts bounds deliveries per event (default 6, with
	// exponential backoff from 500 ms).
	WebhookAttempts int
	// LeaseTTL is how long a running task's lease lasts without renewal
	// (default 6 s, renewed every LeaseTTL/3); a task whose lease lapsed
	// shows as ORPHANED.
	LeaseTTL time.Duration
	// HealthEvery is how often the store monitor pings the task store
	// (default 2 s); StoreTimeout bounds one store call of an API request
	// (default 5 s).
	HealthEvery  time.Duration
	StoreTimeout time.Duration
	// JanitorEvery is how often retention is enforced (default 10 min, or
	// a tenth of the shortest keep_for when that is shorter; at least 1 s).
	JanitorEvery time.Duration
}

// dataPath resolves p against DataDir unless it is absolute.
func (c Config) dataPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.DataDir, p)
}

// withDefaults fills defaults, resolves directories and checks what can be
// checked up front (the config package checks a file far more closely;
// these checks keep a Config built in code honest too).
func (c Config) withDefaults() (Config, error) {
	if c.DataDir == "" {
		return c, fmt.Errorf("tasks: DataDir is required")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, fmt.Errorf("tasks: data dir: %w", err)
	}
	c.DataDir = abs
	c.fillDefaults()
	for name, op := range c.Templates {
		if err := config.ValidateName(name); err != nil {
			return c, fmt.Errorf("tasks: template: %w", err)
		}
		if err := op.Validate(); err != nil {
			return c, fmt.Errorf("tasks: template %q: %w", name, err)
		}
	}
	schemes := make([]config.Scheme, len(c.Schemes))
	seen := map[string]bool{}
	for i, s := range c.Schemes {
		if err := checkScheme(s, seen); err != nil {
			return c, fmt.Errorf("tasks: scheme %q: %w", s.Name, err)
		}
		if s.Trigger.Watch != nil {
			w := *s.Trigger.Watch
			w.Dir = c.dataPath(w.Dir)
			s.Trigger.Watch = &w
		}
		schemes[i] = s
	}
	c.Schemes = schemes
	return c, nil
}

func (c *Config) fillDefaults() {
	if c.Tasks.Concurrency <= 0 {
		c.Tasks.Concurrency = 1
	}
	if c.Tasks.UploadLimit <= 0 {
		c.Tasks.UploadLimit = 4 << 30
	}
	if c.Tasks.OutputDir == "" {
		c.Tasks.OutputDir = "outputs"
	}
	c.Tasks.OutputDir = c.dataPath(c.Tasks.OutputDir)
	roots := make([]string, 0, len(c.Tasks.InputRoots))
	for _, r := range c.Tasks.InputRoots {
		roots = append(roots, c.dataPath(r))
	}
	c.Tasks.InputRoots = roots
	if c.DownloadLimit <= 0 {
		c.DownloadLimit = int64(c.Tasks.UploadLimit)
	}
	if c.DownloadTimeout <= 0 {
		c.DownloadTimeout = 10 * time.Minute
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.WatchSettle <= 0 {
		c.WatchSettle = defaultSettle
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 6
	}
	if c.HealthEvery <= 0 {
		c.HealthEvery = 2 * time.Second
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = 5 * time.Second
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 6 * time.Second
	}
	if c.JanitorEvery <= 0 {
		c.JanitorEvery = 10 * time.Minute
		for _, k := range c.keepFors() {
			c.JanitorEvery = min(c.JanitorEvery, max(k/10, time.Second))
		}
	}
	if c.NATS.StoreDir == "" {
		c.NATS.StoreDir = "nats"
	}
	c.NATS.StoreDir = c.dataPath(c.NATS.StoreDir)
}

// keepFors lists the retention periods in use.
func (c *Config) keepFors() []time.Duration {
	var out []time.Duration
	for _, k := range append([]config.Duration{c.Tasks.KeepFor}, schemeKeeps(c.Schemes)...) {
		if k > 0 {
			out = append(out, k.D())
		}
	}
	return out
}

func schemeKeeps(schemes []config.Scheme) []config.Duration {
	out := make([]config.Duration, 0, len(schemes))
	for _, s := range schemes {
		out = append(out, s.KeepFor)
	}
	return out
}

// checkScheme checks the parts of a scheme the service relies on.
func checkScheme(s config.Scheme, seen map[string]bool) error {
	if err := config.ValidateName(s.Name); err != nil {
		return err
	}
	if seen[s.Name] {
		return fmt.Errorf("defined twice")
	}
	seen[s.Name] = true
	if len(s.Operations) == 0 {
		return fmt.Errorf("no operations")
	}
	if w := s.Trigger.Watch; w != nil {
		if w.Dir == "" {
			return fmt.Errorf("watch without dir")
		}
		if _, err := filepath.Match(w.Glob, "x"); err != nil {
			return fmt.Errorf("glob: %w", err)
		}
	}
	if r := s.Trigger.Recording; r != nil {
		if _, err := path.Match(r.Path, "x"); err != nil {
			return fmt.Errorf("path pattern: %w", err)
		}
	}
	return validNotify(s.Notify)
}

func validNotify(n config.SchemeNotify) error {
	switch n.Mode {
	case "", config.NotifyFinish, config.NotifyChange, config.NotifyNone:
	default:
		return fmt.Errorf("notify mode %q (want finish, change or none)", n.Mode)
	}
	return nil
}
