package pertitle

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mps/internal/testutil"
	"mps/internal/vod"
)

func source(t testing.TB, dir, name, lavfi string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", lavfi,
		"-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return out
}

func TestSearchBeatsFixedLadderOnEasyClip(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := source(t, dir, "easy.mkv", "testsrc2=s=640x360:r=25:d=6")
	spec := &vod.AdaptiveSpec{Ladder: vod.LadderAuto, Rungs: []vod.Rung{
		{Name: "360p", Height: 360, VideoBitrate: "800k"}, {Name: "240p", Height: 240, VideoBitrate: "400k"}}}
	s := Search{Heights: []int{360, 240}, CRFs: []int{24, 32, 40}, Samples: 2, SampleSeconds: 1}
	rep, err := s.Run(context.Background(), spec, in, filepath.Join(dir, "out"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chosen %+v\nfixed %+v\nsaved %v", rep.Chosen, rep.Fixed, *rep.SavedPercent)
	if len(rep.Trials) != 6 || len(rep.Rungs) != 2 || len(rep.Fixed) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	hull := 0
	for _, p := range rep.Trials {
		if p.OnHull {
			hull++
		}
		if p.Bitrate <= 0 || p.SSIM <= 0.5 || p.SSIM > 1 {
			t.Fatalf("trial %+v", p)
		}
	}
	if hull < 2 {
		t.Fatalf("hull has %d points", hull)
	}
	for i, c := range rep.Chosen {
		if c.SSIM < rep.Fixed[i].SSIM-0.0005 {
			t.Errorf("rung %d measured SSIM %.5f below the fixed rung's %.5f", i, c.SSIM, rep.Fixed[i].SSIM)
		}
	}
	if *rep.SavedPercent <= 0 {
		t.Errorf("no bitrate saved on testsrc2: %v%%", *rep.SavedPercent)
	}
	if rep.Rungs[0].VideoBitrate == "" || !strings.HasSuffix(rep.Rungs[0].Name, "p") {
		t.Fatalf("rungs = %+v", rep.Rungs)
	}
}

func TestMarkHull(t *testing.T) {
	pts := []Point{
		{Height: 1, Bitrate: 100, SSIM: 0.90},
		{Height: 2, Bitrate: 200, SSIM: 0.95},
		{Height: 3, Bitrate: 400, SSIM: 0.955}, // under the line 200→800
		{Height: 4, Bitrate: 800, SSIM: 0.99},
		{Height: 5, Bitrate: 300, SSIM: 0.94}, // dominated by 200
	}
	hull := markHull(pts)
	var got []int
	for _, p := range hull {
		got = append(got, p.Height)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 4 {
		t.Fatalf("hull = %v, want [1 2 4]", got)
	}
	// Two curves: height 1 (cheap, tops out at 0.95) and height 4.
	curves := []Point{
		{Height: 1, Bitrate: 100, SSIM: 0.90}, {Height: 1, Bitrate: 400, SSIM: 0.95},
		{Height: 4, Bitrate: 200, SSIM: 0.91}, {Height: 4, Bitrate: 800, SSIM: 0.99},
	}
	cases := []struct {
		target  float64
		height  int
		bitrate float64
	}{
		{0.85, 1, 100}, {0.90, 1, 100}, {0.95, 1, 400}, {0.91, 1, 132}, {0.97, 4, 566}, {0.999, 4, 800},
	}
	for _, c := range cases {
		p := choose(curves, []float64{c.target})[0]
		if p.Height != c.height || p.Bitrate < c.bitrate*0.99 || p.Bitrate > c.bitrate*1.01 {
			t.Errorf("target %g: %+v, want height %d at %g", c.target, p, c.height, c.bitrate)
		}
	}
}

func TestNoVideo(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "a.m4a")
	if b, err := exec.Command("ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=2", in).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	_, err := Search{}.Run(context.Background(), &vod.AdaptiveSpec{Ladder: vod.LadderAuto}, in, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "no video") {
		t.Fatalf("err = %v", err)
	}
}
