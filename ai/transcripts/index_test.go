package transcripts

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/ai/speech"
	"mps/internal/events"
	"mps/internal/testutil"
)

func transcript(segs ...speech.Segment) *speech.Transcript { return &speech.Transcript{Segments: segs} }

func TestIndexSearch(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "recordings")
	if err := os.MkdirAll(filepath.Join(rec, "live", "cam1"), 0o755); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(filepath.Join(dir, "t.db"), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	// The recorder's event arrives through the bus, as in the server.
	bus := events.NewBus()
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	sub := bus.Subscribe(16)
	go func() { defer close(done); ix.Watch(wctx, sub) }()
	defer func() { cancel(); <-done }()
	bus.Publish(events.Event{Type: segmentCompleted, Path: "live/cam1", Data: map[string]any{
		"file": "live/cam1/seg1.mp4", "start": start.Format(time.RFC3339Nano)}})
	testutil.WaitFor(t, 5*time.Second, "segment indexed", func() bool {
		var n int
		_ = ix.db.QueryRow(`SELECT count(*) FROM segments`).Scan(&n)
		return n == 1
	})
	ix.Add(ctx, filepath.Join(rec, "live", "cam1", "seg1.mp4"), transcript(
		speech.Segment{Start: 1.2, End: 3, Text: "good morning everyone"},
		speech.Segment{Start: 12.5, End: 15, Text: "the quick brown fox jumps over the lazy dog"},
	))
	ix.Add(ctx, filepath.Join(rec, "live", "cam2", "seg9.mp4"), transcript(speech.Segment{Start: 4, End: 5, Text: "a fox on camera two"}))
	ix.Add(ctx, filepath.Join(dir, "upload.mp4"), transcript(speech.Segment{Start: 0, End: 1, Text: "fox outside recordings"}))

	for _, tc := range []struct {
		name, q, path string
		want          []string // path:segment@offset
	}{
		{"phrase in one path", "brown fox", "live/cam1", []string{"live/cam1:seg1.mp4@12.5"}},
		{"every path", "fox", "", []string{"live/cam1:seg1.mp4@12.5", "live/cam2:seg9.mp4@4"}},
		{"stemming", "jumped", "", []string{"live/cam1:seg1.mp4@12.5"}},
		{"other path", "morning", "live/cam2", nil},
		{"syntax is words", `"fox*:(`, "live/cam2", []string{"live/cam2:seg9.mp4@4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := ix.Search(ctx, tc.q, tc.path, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, h := range hits {
				got[h.Path+":"+h.Segment+"@"+jsonNum(h.Offset)] = true
			}
			if len(got) != len(tc.want) {
				t.Fatalf("hits %+v, want %v", hits, tc.want)
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("missing %s in %+v", w, hits)
				}
			}
		})
	}
	hits, _ := ix.Search(ctx, "lazy", "", 0)
	if len(hits) != 1 || hits[0].Time == nil || !hits[0].Time.Equal(start.Add(12500*time.Millisecond)) || hits[0].Snippet == "" {
		t.Fatalf("hit %+v: want wall-clock time %v", hits, start.Add(12500*time.Millisecond))
	}
}

func TestSearchHandler(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(filepath.Join(dir, "t.db"), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.Add(context.Background(), filepath.Join(dir, "live", "a", "s.ts"), transcript(speech.Segment{Start: 2, End: 3, Text: "hello there"}))
	for _, tc := range []struct {
		url  string
		code int
		hits int
	}{
		{"/api/v1/search?q=hello", 200, 1},
		{"/api/v1/search?q=hello&path=live/b", 200, 0},
		{"/api/v1/search", 400, 0},
		{"/api/v1/search?q=x&limit=-1", 400, 0},
	} {
		t.Run(tc.url, func(t *testing.T) {
			rr := httptest.NewRecorder()
			ix.Handler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, tc.url, nil))
			if rr.Code != tc.code {
				t.Fatalf("status %d: %s", rr.Code, rr.Body)
			}
			var body struct{ Hits []Hit }
			_ = json.Unmarshal(rr.Body.Bytes(), &body)
			if len(body.Hits) != tc.hits {
				t.Errorf("hits %s", rr.Body)
			}
		})
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }
