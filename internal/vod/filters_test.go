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

func TestEnhanceLoudnorm(t *testing.T) {
	in := generate(t, "quiet.m4a", "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.02:d=8:seed=7", "-f", "lavfi", "-i", "sine=f=330:d=8",
		"-filter_complex", "[1:a]volume=0.05,tremolo=f=0.5:d=0.9[s];[0:a][s]amix=2", "-c:a", "aac", "-b:a", "128k")
	before := integratedLoudness(t, in)
	if before > -28 {
		t.Fatalf("test input is too loud already: %.1f LUFS", before)
	}
	for _, target := range []float64{-16, -23} {
		op := Operation{Type: TypeEnhance, Enhance: &EnhanceSpec{Container: "m4a", Loudnorm: &LoudnormSpec{I: target}, AudioDenoise: true}}
		res, _ := runOp(t, op, in)
		f := ffprobe(t, res.Files[0].Path)
		if f.audio != "aac" || f.video != "" || f.sampleRate != 48000 || !near(f.duration, 8, 0.1) {
			t.Errorf("output %+v", f)
		}
		if got := integratedLoudness(t, res.Files[0].Path); !near(got, target, 1) {
			t.Errorf("loudness %.2f LUFS, want %.0f ±1 (input %.1f)", got, target, before)
		}
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
