package pertitle

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"mps/internal/vod"
)

// BenchmarkSavedVsDefaultLadder is the per-title figure: the total
// bitrate of the chosen ladder against the default abr ladder (720p
// 2800k, 480p 1400k, 360p 800k) at equal measured SSIM, on an easy clip
// (testsrc2) and a hard one (grainy, zooming mandelbrot). Run with
// -benchtime 1x: one search is a few dozen trial encodes.
func BenchmarkSavedVsDefaultLadder(b *testing.B) {
	dir := b.TempDir()
	clips := []struct{ name, lavfi string }{
		{"easy", "testsrc2=s=1280x720:r=30:d=10"},
		{"hard", "mandelbrot=s=1280x720:r=30:end_scale=0.001,noise=alls=25:allf=t+u,trim=duration=10"},
	}
	spec := &vod.AdaptiveSpec{Ladder: vod.LadderAuto, Rungs: []vod.Rung{
		{Name: "720p", Width: 1280, Height: 720, VideoBitrate: "2800k"},
		{Name: "480p", Width: 854, Height: 480, VideoBitrate: "1400k"},
		{Name: "360p", Width: 640, Height: 360, VideoBitrate: "800k"},
	}}
	for _, c := range clips {
		in := source(b, dir, c.name+".mkv", c.lavfi)
		b.Run(c.name, func(b *testing.B) {
			var ru0 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru0)
			var rep Report
			for b.Loop() {
				var err error
				if rep, err = (Search{}).Run(context.Background(), spec, in, filepath.Join(dir, c.name), nil); err != nil {
					b.Fatal(err)
				}
			}
			var ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru1)
			cpu := float64(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / 1e9
			b.ReportMetric(*rep.SavedPercent, "saved-%")
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			for i, f := range rep.Fixed {
				ch := rep.Chosen[i]
				b.Logf("%s: fixed %s %dp %.0fk SSIM %.4f -> chosen %dp %.0fk SSIM %.4f", c.name, f.Name, f.Height, f.Bitrate/1e3, f.SSIM,
					ch.Height, ch.Bitrate/1e3, ch.SSIM)
			}
		})
	}
}
