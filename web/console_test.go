package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/server"
)

// here is this package's directory.
func here() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// TestConsoleListsAndPlaysStream publishes with ffmpeg over RTMP, opens the
// console in headless Chromium, and checks what an operator sees: the
// stream's row with its codecs, and the WebRTC and HLS buttons each playing
// 320x240 video whose time advances.
func TestConsoleListsAndPlaysStream(t *testing.T) {
	for _, bin := range []string{"ffmpeg", "node", "/usr/bin/chromium"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not found: run `make deps`", bin)
		}
	}
	if _, err := os.Stat(filepath.Join(here(), "test", "node_modules", "playwright-core")); err != nil {
		t.Fatal("web/test/node_modules missing: run `make deps`")
	}
	cfg := config.Defaults()
	cfg.Storage.DataDir = t.TempDir()
	cfg.HTTP.Address, cfg.RTMP.Address = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTSP.Enabled, cfg.SRT.Enabled = false, false
	cfg.WebRTC.ICEUDPAddress, cfg.WebRTC.ICETCPAddress = "127.0.0.1:0", "127.0.0.1:0"
	srv := server.New(cfg, slog.New(slog.DiscardHandler))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
		"-i", filepath.Join(here(), "..", "testdata", "h264_aac_1s_gop.mp4"), "-c", "copy", "-f", "flv",
		"rtmp://"+srv.RTMPAddr()+"/live/console")
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { pub.Process.Kill(); pub.Wait() }()

	for _, mode := range []string{"WebRTC", "HLS"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{filepath.Join(here(), "test", "console.mjs"), "http://" + srv.HTTPAddr() + "/", "live/console", "--seconds", "3"}
			if mode == "HLS" {
				args = append(args, "--hls")
			}
			var out, stderr bytes.Buffer
			node := exec.CommandContext(ctx, "node", args...)
			node.Stdout, node.Stderr = &out, &stderr
			if err := node.Run(); err != nil {
				t.Fatalf("console.mjs: %v\n%s", err, stderr.String())
			}
			var rep struct {
				Errors  []string
				Row     []string
				Playing *struct {
					Time          float64
					Width, Height int
					Status        string
				}
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("report %q: %v", out.String(), err)
			}
			if len(rep.Errors) > 0 {
				t.Fatalf("page errors: %v", rep.Errors)
			}
			if len(rep.Row) < 3 || rep.Row[0] != "live/console" || rep.Row[1] != "rtmp" || !strings.Contains(rep.Row[2], "h264 320x240") {
				t.Fatalf("stream row %q, want live/console, rtmp, h264 320x240…", rep.Row)
			}
			if rep.Playing == nil || rep.Playing.Time < 3 || rep.Playing.Width != 320 || rep.Playing.Height != 240 {
				t.Fatalf("%s playback in the console: %+v, want 320x240 advancing past 3 s", mode, rep.Playing)
			}
		})
	}
}
