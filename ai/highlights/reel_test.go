package highlights

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/testutil"
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
		{"a frame off counts as on", 2.01, 5, 2.01},
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
func TestReelHeadAndCopy(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=12", "-f", "lavfi", "-i", "sine=d=12",
		"-c:v", "libx264", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-c:a", "aac", in)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys, err := keyframes(ctx, in)
	if err != nil || len(keys) != 6 {
		t.Fatalf("keyframes %v %v, want 6", keys, err)
	}
	w := &reelWriter{input: in, copyable: true, audio: true, fps: 25, dir: dir}
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
	if v, a := probeStreams(t, out); v != 165 || a < 6.5 || a > 6.7 {
		t.Errorf("reel has %d video frames and %.2f s of audio, want 165 (6.6 s) and 6.6 s", v, a)
	}
	if msg := decodeErrors(t, out); msg != "" {
		t.Errorf("reel decode: %s", msg)
	}
}
