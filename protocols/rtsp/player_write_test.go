package rtsp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/tsconv"
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

// fileUnits demuxes a test file into tracks and units (through MPEG-TS,
// as ffmpeg copies it).
func fileUnits(t *testing.T, name string) ([]*stream.Track, []*stream.Unit) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", testdata(t, name), "-c", "copy", "-f", "mpegts", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	d, err := tsconv.NewDemuxer(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var units []*stream.Unit
	for {
		u, err := d.ReadUnit()
		if errors.Is(err, io.EOF) {
			return d.Tracks(), units
		}
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
}

// An RTSP/TCP player gets all RTP packets of an access unit in one write:
// no write of the server ends inside a unit's run of packets, and no more
// writes carry RTP than there are units. ffmpeg still decodes every frame.
func TestPlayerWritesWholeAccessUnits(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	rl := &recordingListener{}
	s := New(Config{Address: "127.0.0.1:0", WrapListener: func(l net.Listener) net.Listener {
		rl.Listener = l
		return rl
	}}, hub, testLogger(t))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	tracks, units := fileUnits(t, mainFile)
	st, err := hub.Publish(ctx, stream.Request{Path: "live/writes", Protocol: "test"}, tracks, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rd := readFFmpeg(ctx, t, rtspURL(s, "live/writes"), "tcp")
	testutil.WaitFor(t, 15*time.Second, "the player plays", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for o := range s.outputs {
			select {
			case <-o.playing:
				return st.Stats().Readers["rtsp"] == 1
			default:
			}
		}
		return false
	})
	video := 0
	for _, u := range units {
		if u.Track.IsVideo() {
			video++
		}
		if err := st.Write(u); err != nil {
			t.Fatal(err)
		}
	}
	// The stream ends once the player has been sent every unit (the
	// source's end disconnects it, dropping what gortsplib still queues).
	testutil.WaitFor(t, 15*time.Second, "every unit sent", func() bool {
		rl.mu.Lock()
		defer rl.mu.Unlock()
		for _, c := range rl.conns {
			c.mu.Lock()
			aus, _, _ := accessUnitWrites(t, c.data, c.ends)
			c.mu.Unlock()
			if aus >= len(units) {
				return true
			}
		}
		return false
	})
	st.Close()
	if err := rd.wait(t, 20*time.Second); err != nil {
		t.Fatalf("reader: %v\n%s", err, rd.stderrString())
	}
	if n := frameCounts(rd.stdoutString())[0]; n != video {
		t.Errorf("reader decoded %d video frames, want %d", n, video)
	}
	rl.mu.Lock()
	conns := rl.conns
	rl.mu.Unlock()
	checked := false
	for _, c := range conns {
		c.mu.Lock()
		aus, writes, split := accessUnitWrites(t, c.data, c.ends)
		c.mu.Unlock()
		if aus == 0 {
			continue
		}
		checked = true
		t.Logf("player connection: %d units (%d units in the file), %d writes carrying RTP, %d units split across writes",
			aus, len(units), writes, split)
		if split > 0 {
			t.Errorf("%d of %d units were split across writes", split, aus)
		}
		if writes > aus {
			t.Errorf("%d writes carry %d units", writes, aus)
		}
	}
	if !checked {
		t.Fatal("no connection carried RTP")
	}
}

// accessUnitWrites parses what the server wrote on an RTSP connection
// (responses and interleaved frames), groups the RTP packets into units
// (consecutive packets of a channel with one timestamp), and counts the
// units, the writes that carry RTP, and the units a write boundary cuts.
func accessUnitWrites(t *testing.T, data []byte, ends []int) (aus, writes, split int) {
	type run struct {
		ch         byte
		ts         uint32
		start, end int
	}
	var runs []run
	rtpWrites := map[int]bool{}
	for p := 0; p < len(data); {
		if data[p] != '$' {
			n := responseLen(t, data[p:])
			if n == 0 {
				break
			}
			p += n
			continue
		}
		if p+4 > len(data) {
			break
		}
		size := int(data[p+2])<<8 | int(data[p+3])
		end := p + 4 + size
		if end > len(data) {
			break
		}
		ch := data[p+1]
		if ch%2 == 0 { // RTP, not RTCP
			var pkt rtp.Packet
			if err := pkt.Unmarshal(data[p+4 : end]); err != nil {
				t.Fatalf("bad RTP packet at %d: %v", p, err)
			}
			rtpWrites[sort.SearchInts(ends, p+1)] = true
			if n := len(runs); n > 0 && runs[n-1].ch == ch && runs[n-1].ts == pkt.Timestamp && runs[n-1].end == p {
				runs[n-1].end = end
			} else {
				runs = append(runs, run{ch: ch, ts: pkt.Timestamp, start: p, end: end})
			}
		}
		p = end
	}
	for _, r := range runs {
		// a write ending strictly inside the run splits it
		if i := sort.SearchInts(ends, r.start+1); i < len(ends) && ends[i] < r.end {
			split++
		}
	}
	return len(runs), len(rtpWrites), split
}

// responseLen is the length of the RTSP response at the start of b,
// headers and body, or 0 when b does not hold a whole one.
func responseLen(t *testing.T, b []byte) int {
	if !bytes.HasPrefix(b, []byte("RTSP/1.0")) {
		t.Fatalf("neither a response nor an interleaved frame: %q", b[:min(len(b), 40)])
	}
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return 0
	}
	n := i + 4
	for _, l := range strings.Split(string(b[:i]), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
			cl, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("bad Content-Length %q", v)
			}
			n += cl
		}
	}
	return n
}
