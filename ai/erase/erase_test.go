package erase

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
	"mps/internal/vod"
)

const w, h = 320, 180

func ffmpeg(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v", args, err)
	}
	return out
}

// gray is the luma of the frame at ts seconds.
func gray(t *testing.T, file string, ts string) []byte {
	return ffmpeg(t, "-ss", ts, "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
}

// diff is the mean absolute difference of two frames inside the box.
func diff(a, b []byte, bx aispec.EraseBox) float64 {
	return meanDiff(a, b, func(x, y int) bool { return inBox(bx, 0, x, y) })
}

// diffOutside is the mean absolute difference outside all boxes (grown by
// 8 px, the border delogo blends).
func diffOutside(a, b []byte, boxes ...aispec.EraseBox) float64 {
	return meanDiff(a, b, func(x, y int) bool {
		for _, bx := range boxes {
			if inBox(bx, 8, x, y) {
				return false
			}
		}
		return true
	})
}

func inBox(bx aispec.EraseBox, m, x, y int) bool {
	return x >= bx.X-m && x < bx.X+bx.W+m && y >= bx.Y-m && y < bx.Y+bx.H+m
}

func meanDiff(a, b []byte, use func(x, y int) bool) float64 {
	var sum, n float64
	for y := range h {
		for x := range w {
			if !use(x, y) {
				continue
			}
			d := float64(a[y*w+x]) - float64(b[y*w+x])
			sum += max(d, -d)
			n++
		}
	}
	return sum / n
}

func runErase(t *testing.T, spec *aispec.Erase, input, out string) (vod.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := vod.Operation{Type: vod.TypeErase, Erase: spec}
	env := &vod.Env{Extensions: map[string]vod.Extension{vod.TypeErase: Extension{}}}
	return op.Bind(env).Run(ctx, input, out, nil)
}

// TestErase burns a white "LOGO" box into testsrc2 for the whole clip
// and a second one from 1 s to 2 s, erases them (the second through a roi
// report), and checks by pixels that the boxes are gone (close to the
// clean picture, far from the logo) only in their time ranges, that the
// rest of the picture is untouched, and that the audio is kept.
func TestErase(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	clean, logo := filepath.Join(dir, "clean.mp4"), filepath.Join(dir, "logo.mp4")
	src := "testsrc2=s=320x180:r=25:d=3"
	ffmpeg(t, "-f", "lavfi", "-i", src, "-c:v", "libx264", "-crf", "10", clean)
	ffmpeg(t, "-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=d=3", "-vf",
		"drawbox=x=230:y=10:w=70:h=30:color=white:t=fill,drawbox=x=20:y=120:w=60:h=40:color=yellow:t=fill:enable='between(t,1,2)'",
		"-c:v", "libx264", "-crf", "10", "-c:a", "aac", logo)
	permanent := aispec.EraseBox{X: 230, Y: 10, W: 70, H: 30}
	timed := aispec.EraseBox{X: 20, Y: 120, W: 60, H: 40, Start: 1, End: 2}
	roiJSON, _ := json.Marshal(aispec.ROIReport{Width: w, Height: h, Ranges: []aispec.ROIRange{
		{Start: 0, End: 1}, {Start: 1, End: 2, Boxes: []aispec.ROIBox{{X: 20, Y: 120, W: 60, H: 40}}}, {Start: 2, End: 3}}})
	if err := os.MkdirAll(filepath.Join(dir, "out", "roi"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out", "roi", "roi.json"), roiJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := runErase(t, &aispec.Erase{Boxes: []aispec.EraseBox{permanent}, FromROI: "roi/roi.json", Margin: 2}, logo, filepath.Join(dir, "out", "erase"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "erase", "erase.mp4")
	if len(res.Files) != 1 || res.Files[0].AudioCodec != "aac" || res.Files[0].Width != w {
		t.Errorf("files %+v", res.Files)
	}
	for _, tc := range []struct {
		name   string
		ts     string
		box    aispec.EraseBox
		erased bool
	}{
		{"permanent box at 0.5 s", "0.5", permanent, true},
		{"permanent box at 2.5 s", "2.5", permanent, true},
		{"timed box inside its range", "1.5", timed, true},
		{"timed area before its range", "0.5", timed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, l, e := gray(t, clean, tc.ts), gray(t, logo, tc.ts), gray(t, out, tc.ts)
			logoGap, eraseGap := diff(l, c, tc.box), diff(e, c, tc.box)
			if tc.erased && (logoGap < 30 || eraseGap > logoGap/2) {
				t.Errorf("box differs from the clean picture by %.1f with the logo, %.1f erased", logoGap, eraseGap)
			}
			if !tc.erased && eraseGap > 3 {
				t.Errorf("area outside its time range changed by %.1f", eraseGap)
			}
			if d := diffOutside(e, l, permanent, timed); d > 3 {
				t.Errorf("picture outside the boxes changed by %.1f", d)
			}
		})
	}
}

// TestEraseBadInput checks the clear errors.
func TestEraseBadInput(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	audio, video := filepath.Join(dir, "a.m4a"), filepath.Join(dir, "v.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", audio)
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:d=1", "-c:v", "libx264", video)
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"clips": []}`), 0o644)
	for _, tc := range []struct {
		name, input string
		spec        aispec.Erase
		want        string
	}{
		{"no video", audio, aispec.Erase{Boxes: []aispec.EraseBox{{X: 1, Y: 1, W: 5, H: 5}}}, "no video track"},
		{"box outside", video, aispec.Erase{Boxes: []aispec.EraseBox{{X: 900, Y: 900, W: 5, H: 5}}}, "no box lies inside"},
		{"not a roi report", video, aispec.Erase{FromROI: filepath.Base(bad)}, "not a roi report"},
		{"no boxes", video, aispec.Erase{}, "no boxes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runErase(t, &tc.spec, tc.input, filepath.Join(dir, "out"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
