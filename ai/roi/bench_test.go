package roi

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// BenchmarkROIDetect720p measures face detection on a 20 s 720p25 clip
// of the test portrait over testsrc2 at the default 2 samples a second:
// speed as a multiple of real time and the share of samples with the
// face.
//
//	taskset -c 0 go test -run '^$' -bench ROIDetect -benchtime 3x ./ai/roi/
func BenchmarkROIDetect720p(b *testing.B) {
	testutil.NeedCommand(b, "ffmpeg")
	dir := b.TempDir()
	in := filepath.Join(dir, "face720.mp4")
	ffmpeg(b, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=20",
		"-loop", "1", "-i", filepath.Join("testdata", "grace_hopper.jpg"),
		"-filter_complex", "[1:v]scale=300:352[f];[0:v][f]overlay=x='80+t*30':y=180:shortest=1,format=yuv420p",
		"-c:v", "libx264", "-preset", "veryfast", "-t", "20", in)
	ctx := context.Background()
	info, err := vod.Probe(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		rep, err := Detect(ctx, in, info, aispec.ROI{}, func(float64) {})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(info.Duration/time.Since(start).Seconds(), "x_realtime")
		b.ReportMetric(100*float64(rep.SamplesWithFaces)/float64(rep.Samples), "pct_samples_with_face")
	}
}

// BenchmarkLiveTrack measures one live sample: face search and tracking
// on a 640x360 grey frame of the test portrait over testsrc2 (what a
// ladder's ROI rung pays per sample_interval).
//
//	go test -run '^$' -bench LiveTrack ./ai/roi/
func BenchmarkLiveTrack(b *testing.B) {
	testutil.NeedCommand(b, "ffmpeg")
	frames := grayFrames(b, makeFaceClip(b, b.TempDir()), 640, 360, 1)
	tr, err := NewLive()
	if err != nil {
		b.Fatal(err)
	}
	found := 0
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if len(tr.Track(frames[i%len(frames)], 640, 360)) > 0 {
			found++
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() - before.Utime.Nano() + after.Stime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu_ms/op")
	b.ReportMetric(100*float64(found)/float64(b.N), "pct_with_face")
}
