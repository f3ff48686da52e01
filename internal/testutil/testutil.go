// Package testutil holds the helpers that the tests of many packages share:
// waiting on a condition, waiting for a stream to be published, finding the
// repository's sample media. It is imported by _test.go files only.
package testutil

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"mps/internal/stream"
)

// WaitFor polls cond every 20 ms until it is true, and fails the test with
// what when timeout passes first. Tests wait on conditions, never on sleeps.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Eventually is WaitFor for code without a testing.TB (helpers that return
// an error): it reports whether cond became true before ctx ended.
func Eventually(ctx context.Context, cond func() bool) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// StreamGetter is what WaitStream needs of a hub: the live stream of a
// path, or nil (pathmgr.Manager has it). It does not read through the hub,
// so waiting never counts as a reader or asks the authorizer.
type StreamGetter interface {
	Get(path string) *stream.Stream
}

// WaitStream waits until path is published on hub by a stream other than
// old (nil for any) that has not ended, and returns it.
func WaitStream(t testing.TB, hub StreamGetter, path string, old *stream.Stream, within time.Duration) *stream.Stream {
	t.Helper()
	var s *stream.Stream
	WaitFor(t, within, path+" to be published", func() bool {
		got := hub.Get(path)
		if got == nil || got == old {
			return false
		}
		select {
		case <-got.Done():
			return false
		default:
		}
		s = got
		return true
	})
	return s
}

// RepoRoot is the repository's top folder, found from this file's place so
// that tests of any package reach testdata/ the same way.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TestData is the absolute path of a file under testdata/ (the sample
// media made by testdata/generate.sh).
func TestData(name string) string {
	return filepath.Join(RepoRoot(), "testdata", name)
}

// NeedCommand skips the test when a command the test drives (ffmpeg,
// chromium, pocketsphinx_continuous...) is not installed; `make deps`
// installs all of them, so under `make test` nothing is skipped.
func NeedCommand(t testing.TB, name string) {
	t.Helper()
	if _, err := lookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: run make deps", name)
		}
		t.Skipf("%s is not installed: run make deps", name)
	}
}
