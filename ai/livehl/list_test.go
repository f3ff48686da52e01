package livehl

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/events"
)

// TestRollingList checks the list rules on clip files: a full list takes
// a better clip and deletes the worst one's file, refuses a worse one,
// drops clips that left the window, and never takes an overlapping one.
func TestRollingList(t *testing.T) {
	dir := t.TempDir()
	m := New(Config{Dir: dir, Bus: events.NewBus(), Log: slog.New(slog.DiscardHandler)})
	r := &pathRun{m: m, path: "live/a", rule: Rule{Enabled: true, Window: time.Minute, Top: 2, MinSeconds: 3, MaxSeconds: 6}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clip := func(at int, score float64) Highlight {
		h := Highlight{Path: "live/a", Start: t0.Add(time.Duration(at) * time.Second), Score: score}
		h.End = h.Start.Add(4 * time.Second)
		h.Name = h.Start.Format(clipTimeLayout) + ".mp4"
		if err := os.MkdirAll(filepath.Dir(r.file(h.Name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.file(h.Name), []byte("clip"), 0o644); err != nil {
			t.Fatal(err)
		}
		return h
	}
	exists := func(h Highlight) bool { _, err := os.Stat(r.file(h.Name)); return err == nil }
	a, b := clip(0, 0.5), clip(10, 0.3)
	r.add(a)
	r.add(b)
	if !r.taken(clip(2, 0.9)) || r.taken(clip(4, 0.9)) {
		t.Error("overlap: a clip over a listed one must be taken, one just after it not")
	}
	if r.ranks(clip(20, 0.2)) {
		t.Error("a full list took a clip worse than all it holds")
	}
	c := clip(20, 0.8)
	if !r.ranks(c) {
		t.Fatal("a full list refused a better clip")
	}
	r.add(c)
	if got := m.List("live/a"); len(got) != 2 || got[0].Score != 0.8 || got[1].Score != 0.5 {
		t.Errorf("list %+v, want 0.8 and 0.5", got)
	}
	if exists(b) || !exists(a) || !exists(c) {
		t.Error("the evicted clip's file must go, the listed ones stay")
	}
	late := clip(200, 0.1)
	r.add(late)
	if got := m.List("live/a"); len(got) != 1 || got[0].Name != late.Name || exists(a) || exists(c) {
		t.Errorf("after the window moved on: %+v", got)
	}
}
