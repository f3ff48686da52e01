package srt

import (
	"context"
	"errors"
	"math/rand"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/testutil"
	"mps/internal/tsconv"
)

// countVideo reads TS from a reader connection and counts video units
// until the connection ends.
func countVideo(t *testing.T, url string, n *atomic.Int64, wg *sync.WaitGroup) func() {
	t.Helper()
	c, err := dialRaw(t, url)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		d, err := tsconv.NewDemuxer(c)
		if err != nil {
			t.Errorf("reader demuxer: %v", err)
			return
		}
		for {
			u, err := d.ReadUnit()
			if err != nil {
				return
			}
			if u.Track.IsVideo() {
				n.Add(1)
			}
		}
	}()
	return func() { c.Close() }
}

func waitCount(t *testing.T, n *atomic.Int64, want int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d video units after %v, want %d", n.Load(), timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMalformedInputLeavesLiveStreamAlone(t *testing.T) {
	s := startServer(t, Config{HandshakeTimeout: 3 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	pub := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, s.url("publish:live/a", ""))
	st := testutil.WaitStream(t, s.hub, "live/a", nil, 10*time.Second)

	var got atomic.Int64
	var wg sync.WaitGroup
	closeReader := countVideo(t, s.url("read:live/a", ""), &got, &wg)
	waitCount(t, &got, 15, 10*time.Second)

	// Random datagrams on the SRT port, some shaped like handshakes and
	// data packets for the live connection's socket.
	rng := rand.New(rand.NewSource(7))
	u, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		b := make([]byte, 1+rng.Intn(1500))
		rng.Read(b)
		switch i % 3 {
		case 0: // control packet, handshake type, to socket 0
			if len(b) >= 16 {
				b[0], b[1] = 0x80, 0x00
				copy(b[12:16], []byte{0, 0, 0, 0})
			}
		case 1: // data packet
			b[0] &= 0x7f
		}
		_, _ = u.Write(b)
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	u.Close()

	// A client that connects properly and then sends garbage as TS.
	// gosrt's dialer sends its handshake once; under load the flood may
	// still fill the socket buffer, so retry as a real client would.
	var g gosrt.Conn
	for attempt := 0; ; attempt++ {
		g, err = dialRaw(t, s.url("publish:live/garbage", "conntimeo=1000"))
		if err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("garbage publisher: %v", err)
		}
	}
	ended := make(chan struct{})
	go func() {
		buf := make([]byte, 64)
		_, _ = g.Read(buf) // the server sends nothing; this ends when it hangs up
		close(ended)
	}()
	chunk := make([]byte, chunkSize)
	sent := 0
send:
	for sent < 2000 {
		select {
		case <-ended:
			break send
		default:
		}
		rng.Read(chunk)
		if _, err := g.Write(chunk); err != nil {
			break
		}
		sent++
		if sent%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	select {
	case <-ended:
	case <-time.After(15 * time.Second):
		t.Fatalf("server kept the garbage publisher after %d chunks", sent)
	}
	g.Close()
	if s.hub.Get("live/garbage") != nil {
		t.Error("garbage became a stream")
	}

	// The live stream and its reader never noticed.
	before := got.Load()
	waitCount(t, &got, before+30, 10*time.Second)
	if s.hub.Get("live/a") != st {
		t.Error("live stream was replaced or ended")
	}
	closeReader()
	pub.stop(t)
	wg.Wait()
}

func TestCloseEndsEverything(t *testing.T) {
	s := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, s.url("publish:live/a", ""))
	st := testutil.WaitStream(t, s.hub, "live/a", nil, 10*time.Second)
	var got atomic.Int64
	var wg sync.WaitGroup
	closeReader := countVideo(t, s.url("read:live/a", ""), &got, &wg)
	defer func() {
		closeReader()
		wg.Wait()
	}()
	waitCount(t, &got, 5, 10*time.Second)

	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case <-st.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the publisher's stream outlived the server")
	}
	if _, err := dialRaw(t, s.url("read:live/a", "conntimeo=500")); err == nil {
		t.Error("closed server still accepts")
	} else if errors.Is(err, context.DeadlineExceeded) {
		t.Error(err)
	}
	pub.stop(t)
}

func TestSilentPublisherIsDropped(t *testing.T) {
	s := startServer(t, Config{HandshakeTimeout: time.Second, ReadTimeout: time.Second})
	c, err := dialRaw(t, s.url("publish:live/quiet", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ended := make(chan struct{})
	go func() {
		_, _ = c.Read(make([]byte, 64))
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("server kept a publisher that sends nothing")
	}
}
