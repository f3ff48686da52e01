package recorder

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/storage"
	"mps/internal/testutil"
)

// BenchmarkUploadToBucket uploads recorded segments to a real object
// store (SeaweedFS) on loopback through the recorder's upload queue
// (journal, probe, verified PutFile) and reports throughput and the
// recorder's CPU time. "segments" are real 10 s fMP4 recordings (small:
// the per-upload cost shows); "64MiB" is one large file, uploaded in
// 16 MiB multipart parts. cpu-%/Mbps is the share of one core the uploads
// take per Mb/s of media recorded (CPU time over media time, divided by
// the media bitrate); the store's own CPU is not counted.
func BenchmarkUploadToBucket(b *testing.B) {
	srv := testutil.StartS3(b, "mps")
	b.Setenv("MPS_REC_AK_weed", srv.AccessKey)
	b.Setenv("MPS_REC_SK_weed", srv.SecretKey)
	tg := weedTarget(b, srv, "weed", srv.SecretKey)
	// The store allocates its first volume at the first write (seconds):
	// not part of the figures.
	if _, err := tg.Put(b.Context(), "warm-up", strings.NewReader("x"), 1, ""); err != nil {
		b.Fatal(err)
	}

	b.Run("segments", func(b *testing.B) {
		src := loadSource(b, "h264_aac_1s_gop.mp4", 6) // 60 s
		dir := b.TempDir()
		rule := Rule{Enabled: true, SegmentDuration: 10 * time.Second}
		m := newManager(b, Config{Dir: dir, Rule: ruleFunc(rule)}, events.NewBus())
		s, run := publish(b, newHub(b, events.NewBus()), "live/cam1", src)
		m.StreamStarted(s)
		run(b.Context(), 20, nil) // 20x real time: no ring overrun on a busy machine
		waitIdle(b, m, "live/cam1")
		benchUploads(b, dir, tg)
	})
	b.Run("64MiB", func(b *testing.B) {
		dir := b.TempDir()
		file := filepath.Join(dir, "live", "cam1", "2026-01-01_00-00-00-000000.ts")
		data := make([]byte, 64<<20)
		_, _ = rand.Read(data)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			b.Fatal(err)
		}
		benchUploads(b, dir, tg)
	})
}

// benchUploads queues every segment under dir for upload, b.N times, and
// waits for them.
func benchUploads(b *testing.B, dir string, tg storage.Target) {
	m, err := New(Config{Dir: dir, Targets: targetSet(tg)}, events.NewBus(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.WaitIndexed(b.Context()); err != nil {
		b.Fatal(err)
	}
	segs := m.ix.snapshot("live/cam1")
	var bytes int64
	var media time.Duration
	for _, s := range segs {
		bytes += s.Size
		media += s.Duration
	}
	if len(segs) == 0 {
		b.Fatal("nothing to upload")
	}
	var cpu, wall time.Duration
	for b.Loop() {
		c0, t0 := cpuTime(), time.Now()
		for _, s := range segs {
			if err := m.up.put(&upload{File: m.key(s.file), Path: s.Path, Start: s.Start, Format: s.Format,
				Target: tg.Name(), KeepLocal: true, State: upPending, Local: true}); err != nil {
				b.Fatal(err)
			}
		}
		for m.Stats("live/cam1").UploadsPending > 0 {
			time.Sleep(time.Millisecond)
		}
		cpu += cpuTime() - c0
		wall += time.Since(t0)
	}
	if st := m.Stats("live/cam1"); st.UploadErrors > 0 {
		b.Fatalf("upload errors: %s", st.UploadError)
	}
	n := float64(b.N)
	b.ReportMetric(float64(bytes)*n/wall.Seconds()/1e6, "MB/s")
	b.ReportMetric(cpu.Seconds()*1e3/(float64(bytes)*n/1e6), "cpu-ms/MB")
	b.ReportMetric(float64(len(segs)), "files")
	if media > 0 {
		mbps := float64(bytes) * 8 / media.Seconds() / 1e6
		b.ReportMetric(mbps, "media-Mbps")
		b.ReportMetric(cpu.Seconds()/(media.Seconds()*n)/mbps*100, "cpu-%/Mbps")
	}
}
