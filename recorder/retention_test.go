package recorder

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// oldSegments writes copies of a real recorded segment under dir as if
// recorded 5, 4, 3, 2 and 1 hours ago, and returns their names oldest first.
func oldSegments(t *testing.T, dir string) (names []string, size int64) {
	t.Helper()
	src := loadSource(t, "h264_aac_1s_gop.mp4", 0)
	_, _, files := recordSource(t, src, Rule{Enabled: true, SegmentDuration: time.Hour}, 0)
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	tpl, _ := newTemplate(DefaultPathTemplate, time.Local)
	now := time.Now()
	for h := 5; h >= 1; h-- {
		rel := tpl.render("live/cam1", now.Add(-time.Duration(h)*time.Hour), FormatFMP4)
		file := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(rel))
	}
	return names, int64(len(data))
}

func indexNames(m *Manager, path string) []string {
	var out []string
	for _, s := range m.Segments(path, time.Time{}, time.Time{}) {
		out = append(out, s.Name)
	}
	return out
}

func TestRetentionDeletesOldestOnly(t *testing.T) {
	t.Run("age", func(t *testing.T) {
		dir := t.TempDir()
		names, _ := oldSegments(t, dir)
		m := newManager(t, Config{Dir: dir, Rule: ruleFunc(Rule{DeleteAfter: 150 * time.Minute})}, nil)
		segs := m.Segments("live/cam1", time.Time{}, time.Time{})
		if len(segs) != 5 || segs[0].Duration < 5*time.Second {
			t.Fatalf("index rebuilt from disk: %d segments, first %s long; want 5 of 6 s", len(segs), segs[0].Duration)
		}
		if n := m.RunRetention(); n != 3 {
			t.Errorf("deleted %d, want the 3 older than 2.5 h", n)
		}
		assertKept(t, m, dir, names, names[3:])
	})
	t.Run("size", func(t *testing.T) {
		dir := t.TempDir()
		names, size := oldSegments(t, dir)
		m := newManager(t, Config{Dir: dir, Rule: ruleFunc(Rule{MaxBytes: size*2 + size/2})}, nil)
		if n := m.RunRetention(); n != 3 {
			t.Errorf("deleted %d, want 3 to fit 2.5 segments' size", n)
		}
		assertKept(t, m, dir, names, names[3:])
	})
	t.Run("never the open segment", func(t *testing.T) {
		src := loadSource(t, "h264_aac_1s_gop.mp4", 0)
		dir := t.TempDir()
		bus := events.NewBus()
		sub := bus.Subscribe(1024)
		defer sub.Close()
		hub := newHub(t, bus)
		var rule atomic.Value
		rule.Store(Rule{Enabled: true, PartDuration: 500 * time.Millisecond})
		m := newManager(t, Config{Dir: dir, Rule: func(string) Rule { return rule.Load().(Rule) }}, bus)
		s, run := publish(t, hub, "live/cam1", src)
		m.StreamStarted(s)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		wrote := make(chan struct{}, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			run(ctx, 2, func(i int, _ *stream.Unit) {
				if i == len(src.units)/2 {
					wrote <- struct{}{}
				}
			})
		}()
		<-wrote
		rule.Store(Rule{Enabled: true, MaxBytes: 1, DeleteAfter: time.Nanosecond})
		if n := m.RunRetention(); n != 0 {
			t.Errorf("retention deleted %d files while the only one is being recorded", n)
		}
		if segs := m.Segments("live/cam1", time.Time{}, time.Time{}); len(segs) != 1 || !segs[0].Recording {
			t.Errorf("segments %+v: want the open one kept", segs)
		}
		<-done
		cancel()
	})
}

func assertKept(t *testing.T, m *Manager, dir string, all, kept []string) {
	t.Helper()
	got := indexNames(m, "live/cam1")
	if len(got) != len(kept) {
		t.Fatalf("index keeps %v, want %v", got, kept)
	}
	for i := range kept {
		if got[i] != kept[i] {
			t.Errorf("index keeps %v, want %v", got, kept)
		}
	}
	for _, n := range all {
		_, err := os.Stat(filepath.Join(dir, "live/cam1", n))
		want := false
		for _, k := range kept {
			want = want || k == n
		}
		if (err == nil) != want {
			t.Errorf("%s on disk: %v, want %v", n, err == nil, want)
		}
	}
}
