package vod

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTranscodeCodecsAndContainers(t *testing.T) {
	in := testFile("h264_aac_1s_gop.mp4")
	for _, tc := range []struct {
		name          string
		spec          TranscodeSpec
		video, audio  string
		width, height int
		duration      float64
	}{
		{"h265 mkv half size clipped", TranscodeSpec{Container: "mkv", Video: VideoSpec{Codec: "h265", Width: 160}, Start: "1s", End: "3s"},
			"hevc", "aac", 160, 120, 2},
		{"h264 mp4 cbr gop bframes fps", TranscodeSpec{Video: VideoSpec{Codec: "h264", Height: 180, FPS: 15, GOPSeconds: 2, BFrames: intp(2), RateControl: "cbr", Bitrate: "300k"},
			Audio: AudioSpec{Codec: "aac", Bitrate: "64k", SampleRate: 44100, Channels: 1}},
			"h264", "aac", 240, 180, 6},
		{"vp9 opus webm clip", TranscodeSpec{Container: "webm", Video: VideoSpec{Width: 160, Height: 120}, End: "1.5s"},
			"vp9", "opus", 160, 120, 1.5},
		{"av1 mp4 clip", TranscodeSpec{Container: "mp4", Video: VideoSpec{Codec: "av1", Width: 160}, Audio: AudioSpec{Codec: "none"}, End: "1s"},
			"av1", "", 160, 120, 1},
		{"audio only mp3", TranscodeSpec{Container: "mp3", Audio: AudioSpec{Bitrate: "96k"}}, "", "mp3", 0, 0, 6},
		{"audio only flac", TranscodeSpec{Container: "flac", End: "2s"}, "", "flac", 0, 0, 2},
		{"copy into ts", TranscodeSpec{Container: "ts", Video: VideoSpec{Codec: "copy"}, Audio: AudioSpec{Codec: "copy"}}, "h264", "aac", 320, 240, 6},
		{"blur fill to square", TranscodeSpec{Video: VideoSpec{Width: 240, Height: 240, Fill: "blur"}, End: "1s"}, "h264", "aac", 240, 240, 1},
		{"stretch", TranscodeSpec{Video: VideoSpec{Width: 200, Height: 100, Fill: "stretch"}, End: "1s"}, "h264", "aac", 200, 100, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := runOp(t, Operation{Type: TypeTranscode, Transcode: &tc.spec}, in)
			if len(res.Files) != 1 {
				t.Fatalf("files = %+v, want 1", res.Files)
			}
			f := ffprobe(t, res.Files[0].Path)
			if f.video != tc.video || f.audio != tc.audio || f.width != tc.width || f.height != tc.height {
				t.Errorf("got %s/%s %dx%d, want %s/%s %dx%d", f.video, f.audio, f.width, f.height, tc.video, tc.audio, tc.width, tc.height)
			}
			if !near(f.duration, tc.duration, 0.15) {
				t.Errorf("duration %.3f, want %.3f", f.duration, tc.duration)
			}
			r := res.Files[0]
			if r.VideoCodec != tc.video || r.AudioCodec != tc.audio || r.Width != tc.width || r.Size == 0 || !near(r.Duration, f.duration, 0.01) {
				t.Errorf("result facts %+v disagree with ffprobe %+v", r, f)
			}
		})
	}
}

func TestTranscodeSettingsReachTheEncoder(t *testing.T) {
	spec := TranscodeSpec{Video: VideoSpec{GOPFrames: 10, BFrames: intp(0), FPS: 10}, Audio: AudioSpec{SampleRate: 22050, Channels: 1}, End: "2s"}
	res, _ := runOp(t, Operation{Type: TypeTranscode, Transcode: &spec}, testFile("h264_aac_1s_gop.mp4"))
	f := ffprobe(t, res.Files[0].Path)
	if f.frames != 20 {
		t.Errorf("frames = %d, want 20 (2 s at 10 fps)", f.frames)
	}
	if f.sampleRate != 22050 || f.channels != 1 {
		t.Errorf("audio %d Hz x%d, want 22050 x1", f.sampleRate, f.channels)
	}
	// Keyframes every 10 frames: 2 in 20 frames.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0", res.Files[0].Path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if k := strings.Count(string(out), "K"); k != 2 {
		t.Errorf("%d keyframes, want 2", k)
	}
}

func TestTranscodeHLSPlays(t *testing.T) {
	for _, seg := range []string{"ts", "fmp4"} {
		t.Run(seg, func(t *testing.T) {
			spec := TranscodeSpec{Container: "hls", HLS: HLSSpec{SegmentSeconds: 2, SegmentType: seg}, Video: VideoSpec{GOPSeconds: 1}}
			res, dir := runOp(t, Operation{Type: TypeTranscode, Name: "vod", Transcode: &spec}, testFile("h264_aac_1s_gop.mp4"))
			if res.Playlist != "vod.m3u8" {
				t.Fatalf("playlist %q", res.Playlist)
			}
			playable(t, filepath.Join(dir, res.Playlist))
			f := ffprobe(t, filepath.Join(dir, res.Playlist))
			if f.video != "h264" || !near(f.duration, 6, 0.2) {
				t.Errorf("hls reads as %+v", f)
			}
		})
	}
}

// playable decodes a whole file with -xerror: any decode error fails.
func playable(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil || len(b) > 0 {
		t.Fatalf("%s does not play cleanly: %v %s", path, err, b)
	}
}

func TestRemux(t *testing.T) {
	for _, c := range []string{"mkv", "ts", "mp4"} {
		t.Run(c, func(t *testing.T) {
			res, _ := runOp(t, Operation{Type: TypeRemux, Remux: &RemuxSpec{Container: c}}, testFile("h264_bframes.mp4"))
			f := ffprobe(t, res.Files[0].Path)
			if f.video != "h264" || f.audio != "aac" || f.width != 320 || !near(f.duration, 4, 0.1) || f.frames != 120 {
				t.Errorf("remuxed %s: %+v", c, f)
			}
			playable(t, res.Files[0].Path)
		})
	}
}

func TestProbeOperation(t *testing.T) {
	res, dir := runOp(t, Operation{Type: TypeProbe}, testFile("h264_aac_1s_gop.mp4"))
	if !strings.Contains(string(res.Probe), `"codec_name": "h264"`) || !strings.Contains(string(res.Probe), `"format_name"`) {
		t.Errorf("probe JSON lacks streams/format: %.200s", res.Probe)
	}
	b, err := os.ReadFile(filepath.Join(dir, "probe.json"))
	if err != nil || len(b) != len(res.Probe) {
		t.Errorf("probe.json: %v (%d bytes)", err, len(b))
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(text, []byte("this is not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(testFile("h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mp4")
	if err := os.WriteFile(truncated, whole[:len(whole)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	op := Operation{Type: TypeTranscode, Transcode: &TranscodeSpec{}}
	for in, want := range map[string]error{text: ErrNotMedia, truncated: ErrCorrupt, filepath.Join(dir, "missing.mp4"): ErrNotMedia} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := op.Run(ctx, in, t.TempDir(), nil)
		cancel()
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", filepath.Base(in), err, want)
		}
	}
	for _, bad := range []Operation{
		{Type: "explode"},
		{},
		{Type: TypeTranscode},
		{Type: TypeTranscode, Transcode: &TranscodeSpec{Container: "avi"}},
		{Type: TypeTranscode, Transcode: &TranscodeSpec{Container: "webm", Video: VideoSpec{Codec: "h264"}}},
		{Type: TypeTranscode, Transcode: &TranscodeSpec{Video: VideoSpec{RateControl: "vbr"}}},
		{Type: TypeTranscode, Transcode: &TranscodeSpec{Start: "banana"}},
		{Type: TypeSnapshot, Snapshot: &SnapshotSpec{Times: []Offset{"150%"}}},
		{Type: TypeAdaptive, Adaptive: &AdaptiveSpec{Rungs: []Rung{{Name: "../x", Height: 100, VideoBitrate: "1M"}}}},
		{Type: TypeEnhance, Enhance: &EnhanceSpec{Denoise: "magic"}},
		{Type: TypeWatermark, Watermark: &WatermarkSpec{}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", bad)
		}
	}
	// A clip window past the end fails with a clear message.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = Operation{Type: TypeTranscode, Transcode: &TranscodeSpec{Start: "10s"}}.Run(ctx, testFile("h264_aac_1s_gop.mp4"), t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("start past end: %v", err)
	}
}

func TestCancelKillsFFmpeg(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	op := Operation{Type: TypeTranscode, Transcode: &TranscodeSpec{ReadRate: 1}}
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		_, err := op.Run(ctx, testFile("h264_aac_1s_gop.mp4"), t.TempDir(), func(p float64) {
			if p > 0 {
				select {
				case started <- struct{}{}:
				default:
				}
			}
		})
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("no progress")
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The input plays for 6 s at read rate 1; returning well before that
	// means the child was killed, not waited for.
	if d := time.Since(t0); d > 4*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

func TestOffsets(t *testing.T) {
	for _, tc := range []struct {
		o    Offset
		want float64
	}{{"3.5", 3.5}, {"3.5s", 3.5}, {"1m30s", 90}, {"00:01:02.5", 62.5}, {"10%", 6}, {"", 0}} {
		got, err := tc.o.Seconds(60)
		if err != nil || !near(got, tc.want, 1e-9) {
			t.Errorf("%q = %v, %v; want %v", tc.o, got, err, tc.want)
		}
	}
	for _, bad := range []Offset{"-1", "x", "101%", "1:x"} {
		if _, err := bad.Seconds(60); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var o struct{ T Offset }
	if err := jsonUnmarshal(`{"T": 2.5}`, &o); err != nil || o.T != "2.5" {
		t.Errorf("number offset: %v %q", err, o.T)
	}
}
