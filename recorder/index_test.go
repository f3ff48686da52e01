package recorder

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
)

// sampleSegment records a short stream and returns one of its fMP4
// segment files, to be linked under many names.
func sampleSegment(tb testing.TB) string {
	tb.Helper()
	src := loadSource(tb, "h264_aac_1s_gop.mp4", 0)
	dir := tb.TempDir()
	bus := events.NewBus()
	hub := newHub(tb, bus)
	m := newManager(tb, Config{Dir: dir, Rule: ruleFunc(Rule{Enabled: true, SegmentDuration: time.Second, PartDuration: time.Second})}, bus)
	s, run := publish(tb, hub, "live/cam1", src)
	m.StreamStarted(s)
	run(context.Background(), 0, nil)
	for m.Stats("live/cam1").Recording {
		time.Sleep(5 * time.Millisecond)
	}
	return segmentFiles(tb, dir, "live/cam1")[0]
}

// linkSegments makes perPath hard links of sample under each path's
// recording directory, named one hour apart as the recorder names them:
// a large recordings tree that costs no disk space.
func linkSegments(tb testing.TB, sample, root string, paths []string, perPath int) {
	tb.Helper()
	tpl, err := newTemplate(DefaultPathTemplate, time.UTC)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(sample)
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range paths {
		// One copy per path: a file takes at most 65,000 links.
		src := filepath.Join(tb.TempDir(), "sample")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		for i := range perPath {
			f := filepath.Join(root, filepath.FromSlash(tpl.render(p, t0.Add(time.Duration(i)*time.Hour), FormatFMP4)))
			if i == 0 {
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					tb.Fatal(err)
				}
			}
			if err := os.Link(src, f); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

type listing struct {
	Partial bool          `json:"partial"`
	Items   []segmentJSON `json:"items"`
}

// TestIndexRebuildInBackground starts a manager on 2 × 1000 segments with
// the rebuild held after it has listed the files: the manager is already
// serving, a segment listing answers at once and says it is partial, a
// playlist request waits for the index and then answers in full, and once
// the rebuild completes the listing has every duration.
func TestIndexRebuildInBackground(t *testing.T) {
	sample := sampleSegment(t)
	root := t.TempDir()
	linkSegments(t, sample, root, []string{"live/a", "live/b"}, 1000)
	hold, listed := make(chan struct{}), make(chan struct{})
	release := func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}
	m, err := New(Config{Dir: root, Location: time.UTC, afterListing: func() { close(listed); <-hold }}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	t.Cleanup(release)
	srv := serve(t, m)
	<-listed
	if m.Indexed() {
		t.Fatal("index complete while its rebuild is held")
	}
	var l listing
	if code := getJSON(t, srv.URL+APIPrefix+"/live/a/segments", &l); code != http.StatusOK || !l.Partial || len(l.Items) != 1000 {
		t.Fatalf("listing during the rebuild: %d, partial %v, %d items; want 200, partial, the 1000 files by name", code, l.Partial, len(l.Items))
	}
	// A playlist needs durations: the request waits for the rebuild.
	type answer struct {
		code int
		body string
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get(srv.URL + HLSPrefix + "live/b/index.m3u8")
		if err != nil {
			got <- answer{code: -1, body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- answer{resp.StatusCode, string(b)}
	}()
	release()
	a := <-got
	if a.code != http.StatusOK || countLines(a.body, "#EXTINF") != 1000 {
		t.Fatalf("playlist asked during the rebuild: %d, %d segments; want 200 with all 1000", a.code, countLines(a.body, "#EXTINF"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	getJSON(t, srv.URL+APIPrefix+"/live/a/segments", &l)
	if l.Partial || len(l.Items) != 1000 || l.Items[0].Duration < 0.9 || l.Items[999].Duration < 0.9 {
		t.Fatalf("listing after the rebuild: partial %v, %d items, first duration %v; want complete, 1000, 1 s each", l.Partial, len(l.Items), l.Items[0].Duration)
	}
}

func countLines(s, prefix string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

// BenchmarkStartup100k starts a manager on 100,000 segments (10 paths ×
// 10,000 hard links of one real segment) and reports how long until the
// first listing request is answered and until the index is complete.
// Run with -benchtime=1x: each iteration rebuilds the whole index.
func BenchmarkStartup100k(b *testing.B) {
	sample := sampleSegment(b)
	root := b.TempDir()
	var paths []string
	for i := range 10 {
		paths = append(paths, fmt.Sprintf("live/cam%d", i))
	}
	linkSegments(b, sample, root, paths, 10000)
	var first, complete time.Duration
	for b.Loop() {
		t0 := time.Now()
		m, err := New(Config{Dir: root, Location: time.UTC}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle(APIPrefix+"/", m.Handler())
		srv := httptest.NewServer(mux)
		resp, err := http.Get(srv.URL + APIPrefix + "/live/cam5/segments")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		first += time.Since(t0)
		if err := m.WaitIndexed(context.Background()); err != nil {
			b.Fatal(err)
		}
		complete += time.Since(t0)
		srv.Close()
		m.Close()
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-to-first-answer")
	b.ReportMetric(float64(complete.Milliseconds())/float64(b.N), "ms-to-complete-index")
}
