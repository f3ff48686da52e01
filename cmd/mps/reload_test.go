package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mps/internal/testutil"
)

// logLines collects a child's stderr lines for the test to search.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

func (l *logLines) find(substr string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			return s
		}
	}
	return ""
}

// TestReloadClasses runs the real binary and reloads it with SIGHUP after
// editing the file, once per class of key: log.level and a path rule apply
// at once (a debug line appears, the rule is listed); srt.latency,
// webrtc.stun_servers, tasks.concurrency and nats.store_dir are read only
// at start, so the reload names them in one warning, keeps their running
// values (shown by /api/v1/config), and a second identical reload does not
// warn again.
func TestReloadClasses(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	httpAddr := freePort(t)
	file := filepath.Join(dir, "mps.yaml")
	base := fmt.Sprintf("http:\n  address: %s\nrtmp:\n  address: %s\nrtsp:\n  enabled: false\nstorage:\n  data_dir: %s\n", httpAddr, freePort(t), dir)
	startOnly := "srt:\n  enabled: false\nwebrtc:\n  enabled: false\n"
	changed := "srt:\n  enabled: false\n  latency: 900ms\nwebrtc:\n  enabled: false\n  stun_servers: [\"stun:stun.example:3478\"]\n" +
		"tasks:\n  concurrency: 3\nnats:\n  store_dir: elsewhere\n"
	hot := "log:\n  level: debug\npaths:\n  - name: live/reloaded\n    override_publisher: true\n"
	if err := os.WriteFile(file, []byte(base+startOnly), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &logLines{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.mu.Lock()
			logs.lines = append(logs.lines, sc.Text())
			logs.mu.Unlock()
		}
	}()
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); <-readDone; _ = cmd.Wait() }()
	running := func() map[string]any {
		resp, err := http.Get("http://" + httpAddr + "/api/v1/config")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var m map[string]any
		if json.NewDecoder(resp.Body).Decode(&m) != nil {
			return nil
		}
		return m
	}
	testutil.WaitFor(t, 15*time.Second, "the API", func() bool { return running() != nil })

	if err := os.WriteFile(file, []byte(base+changed+hot), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	testutil.WaitFor(t, 10*time.Second, "the reload", func() bool { return logs.count("config reloaded") >= 1 })

	// hot: the level applies (the debug line of this very reload shows)
	// and the rule is in force
	testutil.WaitFor(t, 5*time.Second, "a debug line after log.level: debug", func() bool { return logs.count("config reload applied") >= 1 })
	cfg := running()
	if paths, _ := cfg["paths"].([]any); len(paths) != 1 {
		t.Fatalf("path rule not applied: %v", cfg["paths"])
	}
	// restart-only: one warning naming exactly the changed keys
	warn := logs.find("apply only after a restart")
	if warn == "" || !strings.Contains(warn, "keys=\"[nats srt tasks webrtc]\"") {
		t.Fatalf("want one warning naming nats srt tasks webrtc, got %q", warn)
	}
	if got := cfg["srt"].(map[string]any)["latency"]; got != "120ms" {
		t.Errorf("/api/v1/config srt.latency = %v, want the running 120ms", got)
	}
	if got := cfg["tasks"].(map[string]any)["concurrency"]; got != float64(1) {
		t.Errorf("/api/v1/config tasks.concurrency = %v, want the running 1", got)
	}
	if got := cfg["nats"].(map[string]any)["store_dir"]; got != "nats" {
		t.Errorf("/api/v1/config nats.store_dir = %v, want the running nats", got)
	}

	// the same file again: reloaded, but no second warning
	_ = cmd.Process.Signal(syscall.SIGHUP)
	testutil.WaitFor(t, 10*time.Second, "the second reload", func() bool { return logs.count("config reloaded") >= 2 })
	if n := logs.count("apply only after a restart"); n != 1 {
		t.Fatalf("restart warning logged %d times, want once", n)
	}
}
