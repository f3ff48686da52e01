package rtmp

import (
	"context"
	"log/slog"
	"os/exec"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// flvTags720p makes 2 s of 720p30 H.264 at 3 Mb/s with AAC (key frames
// above 64 kB, as a real camera's) and returns its FLV tags.
func flvTags720p(b testing.TB) []rawMessage {
	b.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-g", "60",
		"-c:a", "aac", "-f", "flv", "-").Output()
	if err != nil {
		b.Skipf("ffmpeg cannot make the source: %v", err)
	}
	return flvMedia(out)
}

// benchPublisher runs a server and publishes to live/bench on it with the
// package's own client, writing pre-chunked FLV tags straight to the
// socket. pass(i) gives the i-th 2.1 s pass of tags and its last time.
func benchPublisher(b testing.TB, tags []rawMessage) (*Server, *pathmgr.Manager, *clientConn, func(i int) ([]byte, time.Duration)) {
	hub := pathmgr.New(slog.New(slog.DiscardHandler), events.NewBus(), nil)
	b.Cleanup(hub.Close)
	s := New(Config{Addr: "127.0.0.1:0"}, hub, slog.New(slog.DiscardHandler))
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	u, _ := parseURL("rtmp://" + s.Addr().String() + "/live/bench")
	c, err := dialClient(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.close)
	sid, err := c.open(u, true)
	if err == nil {
		err = c.write(csidPlay, 0, sid, commandMessage("publish", 0, nil, "bench", "live"))
	}
	if err == nil {
		err = c.waitPublishStart(sid)
	}
	if err != nil {
		b.Fatal(err)
	}
	const span = 2100 // ms between the starts of two passes
	pass := func(i int) ([]byte, time.Duration) {
		var wire []byte
		var last uint32
		for _, t := range tags {
			m := t
			m.sid = sid
			m.ts += uint32(i * span)
			last = max(last, m.ts)
			wire = appendChunks(wire, &m, libChunkSize)
		}
		return wire, ms(int64(last))
	}
	return s, hub, c, pass
}

// BenchmarkIngest publishes 720p FLV tags over loopback into a real server
// as fast as it takes them, one 2 s pass per op, and reads the units back
// from the stream. B/op is what the whole process allocates per pass;
// msgs/op, the media messages in it, gives allocs/op a scale.
func BenchmarkIngest(b *testing.B) {
	tags := flvTags720p(b)
	_, hub, c, pass := benchPublisher(b, tags)
	w, _ := pass(0)
	if _, err := c.conn.Write(w); err != nil {
		b.Fatal(err)
	}
	var st *stream.Stream
	for st == nil {
		time.Sleep(10 * time.Millisecond)
		st = hub.Get("live/bench")
	}
	r := st.NewReader(context.Background(), stream.ReaderOptions{Protocol: "bench"})
	defer r.Close()
	b.SetBytes(int64(len(w)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		b.StopTimer()
		w, last := pass(i)
		b.StartTimer()
		if _, err := c.conn.Write(w); err != nil {
			b.Fatal(err)
		}
		for {
			u, err := r.Read()
			if err != nil {
				b.Fatal(err)
			}
			if u.DTS >= last {
				break
			}
		}
	}
	b.ReportMetric(float64(len(tags)), "msgs/op")
}
