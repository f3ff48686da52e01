package tasks

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// startWatchService runs a service whose scheme "drop" watches a folder
// with a 300 ms settle time and probes what arrives.
func startWatchService(t *testing.T) (*Service, string) {
	t.Helper()
	data := t.TempDir()
	watch := filepath.Join(data, "drop")
	svc, _ := startService(t, Config{
		DataDir: data,
		Schemes: []config.Scheme{{Enabled: true, Name: "drop",
			Trigger:    config.SchemeTrigger{Watch: &config.WatchTrigger{Dir: watch, Settle: config.Duration(300 * time.Millisecond)}},
			Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}}}},
	})
	return svc, watch
}

// inputsOf lists the inputs of the scheme's tasks, one entry per task.
func inputsOf(t *testing.T, svc *Service) []string {
	t.Helper()
	list, _, err := svc.List(context.Background(), ListOptions{Scheme: "drop", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, task := range list {
		out = append(out, filepath.Base(task.Input))
	}
	return out
}

// sentinel drops a small complete file and waits for its task: the watch
// handles events in order, so anything the earlier files would wrongly
// fire has fired by then.
func sentinel(t *testing.T, svc *Service, watch string) {
	t.Helper()
	b, err := os.ReadFile(testFile("h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(watch, "sentinel.mp4"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "sentinel task", func() bool {
		for _, in := range inputsOf(t, svc) {
			if in == "sentinel.mp4" {
				return true
			}
		}
		return false
	})
}

func countOf(list []string, name string) int {
	n := 0
	for _, s := range list {
		if s == name {
			n++
		}
	}
	return n
}

// TestWatchChunkedCopyStartsOneTask copies a file in chunks with pauses
// three times the settle time, the file held open as cp or a network copy
// does: one task, for the whole file.
func TestWatchChunkedCopyStartsOneTask(t *testing.T) {
	svc, watch := startWatchService(t)
	copySlowly(t, testFile("h264_aac_1s_gop.mp4"), filepath.Join(watch, "clip.mp4"), 4, 900*time.Millisecond)
	sentinel(t, svc, watch)
	list, _, err := svc.List(context.Background(), ListOptions{Scheme: "drop"})
	if err != nil {
		t.Fatal(err)
	}
	if n := countOf(inputsOf(t, svc), "clip.mp4"); n != 1 {
		t.Fatalf("%d tasks for one file copied in chunks, want 1 (%v)", n, inputsOf(t, svc))
	}
	for _, task := range list {
		if filepath.Base(task.Input) == "clip.mp4" {
			done := waitEnd(t, svc, task.ID, 20*time.Second)
			if done.Status != StatusFinish {
				t.Errorf("task on the copied file: %s %s", done.Status, done.Error)
			}
		}
	}
}

// TestWatchPartThenRename writes x.part and renames it to x: one task for
// x, none for the temporary names, and a second arrival of the same
// version (touched again without change) starts nothing.
func TestWatchPartThenRename(t *testing.T) {
	svc, watch := startWatchService(t)
	part := filepath.Join(watch, "movie.mp4.part")
	copySlowly(t, testFile("h264_aac_1s_gop.mp4"), part, 3, 400*time.Millisecond)
	for _, tmp := range []string{".hidden.mp4", "edit.mp4~", "x.tmp"} {
		if err := os.WriteFile(filepath.Join(watch, tmp), []byte("temporary"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(part, filepath.Join(watch, "movie.mp4")); err != nil {
		t.Fatal(err)
	}
	sentinel(t, svc, watch)
	got := inputsOf(t, svc)
	if countOf(got, "movie.mp4") != 1 || len(got) != 2 {
		t.Fatalf("tasks for %v, want one for movie.mp4 and one for sentinel.mp4", got)
	}
}
