package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// NewObject is an object that appeared in a watched target.
type NewObject struct {
	Target string
	Object
}

// ID names this version of the object, for de-duplication downstream (a
// task's session id): the same key re-uploaded with other content is new.
func (o NewObject) ID() string { return "bucket:" + o.Target + ":" + o.Key + ":" + o.ETag }

// Watcher reports each new object under a prefix of a target exactly once,
// across restarts: the (key, etag) pairs it has reported are kept in a
// state file and reloaded at start. Objects come from polling (a full
// listing of the prefix each interval, for stores that cannot notify) and
// from notifications handed to Notify (MinIO and SeaweedFS bucket events
// through a webhook or NATS); both paths share the seen set, so an object
// both announced and listed fires once.
type Watcher struct {
	target   Target
	prefix   string
	glob     string
	interval time.Duration
	state    string
	fire     func(NewObject) error
	log      *slog.Logger

	mu   sync.Mutex
	seen map[string]string // key → etag reported
}

// WatchConfig says what a Watcher watches and where it keeps its state.
type WatchConfig struct {
	Prefix string
	// Glob is a path.Match pattern on the object's base name; empty
	// matches all.
	Glob string
	// Interval between listings (default 10 s); a negative one lists
	// once at start and then relies on notifications.
	Interval time.Duration
	// StateFile keeps what was reported; its folder is created.
	StateFile string
}

// NewWatcher loads the state file and returns a watcher that calls fire
// for each new object; fire runs on the watcher's goroutine or on the
// Notify caller's, one object at a time, and must be idempotent on
// NewObject.ID.
func NewWatcher(t Target, cfg WatchConfig, fire func(NewObject) error, log *slog.Logger) (*Watcher, error) {
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Second
	}
	w := &Watcher{target: t, prefix: cfg.Prefix, glob: cfg.Glob, interval: cfg.Interval, state: cfg.StateFile,
		fire: fire, log: log, seen: map[string]string{}}
	if err := w.load(); err != nil {
		return nil, err
	}
	return w, nil
}

// load reads the state file: one JSON {"key","etag"} a line.
func (w *Watcher) load() error {
	f, err := os.Open(w.state)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(filepath.Dir(w.state), 0o755)
	}
	if err != nil {
		return fmt.Errorf("bucket watch state: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct{ Key, ETag string }
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Key != "" {
			w.seen[e.Key] = e.ETag
		}
	}
	return sc.Err()
}

// Run polls until ctx ends. The first listing runs at once, so objects
// that arrived while the server was down fire after a restart.
// With a negative interval it lists until one listing succeeds, then
// waits for notifications only.
func (w *Watcher) Run(ctx context.Context) {
	every := w.interval
	if every < 0 {
		every = 10 * time.Second // retry pace of the start listing
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := w.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("bucket listing failed; retrying", "target", w.target.Name(), "prefix", w.prefix, "error", err)
		}
		if err == nil && w.interval < 0 {
			<-ctx.Done()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll lists the prefix once and fires every object not seen before.
func (w *Watcher) Poll(ctx context.Context) error {
	after := ""
	for {
		page, err := w.target.List(ctx, w.prefix, after, 1000)
		if err != nil {
			return err
		}
		for _, o := range page {
			if err := w.offer(o); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// Notify handles an object announced by the store. Stat confirms it (and
// gives the etag the listing would give), so a forged or stale
// announcement of a missing object fires nothing.
func (w *Watcher) Notify(ctx context.Context, key string) error {
	if !strings.HasPrefix(key, w.prefix) {
		return nil
	}
	o, err := w.target.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return w.offer(o)
}

// offer fires o if it matches and this version was never reported, then
// records it. Fire comes first: a crash between the two fires it again
// after the restart, which the receiver absorbs by de-duplicating on
// NewObject.ID (the task service's session id), so an object is neither
// missed nor run twice. A failed fire is not recorded and is retried at
// the next poll.
func (w *Watcher) offer(o Object) error {
	if w.glob != "" {
		if ok, _ := path.Match(w.glob, path.Base(o.Key)); !ok {
			return nil
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if etag, ok := w.seen[o.Key]; ok && etag == o.ETag {
		return nil
	}
	if err := w.fire(NewObject{Target: w.target.Name(), Object: o}); err != nil {
		return fmt.Errorf("bucket object %s: %w", o.Key, err)
	}
	w.seen[o.Key] = o.ETag
	return w.record(o)
}

// record appends one reported object to the state file and syncs it.
func (w *Watcher) record(o Object) error {
	f, err := os.OpenFile(w.state, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("bucket watch state: %w", err)
	}
	line, _ := json.Marshal(struct {
		Key  string `json:"key"`
		ETag string `json:"etag"`
	}{o.Key, o.ETag})
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bucket watch state: %w", err)
	}
	return nil
}

// EventKeys reads the object keys of created objects out of an S3 bucket
// notification as MinIO and SeaweedFS send it to webhooks and NATS (the
// AWS event format: Records[].s3.object.key, URL-encoded, with
// eventName s3:ObjectCreated:*). Other events are left out.
func EventKeys(body []byte) ([]string, error) {
	var ev struct {
		Records []struct {
			EventName string `json:"eventName"`
			S3        struct {
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("bucket event: %w", err)
	}
	var keys []string
	for _, r := range ev.Records {
		if !strings.HasPrefix(r.EventName, "s3:ObjectCreated:") && !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		k, err := unescapeKey(r.S3.Object.Key)
		if err != nil || k == "" {
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// unescapeKey decodes an event's key, which S3 sends URL-encoded with '+'
// for spaces.
func unescapeKey(k string) (string, error) {
	return url.QueryUnescape(k)
}
