package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// logBuffer collects a server's whole log output for scanning.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLoggedServer starts a server whose log goes to the test log and to
// the returned buffer.
func startLoggedServer(t *testing.T, cfg *config.Config) (*Server, *logBuffer) {
	t.Helper()
	buf := &logBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, buf), &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(cfg, log)
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s, buf
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestSecretsNeverShown runs a server configured with secrets in a pull
// source URL (password and token), a forward (SRT passphrase and a token)
// and a webhook (user:pass and ?token=), exercises each (the source is
// pulled, a stream is forwarded, a task fires the webhook), and scans the
// whole log and /api/v1/config for every secret.
func TestSecretsNeverShown(t *testing.T) {
	needFFmpeg(t)
	dead := closedPort(t)
	secrets := []string{"srcpass1", "srctoken1", "fwdpassphrase1", "fwdtoken1", "hookpass1", "hooktoken1", "inputtoken1"}
	cfg := testConfig(t)
	cfg.Log.Level = "debug"
	cfg.Tasks.AllowPrivateURLs = true // the webhook and the input are on loopback
	cfg.Paths = []config.PathRule{
		{Name: "cam/src", Source: fmt.Sprintf("rtsp://admin:srcpass1@127.0.0.1:%d/cam?token=srctoken1", dead)},
		{Name: "live/fwd", Forward: []string{
			fmt.Sprintf("srt://127.0.0.1:%d?streamid=publish:x&passphrase=fwdpassphrase1", dead),
			fmt.Sprintf("rtmp://127.0.0.1:%d/app/key?token=fwdtoken1", dead),
		}},
	}
	cfg.Webhooks = []config.Webhook{{URL: fmt.Sprintf("http://hookuser:hookpass1@127.0.0.1:%d/hook?token=hooktoken1", dead)}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, logs := startLoggedServer(t, cfg)
	base := "http://" + s.HTTPAddr()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/fwd", true)
	defer pub.Process.Kill()
	status, _ := runURLTask(t, base, fmt.Sprintf("http://127.0.0.1:%d/in.mp4?token=inputtoken1", dead))
	if status != "FAIL" {
		t.Fatalf("task on a dead URL: %s", status)
	}
	testutil.WaitFor(t, 30*time.Second, "source, forward and webhook failures logged", func() bool {
		l := logs.String()
		return strings.Contains(l, "forward failed") && strings.Contains(l, "webhook delivery failed") &&
			strings.Contains(l, "source starting") && strings.Contains(l, "download")
	})
	var pages []string
	for _, p := range []string{"/api/v1/config", "/api/v1/sources"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pages = append(pages, p+": "+string(b))
	}
	for _, sec := range secrets {
		if strings.Contains(logs.String(), sec) {
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, sec) {
					t.Errorf("log shows %q: %s", sec, line)
				}
			}
		}
		for _, p := range pages {
			if strings.Contains(p, sec) {
				name, _, _ := strings.Cut(p, ":")
				t.Errorf("%s shows %q", name, sec)
			}
		}
	}
}

// TestConfigReportsBoundAddresses asks for port 0 everywhere and finds the
// ports actually bound in /api/v1/config.
func TestConfigReportsBoundAddresses(t *testing.T) {
	cfg := testConfig(t)
	cfg.RTSP.Enabled = true
	cfg.RTSP.Address = "127.0.0.1:0"
	cfg.RTSP.Transports = []string{"tcp"}
	s := startServer(t, cfg)
	var got struct {
		HTTP      struct{ Address string }
		Listeners map[string]string
	}
	getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/config", &got)
	if got.HTTP.Address != "127.0.0.1:0" {
		t.Fatalf("configured http.address = %q", got.HTTP.Address)
	}
	want := map[string]string{"http": s.HTTPAddr(), "rtmp": s.RTMPAddr(), "rtsp": s.RTSPAddr()}
	for k, v := range want {
		if got.Listeners[k] != v || strings.HasSuffix(v, ":0") {
			t.Errorf("listeners[%s] = %q, want %q", k, got.Listeners[k], v)
		}
	}
}
