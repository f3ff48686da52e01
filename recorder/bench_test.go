package recorder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecord10Streams records 10 streams of 30 s each at once, fed as
// fast as the publishers can write, and reports disk throughput, media
// speed (how many times real time) and CPU per stream-second of media.
func BenchmarkRecord10Streams(b *testing.B) {
	src := loadSource(b, "h264_aac_1s_gop.mp4", 4) // 30 s
	media := src.units[len(src.units)-1].DTS - src.units[0].DTS
	const streams = 10
	var bytes, lost uint64
	var cpu, wall time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		bus := events.NewBus()
		hub := newHub(b, bus)
		m, err := New(Config{Dir: dir, Rule: ruleFunc(Rule{Enabled: true, SegmentDuration: 10 * time.Second})}, bus, nil)
		if err != nil {
			b.Fatal(err)
		}
		runs := make([]func(context.Context, float64, func(int, *stream.Unit)), streams)
		for i := range runs {
			s, run := publish(b, hub, fmt.Sprintf("live/cam%d", i), src)
			m.StreamStarted(s)
			runs[i] = run
		}
		b.StartTimer()
		c0, t0 := cpuTime(), time.Now()
		var wg sync.WaitGroup
		for _, run := range runs {
			wg.Add(1)
			go func() { defer wg.Done(); run(context.Background(), 0, nil) }()
		}
		wg.Wait()
		for i := range streams {
			for m.Stats(fmt.Sprintf("live/cam%d", i)).Recording {
				time.Sleep(time.Millisecond)
			}
		}
		wall += time.Since(t0)
		cpu += cpuTime() - c0
		b.StopTimer()
		for i := range streams {
			st := m.Stats(fmt.Sprintf("live/cam%d", i))
			bytes += st.BytesWritten
			lost += st.LostUnits
		}
		m.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(bytes)/wall.Seconds()/1e6, "MB/s")
	b.ReportMetric(streams*media.Seconds()*n/wall.Seconds(), "x-realtime")
	b.ReportMetric(float64(cpu.Microseconds())/(streams*media.Seconds()*n), "cpu-µs/media-s")
	b.ReportMetric(float64(lost)/n, "lost-units/op")
}

// BenchmarkSegmentList10000 lists a path with 10,000 segments (about 14
// months of 1 h segments) from the in-memory index: all of them, and a
// one-day range.
func BenchmarkSegmentList10000(b *testing.B) {
	ix := newIndex()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		ix.add(&Segment{Path: "live/cam1", Name: fmt.Sprint(i), Start: t0.Add(time.Duration(i) * time.Hour), Duration: time.Hour, Size: 1 << 30, Format: FormatFMP4})
	}
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			if n := len(ix.list("live/cam1", time.Time{}, time.Time{})); n != 10000 {
				b.Fatal(n)
			}
		}
	})
	b.Run("day", func(b *testing.B) {
		from := t0.Add(5000 * time.Hour)
		for b.Loop() {
			if n := len(ix.list("live/cam1", from, from.Add(24*time.Hour))); n != 24 {
				b.Fatal(n)
			}
		}
	})
}

// BenchmarkIndexRebuild10000 rebuilds the index from 10,000 real (small)
// fMP4 segment files, as a restarted server does.
func BenchmarkIndexRebuild10000(b *testing.B) {
	src := loadSource(b, "audio_only.m4a", 0)
	dir := b.TempDir()
	bus := events.NewBus()
	hub := newHub(b, bus)
	m, err := New(Config{Dir: dir, Rule: ruleFunc(Rule{Enabled: true, SegmentDuration: time.Second})}, bus, nil)
	if err != nil {
		b.Fatal(err)
	}
	s, run := publish(b, hub, "live/cam1", src)
	m.StreamStarted(s)
	run(context.Background(), 0, nil)
	for m.Stats("live/cam1").Recording {
		time.Sleep(time.Millisecond)
	}
	m.Close()
	files := segmentFiles(b, dir, "live/cam1")
	data, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	tpl, _ := newTemplate(DefaultPathTemplate, time.Local)
	t0 := time.Now().Add(-20000 * time.Hour)
	for i := range 10000 {
		f := filepath.Join(root, tpl.render("live/cam1", t0.Add(time.Duration(i)*time.Hour), FormatFMP4))
		if i == 0 {
			_ = os.MkdirAll(filepath.Dir(f), 0o755)
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		ix := newIndex()
		ix.rebuild(context.Background(), root, tpl, m.log, nil)
		if n, _ := ix.totals("live/cam1"); n != 10000 {
			b.Fatal(n)
		}
	}
}
