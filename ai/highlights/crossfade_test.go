package highlights

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/aispec"
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

// TestHighlightsCrossfade runs the operation with crossfade 0.5 s: the
// reel lasts the picked clips' sum less 0.5 s per join (to a frame) and
// decodes with -xerror.
func TestHighlightsCrossfade(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	clip := makeEventClip(t, dir, 40, 320, 180)
	_, rep, err := run(t, &aispec.Highlights{Top: 3, MinSeconds: 3, MaxSeconds: 6, Crossfade: 0.5}, clip.path, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Clips) < 2 || rep.Reel == "" {
		t.Fatalf("%d clips, reel %q: want at least 2 clips joined", len(rep.Clips), rep.Reel)
	}
	var sum float64
	for _, c := range rep.Clips {
		sum += c.End - c.Start
	}
	want := sum - float64(len(rep.Clips)-1)*0.5
	reel := filepath.Join(dir, "out", rep.Reel)
	v, a := probeStreams(t, reel)
	if got := float64(v) / 25; got < want-0.04-1e-9 || got > want+0.04+1e-9 || a < want-0.04 || a > want+0.04 {
		t.Errorf("reel %d frames (%.3f s), audio %.3f s; want %.2f s ± one frame", v, got, a, want)
	}
	if msg, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", reel, "-f", "null", "-").CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("reel decode with -xerror: %v %s", err, msg)
	}
}
