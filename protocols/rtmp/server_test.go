package rtmp

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// Two ffmpeg readers wait for the path, ffmpeg publishes the 6 s file, and
// both readers get every frame, decodable, and exit when the publisher ends.
func TestPublishPlayFFmpeg(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, _ := startServer(t, nil, Config{PlayWait: 20 * time.Second})
	url := rtmpURLOf(s, "live/cam1")

	r1, out1 := readToFile(t, ctx, url)
	r2, out2 := readToFile(t, ctx, url+"?user=viewer")
	time.Sleep(500 * time.Millisecond) // let the readers connect first
	pub := publishFile(t, ctx, fileGOP, url)
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	for i, r := range []*proc{r1, r2} {
		if err := r.wait(t, 5*time.Second); err != nil {
			t.Errorf("reader %d: %v: %s", i, err, r.stderr)
		}
		t.Logf("reader %d exited %v after the publisher", i, r.ended.Sub(pub.ended))
	}
	for _, out := range []string{out1, out2} {
		st := probe(t, out)
		v, a := st["video"], st["audio"]
		if v.CodecName != "h264" || a.CodecName != "aac" {
			t.Fatalf("%s: codecs %q/%q, want h264/aac", out, v.CodecName, a.CodecName)
		}
		if v.Width != 320 || v.Height != 240 {
			t.Errorf("%s: %dx%d, want 320x240", out, v.Width, v.Height)
		}
		if n := frames(t, v); n != 180 {
			t.Errorf("%s: %d video frames, want 180", out, n)
		}
		decodeClean(t, out)
	}
}

// A reader joining mid-stream starts at a key frame and decodes cleanly.
func TestPlayJoinsMidStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, hub := startServer(t, nil, Config{})
	url := rtmpURLOf(s, "live/mid")
	pub := publishFile(t, ctx, fileGOP, url)
	waitPath(t, hub, "live/mid")
	time.Sleep(2500 * time.Millisecond)
	r, out := readToFile(t, ctx, url)
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatalf("reader: %v: %s", err, r.stderr)
	}
	st := probe(t, out)
	if n := frames(t, st["video"]); n < 30 || n >= 180 {
		t.Errorf("mid-stream reader got %d frames, want a part of the 180 from a later key frame", n)
	}
	if !firstVideoFrameIsKey(t, out) {
		t.Error("first frame of a mid-stream reader is not a key frame")
	}
	decodeClean(t, out)
}

// B-frames keep their composition times: ffprobe sees reordering, DTS
// grows monotonically and some PTS differ from their DTS.
func TestPlayKeepsBFrames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, _ := startServer(t, nil, Config{PlayWait: 20 * time.Second})
	url := rtmpURLOf(s, "live/bf")
	r, out := readToFile(t, ctx, url)
	time.Sleep(300 * time.Millisecond)
	pub := publishFile(t, ctx, fileBFrames, url)
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatalf("reader: %v: %s", err, r.stderr)
	}
	st := probe(t, out)
	if st["video"].HasBFrames == 0 {
		t.Error("has_b_frames = 0 after RTMP")
	}
	if n := frames(t, st["video"]); n != 120 {
		t.Errorf("%d frames, want 120", n)
	}
	decodeClean(t, out)
	pcmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts", "-of", "csv=p=0", out)
	b, err := pcmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	prev, reordered := int64(-1<<62), 0
	for _, line := range strings.Fields(string(b)) {
		var pts, dts int64
		if _, err := fmt.Sscanf(line, "%d,%d", &pts, &dts); err != nil {
			t.Fatalf("packet line %q: %v", line, err)
		}
		if dts <= prev {
			t.Errorf("DTS %d after %d: not monotonic", dts, prev)
		}
		prev = dts
		if pts != dts {
			reordered++
		}
	}
	if reordered == 0 {
		t.Error("every packet has PTS == DTS: composition times were lost")
	}
}

// A second publisher is refused while the first one keeps streaming.
func TestSecondPublisherRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, hub := startServer(t, nil, Config{})
	url := rtmpURLOf(s, "live/busy")
	pub1 := publishFile(t, ctx, fileGOP, url)
	waitPath(t, hub, "live/busy")
	first := hub.Get("live/busy")
	pub2 := publishFile(t, ctx, fileGOP, url)
	if err := pub2.wait(t, 10*time.Second); err == nil {
		t.Fatal("second publisher exited successfully; want a refusal")
	}
	t.Logf("second publisher refused: %s", strings.TrimSpace(pub2.stderr.String()))
	if hub.Get("live/busy") != first {
		t.Fatal("the first publisher's stream was replaced")
	}
	select {
	case err := <-pub1.done:
		t.Fatalf("first publisher ended early: %v: %s", err, pub1.stderr)
	default:
	}
	cancel()
}

// With OverridePublisher the new publisher takes over: the old ffmpeg is
// hung up and a new reader gets the new stream.
func TestPublisherOverride(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, hub := startServer(t, func(string) pathmgr.Policy { return pathmgr.Policy{OverridePublisher: true} }, Config{})
	url := rtmpURLOf(s, "live/over")
	pub1 := publishFile(t, ctx, fileGOP, url)
	waitPath(t, hub, "live/over")
	first := hub.Get("live/over")
	pub2 := publishFile(t, ctx, fileBFrames, url)
	if err := pub1.wait(t, 10*time.Second); err == nil {
		t.Error("old publisher exited cleanly; want it hung up")
	}
	second := hub.Get("live/over")
	if second == nil || second == first {
		t.Fatal("the new publisher did not take over")
	}
	r, out := readToFile(t, ctx, url)
	if err := pub2.wait(t, 30*time.Second); err != nil {
		t.Fatalf("new publisher: %v: %s", err, pub2.stderr)
	}
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatalf("reader: %v: %s", err, r.stderr)
	}
	st := probe(t, out)
	if st["video"].HasBFrames == 0 || frames(t, st["video"]) == 0 {
		t.Errorf("reader did not get the new (B-frame) stream: %+v", st["video"])
	}
}

func waitPath(t *testing.T, hub *pathmgr.Manager, path string) *stream.Stream {
	t.Helper()
	for i := 0; i < 200; i++ {
		if s := hub.Get(path); s != nil {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("path %s never published", path)
	return nil
}
