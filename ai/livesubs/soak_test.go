package livesubs

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
	"mps/internal/tsconv"
)

// loop writes the MPEG-TS file into s over and over at real-time pace
// until ctx ends, shifting each pass after the previous one.
func loop(ctx context.Context, s *stream.Stream, file string) {
	defer s.Close()
	start := time.Now()
	var offset, last time.Duration
	for ctx.Err() == nil {
		f, err := os.Open(file)
		if err != nil {
			return
		}
		d, err := tsconv.NewDemuxer(f)
		if err != nil {
			f.Close()
			return
		}
		idx := map[*stream.Track]int{}
		for i, t := range d.Tracks() {
			idx[t] = i
		}
		for {
			u, err := d.ReadUnit()
			if err != nil {
				break
			}
			c := *u
			c.Track = s.Tracks()[idx[u.Track]]
			c.PTS += offset
			c.DTS += offset
			last = max(last, c.PTS)
			select {
			case <-ctx.Done():
				f.Close()
				return
			case <-time.After(time.Until(start.Add(c.PTS))):
			}
			if s.Write(&c) != nil {
				f.Close()
				return
			}
		}
		f.Close()
		offset = last + 40*time.Millisecond
	}
}

// rssMB is the resident memory of pid in MB.
func rssMB(pid int) float64 {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkLiveSoak runs live subtitles on looped flite speech for
// MPS_SOAK (default 2m) and reports the memory of the recogniser
// (pocketsphinx and ffmpeg RSS) and of the Go heap after the first quarter
// and near the end, the cues served, and the time from the start of the
// latest cue's speech to its publication at both points.
func BenchmarkLiveSoak(b *testing.B) {
	for _, c := range []string{"ffmpeg", "pocketsphinx_continuous"} {
		testutil.NeedCommand(b, c)
	}
	dur := 2 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("MPS_SOAK")); err == nil {
		dur = v
	}
	pcm, _ := speechtest.Layout(b, speechtest.Set[:6], 0.5, 1.5)
	file := speechtest.Video(b, b.TempDir(), "talk.ts", pcm)
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), dur)
		m := New(Config{Rule: func(string) (string, bool) { return "en", true }}, nil)
		_, ch := m.hub("live/soak").subscribe(0)
		f, _ := os.Open(file)
		d, err := tsconv.NewDemuxer(f)
		if err != nil {
			b.Fatal(err)
		}
		s := stream.New("live/soak", d.Tracks(), stream.Options{})
		f.Close()
		go loop(ctx, s, file)
		m.StreamStarted(s)
		sample := func() (ps, ff, heap float64) {
			for _, p := range childPIDs("pocketsphinx_co") {
				ps += rssMB(p)
			}
			for _, p := range childPIDs("ffmpeg") {
				ff += rssMB(p)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ps, ff, float64(ms.HeapAlloc) / (1 << 20)
		}
		quarter, end := time.After(dur/4), time.After(dur-3*time.Second)
		var cues int
		var lastCue Cue
		var ps0, ff0, heap0, ps1, ff1, heap1, lag0, lag1 float64
	run:
		for {
			select {
			case c := <-ch:
				cues++
				lastCue = c
			case <-quarter:
				ps0, ff0, heap0 = sample()
				lag0 = lastCue.Sent.Sub(lastCue.Time).Seconds()
			case <-end:
				ps1, ff1, heap1 = sample()
				lag1 = lastCue.Sent.Sub(lastCue.Time).Seconds()
			case <-ctx.Done():
				break run
			}
		}
		cancel()
		m.Close()
		b.ReportMetric(ps0, "ps-rss-q1-MB")
		b.ReportMetric(ps1, "ps-rss-end-MB")
		b.ReportMetric(ff0, "ffmpeg-rss-q1-MB")
		b.ReportMetric(ff1, "ffmpeg-rss-end-MB")
		b.ReportMetric(heap0, "heap-q1-MB")
		b.ReportMetric(heap1, "heap-end-MB")
		b.ReportMetric(float64(cues), "cues")
		// From the start of a cue's speech to its publication: growing
		// would mean the recogniser falls behind the stream.
		b.ReportMetric(lag0, "speech-to-cue-q1-s")
		b.ReportMetric(lag1, "speech-to-cue-end-s")
	}
}
