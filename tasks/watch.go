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

	"mps/internal/config"
	"mps/internal/events"
)

// defaultSettle is how long an arrived file must stay unchanged when the
// trigger does not say.
const defaultSettle = 2 * time.Second

// startWatch watches a scheme's folder. A file arrives when its writer
// closes it (Linux reports the close), when it is renamed into the folder,
// or — for files found at start and where no close events exist — when it
// has not changed for the settle time; it must then stay unchanged for the
// settle time. Temporary names are ignored. Each version of a file (name,
// size, modification time) fires the scheme once: the session id made of
// them turns a repeat, on this node or another watching the same folder,
// into a no-op.
func (s *Service) startWatch(sc config.Scheme) error {
	dir := sc.Trigger.Watch.Dir
	de, err := watchDir(dir)
	if err != nil {
		return err
	}
	settle := sc.Trigger.Watch.Settle.D()
	if settle <= 0 {
		settle = s.cfg.WatchSettle
	}
	fw := &folderWatch{s: s, sc: sc, dir: dir, settle: settle, pending: map[string]*arrival{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { _ = de.Close() }()
		fw.run(de)
	}()
	return nil
}

// folderWatch tracks the files of one watched folder until they arrive.
// Only its run goroutine touches pending.
type folderWatch struct {
	s      *Service
	sc     config.Scheme
	dir    string
	settle time.Duration
	wg     sync.WaitGroup

	pending map[string]*arrival
}

// arrival is a file on its way in.
type arrival struct {
	writing bool      // a writer has it open (a close event will come)
	since   time.Time // last event or change
	size    int64
	mtime   time.Time
}

func (fw *folderWatch) run(de dirEvents) {
	defer fw.wg.Wait()
	fw.rescan()
	tick := time.NewTicker(min(fw.settle/4, 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-fw.s.ctx.Done():
			return
		case ev, ok := <-de.Events():
			if !ok {
				return
			}
			fw.event(ev)
		case err := <-de.Errors():
			fw.s.log.Warn("watch folder", "scheme", fw.sc.Name, "error", err)
		case now := <-tick.C:
			fw.check(now)
		}
	}
}

// rescan considers every file in the folder (at start, after lost events).
func (fw *folderWatch) rescan() {
	entries, err := os.ReadDir(fw.dir)
	if err != nil {
		fw.s.log.Warn("watch folder", "scheme", fw.sc.Name, "error", err)
		return
	}
	for _, e := range entries {
		if fw.pending[e.Name()] == nil { // keep what events already say
			fw.event(fileEvent{Name: e.Name(), Kind: fileTouched})
		}
	}
}

func (fw *folderWatch) event(ev fileEvent) {
	switch {
	case ev.Kind == fileRescan:
		fw.rescan()
		return
	case ev.Kind == fileGone:
		delete(fw.pending, ev.Name)
		return
	case !fw.wanted(ev.Name):
		return
	}
	a := fw.pending[ev.Name]
	if a == nil {
		a = &arrival{size: -1}
		fw.pending[ev.Name] = a
	}
	a.since = time.Now()
	a.writing = ev.Kind == fileWriting
	if fi, err := os.Stat(filepath.Join(fw.dir, ev.Name)); err == nil {
		a.size, a.mtime = fi.Size(), fi.ModTime()
	}
}

// wanted reports whether a name can fire the scheme: not a temporary
// name, and matching the glob.
func (fw *folderWatch) wanted(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") ||
		strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") {
		return false
	}
	glob := fw.sc.Trigger.Watch.Glob
	if glob == "" {
		return true
	}
	ok, _ := filepath.Match(glob, name)
	return ok
}

// check fires the files that have arrived and stayed unchanged.
func (fw *folderWatch) check(now time.Time) {
	for name, a := range fw.pending {
		if a.writing || now.Sub(a.since) < fw.settle {
			continue
		}
		p := filepath.Join(fw.dir, name)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			delete(fw.pending, name)
			continue
		}
		if fi.Size() != a.size || !fi.ModTime().Equal(a.mtime) {
			a.size, a.mtime, a.since = fi.Size(), fi.ModTime(), now
			continue
		}
		delete(fw.pending, name)
		if fi.Size() == 0 {
			continue
		}
		fw.wg.Add(1)
		go func() {
			defer fw.wg.Done()
			fw.fire(p, fi)
		}()
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
			s.log.Warn("watch folder submit", "scheme", sc.Name, "file", abs, "error", err)
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
			s.log.Warn("recording scheme submit", "scheme", sc.Name, "file", file, "error", err)
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
