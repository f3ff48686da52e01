package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
)

// testdata returns the path of a sample file in the repo's testdata folder.
func testdata(t testing.TB, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("testdata %s: %v", name, err)
	}
	return p
}

// needFFmpeg fails the test when ffmpeg is missing: `make test` installs it,
// so its absence is a broken setup, not a reason to skip.
func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s not found: run `make deps`", b)
		}
	}
}

// testConfig returns the defaults with every listener on a free loopback
// port and data under a temp dir; protocols the test does not need are off.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg := config.Defaults()
	cfg.Storage.DataDir = t.TempDir()
	cfg.HTTP.Address = "127.0.0.1:0"
	cfg.RTMP.Address = "127.0.0.1:0"
	cfg.RTSP.Enabled = false
	cfg.SRT.Enabled = false
	cfg.WebRTC.Enabled = false
	return cfg
}

// startServer starts a server for cfg and stops it when the test ends.
func startServer(t testing.TB, cfg *config.Config) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := New(cfg, log)
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ffmpeg starts ffmpeg with args (no shell) bound to ctx and returns the
// command and its stderr buffer.
func ffmpeg(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	return cmd, &stderr
}

// publishRTMP starts ffmpeg publishing file in real time to url.
func publishRTMP(t testing.TB, ctx context.Context, file, url string, loop bool) *exec.Cmd {
	t.Helper()
	args := []string{"-re"}
	if loop {
		args = append(args, "-stream_loop", "-1")
	}
	args = append(args, "-i", file, "-c", "copy", "-f", "flv", url)
	cmd, _ := ffmpeg(ctx, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ffmpeg: %v", err)
	}
	return cmd
}

// getJSON GETs url and decodes the JSON body into v, returning the status.
func getJSON(t testing.TB, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && len(body) > 0 {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: decode %q: %v", url, body, err)
		}
	}
	return resp.StatusCode
}
