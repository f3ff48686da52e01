package srt

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
)

const testdataDir = "../../testdata"

type testServer struct {
	*Server
	hub *pathmgr.Manager
}

// startServer runs a server on a random loopback port with a real path
// manager behind it.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	hub := pathmgr.New(log, events.NewBus(), nil)
	cfg.Address = "127.0.0.1:0"
	s := New(cfg, hub, log)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		hub.Close()
	})
	return &testServer{Server: s, hub: hub}
}

func (s *testServer) url(streamID string, extra string) string {
	u := "srt://" + s.Addr() + "?streamid=" + streamID
	if extra != "" {
		u += "&" + extra
	}
	return u
}

// testWriter sends server logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// proc is a background ffmpeg.
type proc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// startFFmpeg starts ffmpeg (never through a shell) bound to ctx; the test
// cleanup kills it if still running.
func startFFmpeg(t *testing.T, ctx context.Context, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit, failing the test after timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("ffmpeg %v did not exit within %v\n%s", p.cmd.Args, timeout, p.stderr.String())
		return nil
	}
}

// publish starts ffmpeg sending a testdata file in real time over SRT,
// for the given number of seconds or, if zero, in a loop until stopped.
func publish(t *testing.T, ctx context.Context, file string, seconds float64, url string) *proc {
	t.Helper()
	args := []string{"-re"}
	if seconds <= 0 {
		args = append(args, "-stream_loop", "-1")
	}
	args = append(args, "-i", filepath.Join(testdataDir, file))
	if seconds > 0 {
		args = append(args, "-t", strconv.FormatFloat(seconds, 'f', -1, 64))
	}
	return startFFmpeg(t, ctx, append(args, "-c", "copy", "-f", "mpegts", url+"&pkt_size=1316")...)
}

// stop asks ffmpeg to finish as a user pressing Ctrl-C would: it closes
// its SRT connection properly.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	if err := p.wait(t, 10*time.Second); err != nil {
		t.Logf("ffmpeg stopped: %v", err)
	}
}

// waitReaders waits until s has n readers of protocol "srt".
func waitReaders(t *testing.T, s *stream.Stream, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.Stats().Readers["srt"] >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d srt readers after %v, want %d", s.Stats().Readers["srt"], timeout, n)
}

// probe describes a media file as ffprobe sees it.
type probe struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		SampleRate   string `json:"sample_rate"`
		Channels     int    `json:"channels"`
		NbReadFrames string `json:"nb_read_frames"`
	} `json:"streams"`
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,width,height,sample_rate,channels,nb_read_frames", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkRecording asserts what a viewer of the test file would check: H.264
// 320x240 and AAC 48 kHz stereo, at least minVideo frames, and a decode
// without a single error.
func checkRecording(t *testing.T, path string, minVideo int) {
	t.Helper()
	p := ffprobe(t, path)
	var video, audio bool
	for _, s := range p.Streams {
		n, _ := strconv.Atoi(s.NbReadFrames)
		switch {
		case s.CodecType == "video":
			video = true
			if s.CodecName != "h264" || s.Width != 320 || s.Height != 240 || n < minVideo {
				t.Errorf("%s: video %s %dx%d %d frames, want h264 320x240 >= %d frames", path, s.CodecName, s.Width, s.Height, n, minVideo)
			}
		case s.CodecType == "audio":
			audio = true
			if s.CodecName != "aac" || s.SampleRate != "48000" || s.Channels != 2 || n == 0 {
				t.Errorf("%s: audio %s %s Hz %d ch %d frames, want aac 48000 Hz stereo", path, s.CodecName, s.SampleRate, s.Channels, n)
			}
		}
	}
	if !video || !audio {
		t.Errorf("%s: video %v audio %v, want both", path, video, audio)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("decoding %s: %v\n%s", path, err, out)
	}
}

// readUnits attaches a reader to s and collects units until n video units
// arrived or timeout.
func readUnits(t *testing.T, s *stream.Stream, n int, timeout time.Duration) []*stream.Unit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := s.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer r.Close()
	var units []*stream.Unit
	video := 0
	for video < n {
		u, err := r.Read()
		if err != nil {
			break
		}
		units = append(units, u)
		if u.Track.IsVideo() {
			video++
		}
	}
	return units
}

func videoUnits(units []*stream.Unit) (n, keys int) {
	for _, u := range units {
		if u.Track.IsVideo() {
			n++
			if u.Key {
				keys++
			}
		}
	}
	return n, keys
}

// play starts an ffmpeg player that decodes frames video frames from url
// and fails on the first decoding error. The short analysis keeps it from
// buffering ffmpeg's default five seconds of a live input first.
func play(t *testing.T, ctx context.Context, url string, frames int) *proc {
	t.Helper()
	return startFFmpeg(t, ctx, "-xerror", "-analyzeduration", "1000000", "-i", url,
		"-frames:v", strconv.Itoa(frames), "-f", "null", "-")
}
