package erase

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"mps/ai/ocrbox"
	"mps/internal/aispec"
	"mps/internal/testutil"
)

// TestEraseFromOCR burns a boxed line of text into moving gradients from 1.5 to
// 5.5 s, erases with from_ocr, and checks that the report names the line
// over the samples that saw it, that tesseract reads the line in the
// input at 3 s and nothing in the output.
func TestEraseFromOCR(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "tesseract")
	dir := t.TempDir()
	in := filepath.Join(dir, "text.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "gradients=s=640x360:r=25:d=8:speed=0.05:seed=1", "-vf",
		"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='CONFIDENTIAL INVOICE 4821':"+
			"fontsize=32:fontcolor=white:box=1:boxcolor=black:boxborderw=10:x=60:y=150:enable='between(t,1.5,5.5)'",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", in)
	res, err := runErase(t, &aispec.Erase{FromOCR: true, Margin: 12}, in, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(res.Report, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Boxes) != 1 || rep.Boxes[0].Start != 1 || rep.Boxes[0].End != 5 || rep.Boxes[0].W < 400 {
		t.Fatalf("erased boxes %+v, want the text line over 1-5 s", rep.Boxes)
	}
	read := func(file, png string) []aispec.ROIBox {
		png = filepath.Join(dir, png)
		ffmpeg(t, "-ss", "3", "-i", file, "-frames:v", "1", "-vf", "format=gray", png)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		lines, err := ocrbox.Lines(ctx, png)
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
	if got := read(in, "in.png"); len(got) != 1 {
		t.Fatalf("input at 3 s: %d lines read, want the one", len(got))
	}
	if got := read(filepath.Join(dir, "out", "erase.mp4"), "erased.png"); len(got) != 0 {
		t.Errorf("erased output at 3 s still reads %+v", got)
	}
}
