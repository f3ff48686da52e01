package roi

import (
	"path/filepath"
	"testing"

	"mps/internal/aispec"
	"mps/internal/testutil"
)

// TestROIText runs roi with text on a clip of moving gradients (no face)
// with a boxed line of text from 1.5 to 5.5 s: the report holds the
// line's box over 1-5 s and nothing else, and the ROI encode runs.
func TestROIText(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "tesseract")
	dir := t.TempDir()
	in := filepath.Join(dir, "text.mp4")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "gradients=s=640x360:r=25:d=8:speed=0.05:seed=1", "-vf",
		"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='CONFIDENTIAL INVOICE 4821':"+
			"fontsize=32:fontcolor=white:box=1:boxcolor=black:boxborderw=10:x=60:y=150:enable='between(t,1.5,5.5)'",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", in)
	res, rep, err := runROI(t, &aispec.ROI{Text: true, Encode: &aispec.ROIEncode{}}, in, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	var text []aispec.ROIRange
	for _, r := range rep.Ranges {
		if len(r.Boxes) > 0 {
			text = append(text, r)
		}
	}
	if len(text) != 1 || text[0].Start != 1 || text[0].End != 5 || len(text[0].Boxes) != 1 {
		t.Fatalf("ranges with boxes %+v, want the text line over 1-5 s", text)
	}
	if b := text[0].Boxes[0]; b.X < 50 || b.X > 70 || b.Y < 130 || b.Y > 160 || b.W < 400 {
		t.Errorf("box %+v, want the line at about (60,150)", b)
	}
	if len(res.Files) != 2 || rep.Encoded != "roi.mp4" {
		t.Errorf("files %+v, encoded %q", res.Files, rep.Encoded)
	}
}
