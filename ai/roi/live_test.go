package roi

import (
	"context"
	"fmt"
	"image"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/testutil"
)

// grayFrames decodes fps frames a second of input as w×h grey pictures.
func grayFrames(t testing.TB, input string, w, h int, fps float64) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-i", input,
		"-vf", fmt.Sprintf("fps=%g,scale=%d:%d,format=gray", fps, w, h), "-f", "rawvideo", "pipe:1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		f := make([]byte, w*h)
		if _, err := io.ReadFull(out, f); err != nil {
			break
		}
		frames = append(frames, f)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// TestLiveTracker feeds the live tracker the test portrait moving over a
// busy background, 4 frames a second: from the second sample on, every
// sample gives one box that holds the face, and no box is much larger
// than the face; testsrc2 frames give none.
func TestLiveTracker(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	frames := grayFrames(t, makeFaceClip(t, dir), 640, 360, 4)
	tr, err := NewLive()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i, f := range frames {
		boxes := tr.Track(f, 640, 360)
		ts := float64(i) / 4
		face := image.Rect(faceX0+faceDX, faceY+faceDY, faceX0+faceDX+faceSide, faceY+faceDY+faceSide).
			Add(image.Pt(int(faceSpeed*ts), 0))
		centre := image.Pt((face.Min.X+face.Max.X)/2, (face.Min.Y+face.Max.Y)/2)
		if len(boxes) == 1 && centre.In(boxes[0]) {
			found++
			if b := boxes[0]; b.Dx() > 3*faceSide || b.Dy() > 3*faceSide {
				t.Errorf("sample %d: box %v much larger than the face %v", i, b, face)
			}
		} else if i > 0 {
			t.Errorf("sample %d (%.2f s): boxes %v, want one holding %v", i, ts, boxes, centre)
		}
	}
	t.Logf("face followed in %d of %d samples", found, len(frames))
	if len(frames) < 30 {
		t.Errorf("%d samples", len(frames))
	}

	in := filepath.Join(dir, "t.mp4")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=5", "-c:v", "libx264", "-preset", "ultrafast", in)
	tr, _ = NewLive()
	for i, f := range grayFrames(t, in, 640, 360, 4) {
		if b := tr.Track(f, 640, 360); len(b) > 0 {
			t.Errorf("testsrc2 sample %d: boxes %v", i, b)
		}
	}
	if b := tr.Track(nil, 640, 360); b != nil {
		t.Errorf("short frame: %v", b)
	}
}
