package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// TestReloadKeepsLiveReaders runs the server on a config file watched for
// changes, with a real ffmpeg publisher and reader. Adding a path rule
// applies to the next client (an unauthenticated publish to the new
// protected path is refused) while the live reader keeps receiving; a
// broken edit is rejected and the running config kept.
func TestReloadKeepsLiveReaders(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "mps.yaml")
	base := "storage:\n  data_dir: " + dir + "\nhttp:\n  address: 127.0.0.1:0\nrtmp:\n  address: 127.0.0.1:0\n" +
		"rtsp:\n  enabled: false\nsrt:\n  enabled: false\nwebrtc:\n  enabled: false\n"
	if err := os.WriteFile(file, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	reloaded := make(chan struct{}, 4)
	w := config.NewWatcher(file, s.log, func(c *config.Config) { s.Reload(c); reloaded <- struct{}{} })
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); _ = w.Run(watchCtx) }()
	defer func() { stopWatch(); <-watchDone }()

	rtmpURL := "rtmp://" + s.RTMPAddr()
	publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), rtmpURL+"/live/a", true)
	testutil.WaitFor(t, 10*time.Second, "stream published", func() bool { return s.Paths().Get("live/a") != nil })
	reader, _ := ffmpeg(ctx, "-i", rtmpURL+"/live/a", "-c", "copy", "-f", "null", "-")
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	readerDone := make(chan error, 1)
	go func() { readerDone <- reader.Wait() }()
	st := s.Paths().Get("live/a")
	testutil.WaitFor(t, 10*time.Second, "reader attached", func() bool { return st.Stats().Readers["rtmp"] == 1 })
	before := st.Stats().BytesOut["rtmp"]

	// add a protected path rule
	rule := "paths:\n  - name: live/secret\n    publish_user: alice\n    publish_pass: s3cret\n"
	if err := os.WriteFile(file, []byte(base+rule), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second):
		t.Fatal("config change not picked up")
	}
	if got := s.Config().Rule("live/secret").PublishUser; got != "alice" {
		t.Fatalf("rule not applied: publish_user %q", got)
	}
	refused, stderr := ffmpeg(ctx, "-re", "-i", testdata(t, "h264_aac_1s_gop.mp4"), "-c", "copy", "-t", "2", "-f", "flv", rtmpURL+"/live/secret")
	if err := refused.Run(); err == nil {
		t.Fatalf("unauthenticated publish to protected path succeeded: %s", stderr)
	}
	if s.Paths().Get("live/secret") != nil {
		t.Fatal("protected path published without credentials")
	}
	okPub, stderr := ffmpeg(ctx, "-re", "-i", testdata(t, "h264_aac_1s_gop.mp4"), "-c", "copy", "-t", "1", "-f", "flv", rtmpURL+"/live/secret?user=alice&pass=s3cret")
	if err := okPub.Run(); err != nil {
		t.Fatalf("authenticated publish refused: %v: %s", err, stderr)
	}

	// a broken edit is rejected; the running config stays
	if err := os.WriteFile(file, []byte(base+rule+"  - name: live/x\n    bogus_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // debounce and reload attempt; nothing must change
	if err := w.Reload(); err == nil || !strings.Contains(err.Error(), "mps.yaml:18: paths[1].bogus_key") {
		t.Fatalf("broken config: err %v, want file:line:key", err)
	}
	if got := s.Config().Rule("live/secret").PublishUser; got != "alice" {
		t.Fatalf("running config lost after broken edit")
	}

	// the live reader never stopped
	select {
	case err := <-readerDone:
		t.Fatalf("live reader ended during reload: %v", err)
	default:
	}
	if st.Stats().Readers["rtmp"] != 1 || s.Paths().Get("live/a") != st {
		t.Fatal("live stream or its reader changed during reload")
	}
	testutil.WaitFor(t, 5*time.Second, "reader still receiving", func() bool { return st.Stats().BytesOut["rtmp"] > before+10000 })
}
