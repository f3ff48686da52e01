package tasks

import (
	"fmt"
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"time"

	"mps/internal/vod"
	"mps/internal/watermark"
)

// Config is the task service's configuration; the server maps its YAML to
// it. Zero values take the defaults noted on each field.
type Config struct {
	// DataDir holds uploads, downloads, outputs and the embedded NATS store.
	DataDir string
	// NodeID names this node in task records (default: host name + pid).
	NodeID string
	NATS   NATSConfig
	// Concurrency is how many tasks this node runs at once (default 1).
	Concurrency int
	// UploadLimit caps one upload in bytes (default 4 GiB).
	UploadLimit int64
	// DownloadLimit caps a URL input in bytes (default UploadLimit);
	// DownloadTimeout bounds its transfer (default 10 min).
	DownloadLimit   int64
	DownloadTimeout time.Duration
	// InputRoots are directories (besides DataDir and watch folders) that
	// local input paths may come from.
	InputRoots []string
	// RecordingsDir resolves the relative "file" of recording events.
	RecordingsDir string
	// Templates are named operations; tasks and schemes refer to them by
	// name, and "enhance" templates double as enhancement names.
	Templates map[string]vod.Operation
	Schemes   []Scheme
	Webhooks  []Webhook
	// Watermarks looks up watermark templates by name.
	Watermarks func(name string) (watermark.Template, error)
	// AckWait is how long a task may go without a heartbeat before another
	// node takes it over (default 30 s; heartbeats every AckWait/3).
	AckWait time.Duration
	// MaxAttempts bounds how often a task is started (default 3): a task
	// that keeps killing its node is failed instead of looping.
	MaxAttempts int
	// WatchSettle is how long a watched file must keep its size before it
	// counts as arrived (default 1 s).
	WatchSettle time.Duration
	// HTTPClient fetches URL inputs and posts webhooks; the server passes
	// one that refuses private destinations (internal/ssrf). Nil uses a
	// plain client.
	HTTPClient *http.Client
	// WebhookAttempts bounds deliveries per event (default 6, with
	// exponential backoff from 500 ms).
	WebhookAttempts int
}

// NATSConfig chooses the queue: an embedded server (default) or an
// external one by URL.
type NATSConfig struct {
	// URL of an external NATS with JetStream; empty embeds a server.
	URL string
	// Listen makes the embedded server accept other nodes on this address
	// ("127.0.0.1:4222"; port 0 picks one; see [Service.NATSURL]).
	Listen string
	// StoreDir is the embedded JetStream store (default DataDir/nats).
	StoreDir string
}

// Scheme is a named workflow: what fires it, what it runs, where results go
// and who is told.
type Scheme struct {
	Name    string  `json:"name" yaml:"name"`
	Trigger Trigger `json:"trigger" yaml:"trigger"`
	// Operations are inline operations or template references.
	Operations []OpRef `json:"operations" yaml:"operations"`
	Output     Output  `json:"output,omitzero" yaml:"output"`
	Notify     Notify  `json:"notify,omitzero" yaml:"notify"`
	Priority   int     `json:"priority,omitempty" yaml:"priority"`
	// Disabled starts the scheme switched off (the API can enable it).
	Disabled bool `json:"disabled,omitempty" yaml:"disabled"`
}

// Trigger says what fires a scheme. With neither Watch nor Recording set
// the scheme only runs when a task request names it.
type Trigger struct {
	Watch     *WatchTrigger     `json:"watch,omitempty" yaml:"watch"`
	Recording *RecordingTrigger `json:"recording,omitempty" yaml:"recording"`
}

// WatchTrigger fires on each new file in Dir matching Glob (default "*").
type WatchTrigger struct {
	Dir  string `json:"dir" yaml:"dir"`
	Glob string `json:"glob,omitempty" yaml:"glob"`
}

// RecordingTrigger fires on each finished recording segment of a stream
// path matching PathPattern (path.Match syntax, "live/*"; empty = all).
type RecordingTrigger struct {
	PathPattern string `json:"path_pattern,omitempty" yaml:"path_pattern"`
}

// OpRef is an operation in a request or scheme: either a template name or
// an inline operation.
type OpRef struct {
	Template      string `json:"template,omitempty" yaml:"template"`
	vod.Operation `yaml:",inline"`
}

// Output says where a task's results go, always under DataDir/outputs:
// Dir exactly, or Prefix/<task id> (the default prefix is the scheme name,
// or nothing).
type Output struct {
	Dir    string `json:"dir,omitempty" yaml:"dir"`
	Prefix string `json:"prefix,omitempty" yaml:"prefix"`
}

// Notify modes.
const (
	// NotifyFinish sends only the end of a task (default).
	NotifyFinish = "finish"
	// NotifyChange sends every state change.
	NotifyChange = "change"
	// NotifyNone sends no task webhooks.
	NotifyNone = "none"
)

// Notify is how a task reports by webhook: the mode applies to the
// configured webhooks and to URL, a task-specific endpoint signed with
// Secret.
type Notify struct {
	Mode   string `json:"mode,omitempty" yaml:"mode"`
	URL    string `json:"url,omitempty" yaml:"url"`
	Secret string `json:"secret,omitempty" yaml:"secret"`
}

// Webhook is an endpoint for events, signed with Secret. Events filters by
// type ("task.completed", "task.*"); empty means all.
type Webhook struct {
	URL    string   `json:"url" yaml:"url"`
	Secret string   `json:"secret,omitempty" yaml:"secret"`
	Events []string `json:"events,omitempty" yaml:"events"`
}

var schemeNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// withDefaults fills defaults and checks what can be checked up front.
func (c Config) withDefaults() (Config, error) {
	if c.DataDir == "" {
		return c, fmt.Errorf("tasks: DataDir is required")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, fmt.Errorf("tasks: data dir: %w", err)
	}
	c.DataDir = abs
	if c.Concurrency <= 0 {
		c.Concurrency = 1
	}
	if c.UploadLimit <= 0 {
		c.UploadLimit = 4 << 30
	}
	if c.DownloadLimit <= 0 {
		c.DownloadLimit = c.UploadLimit
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
		c.WatchSettle = time.Second
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 6
	}
	if c.NATS.StoreDir == "" {
		c.NATS.StoreDir = filepath.Join(c.DataDir, "nats")
	}
	for name, op := range c.Templates {
		if !schemeNameRe.MatchString(name) {
			return c, fmt.Errorf("tasks: template name %q: letters, digits, - and _ only", name)
		}
		if err := op.Validate(); err != nil {
			return c, fmt.Errorf("tasks: template %q: %w", name, err)
		}
	}
	seen := map[string]bool{}
	for _, s := range c.Schemes {
		if !schemeNameRe.MatchString(s.Name) {
			return c, fmt.Errorf("tasks: scheme name %q: letters, digits, - and _ only", s.Name)
		}
		if seen[s.Name] {
			return c, fmt.Errorf("tasks: scheme %q defined twice", s.Name)
		}
		seen[s.Name] = true
		if len(s.Operations) == 0 {
			return c, fmt.Errorf("tasks: scheme %q has no operations", s.Name)
		}
		if w := s.Trigger.Watch; w != nil {
			if w.Dir == "" {
				return c, fmt.Errorf("tasks: scheme %q: watch without dir", s.Name)
			}
			if _, err := filepath.Match(w.Glob, "x"); err != nil {
				return c, fmt.Errorf("tasks: scheme %q: glob: %w", s.Name, err)
			}
		}
		if r := s.Trigger.Recording; r != nil {
			if _, err := path.Match(r.PathPattern, "x"); err != nil {
				return c, fmt.Errorf("tasks: scheme %q: path pattern: %w", s.Name, err)
			}
		}
		if err := validNotify(s.Notify); err != nil {
			return c, fmt.Errorf("tasks: scheme %q: %w", s.Name, err)
		}
	}
	return c, nil
}

func validNotify(n Notify) error {
	switch n.Mode {
	case "", NotifyFinish, NotifyChange, NotifyNone:
	default:
		return fmt.Errorf("notify mode %q (want finish, change or none)", n.Mode)
	}
	return nil
}
