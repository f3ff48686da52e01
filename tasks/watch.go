package tasks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"mps/internal/config"
	"mps/internal/events"
)

// startWatch watches a scheme's folder. A file counts as arrived when its
// size and modification time stop changing for WatchSettle; it then fires
// the scheme once. Files already there at start are considered too: the
// session id (scheme, path, size, mtime) makes a file that was already
// processed — by this node or another watching the same folder — a no-op.
func (s *Service) startWatch(sc config.Scheme) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	dir := sc.Trigger.Watch.Dir
	if err := w.Add(dir); err != nil {
		w.Close()
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	fw := &folderWatch{s: s, sc: sc, pending: map[string]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer w.Close()
		if entries, err := os.ReadDir(dir); err == nil {
			for _, e := range entries {
				fw.consider(filepath.Join(dir, e.Name()))
			}
		}
		for {
			select {
			case <-s.ctx.Done():
				fw.wg.Wait()
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write) || ev.Has(fsnotify.Rename) {
					fw.consider(ev.Name)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				s.log.Warn("watch folder", "scheme", sc.Name, "err", err)
			}
		}
	}()
	return nil
}

// folderWatch tracks files of one watched folder that are still settling.
type folderWatch struct {
	s  *Service
	sc config.Scheme
	wg sync.WaitGroup

	mu      sync.Mutex
	pending map[string]bool
}

// consider starts settling a file unless it is already being watched.
func (fw *folderWatch) consider(p string) {
	name := filepath.Base(p)
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") {
		return
	}
	glob := fw.sc.Trigger.Watch.Glob
	if glob == "" {
		glob = "*"
	}
	if ok, _ := filepath.Match(glob, name); !ok {
		return
	}
	fw.mu.Lock()
	if fw.pending[p] {
		fw.mu.Unlock()
		return
	}
	fw.pending[p] = true
	fw.mu.Unlock()
	fw.wg.Add(1)
	go func() {
		defer fw.wg.Done()
		defer func() {
			fw.mu.Lock()
			delete(fw.pending, p)
			fw.mu.Unlock()
		}()
		fi, ok := fw.settle(p)
		if !ok {
			return
		}
		fw.fire(p, fi)
	}()
}

// settle polls p until it keeps size and mtime for WatchSettle.
func (fw *folderWatch) settle(p string) (os.FileInfo, bool) {
	s := fw.s
	poll := min(s.cfg.WatchSettle/4, 250*time.Millisecond)
	var last os.FileInfo
	stableSince := time.Now()
	for {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, false
		}
		if last == nil || fi.Size() != last.Size() || !fi.ModTime().Equal(last.ModTime()) {
			last, stableSince = fi, time.Now()
		} else if time.Since(stableSince) >= s.cfg.WatchSettle && fi.Size() > 0 {
			return fi, true
		}
		select {
		case <-s.ctx.Done():
			return nil, false
		case <-time.After(poll):
		}
	}
}

// fire submits the scheme for an arrived file.
func (fw *folderWatch) fire(p string, fi os.FileInfo) {
	s := fw.s
	sc := s.schemes[fw.sc.Name]
	if !s.schemeEnabled(s.ctx, sc) {
		return
	}
	abs, _ := filepath.Abs(p)
	session := fmt.Sprintf("watch:%s:%s:%d:%d", sc.Name, abs, fi.Size(), fi.ModTime().UnixNano())
	t, created, err := s.Submit(s.ctx, Request{Input: abs, Scheme: sc.Name, SessionID: session})
	if err != nil {
		if s.ctx.Err() == nil && !errors.Is(err, ErrSchemeDisabled) {
			s.log.Warn("watch folder submit", "scheme", sc.Name, "file", abs, "err", err)
		}
		return
	}
	if created {
		s.log.Info("watch folder file arrived", "scheme", sc.Name, "file", abs, "task", t.ID)
	}
}

// onRecording fires recording-triggered schemes for a finished segment.
func (s *Service) onRecording(ev events.Event) {
	file := ""
	if p, ok := ev.Data["path"].(string); ok && filepath.IsAbs(p) {
		file = p
	} else if f, ok := ev.Data["file"].(string); ok && s.cfg.RecordingsDir != "" {
		file = filepath.Join(s.cfg.RecordingsDir, filepath.FromSlash(f))
	}
	if file == "" {
		return
	}
	for _, sc := range s.cfg.Schemes {
		r := sc.Trigger.Recording
		if r == nil {
			continue
		}
		if r.Path != "" {
			if ok, _ := path.Match(r.Path, ev.Path); !ok {
				continue
			}
		}
		if !s.schemeEnabled(s.ctx, s.schemes[sc.Name]) {
			continue
		}
		_, _, err := s.Submit(s.ctx, Request{Input: file, Scheme: sc.Name, SessionID: "record:" + sc.Name + ":" + file})
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("recording scheme submit", "scheme", sc.Name, "file", file, "err", err)
		}
	}
}

// SchemeInfo is a scheme and whether it is enabled.
type SchemeInfo struct {
	config.Scheme
	Enabled bool `json:"enabled"`
}

func schemeKey(name string) string { return "scheme." + name }

// schemeEnabled reads the cluster-wide switch (default: the scheme's
// enabled setting).
func (s *Service) schemeEnabled(ctx context.Context, sc *config.Scheme) bool {
	if sc == nil {
		return false
	}
	e, err := s.kv.Get(ctx, schemeKey(sc.Name))
	if err != nil {
		return sc.Enabled
	}
	return string(e.Value()) == "enabled"
}

// SetSchemeEnabled switches a scheme on or off for every node.
func (s *Service) SetSchemeEnabled(ctx context.Context, name string, on bool) error {
	if _, ok := s.schemes[name]; !ok {
		return fmt.Errorf("scheme %q: %w", name, ErrNotFound)
	}
	v := "disabled"
	if on {
		v = "enabled"
	}
	if _, err := s.kv.Put(ctx, schemeKey(name), []byte(v)); err != nil {
		return fmt.Errorf("scheme %s: %w", name, err)
	}
	s.log.Info("scheme switched", "scheme", name, "state", v)
	return nil
}

// Schemes lists the configured schemes in configuration order.
func (s *Service) Schemes(ctx context.Context) []SchemeInfo {
	out := make([]SchemeInfo, 0, len(s.cfg.Schemes))
	for i := range s.cfg.Schemes {
		sc := s.cfg.Schemes[i]
		enabled := s.schemeEnabled(ctx, &sc)
		sc.Notify.Secret = ""
		out = append(out, SchemeInfo{Scheme: sc, Enabled: enabled})
	}
	return out
}
