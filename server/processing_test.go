package server

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/dash"
	"mps/internal/testutil"
	"mps/protocols/webrtc/webrtctest"
)

// makeSource writes an 8 s 640x360 30 fps H.264/AAC file with a 1 s GOP.
func makeSource(t *testing.T, ctx context.Context) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "src.mp4")
	cmd, stderr := ffmpeg(ctx, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=48000",
		"-t", "8", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-pix_fmt", "yuv420p", "-b:v", "1M",
		"-c:a", "aac", "-b:a", "64k", out)
	if err := cmd.Run(); err != nil {
		t.Fatalf("make source: %v %s", err, stderr)
	}
	return out
}

// TestLiveProcessing publishes one RTMP source whose path rule has a
// three-rung ladder and snapshots, and checks through the server what a
// viewer and an operator see: the rung paths at their sizes, a multivariant
// HLS playlist that hls.js in Chromium plays with three levels, snapshots
// of the configured width, and WebRTC players of the AAC source getting
// Opus audio that decodes to sound.
func TestLiveProcessing(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := allProtocolsConfig(t)
	cfg.RTSP.Enabled, cfg.SRT.Enabled = false, false
	cfg.Transcode.Ladders = map[string]config.Ladder{"small": {GOP: config.Duration(time.Second), Rungs: []config.Rung{
		{Name: "360p", Height: 360, VideoBitrate: 600_000, Preset: "ultrafast", Codec: "h264", AudioCodec: "aac", AudioBitrate: 64_000},
		{Name: "240p", Height: 240, VideoBitrate: 300_000, Preset: "ultrafast", Codec: "h264", AudioCodec: "aac", AudioBitrate: 64_000},
		{Name: "180p", Height: 180, VideoBitrate: 150_000, Preset: "ultrafast", Codec: "h264", AudioCodec: "aac", AudioBitrate: 64_000},
	}}}
	on, width, interval := true, 160, config.Duration(2*time.Second)
	cfg.Paths = []config.PathRule{{Name: "live/abr", Transcode: "small",
		Snapshots: &config.SnapshotsOverride{Enabled: &on, Width: &width, Interval: &interval}}}
	s := startServer(t, cfg)
	publishRTMP(t, ctx, makeSource(t, ctx), "rtmp://"+s.RTMPAddr()+"/live/abr", true)

	for _, r := range []struct {
		name string
		h    int
	}{{"360p", 360}, {"240p", 240}, {"180p", 180}} {
		testutil.WaitFor(t, 30*time.Second, "rung "+r.name, func() bool { return s.Paths().Get("live/abr/"+r.name) != nil })
		codec, w, h, frames := probeFrames(t, ctx, "rtmp://"+s.RTMPAddr()+"/live/abr/"+r.name, 30)
		if codec != "h264" || h != r.h || w != r.h*16/9 || frames < 30 {
			t.Errorf("rung %s: %s %dx%d %d frames", r.name, codec, w, h, frames)
		}
	}
	var tcs struct {
		Transcoders []struct {
			Path, State string
			Restarts    int
		}
	}
	getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/transcoders", &tcs)
	if len(tcs.Transcoders) != 1 || tcs.Transcoders[0].Path != "live/abr" {
		t.Errorf("transcoders %+v", tcs)
	}

	// multivariant HLS of the rungs
	mv := fetch(t, "http://"+s.HTTPAddr()+"/hls/live/abr/index.m3u8")
	res := regexp.MustCompile(`RESOLUTION=(\d+x\d+)`).FindAllStringSubmatch(mv, -1)
	if len(res) != 3 || !strings.Contains(mv, "BANDWIDTH=") || !strings.Contains(mv, "avc1.") {
		t.Fatalf("multivariant playlist:\n%s", mv)
	}
	_, file, _, _ := runtime.Caller(0)
	var out, stderr bytes.Buffer
	node := exec.CommandContext(ctx, "node", filepath.Join(filepath.Dir(file), "..", "hls", "browsertest", "play.mjs"),
		"http://"+s.HTTPAddr()+"/hls/live/abr/index.m3u8", "--seconds", "4")
	node.Stdout, node.Stderr = &out, &stderr
	if err := node.Run(); err != nil {
		t.Fatalf("hls.js harness: %v\n%s", err, stderr.String())
	}
	var rep struct {
		Fatal   []string
		Levels  int
		Samples []struct{ T float64 }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("harness report %q: %v", out.String(), err)
	}
	if len(rep.Fatal) > 0 || rep.Levels != 3 || len(rep.Samples) == 0 || rep.Samples[len(rep.Samples)-1].T < 2 {
		t.Fatalf("hls.js: %d levels, fatal %v, samples %v; want 3 levels playing", rep.Levels, rep.Fatal, rep.Samples)
	}
	checkLadderDASH(t, ctx, "http://"+s.HTTPAddr()+"/hls/live/abr/index.mpd")

	// snapshots of the source at the configured width
	testutil.WaitFor(t, 20*time.Second, "a snapshot", func() bool {
		resp, err := http.Get("http://" + s.HTTPAddr() + "/snapshots/live/abr/latest.jpg")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		c, err := jpeg.DecodeConfig(resp.Body)
		if err != nil {
			t.Fatalf("latest.jpg: %v", err)
		}
		if c.Width != 160 {
			t.Fatalf("snapshot width %d, want 160", c.Width)
		}
		return true
	})

	// WHEP of the AAC source: Opus audio that decodes to sound, and video
	p, err := webrtctest.Play(ctx, "http://"+s.HTTPAddr()+"/webrtc/live/abr/whep", webrtctest.PlayOptions{})
	if err != nil {
		t.Fatalf("WHEP: %v", err)
	}
	defer p.Close()
	if err := p.WaitFrames(ctx, 60); err != nil {
		t.Fatalf("WHEP video: %v", err)
	}
	testutil.WaitFor(t, 10*time.Second, "Opus packets", func() bool { return p.AudioPackets() >= 100 })
	ogg := filepath.Join(t.TempDir(), "a.ogg")
	if _, err := p.WriteOgg(ogg); err != nil {
		t.Fatal(err)
	}
	vol, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-i", ogg, "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	m := regexp.MustCompile(`mean_volume: (-?[\d.]+) dB`).FindSubmatch(vol)
	if err != nil || m == nil {
		t.Fatalf("decode Opus: %v\n%s", err, vol)
	}
	if db, _ := strconv.ParseFloat(string(m[1]), 64); db < -60 {
		t.Fatalf("Opus audio mean volume %.1f dB: silence", db)
	}
}

// TestTranscodeOnDemand checks that a path whose rule says
// transcode_on_demand runs no ffmpeg until a player asks for a rung, that
// the player then gets the rung, and that the ladder stops once the rungs
// have had no reader for transcode_close_after.
func TestTranscodeOnDemand(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Transcode.Ladders = map[string]config.Ladder{"one": {GOP: config.Duration(time.Second), Rungs: []config.Rung{
		{Name: "240p", Height: 240, VideoBitrate: 300_000, Preset: "ultrafast", Codec: "h264", AudioCodec: "aac", AudioBitrate: 64_000},
	}}}
	cfg.Paths = []config.PathRule{{Name: "live/od", Transcode: "one", TranscodeOnDemand: true,
		TranscodeCloseAfter: config.Duration(2 * time.Second)}}
	s := startServer(t, cfg)
	publishRTMP(t, ctx, makeSource(t, ctx), "rtmp://"+s.RTMPAddr()+"/live/od", true)
	testutil.WaitFor(t, 10*time.Second, "source", func() bool { return s.Paths().Get("live/od") != nil })
	running := func() int {
		var tcs struct{ Transcoders []any }
		getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/transcoders", &tcs)
		return len(tcs.Transcoders)
	}
	time.Sleep(time.Second)
	if n := running(); n != 0 || s.Paths().Get("live/od/240p") != nil {
		t.Fatalf("on-demand ladder running with no reader (%d transcoders)", n)
	}
	codec, w, h, frames := probeFrames(t, ctx, "rtmp://"+s.RTMPAddr()+"/live/od/240p", 30)
	if codec != "h264" || w != 426 || h != 240 || frames < 30 {
		t.Fatalf("rung on demand: %s %dx%d %d frames", codec, w, h, frames)
	}
	testutil.WaitFor(t, 15*time.Second, "idle ladder stopped", func() bool {
		return running() == 0 && s.Paths().Get("live/od/240p") == nil
	})
}

// checkLadderDASH reads a live ladder's MPEG-DASH manifest (the rungs as
// representations of one adaptation set over the HLS segments) and plays
// it with dash.js in Chromium.
func checkLadderDASH(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	m, err := dash.Parse([]byte(fetch(t, url)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "dynamic" || len(m.Periods) != 1 || len(m.Periods[0].AdaptationSets) != 1 {
		t.Fatalf("MPD: %+v", m)
	}
	var heights []int
	for _, r := range m.Periods[0].AdaptationSets[0].Representations {
		heights = append(heights, r.Height)
	}
	if len(heights) != 3 {
		t.Fatalf("MPD representation heights %v, want the 3 rungs", heights)
	}
	r := testutil.PlayDASH(t, ctx, url, 5)
	r.CheckPlayed(t, 1.5, 30)
	if n := len(r.Reps["video"]); n != 3 {
		t.Errorf("dash.js sees %d video representations, want 3", n)
	}
}
