package recorder

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
)

// serve mounts the manager's handlers the way the server does.
func serve(t *testing.T, m *Manager) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(APIPrefix, m.Handler())
	mux.Handle(APIPrefix+"/", m.Handler())
	mux.Handle(HLSPrefix, m.HLSHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// recorded18s records 18 s (540 frames) in 8 s segments: 8 + 8 + 2 s.
func recorded18s(t *testing.T) (*Manager, string) {
	t.Helper()
	src := loadSource(t, "h264_aac_1s_gop.mp4", 2)
	rule := Rule{Enabled: true, SegmentDuration: 8 * time.Second, PartDuration: time.Second}
	dir, m, files := recordSource(t, src, rule, 0)
	if len(files) != 3 {
		t.Fatalf("got %d segments, want 3", len(files))
	}
	return m, dir
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func download(t *testing.T, u, file string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
}

func TestPlaybackAndHLS(t *testing.T) {
	m, _ := recorded18s(t)
	srv := serve(t, m)
	base := srv.URL + APIPrefix + "/live/cam1"

	var list struct {
		Items []segmentJSON `json:"items"`
	}
	if code := getJSON(t, base+"/segments", &list); code != http.StatusOK || len(list.Items) != 3 {
		t.Fatalf("segments: %d, %d items", code, len(list.Items))
	}
	s0 := list.Items[0]
	if s0.Format != FormatFMP4 || s0.Duration < 7.5 || s0.Duration > 8.5 || s0.Size == 0 {
		t.Errorf("first segment %+v: want fmp4, 8 s, non-empty", s0)
	}
	// A range selects only the segments it overlaps.
	q := url.Values{"start": {s0.Start.Add(9 * time.Second).Format(time.RFC3339Nano)}, "end": {s0.Start.Add(10 * time.Second).Format(time.RFC3339Nano)}}
	if getJSON(t, base+"/segments?"+q.Encode(), &list); len(list.Items) != 1 || list.Items[0].Name == s0.Name {
		t.Errorf("range 9-10 s lists %+v, want only the second segment", list.Items)
	}

	t.Run("get", func(t *testing.T) {
		for _, format := range []string{"mp4", "fmp4"} {
			// 10 s from 3 s in: spans the first two segments.
			q := url.Values{"start": {s0.Start.Add(3 * time.Second).Format(time.RFC3339Nano)}, "duration": {"10s"}, "format": {format}}
			out := filepath.Join(t.TempDir(), "range.mp4")
			download(t, base+"/get?"+q.Encode(), out)
			p := ffprobe(t, out)
			d := p.duration()
			n := decode(t, "-i", out)
			t.Logf("%s: %s, %d frames decoded", format, d, n)
			if d < 9*time.Second || d > 11100*time.Millisecond {
				t.Errorf("%s: %s long, want 10 s within one GOP", format, d)
			}
			if n < 270 || n > 333 {
				t.Errorf("%s: %d frames, want about 300", format, n)
			}
			if p.packets("audio") == 0 {
				t.Errorf("%s: no audio", format)
			}
		}
	})

	t.Run("hls", func(t *testing.T) {
		q := url.Values{"start": {s0.Start.Format(time.RFC3339Nano)}, "end": {s0.Start.Add(15 * time.Second).Format(time.RFC3339Nano)}}
		u := srv.URL + HLSPrefix + "live/cam1/index.m3u8?" + q.Encode()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		pl, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Count(string(pl), "#EXTINF") != 2 || !strings.Contains(string(pl), "#EXT-X-ENDLIST") {
			t.Fatalf("playlist %s:\n%s", resp.Status, pl)
		}
		n := decode(t, "-i", u)
		if n < 470 || n > 490 {
			t.Errorf("HLS VOD of two 8 s segments decodes to %d frames, want 480", n)
		}
		t.Logf("HLS VOD: %d frames\n%s", n, pl)
	})

	t.Run("download and delete", func(t *testing.T) {
		var all struct {
			Items []segmentJSON `json:"items"`
		}
		getJSON(t, base+"/segments", &all)
		last := all.Items[len(all.Items)-1]
		seg, _ := m.ix.find("live/cam1", last.Name)
		want, err := os.ReadFile(seg.file)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "seg.mp4")
		download(t, srv.URL+last.URL, out)
		got, _ := os.ReadFile(out)
		if string(got) != string(want) {
			t.Fatalf("downloaded %d bytes, file has %d", len(got), len(want))
		}
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+last.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %s", resp.Status)
		}
		if _, err := os.Stat(seg.file); err == nil {
			t.Error("file still on disk after DELETE")
		}
		if code := getJSON(t, srv.URL+last.URL, nil); code != http.StatusNotFound {
			t.Errorf("GET after DELETE: %d, want 404", code)
		}
	})
}

func TestRecordingAPIStartStop(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1)
	dir := t.TempDir()
	bus := events.NewBus()
	sub := bus.Subscribe(1024)
	defer sub.Close()
	hub := newHub(t, bus)
	enabled := Rule{Enabled: false, PartDuration: time.Second}
	m := newManager(t, Config{Dir: dir, Rule: func(string) Rule { return enabled }}, bus)
	srv := serve(t, m)
	post := func(action string) Stats {
		resp, err := http.Post(srv.URL+APIPrefix+"/live/cam1/"+action, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st Stats
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s %v", action, resp.Status, err)
		}
		return st
	}
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)
	if m.Stats("live/cam1").Recording {
		t.Fatal("recording although the rule is off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); run(ctx, 3, nil) }()

	if st := post("start"); !st.Recording || st.Override != "start" {
		t.Errorf("after start: %+v", st)
	}
	waitEvent(t, sub, EventSegmentStarted, 10*time.Second)
	m.Reload() // a config reload keeps the override
	if st := post("stop"); st.Recording || st.Override != "stop" {
		t.Errorf("after stop: %+v", st)
	}
	waitEvent(t, sub, EventSegmentCompleted, 10*time.Second)
	enabled.Enabled = true
	m.Reload()
	if m.Stats("live/cam1").Recording {
		t.Error("a reload that enables the rule overrode the API's stop")
	}
	var all struct {
		Items []Stats `json:"items"`
	}
	getJSON(t, srv.URL+APIPrefix, &all)
	if len(all.Items) != 1 || all.Items[0].Path != "live/cam1" || !all.Items[0].Live || all.Items[0].Segments != 1 {
		t.Errorf("list: %+v", all.Items)
	}
	<-done
}

func TestHLSOverMPEGTS(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 2)
	rule := Rule{Enabled: true, Format: FormatMPEGTS, SegmentDuration: 8 * time.Second, PartDuration: time.Second}
	_, m, files := recordSource(t, src, rule, 0)
	if len(files) != 3 {
		t.Fatalf("got %d segments, want 3", len(files))
	}
	srv := serve(t, m)
	segs := m.Segments("live/cam1", time.Time{}, time.Time{})
	q := url.Values{"start": {segs[0].Start.Format(time.RFC3339Nano)}, "end": {segs[0].Start.Add(15 * time.Second).Format(time.RFC3339Nano)}}
	u := srv.URL + HLSPrefix + "live/cam1/index.m3u8?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "warning", "-i", u, "-map", "0:v:0", "-f", "framecrc", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	n := strings.Count(string(out), "\n0, ")
	t.Logf("%d frames; ffmpeg says:\n%s", n, grepNot(string(out), "0, "))
	if n < 470 || n > 490 {
		t.Errorf("HLS VOD of two 8 s TS segments decodes to %d frames, want 480", n)
	}
}

func grepNot(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) && !strings.HasPrefix(l, "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
