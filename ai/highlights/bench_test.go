package highlights

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
)

// BenchmarkHighlights3Min720p runs the analysis pass on a generated
// 3-minute 720p25 clip with the three events and reports its speed as a
// multiple of real time (x_realtime) and how many of the events the top 3
// clips hold (events_found, of 3):
//
//	taskset -c 0 go test -run '^$' -bench Highlights3Min -benchtime 1x ./ai/highlights/
//
// (taskset keeps ffmpeg on one core, the figure's condition).
func BenchmarkHighlights3Min720p(b *testing.B) {
	testutil.NeedCommand(b, "ffmpeg")
	dir := b.TempDir()
	clip := makeEventClip(b, dir, 180, 1280, 720)
	b.ResetTimer()
	for b.Loop() {
		ctx := context.Background()
		start := time.Now()
		a, err := analyze(ctx, clip.path, 180, true, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(180/time.Since(start).Seconds(), "x_realtime")
		if len(a.cuts) == 0 {
			b.Fatal("no scene cut found")
		}
		spec := &aispec.Highlights{Keywords: []string{"goal"}, Transcript: filepath.Base(clip.transcript)}
		_, rep, err := run(b, spec, clip.path, filepath.Join(filepath.Dir(clip.transcript), "out"))
		if err != nil {
			b.Fatal(err)
		}
		found := 0
		for _, ev := range clip.events {
			for _, c := range rep.Clips {
				if overlap(span{c.Start, c.End}, span{ev.start, ev.end}) >= min(1, ev.end-ev.start) {
					found++
					break
				}
			}
		}
		b.ReportMetric(float64(found), "events_found")
	}
}
