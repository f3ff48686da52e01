package ocrbox

import (
	"context"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
)

// textClip writes 8 s of 640x360 moving gradients with a boxed white
// line "CONFIDENTIAL INVOICE 4821" at (60, 150) from 1.5 to 5.5 s.
func textClip(t *testing.T) string {
	t.Helper()
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "tesseract")
	out := filepath.Join(t.TempDir(), "text.mp4")
	vf := "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='CONFIDENTIAL INVOICE 4821':" +
		"fontsize=32:fontcolor=white:box=1:boxcolor=black:boxborderw=10:x=60:y=150:enable='between(t,1.5,5.5)'"
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
		"gradients=s=640x360:r=25:d=8:speed=0.05:seed=1", "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	return out
}

// TestFindTextLine reads the clip every 2 s: the samples at 2 and 4 s
// hold one line box around the text, merged into one range 1-5 s; the
// samples at 0 and 6 s hold none; the ranges cover the file in order.
func TestFindTextLine(t *testing.T) {
	in := textClip(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ranges, err := Find(ctx, in, 8, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", ranges)
	if len(ranges) != 3 {
		t.Fatalf("%d ranges, want none-text-none", len(ranges))
	}
	if ranges[0].Start != 0 || ranges[2].End != 8 || ranges[0].End != ranges[1].Start || ranges[1].End != ranges[2].Start {
		t.Errorf("ranges do not cover 0-8 s in order")
	}
	if len(ranges[0].Boxes) != 0 || len(ranges[2].Boxes) != 0 {
		t.Errorf("text found where there is none")
	}
	r := ranges[1]
	if r.Start != 1 || r.End != 5 || len(r.Boxes) != 1 {
		t.Fatalf("text range %+v, want 1-5 s with one box", r)
	}
	// drawtext draws the line's box from (50, 140), about 480x45 with
	// its border; tesseract boxes the glyphs inside it.
	b := r.Boxes[0]
	if b.X < 50 || b.X > 70 || b.Y < 130 || b.Y > 160 || b.W < 400 || b.W > 500 || b.H < 18 || b.H > 50 {
		t.Errorf("box %+v, want the line at about (60,150) 460x25", b)
	}
}

// TestMerge unites face and text ranges.
func TestMerge(t *testing.T) {
	face := aispec.ROIBox{X: 1, Y: 1, W: 50, H: 50}
	text := aispec.ROIBox{X: 200, Y: 100, W: 300, H: 30}
	none := []aispec.ROIBox{}
	for _, tc := range []struct {
		name string
		a, b []aispec.ROIRange
		want []aispec.ROIRange
	}{
		{"one side empty", nil, []aispec.ROIRange{{Start: 0, End: 4, Boxes: none}}, []aispec.ROIRange{{Start: 0, End: 4, Boxes: none}}},
		{"overlapping",
			[]aispec.ROIRange{{Start: 0, End: 3, Boxes: []aispec.ROIBox{face}}, {Start: 3, End: 8, Boxes: none}},
			[]aispec.ROIRange{{Start: 0, End: 1, Boxes: none}, {Start: 1, End: 5, Boxes: []aispec.ROIBox{text}}, {Start: 5, End: 8, Boxes: none}},
			[]aispec.ROIRange{{Start: 0, End: 1, Boxes: []aispec.ROIBox{face}}, {Start: 1, End: 3, Boxes: []aispec.ROIBox{face, text}},
				{Start: 3, End: 5, Boxes: []aispec.ROIBox{text}}, {Start: 5, End: 8, Boxes: []aispec.ROIBox{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Merge(tc.a, tc.b); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
