package webrtc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
	"mps/protocols/webrtc/webrtctest"
)

// testMedia is made once by TestMain with ffmpeg.
var testMedia webrtctest.Media

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webrtc-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	testMedia, err = webrtctest.MakeMedia(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects log output across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a running adapter on loopback with the real path manager.
type env struct {
	hub  *pathmgr.Manager
	srv  *Server
	http *httptest.Server
	logs *syncBuffer
	// auth is sent as the Authorization header of WHIP/WHEP POSTs.
	auth string
	// tcpOnly makes test clients use ICE-TCP only.
	tcpOnly bool
}

func newEnv(t *testing.T) *env { return newEnvPolicy(t, nil) }

func newEnvPolicy(t *testing.T, policy pathmgr.PolicyFunc) *env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	hub := pathmgr.New(log, events.NewBus(), policy)
	srv := New(Config{ICEUDPAddress: "127.0.0.1:0", ICETCPAddress: "127.0.0.1:0", ConnectTimeout: 10 * time.Second}, hub, log)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(URLPrefix, srv.Handler())
	hs := httptest.NewServer(mux)
	e := &env{hub: hub, srv: srv, http: hs, logs: logs}
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		hub.Close()
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return e
}

func (e *env) url(p string) string { return e.http.URL + p }

// waitStream polls the hub until path is published.
func (e *env) waitStream(ctx context.Context, t *testing.T, path string) *stream.Stream {
	t.Helper()
	for {
		if s := e.hub.Get(path); s != nil {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s never published", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitGone polls the hub until path has no stream.
func (e *env) waitGone(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	for e.hub.Get(path) != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s still published", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// do sends one request; hdrs are extra header name/value pairs (empty
// values are skipped).
func do(ctx context.Context, t *testing.T, method, url, ctype, body string, hdrs ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdrs); i += 2 {
		if hdrs[i+1] != "" {
			req.Header.Set(hdrs[i], hdrs[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// publish starts a looping H.264+Opus WHIP publisher on path; it fails
// the test on refusal and is closed at cleanup.
func (e *env) publish(ctx context.Context, t *testing.T, path string) *webrtctest.Publisher {
	t.Helper()
	p, err := e.tryPublish(ctx, t, path, webrtc.MimeTypeH264)
	if err != nil {
		t.Fatalf("WHIP %s: %v", path, err)
	}
	return p
}

// tryPublish is publish with the video MIME type chosen and the error
// (a *webrtctest.StatusError on refusal) returned.
func (e *env) tryPublish(ctx context.Context, t *testing.T, path, videoMime string) (*webrtctest.Publisher, error) {
	t.Helper()
	p, err := webrtctest.Publish(ctx, e.url(URLPrefix+path+"/whip"), webrtctest.PublishOptions{
		Auth: e.auth, Media: testMedia, Video: videoMime, Loop: true, TCPOnly: e.tcpOnly,
	})
	if err == nil {
		t.Cleanup(p.Close)
	}
	return p, err
}

// play starts a WHEP player on path; it fails the test on refusal and is
// closed at cleanup.
func (e *env) play(ctx context.Context, t *testing.T, path string) *webrtctest.Player {
	t.Helper()
	p, err := e.tryPlay(ctx, t, path)
	if err != nil {
		t.Fatalf("WHEP %s: %v", path, err)
	}
	return p
}

// tryPlay is play with the error returned.
func (e *env) tryPlay(ctx context.Context, t *testing.T, path string) (*webrtctest.Player, error) {
	t.Helper()
	p, err := webrtctest.Play(ctx, e.url(URLPrefix+path+"/whep"), webrtctest.PlayOptions{Auth: e.auth, TCPOnly: e.tcpOnly})
	if err == nil {
		t.Cleanup(p.Close)
	}
	return p, err
}

// refusal splits a WHIP/WHEP error into the HTTP status and body; a
// success is 201.
func refusal(t *testing.T, err error) (int, string) {
	t.Helper()
	if err == nil {
		return http.StatusCreated, ""
	}
	var se *webrtctest.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("not an HTTP refusal: %v", err)
	}
	return se.Status, se.Body
}
