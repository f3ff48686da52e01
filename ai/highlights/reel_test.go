package highlights

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"mps/internal/testutil"
	"mps/internal/vod"
)

// TestPlanCut checks where a clip is split into an encoded head and a
// copied tail.
func TestPlanCut(t *testing.T) {
	keys := []float64{0, 2, 4, 6}
	frame := 0.04
	for _, tc := range []struct {
		name             string
		start, end, want float64
	}{
		{"on keyframe", 2, 5, 2},
		{"a hair after the keyframe counts as on", 2.01, 5, 2},
		{"less than a frame before the keyframe starts on it", 1.97, 5, 2},
		{"between keyframes", 3, 5.5, 4},
		{"no keyframe inside", 4.5, 5.5, 5.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := planCut(keys, tc.start, tc.end, frame); p.key != tc.want {
				t.Errorf("key %g, want %g", p.key, tc.want)
			}
		})
	}
}

// TestReelHeadAndCopy cuts clips that start between keyframes (encoded
// head, copied tail) and on one (all copy), and checks the joined reel
// has the clips' length and decodes without an error.
// MPEG-TS (timestamps from 1.4 s, no index) and Matroska inputs are cut
// at the same times as an MP4.
func TestReelHeadAndCopy(t *testing.T) {
	for _, ext := range []string{"mp4", "ts", "mkv"} {
		t.Run(ext, func(t *testing.T) { testReel(t, ext) })
	}
}

func testReel(t *testing.T, ext string) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "in."+ext)
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=12", "-f", "lavfi", "-i", "sine=d=12",
		"-c:v", "libx264", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-c:a", "aac", in)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := vod.Probe(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	video, err := seekable(ctx, in, info, dir)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyframes(ctx, video)
	// Times count from the file's start, which is the earliest stream's
	// (the AAC priming puts the audio 23 ms before the video).
	if err != nil || len(keys) != 6 || keys[0] < 0 || keys[0] > 0.05 || keys[1] < 1.99 || keys[1] > 2.06 {
		t.Fatalf("keyframes %v %v, want 6, every 2 s from 0", keys, err)
	}
	w := &reelWriter{video: video, input: in, copyable: true, audio: true, fps: 25, dir: dir}
	for _, c := range [][2]float64{{1, 4.6}, {6, 9}} {
		if err := w.add(ctx, planCut(keys, c[0], c[1], 0.04)); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.parts) != 3 {
		t.Errorf("%d parts, want head+tail and one copy", len(w.parts))
	}
	out := filepath.Join(dir, "reel.mp4")
	if err := w.join(ctx, out); err != nil {
		t.Fatal(err)
	}
	// 165 frames (6.6 s); one fewer when a clip start moved onto a
	// keyframe less than a frame later (the TS file's 23 ms offset).
	if v, a := probeStreams(t, out); v < 164 || v > 165 || a < 6.5 || a > 6.7 {
		t.Errorf("reel has %d video frames and %.2f s of audio, want 165 (6.6 s) and 6.6 s", v, a)
	}
	if msg := decodeErrors(t, out); msg != "" {
		t.Errorf("reel decode: %s", msg)
	}
	// The reel shows the source at the clips' times: 0.5 s in is the
	// first clip's encoded head (source 1.5 s), 4.1 s in the second clip's
	// copy (source 6.5 s). A frame or two either way is rounding and the TS
	// file's start offset; a wrong seek would show frames 2 s off.
	for _, c := range []struct{ reel, src, tol float64 }{{0.5, 1.5, 3}, {4.1, 6.5, 1}} {
		got := grayFrame(t, out, c.reel)
		right := math.Inf(1)
		for ts := c.src - 0.08; ts < c.src+0.1; ts += 0.04 {
			right = min(right, meanDiff(got, grayFrame(t, in, ts)))
		}
		if wrong := meanDiff(got, grayFrame(t, in, c.src-2)); right > c.tol || wrong < 5 {
			t.Errorf("reel at %g s differs from the source near %g s by %.1f and 2 s before by %.1f", c.reel, c.src, right, wrong)
		}
	}
}

// grayFrame is the luma of the first frame of path at or after ts
// seconds from its start, decoded from the start (no seeking, whose
// accuracy is what is under test).
func grayFrame(t *testing.T, path string, ts float64) []byte {
	t.Helper()
	sel := "setpts=PTS-STARTPTS,select=gte(t\\," + strconv.FormatFloat(ts-0.001, 'f', 3, 64) + ")"
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-vf", sel,
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1").Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("frame of %s at %g: %v", path, ts, err)
	}
	return out
}

func meanDiff(a, b []byte) float64 {
	var sum float64
	for i := range min(len(a), len(b)) {
		d := float64(a[i]) - float64(b[i])
		sum += max(d, -d)
	}
	return sum / float64(min(len(a), len(b)))
}
