package tasks

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/vod"
)

// benchInput is a 20 s 720p clip: long enough that per-task costs
// (probes, queue, state writes) show as a share of real work.
func benchInput(b *testing.B) string {
	p := filepath.Join(b.TempDir(), "bench.mp4")
	return generate(b, p, "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=20", "-f", "lavfi", "-i", "sine=d=20",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-c:a", "aac", "-shortest")
}

// BenchmarkTranscodeTask is a default mp4 transcode submitted as a task and
// waited for; compare with BenchmarkTranscodeDirect.
func BenchmarkTranscodeTask(b *testing.B) {
	in := benchInput(b)
	svc, _ := startService(b, Config{Tasks: config.Tasks{InputRoots: []string{filepath.Dir(in)}}})
	op := vod.Operation{Type: vod.TypeTranscode, Transcode: &vod.TranscodeSpec{}}
	b.ResetTimer()
	for range b.N {
		task, _, err := svc.Submit(context.Background(), Request{Input: in, Operations: []config.OpRef{{Operation: op}}})
		if err != nil {
			b.Fatal(err)
		}
		if end := waitEnd(b, svc, task.ID, 2*time.Minute); end.Status != StatusFinish {
			b.Fatal(end.Error)
		}
	}
}

// BenchmarkTranscodeDirect runs the command the task runs, by hand.
func BenchmarkTranscodeDirect(b *testing.B) {
	in := benchInput(b)
	out := filepath.Join(b.TempDir(), "out.mp4")
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", in,
		"-filter_complex", "[0:v:0]format=yuv420p[p1]", "-map", "[p1]", "-map", "0:a:0", "-sn", "-dn", "-map_metadata", "-1",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-f", "mp4", "-movflags", "+faststart", out}
	b.ResetTimer()
	for range b.N {
		if o, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
			b.Fatal(err, string(o))
		}
	}
}

// BenchmarkSnapshotTasks reports throughput of one-snapshot tasks on a
// node with two slots.
func BenchmarkSnapshotTasks(b *testing.B) {
	svc, _ := startService(b, Config{Tasks: config.Tasks{Concurrency: 2}})
	op := vod.Operation{Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{Times: []vod.Offset{"50%"}}}
	b.ResetTimer()
	t0 := time.Now()
	var ids []string
	for range b.N {
		task, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"), Operations: []config.OpRef{{Operation: op}}})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	for _, id := range ids {
		if end := waitEnd(b, svc, id, time.Minute); end.Status != StatusFinish {
			b.Fatal(end.Error)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Minutes(), "tasks/min")
}

// BenchmarkListFirstPage lists the newest 50 of 5,000 stored tasks through
// the id index; "scan-all-keys" is the listing's former first step alone
// (enumerating every task key), for comparison.
func BenchmarkListFirstPage(b *testing.B) {
	svc, _ := startService(b, Config{})
	ctx := context.Background()
	for range 5000 {
		t := &Task{ID: svc.newID(), Input: "/x.mp4", Status: StatusFinish, Created: time.Now().UTC()}
		if _, err := svc.save(ctx, t, 0); err != nil {
			b.Fatal(err)
		}
		svc.index.add(t.ID)
	}
	b.Run("index", func(b *testing.B) {
		for range b.N {
			page, next, err := svc.List(ctx, ListOptions{Limit: 50})
			if err != nil || len(page) != 50 || next == "" {
				b.Fatal(err, len(page))
			}
		}
	})
	b.Run("scan-all-keys", func(b *testing.B) {
		for range b.N {
			lister, err := svc.kv.ListKeysFiltered(ctx, "task.*")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for range lister.Keys() {
				n++
			}
			if n < 5000 {
				b.Fatal(n)
			}
		}
	})
}
