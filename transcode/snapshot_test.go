package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSnapshots snapshots a 10 s 720p source every 2 s at 320 px wide:
// about five pictures, latest.jpg follows, one ffmpeg does it all, and the
// HTTP API lists, serves and takes pictures on demand.
func TestSnapshots(t *testing.T) {
	src := source720(t)
	dir := t.TempDir()
	e := newEnv(t, Config{Dir: dir, Snapshot: func(p string) (SnapshotRule, bool) {
		return SnapshotRule{Interval: 2 * time.Second, Width: 320, Quality: 5, Keep: 20}, p == "live/snap"
	}})
	sub := e.bus.Subscribe(64)
	defer sub.Close()
	pub := publishFile(t, e.hub, "live/snap", src, "-t", "10")
	srv := httptest.NewServer(e.m.SnapshotHandler())
	defer srv.Close()

	ev := waitEvent(t, sub, EventSnapshotCreated, 10*time.Second)
	if ev.Path != "live/snap" {
		t.Errorf("event %+v", ev)
	}
	latest := filepath.Join(dir, "snapshots", "live", "snap", "latest.jpg")
	first, err := os.ReadFile(latest)
	if err != nil {
		t.Fatal(err)
	}

	// On demand, while the snapshotter runs.
	resp, err := http.Post(srv.URL+"/api/v1/snapshots/live/snap", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pic bytes.Buffer
	_, _ = pic.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("POST: %s %s", resp.Status, pic.String())
	}
	if c, err := jpeg.DecodeConfig(&pic); err != nil || c.Width != 320 || c.Height != 180 {
		t.Errorf("on-demand picture %+v (%v), want a 320x180 JPEG", c, err)
	}
	if n := ffmpegChildren(t); len(n) != 2 {
		t.Errorf("ffmpeg children %v, want the source and one snapshotter", n)
	}

	<-pub.done
	deadline := time.Now().Add(5 * time.Second)
	e.m.mu.Lock()
	sn := e.m.snaps["live/snap"]
	e.m.mu.Unlock()
	for sn != nil && time.Now().Before(deadline) {
		select {
		case <-sn.done:
			deadline = time.Time{}
		case <-time.After(50 * time.Millisecond):
		}
	}
	names := listSnapshotNames(filepath.Dir(latest))
	if len(names) < 4 || len(names) > 6 {
		t.Errorf("%d pictures %v over 10 s at 2 s, want 5±1", len(names), names)
	}
	if sn != nil && sn.spawns.Load() != 1 {
		t.Errorf("snapshot ffmpeg started %d times, want once", sn.spawns.Load())
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(latest), n))
		if err != nil {
			t.Fatal(err)
		}
		if c, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || c.Width != 320 || c.Height != 180 {
			t.Errorf("%s: %+v %v, want 320x180", n, c, err)
		}
	}
	last, _ := os.ReadFile(latest)
	newest, _ := os.ReadFile(filepath.Join(filepath.Dir(latest), names[len(names)-1]))
	if bytes.Equal(first, last) || !bytes.Equal(last, newest) {
		t.Error("latest.jpg did not move on to the newest picture")
	}

	// The API lists them newest first and serves them.
	resp, err = http.Get(srv.URL + "/api/v1/snapshots/live/snap")
	if err != nil {
		t.Fatal(err)
	}
	var list []SnapshotInfo
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list) != len(names) || list[0].Name != names[len(names)-1] || list[0].Size == 0 || list[0].Time.IsZero() {
		t.Fatalf("list = %+v (%v), want %d entries newest first", list, err, len(names))
	}
	for _, u := range []string{"/snapshots/live/snap/latest.jpg", list[0].URL} {
		resp, err := http.Get(srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("GET %s: %s", u, resp.Status)
		}
		if _, err := jpeg.DecodeConfig(b); err != nil {
			t.Errorf("GET %s: %v", u, err)
		}
	}
	for _, u := range []string{"/snapshots/live/../../etc/passwd", "/snapshots/live/snap/..%2f..%2fx.jpg", "/snapshots/live/snap/.tmp-1.jpg", "/snapshots/latest.jpg", "/api/v1/snapshots/../x"} {
		resp, err := http.Get(srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 && resp.StatusCode != 400 {
			t.Errorf("GET %s: %s, want 404 or 400", u, resp.Status)
		}
	}
	resp, err = http.Post(srv.URL+"/api/v1/snapshots/live/none", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST for an unpublished path: %s, want 404", resp.Status)
	}
}

// TestSnapshotOneShot takes an on-demand picture of a path without a
// snapshot rule: a one-shot ffmpeg decodes the GOP cache's keyframe.
func TestSnapshotOneShot(t *testing.T) {
	e := newEnv(t, Config{Dir: t.TempDir()})
	pub := publishFile(t, e.hub, "cam", "../testdata/h264_bframes.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pic, err := e.m.Snapshot(ctx, pub.s, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := jpeg.DecodeConfig(bytes.NewReader(pic)); err != nil || c.Width != 320 || c.Height != 240 {
		t.Errorf("picture %+v (%v), want 320x240", c, err)
	}
}
