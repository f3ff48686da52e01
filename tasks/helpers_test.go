package tasks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"mps/internal/events"
)

func testFile(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "testdata", name))
	return p
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startService starts a service on cfg (DataDir defaulting to a temp dir)
// and an HTTP server for its handler; both stop at cleanup.
func startService(t testing.TB, cfg Config) (*Service, *httptest.Server) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Tasks.InputRoots == nil {
		cfg.Tasks.InputRoots = []string{filepath.Dir(testFile("x"))}
	}
	svc, err := New(cfg, events.NewBus(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return svc, serve(t, svc)
}

func serve(t testing.TB, svc *Service) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		ts.Close()
		svc.Close()
	})
	return ts
}

// waitEnd polls until the task ends.
func waitEnd(t testing.TB, svc *Service, id string, within time.Duration) *Task {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		task, err := svc.Get(ctx, id)
		cancel()
		if err == nil && task.Status.Terminal() {
			return task
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s did not end within %v (last %+v, %v)", id, within, task, err)
		}
		time.Sleep(10 * time.Millisecond) // short: benchmarks time tasks with it
	}
}

// hookSink is a webhook receiver on loopback that checks signatures.
type hookSink struct {
	t      testing.TB
	secret string
	srv    *httptest.Server

	mu     sync.Mutex
	events []events.Event
	bad    int
}

func newHookSink(t testing.TB, secret string) *hookSink {
	h := &hookSink{t: t, secret: secret}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, err := strconv.ParseInt(r.Header.Get("X-MPS-Timestamp"), 10, 64)
		want := Sign(h.secret, ts, body)
		ok := err == nil && hmac.Equal([]byte(want), []byte(r.Header.Get("X-MPS-Signature"))) && time.Since(time.Unix(ts, 0)) < time.Minute
		var ev events.Event
		if json.Unmarshal(body, &ev) != nil || ev.Type != r.Header.Get("X-MPS-Event") {
			ok = false
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if !ok {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.events = append(h.events, ev)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// count returns how many events of typ for task id arrived.
func (h *hookSink) count(typ, id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ev := range h.events {
		if ev.Type == typ && (id == "" || ev.Data["id"] == id) {
			n++
		}
	}
	return n
}

func (h *hookSink) badCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bad
}

// waitHook waits until at least n events of typ for id arrived.
func (h *hookSink) wait(typ, id string, n int, within time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for h.count(typ, id) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("webhook %s for %s: got %d, want %d (bad signatures: %d)", typ, id, h.count(typ, id), n, h.badCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiJSON calls the API and decodes the answer into out (if not nil).
func apiJSON(t testing.TB, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// generate makes a test input with lavfi.
func generate(t testing.TB, out string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"-v", "error", "-y"}, args...)
	full = append(full, out)
	if b, err := exec.CommandContext(ctx, "ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("generate %s: %v %s", out, err, b)
	}
	return out
}

func newHTTPTest(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

// decodeBody decodes a JSON answer and closes its body.
func decodeBody(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
