package rtsp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
)

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testdata(t *testing.T, name string) string {
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test file: %v", err)
	}
	return p
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
}

func newHub(t *testing.T, policy pathmgr.PolicyFunc) *pathmgr.Manager {
	m := pathmgr.New(testLogger(t), events.NewBus(), policy)
	t.Cleanup(m.Close)
	return m
}

// freeUDPPair finds a free even RTP port with a free RTCP port after it.
func freeUDPPair(t *testing.T) (string, string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		c1, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c1.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 || p >= 65535 {
			c1.Close()
			continue
		}
		c2, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+1))
		if err != nil {
			c1.Close()
			continue
		}
		c1.Close()
		c2.Close()
		return fmt.Sprintf("127.0.0.1:%d", p), fmt.Sprintf("127.0.0.1:%d", p+1)
	}
	t.Fatal("no free UDP port pair")
	return "", ""
}

// startServer starts an RTSP server on loopback, with UDP when udp is set.
func startServer(t *testing.T, hub stream.Hub, udp bool) *Server {
	t.Helper()
	cfg := Config{Address: "127.0.0.1:0"}
	if udp {
		cfg.UDPRTPAddress, cfg.UDPRTCPAddress = freeUDPPair(t)
	}
	s := New(cfg, hub, testLogger(t))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func rtspURL(s *Server, path string) string {
	return "rtsp://" + s.Addr().String() + "/" + path
}

// proc is a running ffmpeg/ffprobe with its output captured.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func startProc(ctx context.Context, t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.Stdout = &lockedBuffer{b: &p.stdout}
	p.cmd.Stderr = &lockedBuffer{b: &p.stderr}
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) stdoutString() string {
	p.cmd.Stdout.(*lockedBuffer).mu.Lock()
	defer p.cmd.Stdout.(*lockedBuffer).mu.Unlock()
	return p.stdout.String()
}

func (p *proc) stderrString() string {
	p.cmd.Stderr.(*lockedBuffer).mu.Lock()
	defer p.cmd.Stderr.(*lockedBuffer).mu.Unlock()
	return p.stderr.String()
}

// wait waits for the process to exit, failing the test after d.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not exit within %v; stderr:\n%s", p.cmd.Path, d, p.stderrString())
		return nil
	}
}

// publishFFmpeg publishes file over RTSP in real time with stream copy.
func publishFFmpeg(ctx context.Context, t *testing.T, url, transport, file string, extra ...string) *proc {
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-re", "-i", file}
	args = append(args, extra...)
	if len(extra) == 0 {
		args = append(args, "-c", "copy")
	}
	args = append(args, "-f", "rtsp", "-rtsp_transport", transport, url)
	return startProc(ctx, t, "ffmpeg", args...)
}

// waitStream polls the hub until path is published.
func waitStream(t *testing.T, hub *pathmgr.Manager, path string, p *proc) *stream.Stream {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := hub.Get(path); s != nil {
			return s
		}
		if p != nil {
			select {
			case <-p.done:
				t.Fatalf("publisher exited early: %v\n%s", p.err, p.stderrString())
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("stream %s never published", path)
	return nil
}

// readFFmpeg decodes an RTSP stream to per-frame checksums (framecrc), one
// line per decoded frame, prefixed by the output stream index.
func readFFmpeg(ctx context.Context, t *testing.T, url, transport string) *proc {
	return startProc(ctx, t, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error",
		"-rtsp_transport", transport, "-i", url,
		"-map", "0:v?", "-map", "0:a?", "-f", "framecrc", "-")
}

// frameCounts counts framecrc lines by stream index.
func frameCounts(out string) map[int]int {
	n := map[int]int{}
	for _, l := range strings.Split(out, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		var idx int
		if _, err := fmt.Sscanf(l, "%d,", &idx); err == nil {
			n[idx]++
		}
	}
	return n
}
