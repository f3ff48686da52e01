package config

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for the watcher goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const waitLimit = 5 * time.Second

// writeAtomic replaces file by rename, the way many editors save.
func writeAtomic(t *testing.T, file, data string) {
	t.Helper()
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, file, data string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitChange rewrites the file with data until onChange delivers a config
// (the first writes may land before Run has set up its watch), and returns
// it.
func waitChange(t *testing.T, ch <-chan *Config, write func()) *Config {
	t.Helper()
	deadline := time.After(waitLimit)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	write()
	for {
		select {
		case cfg := <-ch:
			return cfg
		case <-tick.C:
			write()
		case <-deadline:
			t.Fatal("onChange not called in time")
		}
	}
}

func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never contained %q; log:\n%s", want, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newTestWatcher(t *testing.T, file string) (*Watcher, chan *Config, *syncBuffer) {
	t.Helper()
	clearEnv(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ch := make(chan *Config, 10)
	return NewWatcher(file, logger, func(c *Config) { ch <- c }), ch, logs
}

func TestWatcher(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mps.yaml")
	writeFile(t, file, "paths:\n  - name: live/a\n")
	w, ch, logs := newTestWatcher(t, file)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(waitLimit):
			t.Error("Run did not stop with ctx")
		}
	}()

	// A new rule, written in place.
	cfg := waitChange(t, ch, func() {
		writeFile(t, file, "paths:\n  - name: live/a\n  - pattern: 'cam/*'\n    record:\n      enabled: true\n")
	})
	if r := cfg.Rule("cam/1"); r.Match != "cam/*" || !r.Record.Enabled {
		t.Fatalf("new rule not applied: %+v", r)
	}

	// A broken edit is logged with file:line:key and not applied.
	writeAtomic(t, file, "paths:\n  - name: live/a\n    bogus: 1\n")
	waitLog(t, logs, file+":3: paths[0].bogus: unknown key")
	select {
	case c := <-ch:
		t.Fatalf("onChange called for a broken file: %+v", c.Paths)
	case <-time.After(3 * DefaultDebounce):
	}
	if w.Current().Rule("cam/1").Match != "cam/*" {
		t.Fatal("previous config not kept")
	}

	// The fix is applied again (saved by rename this time).
	cfg = waitChange(t, ch, func() {
		writeAtomic(t, file, "paths:\n  - name: live/b\n")
	})
	if cfg.Rule("live/b").Match != "live/b" || cfg.Rule("cam/1").Match != "" {
		t.Fatalf("fixed file not applied: %+v", cfg.Paths)
	}

	// Rewriting the same content changes nothing: no call.
	writeFile(t, file, "paths:\n  - name: live/b\n")
	waitLog(t, logs, "config unchanged")
	select {
	case <-ch:
		t.Fatal("onChange called for an unchanged config")
	case <-time.After(3 * DefaultDebounce):
	}
}

func TestWatcherReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conf.yaml")
	writeFile(t, file, "rtmp:\n  address: ':1935'\n")
	w, ch, logs := newTestWatcher(t, file)

	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	if len(ch) != 0 {
		t.Fatal("onChange called without a change")
	}

	writeFile(t, file, "rtmp:\n  address: ':1936'\n")
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	select {
	case cfg := <-ch:
		if cfg.RTMP.Address != ":1936" {
			t.Fatalf("address = %q", cfg.RTMP.Address)
		}
	default:
		t.Fatal("onChange not called by Reload")
	}

	writeFile(t, file, "rtmp:\n  address: nope\n")
	err := w.Reload()
	want := file + ":2: rtmp.address: invalid address"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
	if len(ch) != 0 || w.Current().RTMP.Address != ":1936" {
		t.Fatal("broken file applied")
	}
	if !strings.Contains(logs.String(), "config rejected") || !strings.Contains(logs.String(), want) {
		t.Fatalf("error not logged:\n%s", logs.String())
	}
}

func TestWatcherNoFile(t *testing.T) {
	w := NewWatcher("", nil, func(*Config) { t.Error("called") })
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherBadDir(t *testing.T) {
	w := NewWatcher(filepath.Join(t.TempDir(), "missing", "mps.yaml"), nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := w.Run(ctx); err == nil {
		t.Fatal("want an error watching a missing directory")
	}
}

// TestReloadRefusesEmptiedConfig empties the config of a running server, then
// removes its credentials, then its paths: each reload is refused with the
// reason logged and the old config kept, until the new file says
// reload_allow_empty.
func TestReloadRefusesEmptiedConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mps.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	protected := "paths:\n  - name: live/secret\n    read_user: bob\n    read_pass: hunter22\n"
	write(protected)
	var logBuf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &mu}, nil))
	applied := 0
	w := NewWatcher(file, logger, func(*Config) { applied++ })
	for _, tc := range []struct {
		name, file, want string
	}{
		{"emptied", "", "the file is empty"},
		{"only comments", "# nothing here\n\n", "the file is empty"},
		{"no paths", "log:\n  level: debug\n", "no path rules"},
		{"no credentials", "paths:\n  - name: live/secret\n", "removes every credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(tc.file)
			err := w.Reload()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload = %v, want refused with %q", err, tc.want)
			}
			mu.Lock()
			logged := logBuf.String()
			mu.Unlock()
			if !strings.Contains(logged, "config rejected") || !strings.Contains(logged, tc.want) {
				t.Fatalf("log %q lacks the refusal", logged)
			}
			if applied != 0 || w.Current().Paths[0].ReadPass != "hunter22" {
				t.Fatal("the refused config was applied")
			}
		})
	}
	write("reload_allow_empty: true\n")
	if err := w.Reload(); err != nil || applied != 1 || len(w.Current().Paths) != 0 {
		t.Fatalf("explicit override: err %v, applied %d", err, applied)
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
