package summary

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/testutil"
)

// TestSceneCuts checks the scene-cut pass the summary anchors chapters
// to: a clip of three sources cut at 3 s and 6 s gives those two cuts.
func TestSceneCuts(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "cuts.mp4")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-t", "3", "-i", "testsrc=s=320x180",
		"-f", "lavfi", "-t", "3", "-i", "smptebars=s=320x180", "-f", "lavfi", "-t", "3", "-i", "mandelbrot=s=320x180",
		"-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1,format=yuv420p", "-c:v", "libx264", in).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cuts, err := sceneCuts(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(cuts) != 2 || math.Abs(cuts[0]-3) > 0.1 || math.Abs(cuts[1]-6) > 0.1 {
		t.Fatalf("cuts %v, want 3 and 6", cuts)
	}
}
