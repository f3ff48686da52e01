package rtmp

import (
	"bytes"
	"context"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	gortmp "github.com/yutopp/go-rtmp"

	"mps/internal/events"
	"mps/internal/pathmgr"
)

// recordingConn keeps every byte the server writes and where each write
// ended.
type recordingConn struct {
	net.Conn
	mu   sync.Mutex
	data []byte
	ends []int
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.data = append(c.data, p[:n]...)
	c.ends = append(c.ends, len(c.data))
	c.mu.Unlock()
	return n, err
}

type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*recordingConn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordingConn{Conn: c}
	l.mu.Lock()
	l.conns = append(l.conns, rc)
	l.mu.Unlock()
	return rc, nil
}

// startRecordingServer is Start with every accepted socket recorded.
func startRecordingServer(t *testing.T, cfg Config) (*Server, *recordingListener) {
	t.Helper()
	log := testLog(t)
	hub := pathmgr.New(log, events.NewBus(), nil)
	s := New(cfg, hub, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	rl := &recordingListener{Listener: ln}
	s.srv = gortmp.NewServer(&gortmp.ServerConfig{OnConnect: s.onConnect})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(&trackingListener{Listener: rl, s: s})
	}()
	t.Cleanup(func() {
		s.Close()
		hub.Close()
	})
	return s, rl
}

// A player gets each media message whole in one write: no write of the
// server ends inside an audio or video message, and no more writes carry
// media than there are media messages. ffmpeg still reads every frame.
func TestPlayerWritesWholeMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, rl := startRecordingServer(t, Config{PlayWait: 20 * time.Second})
	url := rtmpURLOf(s, "live/writes")
	rd, out := readToFile(t, ctx, url)
	time.Sleep(500 * time.Millisecond) // let the reader connect first
	pub := publishFile(t, ctx, fileGOP, url)
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	if err := rd.wait(t, 10*time.Second); err != nil {
		t.Fatalf("reader: %v: %s", err, rd.stderr)
	}
	if n := frames(t, probe(t, out)["video"]); n != 180 {
		t.Errorf("reader got %d video frames, want 180", n)
	}
	rl.mu.Lock()
	conns := rl.conns
	rl.mu.Unlock()
	checked := false
	for _, c := range conns {
		c.mu.Lock()
		media, writes, split := mediaWrites(t, c.data, c.ends)
		c.mu.Unlock()
		if media == 0 {
			continue // the publisher's connection
		}
		checked = true
		t.Logf("player connection: %d media messages, %d writes carrying media, %d messages split across writes", media, writes, split)
		if split > 0 {
			t.Errorf("%d of %d media messages were split across writes", split, media)
		}
		if writes > media {
			t.Errorf("%d writes carry %d media messages", writes, media)
		}
	}
	if !checked {
		t.Fatal("no connection carried media")
	}
}

// mediaWrites parses what the server wrote on one connection and counts
// its media messages, the writes that carry any media bytes, and the media
// messages that a write boundary cuts.
func mediaWrites(t *testing.T, data []byte, ends []int) (media, writes, split int) {
	if len(data) < handshakeSize {
		return 0, 0, 0
	}
	p := newChunkParser(bytes.NewReader(data[handshakeSize:]))
	var ranges [][2]int
	for {
		start := handshakeSize + int(p.nread)
		m, err := p.readMessage()
		if err != nil {
			break
		}
		end := handshakeSize + int(p.nread)
		switch m.typ {
		case msgSetChunkSize:
			if err := p.setChunkSize(m.payload); err != nil {
				t.Fatal(err)
			}
		case msgAudio, msgVideo:
			ranges = append(ranges, [2]int{start, end})
			// a write ending strictly inside the message splits it
			if i := sort.SearchInts(ends, start+1); i < len(ends) && ends[i] < end {
				split++
			}
		}
	}
	begin := 0
	for _, e := range ends {
		i := sort.Search(len(ranges), func(i int) bool { return ranges[i][1] > begin })
		if i < len(ranges) && ranges[i][0] < e {
			writes++
		}
		begin = e
	}
	return len(ranges), writes, split
}
