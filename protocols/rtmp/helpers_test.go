package rtmp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/pathmgr"
)

const (
	fileGOP     = "../../testdata/h264_aac_1s_gop.mp4" // 180 frames, 1 s GOP
	fileBFrames = "../../testdata/h264_bframes.mp4"    // 120 frames, B-frames
)

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// startServer runs a server on loopback with a real path manager.
func startServer(t *testing.T, policy pathmgr.PolicyFunc, cfg Config) (*Server, *pathmgr.Manager) {
	t.Helper()
	log := testLog(t)
	hub := pathmgr.New(log, events.NewBus(), policy)
	cfg.Addr = "127.0.0.1:0"
	s := New(cfg, hub, log)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		hub.Close()
	})
	return s, hub
}

func rtmpURLOf(s *Server, path string) string { return "rtmp://" + s.Addr().String() + "/" + path }

// proc is a running ffmpeg with its stderr kept for the failure message.
type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
	ended  time.Time
}

func startFFmpeg(t *testing.T, ctx context.Context, args ...string) *proc {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
	p := &proc{cmd: cmd, stderr: new(bytes.Buffer), done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		p.ended = time.Now()
		p.done <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return p
}

// wait returns the process's exit error, failing the test after d.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(d):
		t.Fatalf("ffmpeg %v still running after %v; stderr: %s", p.cmd.Args, d, p.stderr)
		return nil
	}
}

func publishFile(t *testing.T, ctx context.Context, file, url string) *proc {
	return startFFmpeg(t, ctx, "-re", "-i", file, "-c", "copy", "-f", "flv", url)
}

// readToFile has ffmpeg read url and copy it into an FLV file.
func readToFile(t *testing.T, ctx context.Context, url string) (*proc, string) {
	out := filepath.Join(t.TempDir(), "out.flv")
	return startFFmpeg(t, ctx, "-i", url, "-c", "copy", "-f", "flv", out), out
}

type probeStream struct {
	CodecName    string `json:"codec_name"`
	CodecType    string `json:"codec_type"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	HasBFrames   int    `json:"has_b_frames"`
	NbReadFrames string `json:"nb_read_frames"`
}

// probe decodes file with ffprobe, counting frames, and fails on any
// decoder message.
func probe(t *testing.T, file string) map[string]probeStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_name,codec_type,width,height,has_b_frames,nb_read_frames", "-of", "json", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", file, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("ffprobe %s reported errors: %s", file, s)
	}
	var res struct{ Streams []probeStream }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	m := make(map[string]probeStream)
	for _, s := range res.Streams {
		m[s.CodecType] = s
	}
	return m
}

// decodeClean decodes file with -xerror and fails on any error output.
func decodeClean(t *testing.T, file string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", file, "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("decoding %s: %v: %s", file, err, out)
	}
}

// firstVideoFrameIsKey reports whether the first video frame is a key frame.
func firstVideoFrameIsKey(t *testing.T, file string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=key_frame,pict_type", "-read_intervals", "%+#1", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe frames: %v", err)
	}
	return strings.HasPrefix(strings.TrimSpace(string(out)), "1")
}

func frames(t *testing.T, s probeStream) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s.NbReadFrames, &n); err != nil {
		t.Fatalf("nb_read_frames %q: %v", s.NbReadFrames, err)
	}
	return n
}
