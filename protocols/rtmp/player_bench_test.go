package rtmp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPlayers fans one 720p30 3 Mb/s + AAC stream out to 20 RTMP
// players (the package's own client, reading every message), one 2 s pass
// per op. cpu-ms/op is the whole process's CPU time (server, publisher
// and players) per pass; the players' share is the same in every build.
func BenchmarkPlayers(b *testing.B) {
	for _, n := range []int{20} {
		b.Run(fmt.Sprintf("players=%d", n), func(b *testing.B) { benchPlayers(b, n) })
	}
}

func benchPlayers(b *testing.B, players int) {
	tags := flvTags720p(b)
	perPass := int64(0)
	for _, t := range tags {
		if len(t.payload) > 1 && t.payload[1] == pktCodedFrames { // not a sequence start or end
			perPass++
		}
	}
	s, hub, c, pass := benchPublisher(b, tags)
	w, _ := pass(0)
	if _, err := c.conn.Write(w); err != nil {
		b.Fatal(err)
	}
	for hub.Get("live/bench") == nil {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	counts := make([]atomic.Int64, players)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	u, _ := parseURL("rtmp://" + s.Addr().String() + "/live/bench")
	for i := range players {
		p, err := dialClient(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		sid, err := p.open(u, false)
		if err == nil {
			err = p.write(csidPlay, 0, sid, commandMessage("play", 0, nil, "bench", -2000.0))
		}
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.close()
			for {
				m, err := p.readMessage()
				if err != nil {
					return
				}
				if (m.typ == msgAudio || m.typ == msgVideo) && len(m.payload) > 1 && m.payload[1] != 0 {
					counts[i].Add(1)
				}
			}
		}()
	}
	quiet := func() []int64 { // counts once nothing has arrived for 300 ms
		prev := make([]int64, players)
		for deadline := time.Now().Add(30 * time.Second); ; {
			if time.Now().After(deadline) {
				b.Fatalf("players did not all start: %v", prev)
			}
			time.Sleep(300 * time.Millisecond)
			same := true
			for i := range counts {
				v := counts[i].Load()
				same = same && v == prev[i] && v > 0
				prev[i] = v
			}
			if same {
				return prev
			}
		}
	}
	base := quiet()
	b.SetBytes(int64(len(w)) * int64(players))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	var paused time.Duration
	for i := 1; i <= b.N; i++ {
		t := cpuTime()
		b.StopTimer()
		w, _ := pass(i)
		b.StartTimer()
		paused += cpuTime() - t
		if _, err := c.conn.Write(w); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for j := range counts {
			for counts[j].Load()-base[j] < int64(i)*perPass {
				if time.Now().After(deadline) {
					b.Fatalf("player %d has %d of %d messages", j, counts[j].Load()-base[j], int64(i)*perPass)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu-paused)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
