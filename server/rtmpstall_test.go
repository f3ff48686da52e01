package server

import (
	"context"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// stallProxy forwards one TCP client to target and, once stall is set,
// stops reading from the server: to the server it is a player that stopped
// reading mid-stream. Its server-side socket has a small receive buffer so
// the server's writes block soon.
type stallProxy struct {
	ln    net.Listener
	stall atomic.Bool
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); close(done) })
	go func() {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		defer client.Close()
		up, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer up.Close()
		_ = up.(*net.TCPConn).SetReadBuffer(4096)
		go func() { _, _ = io.Copy(up, client) }()
		buf := make([]byte, 4096)
		for !p.stall.Load() {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		<-done // hold both sockets open, reading nothing
	}()
	return p
}

// TestRTMPStalledPlayerDropped plays a stream through a client that stops
// reading mid-stream: the server drops it after rtmp.write_timeout while a
// real ffmpeg player of the same stream keeps the full frame rate.
func TestRTMPStalledPlayerDropped(t *testing.T) {
	needFFmpeg(t)
	cfg := testConfig(t)
	cfg.RTMP.WriteTimeout = config.Duration(2 * time.Second)
	s := startServer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := "rtmp://" + s.RTMPAddr() + "/live/stall"
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), url, true)
	defer pub.Process.Kill()
	testutil.WaitFor(t, 10*time.Second, "stream published", func() bool { return s.Paths().Get("live/stall") != nil })

	proxy := newStallProxy(t, s.RTMPAddr())
	stalled, _ := ffmpeg(ctx, "-i", "rtmp://"+proxy.ln.Addr().String()+"/live/stall", "-c", "copy", "-f", "null", "-")
	if err := stalled.Start(); err != nil {
		t.Fatal(err)
	}
	defer stalled.Process.Kill()
	readers := func() int {
		st := s.Paths().Get("live/stall")
		if st == nil {
			return 0
		}
		return st.Stats().Readers["rtmp"]
	}
	testutil.WaitFor(t, 10*time.Second, "stalling player playing", func() bool { return readers() == 1 })

	// The good player records 30 s while the other one stalls, is
	// dropped, and after.
	out := filepath.Join(t.TempDir(), "good.flv")
	good, stderr := ffmpeg(ctx, "-i", url, "-t", "30", "-c", "copy", "-y", out)
	if err := good.Start(); err != nil {
		t.Fatal(err)
	}
	goodDone := make(chan error, 1)
	go func() { goodDone <- good.Wait() }()
	testutil.WaitFor(t, 10*time.Second, "good player playing", func() bool { return readers() == 2 })
	proxy.stall.Store(true)
	testutil.WaitFor(t, 28*time.Second, "the player that stopped reading dropped", func() bool { return readers() == 1 })
	if err := <-goodDone; err != nil {
		t.Fatalf("good player: %v %s", err, stderr)
	}
	probe := exec.Command("ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", out)
	b, err := probe.Output()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	t.Logf("good player: %d video frames in 30 s (30 fps published)", n)
	// 30 s at 30 fps, less the GOP the player may start behind.
	if n < 30*30*95/100 {
		t.Fatalf("good player got %d video frames in 30 s, want about 900", n)
	}
}
