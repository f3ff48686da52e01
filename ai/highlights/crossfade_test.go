package highlights

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
	"mps/internal/vod"
)

// TestReelCrossfade joins three clips with 0.5 s blends and checks the
// reel lasts the clips' sum less one blend per join (to a frame, picture
// and sound) and decodes with -xerror. An MPEG-TS input is cut the same.
func TestReelCrossfade(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	for _, ext := range []string{"mp4", "ts"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in."+ext)
			ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=12", "-f", "lavfi", "-i", "sine=d=12",
				"-c:v", "libx264", "-g", "50", "-c:a", "aac", in)
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
			clips := [][2]float64{{1, 4}, {5, 8}, {9, 11.5}}
			const cf = 0.5
			out := filepath.Join(dir, "reel.mp4")
			if err := joinCrossfade(ctx, video, in, clips, true, cf, out); err != nil {
				t.Fatal(err)
			}
			want := 3 + 3 + 2.5 - 2*cf
			frame := 1.0 / 25
			v, a := probeStreams(t, out)
			if got := float64(v) / 25; got < want-frame-1e-9 || got > want+frame+1e-9 {
				t.Errorf("reel video %d frames (%.3f s), want %.2f s ± one frame", v, got, want)
			}
			if a < want-frame || a > want+frame {
				t.Errorf("reel audio %.3f s, want %.2f s ± one frame", a, want)
			}
			msg, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", out, "-f", "null", "-").CombinedOutput()
			if err != nil || strings.TrimSpace(string(msg)) != "" {
				t.Errorf("reel decode with -xerror: %v %s", err, msg)
			}
		})
	}
}
