package rtsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

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
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		units = append(units, u)
	}
	return d.Tracks(), units
}

// BenchmarkPlayers fans one 720p30 3 Mb/s + AAC stream out to 20 RTSP/TCP
// players (gortsplib's client, counting video access units by the RTP
// marker), one 2 s pass of units per op written straight into the hub.
// cpu-ms/op is the whole process's CPU time (server and players) per
// pass; the players' share is the same in every build.
func BenchmarkPlayers(b *testing.B) {
	for _, n := range []int{20} {
		b.Run(fmt.Sprintf("players=%d", n), func(b *testing.B) { benchPlayers(b, n) })
	}
}

func benchPlayers(b *testing.B, players int) {
	tracks, units := benchUnits(b)
	var perPass int64
	for _, u := range units {
		if u.Track.IsVideo() {
			perPass++
		}
	}
	log := slog.New(slog.DiscardHandler)
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
		for _, u := range units {
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
	counts := make([]atomic.Int64, players)
	for i := range players {
		c := benchPlayer(b, "rtsp://"+s.Addr().String()+"/live/bench", &counts[i])
		defer c.Close()
	}
	base := make([]int64, players)
	waitAll := func(want func(j int) int64) {
		deadline := time.Now().Add(30 * time.Second)
		for j := range counts {
			for counts[j].Load() < want(j) {
				if time.Now().After(deadline) {
					b.Fatalf("player %d has %d of %d frames", j, counts[j].Load(), want(j))
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	waitAll(func(int) int64 { return 1 })
	time.Sleep(300 * time.Millisecond) // the GOP cache is out
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
}

// benchPlayer plays url over RTSP/TCP and counts its video access units.
func benchPlayer(b *testing.B, url string, frames *atomic.Int64) *gortsplib.Client {
	u, err := base.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	tcp := gortsplib.TransportTCP
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp}
	if err := c.Start2(); err != nil {
		b.Fatal(err)
	}
	desc, _, err := c.Describe(u)
	if err == nil {
		err = c.SetupAll(desc.BaseURL, desc.Medias)
	}
	if err != nil {
		c.Close()
		b.Fatal(err)
	}
	c.OnPacketRTPAny(func(m *description.Media, _ format.Format, pkt *rtp.Packet) {
		if m.Type == description.MediaTypeVideo && pkt.Marker {
			frames.Add(1)
		}
	})
	if _, err := c.Play(nil); err != nil {
		c.Close()
		b.Fatal(err)
	}
	return c
}
