package srt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
	"mps/internal/tsconv"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchUnits makes 2 s of 720p30 3 Mb/s H.264 (with B-frames) + AAC with
// ffmpeg and returns its tracks and units.
func benchUnits(b *testing.B) ([]*stream.Track, []*stream.Unit) {
	b.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "2", "-c:v", "libx264", "-preset", "superfast", "-bf", "2", "-b:v", "3M", "-g", "60",
		"-c:a", "aac", "-f", "mpegts", "-").Output()
	if err != nil {
		b.Skipf("ffmpeg cannot make the source: %v", err)
	}
	d, err := tsconv.NewDemuxer(bytes.NewReader(out))
	if err != nil {
		b.Fatal(err)
	}
	var units []*stream.Unit
	for {
		u, err := d.ReadUnit()
		if errors.Is(err, io.EOF) {
			return d.Tracks(), units
		}
		if err != nil {
			b.Fatal(err)
		}
		units = append(units, u)
	}
}

// BenchmarkReaders fans one 720p30 3 Mb/s + AAC stream out to 10 SRT
// readers (gosrt, counting video PES starts in the TS), one 2 s pass of
// units per op written into the hub at four times real time (a faster
// burst overflows the loopback socket buffers). cpu-ms/op is the whole
// process's CPU time (server and readers) per pass; the readers' share is
// the same in every build.
func BenchmarkReaders(b *testing.B) {
	for _, n := range []int{10} {
		b.Run(fmt.Sprintf("readers=%d", n), func(b *testing.B) { benchReaders(b, n) })
	}
}

func benchReaders(b *testing.B, readers int) {
	tracks, units := benchUnits(b)
	var perPass int64
	for _, u := range units {
		if u.Track.IsVideo() {
			perPass++
		}
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.Default()
	}
	hub := pathmgr.New(log, events.NewBus(), nil)
	b.Cleanup(hub.Close)
	s := New(Config{Address: "127.0.0.1:0"}, hub, log)
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := hub.Publish(ctx, stream.Request{Path: "live/bench", Protocol: "test"}, tracks, stream.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const passLen = 2 * time.Second
	pass := func(i int) {
		start := time.Now()
		for _, u := range units {
			if d := time.Until(start.Add(u.DTS / 4)); d > 0 {
				time.Sleep(d)
			}
			c := *u
			c.PTS += time.Duration(i) * passLen
			c.DTS += time.Duration(i) * passLen
			c.Time = time.Now()
			if err := st.Write(&c); err != nil {
				b.Fatal(err)
			}
		}
	}
	pass(0)
	counts := make([]atomic.Int64, readers)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := range readers {
		cfg := gosrt.DefaultConfig()
		cfg.StreamId = "read:live/bench"
		// time for retransmissions on a loaded machine
		cfg.ReceiverLatency, cfg.PeerLatency = time.Second, time.Second
		conn, err := gosrt.Dial("srt", s.Addr(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			countVideoPES(conn, &counts[i])
		}()
	}
	base := make([]int64, readers)
	// A frame whose packets came too late for the SRT latency is lost for
	// good: a pass is over when every reader is within 5% of its frames,
	// and the shortfall is reported as lost/op.
	waitAll := func(want func(j int) int64) {
		deadline := time.Now().Add(30 * time.Second)
		for j := range counts {
			w := want(j)
			for counts[j].Load() < w-w/20 {
				if time.Now().After(deadline) {
					b.Fatalf("reader %d has %d of %d frames", j, counts[j].Load(), w)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	waitAll(func(int) int64 { return 1 })
	time.Sleep(1500 * time.Millisecond) // the GOP cache is out, after the latency
	for j := range counts {
		base[j] = counts[j].Load()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 1; i <= b.N; i++ {
		pass(i)
		waitAll(func(j int) int64 { return base[j] + int64(i)*perPass })
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	time.Sleep(1500 * time.Millisecond) // the last frames' latency
	var lost int64
	for j := range counts {
		lost += base[j] + int64(b.N)*perPass - counts[j].Load()
	}
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
}

// countVideoPES reads MPEG-TS from r and counts the TS packets that start
// a PES of a video stream (stream_id 0xE0-0xEF), until r fails.
func countVideoPES(r io.Reader, frames *atomic.Int64) {
	buf := make([]byte, 1500)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		for p := buf[:n]; len(p) >= 188; p = p[188:] {
			if p[0] != 0x47 || p[1]&0x40 == 0 { // not a payload unit start
				continue
			}
			off := 4
			if p[3]&0x20 != 0 { // adaptation field
				off += 1 + int(p[4])
			}
			if off+4 <= 188 && p[off] == 0 && p[off+1] == 0 && p[off+2] == 1 && p[off+3]&0xf0 == 0xe0 {
				frames.Add(1)
			}
		}
	}
}
