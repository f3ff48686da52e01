package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the Watcher waits after the last file event
// before reloading: editors write a file in several steps (truncate, write,
// rename), and reading in the middle would see a half-written file.
const DefaultDebounce = 150 * time.Millisecond

// Watcher reloads a config file when it changes on disk (Run) or when asked
// (Reload, e.g. on SIGHUP), and hands each new valid config to onChange. A
// broken edit is logged with its file:line:key error and otherwise ignored:
// the previous config stays in force, so a typo never takes a server down.
type Watcher struct {
	file     string
	logger   *slog.Logger
	onChange func(*Config)
	debounce time.Duration

	// mu serializes reloads, so onChange calls never overlap and arrive in
	// order.
	mu      sync.Mutex
	current *Config
}

// NewWatcher returns a Watcher for file. It loads file once now as the
// baseline, so that a later event which changes nothing does not call
// onChange. onChange runs on the reloading goroutine, one call at a time;
// it must not call Reload. A nil logger discards log output. With file ""
// (built-in defaults) there is nothing to watch and Run only waits.
func NewWatcher(file string, logger *slog.Logger, onChange func(*Config)) *Watcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{file: file, logger: logger, onChange: onChange, debounce: DefaultDebounce}
	if file != "" {
		if cfg, err := Load(file); err == nil {
			w.current = cfg
		}
	}
	return w
}

// Current returns the last config the Watcher accepted (nil if none yet).
func (w *Watcher) Current() *Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current
}

// Reload reads the file now. It returns (and logs) the error of a rejected
// file; on success onChange has been called if the config changed.
func (w *Watcher) Reload() error {
	return w.reload("reload requested")
}

func (w *Watcher) reload(reason string) error {
	if w.file == "" {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	cfg, err := Load(w.file)
	if err == nil && w.current != nil {
		err = w.checkReload(cfg)
	}
	if err != nil {
		w.logger.Error("config rejected, keeping the previous config", "file", w.file, "reason", reason, "error", err.Error())
		return err
	}
	if w.current != nil && w.current.Equal(cfg) {
		w.logger.Debug("config unchanged", "file", w.file, "reason", reason)
		return nil
	}
	w.current = cfg
	w.logger.Info("config reloaded", "file", w.file, "reason", reason)
	if w.onChange != nil {
		w.onChange(cfg)
	}
	return nil
}

// Run watches the file until ctx is done. It watches the file's directory
// rather than the file, because editors and Kubernetes ConfigMaps replace
// files by rename, which ends a watch on the file itself. It returns an
// error only if the watch cannot be set up.
func (w *Watcher) Run(ctx context.Context) error {
	if w.file == "" {
		<-ctx.Done()
		return nil
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("config watcher: %w", err)
	}
	defer fw.Close()

	abs, err := filepath.Abs(w.file)
	if err != nil {
		return fmt.Errorf("config watcher: %w", err)
	}
	targets := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		targets = append(targets, real) // a symlinked file: watch the target too
	}
	var names, dirs []string
	for _, t := range targets {
		names = append(names, filepath.Base(t))
		if d := filepath.Dir(t); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
			if err := fw.Add(d); err != nil {
				return fmt.Errorf("config watcher: watch %s: %w", d, err)
			}
		}
	}
	relevant := func(ev fsnotify.Event) bool {
		if ev.Op == fsnotify.Chmod {
			return false
		}
		base := filepath.Base(ev.Name)
		// ".." entries are how Kubernetes swaps a mounted ConfigMap.
		return slices.Contains(names, base) || strings.HasPrefix(base, "..")
	}

	timer := time.NewTimer(w.debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if relevant(ev) {
				timer.Reset(w.debounce)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.logger.Warn("config watcher error", "file", w.file, "error", err.Error())
		case <-timer.C:
			_ = w.reload("file changed") // logged by reload
		}
	}
}

// checkReload refuses an emptied file and a reload that would drop every
// path rule or credential (CheckReload). An empty file cannot carry
// reload_allow_empty, so it always needs a restart.
func (w *Watcher) checkReload(cfg *Config) error {
	b, err := os.ReadFile(w.file)
	if err == nil && emptyYAML(b) {
		return fmt.Errorf("%s: the file is empty: refused (it would reset every setting to its default); restart the server to run on defaults", w.file)
	}
	if err := CheckReload(w.current, cfg); err != nil {
		return fmt.Errorf("%s: %w", w.file, err)
	}
	return nil
}
