package rtsp

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCloseDisconnectsEveryone(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, true)
	url := rtspURL(s, "live/close")

	pub := publishFFmpeg(ctx, t, url, "udp", testdata(t, mainFile))
	st := waitStream(t, hub, "live/close", pub)
	r := readFFmpeg(ctx, t, url, "tcp")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.stdoutString(), "\n0,") {
		if time.Now().After(deadline) {
			t.Fatalf("reader got nothing: %s", r.stderrString())
		}
		time.Sleep(50 * time.Millisecond)
	}

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case <-st.Done():
	default:
		t.Fatal("the publisher's stream still runs after Close")
	}
	// The player's output (and its goroutine, waited for by Close) is gone.
	if n := playerCount(s, "live/close"); n != 0 {
		t.Fatalf("%d player outputs left after Close", n)
	}
	// The reader sees the end of its session and exits.
	_ = r.wait(t, 10*time.Second)
	// The UDP publisher only notices when its next request fails; stop it.
	_ = pub.cmd.Process.Kill()
	s.Close() // twice is harmless
}
