package tasks

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/vod"
)

// copySlowly writes src to dst in chunks with pauses, like a slow upload
// or copy over the network.
func copySlowly(t *testing.T, src, dst string, chunks int, pause time.Duration) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	step := (len(data) + chunks - 1) / chunks
	for off := 0; off < len(data); off += step {
		if _, err := f.Write(data[off:min(off+step, len(data))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
	}
}

func TestWatchFolderFiresOnceWithSignedWebhook(t *testing.T) {
	hooks := newHookSink(t, "watch-secret")
	data := t.TempDir()
	watch := filepath.Join(data, "drop")
	svc, ts := startService(t, Config{
		DataDir:  data,
		Webhooks: []config.Webhook{{URL: hooks.srv.URL, Secret: "watch-secret"}},
		Schemes: []config.Scheme{{Enabled: true,
			Name:    "ingest",
			Trigger: config.SchemeTrigger{Watch: &config.WatchTrigger{Dir: watch, Glob: "*.mp4", Settle: config.Duration(700 * time.Millisecond)}},
			Operations: []config.OpRef{
				{Operation: vod.Operation{Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{Times: []vod.Offset{"2s"}}}},
				{Operation: vod.Operation{Type: vod.TypeSprite, Sprite: &vod.SpriteSpec{Every: "1s", Rows: 2, Columns: 3}}},
			},
		}},
	})
	// Written over ~1.6 s in 8 pieces: one task, not one per write.
	copySlowly(t, testFile("h264_aac_1s_gop.mp4"), filepath.Join(watch, "clip.mp4"), 8, 200*time.Millisecond)
	if err := os.WriteFile(filepath.Join(watch, "notes.txt"), []byte("ignored by the glob"), 0o644); err != nil {
		t.Fatal(err)
	}
	hooks.wait("task.completed", "", 1, 30*time.Second)
	time.Sleep(1500 * time.Millisecond) // room for a wrong second trigger
	list, _, err := svc.List(context.Background(), ListOptions{Scheme: "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d tasks for one arrival, want 1", len(list))
	}
	task := list[0]
	if task.Status != StatusFinish || task.Input != filepath.Join(watch, "clip.mp4") {
		t.Fatalf("task %+v", task)
	}
	if hooks.count("task.completed", task.ID) != 1 || hooks.count("task.created", task.ID) != 0 {
		t.Errorf("finish mode: completed %d (want 1), created %d (want 0)", hooks.count("task.completed", task.ID), hooks.count("task.created", task.ID))
	}
	if hooks.badCount() != 0 {
		t.Errorf("%d bad signatures", hooks.badCount())
	}
	// The outputs exist and download.
	sprite := task.Ops[1].Result
	if sprite == nil || sprite.VTT != "sprite.vtt" {
		t.Fatalf("sprite result %+v", sprite)
	}
	resp, err := http.Get(ts.URL + "/outputs/" + task.Output + "/" + task.Ops[1].Dir + "/sprite.vtt")
	if err != nil {
		t.Fatal(err)
	}
	vtt, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(vtt) < 50 {
		t.Errorf("vtt download %d %q", resp.StatusCode, vtt)
	}
	if _, err := os.Stat(filepath.Join(data, "outputs", "ingest", task.ID, "01-snapshot", "snapshot_0001.jpg")); err != nil {
		t.Errorf("snapshot output: %v", err)
	}

	// Disabled, the scheme ignores new files; enabled again, it fires.
	var info SchemeInfo
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/schemes/ingest/disable", nil, &info); code != 200 || info.Enabled {
		t.Fatalf("disable = %d %+v", code, info)
	}
	copySlowly(t, testFile("video_only.mp4"), filepath.Join(watch, "second.mp4"), 1, 0)
	time.Sleep(1500 * time.Millisecond)
	if list, _, _ := svc.List(context.Background(), ListOptions{Scheme: "ingest"}); len(list) != 1 {
		t.Errorf("disabled scheme fired: %d tasks", len(list))
	}
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": testFile("video_only.mp4"), "scheme": "ingest"}, nil); code != http.StatusConflict {
		t.Errorf("API task on a disabled scheme = %d, want 409", code)
	}
	var all struct{ Schemes []SchemeInfo }
	apiJSON(t, "GET", ts.URL+"/api/v1/schemes", nil, &all)
	if len(all.Schemes) != 1 || all.Schemes[0].Enabled || all.Schemes[0].Trigger.Watch == nil {
		t.Errorf("GET schemes = %+v", all)
	}
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/schemes/ingest/enable", nil, &info); code != 200 || !info.Enabled {
		t.Fatalf("enable = %d", code)
	}
	copySlowly(t, testFile("video_only.mp4"), filepath.Join(watch, "third.mp4"), 2, 100*time.Millisecond)
	hooks.wait("task.completed", "", 2, 30*time.Second)
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/schemes/ghost/enable", nil, nil); code != 404 {
		t.Errorf("unknown scheme = %d", code)
	}
}

func TestRecordingTriggerAndPassThrough(t *testing.T) {
	rec := t.TempDir()
	seg := filepath.Join(rec, "live", "cam1", "seg1.mp4")
	if err := os.MkdirAll(filepath.Dir(seg), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(testFile("h264_aac_1s_gop.mp4"))
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	hooks := newHookSink(t, "r")
	bus := events.NewBus()
	svc, err := New(Config{
		DataDir: t.TempDir(), RecordingsDir: rec,
		Webhooks: []config.Webhook{{URL: hooks.srv.URL, Secret: "r", Events: []string{"record.*", "task.completed"}}},
		Schemes: []config.Scheme{{Enabled: true, Name: "rec-thumbs", Trigger: config.SchemeTrigger{Recording: &config.RecordingTrigger{Path: "live/*"}},
			Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}}}},
	}, bus, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, svc)
	evSub, err := svc.nc.SubscribeSync(eventPrefix + "record.segment_completed")
	if err != nil {
		t.Fatal(err)
	}
	ev := events.Event{Type: "record.segment_completed", Path: "live/cam1", Data: map[string]any{"file": "live/cam1/seg1.mp4", "duration": 6.0}}
	bus.Publish(ev)
	bus.Publish(events.Event{Type: "record.segment_completed", Path: "other/cam", Data: map[string]any{"file": "live/cam1/seg1.mp4"}})
	bus.Publish(ev) // a repeat of the same segment does not run twice
	hooks.wait("task.completed", "", 1, 20*time.Second)
	hooks.wait("record.segment_completed", "", 3, 10*time.Second)
	if _, err := evSub.NextMsg(5 * time.Second); err != nil {
		t.Errorf("no record event on NATS: %v", err)
	}
	list, _, _ := svc.List(context.Background(), ListOptions{})
	if len(list) != 1 || list[0].Input != seg || list[0].Status != StatusFinish {
		t.Fatalf("tasks %+v", list)
	}
}
