package vod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/watermark"
)

func TestAdaptiveLadderPlays(t *testing.T) {
	for _, seg := range []string{"fmp4", "ts"} {
		t.Run(seg, func(t *testing.T) {
			spec := &AdaptiveSpec{SegmentSeconds: 2, SegmentType: seg, Rungs: []Rung{
				{Height: 240, VideoBitrate: "500k"},
				{Name: "low", Width: 160, Height: 120, VideoBitrate: "150k", AudioBitrate: "64k"},
			}}
			res, dir := runOp(t, Operation{Type: TypeAdaptive, Adaptive: spec}, testFile("h264_aac_1s_gop.mp4"))
			if res.Playlist != MasterPlaylist {
				t.Fatalf("playlist %q", res.Playlist)
			}
			master, err := os.ReadFile(filepath.Join(dir, MasterPlaylist))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"RESOLUTION=320x240", "RESOLUTION=160x120", "240p/index.m3u8", "low/index.m3u8"} {
				if !strings.Contains(string(master), want) {
					t.Errorf("master lacks %q:\n%s", want, master)
				}
			}
			playable(t, filepath.Join(dir, MasterPlaylist))
			for rung, w := range map[string]int{"240p": 320, "low": 160} {
				f := ffprobe(t, filepath.Join(dir, rung, "index.m3u8"))
				if f.width != w || f.video != "h264" || f.audio != "aac" || !near(f.duration, 6, 0.3) {
					t.Errorf("rung %s: %+v", rung, f)
				}
			}
			segs, _ := filepath.Glob(filepath.Join(dir, "low", "seg_*"))
			if len(segs) != 3 {
				t.Errorf("%d segments of 2 s, want 3", len(segs))
			}
		})
	}
}

// integratedLoudness measures a file's EBU R128 integrated loudness.
func integratedLoudness(t *testing.T, path string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostats", "-i", path, "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ebur128: %v", err)
	}
	m := regexp.MustCompile(`(?s)Summary:.*?I:\s+(-?[0-9.]+) LUFS`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no ebur128 summary in %s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestEnhanceLoudnorm normalises inputs of the kinds users have: a mono and
// a stereo clip with video at 44.1 kHz whose steady tone makes loudnorm
// leave linear mode, and quiet noise with audio_denoise. The test used to
// cover only the last, an audio-only 48 kHz input for which loudnorm stays
// in linear mode, so the dynamic-mode path that ffmpeg 5.1 could not
// negotiate a channel layout for ("Cannot select channel layout") never
// ran.
func TestEnhanceLoudnorm(t *testing.T) {
	quiet := generate(t, "quiet.m4a", "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.02:d=8:seed=7", "-f", "lavfi", "-i", "sine=f=330:d=8",
		"-filter_complex", "[1:a]volume=0.05,tremolo=f=0.5:d=0.9[s];[0:a][s]amix=2", "-c:a", "aac", "-b:a", "128k")
	// A steady tone measures a loudness range of 0, which takes loudnorm
	// out of linear mode (the path that failed).
	tone := func(name, layout, af string) string {
		return generate(t, name, "-f", "lavfi", "-i", "testsrc2=d=4:s=160x120:r=15", "-f", "lavfi", "-i", "sine=f=440:d=4:r=44100",
			"-af", af+"aformat=channel_layouts="+layout, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest")
	}
	for _, tc := range []struct {
		name      string
		in        string
		container string
		denoise   bool
		target    float64
		channels  int
		rate      int
		duration  float64
		video     string
	}{
		{"mono with video", tone("mono.mp4", "mono", ""), "", false, -16, 1, 44100, 4, "h264"},
		{"stereo with video", tone("stereo.mp4", "stereo", ""), "", false, -16, 2, 44100, 4, "h264"},
		{"stereo with video and audio_denoise", tone("stereo2.mp4", "stereo", ""), "", true, -23, 2, 44100, 4, "h264"},
		{"peaks over TP after gain", tone("peaks.mp4", "stereo", "volume=17dB,alimiter=limit=0.95,tremolo=f=1:d=0.95,"), "", false, -16, 2, 44100, 4, "h264"},
		{"quiet noise, audio only, denoised", quiet, "m4a", true, -16, 1, 48000, 8, ""},
		{"quiet noise to -23", quiet, "m4a", true, -23, 1, 48000, 8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := integratedLoudness(t, tc.in)
			e := &EnhanceSpec{Container: tc.container, Loudnorm: &LoudnormSpec{I: tc.target}, AudioDenoise: tc.denoise}
			e.Video.Preset = "ultrafast"
			res, _ := runOp(t, Operation{Type: TypeEnhance, Enhance: e}, tc.in)
			f := ffprobe(t, res.Files[0].Path)
			if f.audio != "aac" || f.video != tc.video || f.sampleRate != tc.rate || f.channels != tc.channels || !near(f.duration, tc.duration, 0.15) {
				t.Errorf("output %+v", f)
			}
			if got := integratedLoudness(t, res.Files[0].Path); !near(got, tc.target, 1) {
				t.Errorf("loudness %.2f LUFS, want %.0f ±1 (input %.1f)", got, tc.target, before)
			}
		})
	}
}

// TestFailedRunLeavesNothing cancels an encode while ffmpeg is writing:
// the output folder keeps what was there before and nothing else.
func TestFailedRunLeavesNothing(t *testing.T) {
	in := generate(t, "long.mp4", "-f", "lavfi", "-i", "testsrc2=d=6:s=160x120:r=15", "-c:v", "libx264", "-preset", "ultrafast")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	op := Operation{Type: TypeTranscode, Transcode: &TranscodeSpec{ReadRate: 1, Video: VideoSpec{Preset: "ultrafast"}}}
	_, err := op.Run(ctx, in, dir, func(pct float64) {
		if pct > 0 {
			if _, err := os.Stat(filepath.Join(dir, "transcode.mp4")); err == nil {
				cancel() // the output exists and is being written
			}
		}
	})
	if err == nil {
		t.Fatal("canceled run succeeded")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "keep.txt" {
		t.Errorf("after a failed run the folder holds %v, want only keep.txt", names)
	}
}

func TestEnhanceVideo(t *testing.T) {
	in := testFile("h264_aac_1s_gop.mp4")
	orig := meanLuma(rgbAt(t, in, 0.5, 320, 240))
	for _, tc := range []struct {
		name          string
		e             EnhanceSpec
		width, height int
		frames        int
		brighter      bool
	}{
		{"lanczos upscale, denoise, sharpen, deinterlace", EnhanceSpec{Upscale: &UpscaleSpec{Width: 640}, Denoise: "hqdn3d", Sharpen: "unsharp", Deinterlace: true}, 640, 480, 30, false},
		{"zscale, nlmeans, cas", EnhanceSpec{Upscale: &UpscaleSpec{Height: 360, Method: "zscale"}, Denoise: "nlmeans", Sharpen: "cas"}, 480, 360, 30, false},
		{"brighter, fps 15", EnhanceSpec{Brightness: f64(0.25), Contrast: f64(1.1), Saturation: f64(1.2), Gamma: f64(1.1), FPS: 15}, 320, 240, 15, true},
		{"interpolated fps 60", EnhanceSpec{FPS: 60, Interpolate: true}, 320, 240, 60, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Video.Preset = "ultrafast"
			res, _ := runOpWindow(t, Operation{Type: TypeEnhance, Enhance: &tc.e}, in)
			f := ffprobe(t, res.Files[0].Path)
			if f.width != tc.width || f.height != tc.height || f.video != "h264" || f.audio != "aac" {
				t.Errorf("got %+v, want %dx%d", f, tc.width, tc.height)
			}
			if f.frames < tc.frames-1 || f.frames > tc.frames+1 {
				t.Errorf("%d frames in 1 s, want %d", f.frames, tc.frames)
			}
			got := meanLuma(rgbAt(t, res.Files[0].Path, 0.5, 320, 240))
			if tc.brighter != (got > orig+20) {
				t.Errorf("mean brightness %.1f vs original %.1f (brighter expected: %v)", got, orig, tc.brighter)
			}
		})
	}
}

// runOpWindow runs op (an enhance) over the first second only, by wrapping
// it in a transcode that names it as an enhancement template.
func runOpWindow(t *testing.T, op Operation, in string) (Result, string) {
	e := *op.Enhance
	tr := Operation{Type: TypeTranscode, Transcode: &TranscodeSpec{End: "1s", Enhancements: []string{"e"}, Video: e.Video}}
	tr = tr.Bind(&Env{Enhancement: func(name string) (EnhanceSpec, error) {
		if name != "e" {
			return EnhanceSpec{}, errors.New("no such enhancement")
		}
		return e, nil
	}})
	return runOp(t, tr, in)
}

func solidPNG(t *testing.T, w, h int, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pixel is the RGB at x,y of a 320x240 RGB24 frame.
func pixel(rgb []byte, x, y int) (r, g, b int) {
	i := (y*320 + x) * 3
	return int(rgb[i]), int(rgb[i+1]), int(rgb[i+2])
}

func TestWatermarkImageWindowAndText(t *testing.T) {
	logo := solidPNG(t, 40, 30, color.RGBA{255, 0, 0, 255})
	templates := map[string]watermark.Template{
		"logo":  {Type: watermark.TypeImage, Image: logo, Corner: watermark.TopRight, X: "10", Y: "10"},
		"label": {Type: watermark.TypeText, Text: "MPS 100%", Corner: watermark.BottomLeft, X: "8", Y: "8", FontSize: 28, FontColor: "white", Box: true, BoxColor: "black"},
	}
	env := &Env{Watermark: func(name string) (watermark.Template, error) {
		tpl, ok := templates[name]
		if !ok {
			return watermark.Template{}, fmt.Errorf("unknown watermark")
		}
		return tpl, nil
	}}
	in := testFile("h264_aac_1s_gop.mp4")
	op := Operation{Type: TypeWatermark, Watermark: &WatermarkSpec{Names: []string{"logo", "label"}, Start: "2s", End: "4s",
		Video: VideoSpec{Preset: "ultrafast", CRF: 15}}}.Bind(env)
	res, _ := runOp(t, op, in)
	out := res.Files[0].Path
	if f := ffprobe(t, out); f.width != 320 || !near(f.duration, 6, 0.1) {
		t.Fatalf("output %+v", f)
	}
	// The logo sits at x 270-309, y 10-39 (top-right, 10 px in).
	isRed := func(rgb []byte) bool {
		r, g, b := pixel(rgb, 290, 25)
		return r > 200 && g < 60 && b < 60
	}
	for _, sec := range []float64{1, 3, 5} {
		frame := rgbAt(t, out, sec, 320, 240)
		inWindow := sec > 2 && sec < 4
		if isRed(frame) != inWindow {
			r, g, b := pixel(frame, 290, 25)
			t.Errorf("at %.0fs logo pixel = %d,%d,%d; shown expected %v", sec, r, g, b, inWindow)
		}
		// The text box (black box, white glyphs) changes the bottom-left
		// corner only inside the window.
		src := rgbAt(t, in, sec, 320, 240)
		diff := regionDiff(frame, src, 8, 200, 100, 32)
		if (diff > 20) != inWindow {
			t.Errorf("at %.0fs text region differs by %.1f from the source; shown expected %v", sec, diff, inWindow)
		}
	}
	// An unknown name fails the operation with the name in the error.
	bad := Operation{Type: TypeWatermark, Watermark: &WatermarkSpec{Names: []string{"nope"}}}.Bind(env)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := bad.Run(ctx, in, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown watermark: %v", err)
	}
	if _, err := (Operation{Type: TypeWatermark, Watermark: &WatermarkSpec{Names: []string{"logo"}}}).Run(ctx, in, t.TempDir(), nil); !errors.Is(err, ErrNoResolver) {
		t.Errorf("unbound watermark: %v", err)
	}
}

// regionDiff is the mean absolute RGB difference of two 320-wide frames
// over a w x h region at x,y.
func regionDiff(a, b []byte, x, y, w, h int) float64 {
	var sum float64
	for yy := y; yy < y+h; yy++ {
		for xx := x; xx < x+w; xx++ {
			for c := range 3 {
				i := (yy*320+xx)*3 + c
				d := int(a[i]) - int(b[i])
				if d < 0 {
					d = -d
				}
				sum += float64(d)
			}
		}
	}
	return sum / float64(w*h*3)
}
