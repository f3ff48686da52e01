package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// TestRecordRTMPPublish records an ffmpeg RTMP publish through the whole
// server (the path rule turns recording on with 4 s segments) and checks what
// an operator would: the API lists the segments, each downloads and plays,
// and together they hold every frame that was sent.
func TestRecordRTMPPublish(t *testing.T) {
	needFFmpeg(t)
	cfg := testConfig(t)
	on := true
	seg, part := config.Duration(4*time.Second), config.Duration(time.Second)
	cfg.Paths = []config.PathRule{{Name: "live/rec", Record: &config.RecordOverride{Enabled: &on, SegmentDuration: &seg, PartDuration: &part}}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/rec", false)
	if err := pub.Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	api := "http://" + s.HTTPAddr() + "/api/v1/recordings/live/rec/segments"
	var list struct {
		Items []struct {
			Name      string
			Duration  float64
			URL       string
			Recording bool
		}
	}
	testutil.WaitFor(t, 10*time.Second, "segments closed", func() bool {
		getJSON(t, api, &list)
		if len(list.Items) == 0 {
			return false
		}
		for _, it := range list.Items {
			if it.Recording {
				return false
			}
		}
		return true
	})
	if len(list.Items) != 2 {
		t.Fatalf("%d segments, want 2 (6 s in 4 s segments): %+v", len(list.Items), list.Items)
	}
	dir := t.TempDir()
	var concat strings.Builder
	for i, it := range list.Items {
		body := fetch(t, "http://"+s.HTTPAddr()+it.URL)
		f := filepath.Join(dir, it.Name)
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		concat.WriteString("file '" + f + "'\n")
		if i == 0 && (it.Duration < 3.5 || it.Duration > 5) {
			t.Fatalf("first segment %.2f s, want about 4 s", it.Duration)
		}
	}
	listFile := filepath.Join(dir, "list.txt")
	os.WriteFile(listFile, []byte(concat.String()), 0o644)
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-f", "concat", "-safe", "0", "-i", listFile,
		"-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "180" {
		t.Fatalf("frames in the recording: %q (%v), want all 180", out, err)
	}
}
