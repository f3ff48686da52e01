package hls

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"syscall"
	"testing"
	"time"

	"mps/internal/stream"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// feed writes loops copies of units into s as fast as the ring allows,
// shifting timestamps so the media is continuous.
func feed(s *stream.Stream, m map[*stream.Track]*stream.Track, units []*stream.Unit, loops int) time.Duration {
	span := units[len(units)-1].DTS - units[0].DTS + time.Second/30
	now := time.Now()
	for l := range loops {
		off := time.Duration(l) * span
		for _, u := range units {
			c := *u
			c.Track = m[u.Track]
			c.PTS += off
			c.DTS += off
			c.Time = now
			_ = s.Write(&c)
		}
	}
	return time.Duration(loops) * span
}

// BenchmarkAlwaysOnMuxers10 runs ten always-on LL-HLS muxers on ten
// streams fed faster than real time with the 320x240 H.264+AAC test file,
// and reports the CPU they need per second of media (as a share of one
// core at real time) and the heap each muxer keeps for its window.
// HLS_PART_DURATION overrides the part duration, to compare.
func BenchmarkAlwaysOnMuxers10(b *testing.B) {
	needTools(b, "ffmpeg")
	tracks, units := loadUnits(b, "h264_aac_1s_gop.mp4")
	const streams, loops = 10, 2
	e := newEnv(b, ruleWith(PathConfig{AlwaysOn: true, PartDuration: benchPartDuration()}, nil), nil)
	run := func(i int, keep bool) (media time.Duration, ss []*stream.Stream) {
		for n := range streams {
			ts, m := cloneTracks(tracks)
			s, err := e.hub.Publish(context.Background(), stream.Request{Path: fmt.Sprintf("bench/%d/%d", i, n), Protocol: "bench"}, ts, stream.Options{RingSize: 4096})
			if err != nil {
				b.Fatal(err)
			}
			e.srv.StreamStarted(s)
			media = feed(s, m, units, loops)
			ss = append(ss, s)
		}
		// Wait until every muxer has cut all complete segments.
		want := uint64(loops*6 - 1)
		for _, s := range ss {
			for {
				m := e.srv.running(s.Path())
				m.tl.mu.Lock()
				n := m.tl.nextMSN
				m.tl.mu.Unlock()
				if n >= want+1 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if !keep {
			for _, s := range ss {
				s.Close()
			}
		}
		return media, ss
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	var media time.Duration
	for i := range b.N {
		d, _ := run(i, false)
		media += d * streams
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(100*cpu.Seconds()/media.Seconds(), "%core/realtime-muxer")

	// Memory: heap held by ten muxers with full windows, over the same
	// streams without muxers.
	var ms runtime.MemStats
	_, ss := run(b.N+1, true)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	with := ms.HeapAlloc
	var ms10 []*muxer
	for _, s := range ss {
		m := e.srv.running(s.Path())
		m.stop()
		ms10 = append(ms10, m)
	}
	for _, m := range ms10 {
		<-m.done
	}
	ms10 = nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	without := ms.HeapAlloc
	for _, s := range ss {
		s.Close()
	}
	b.ReportMetric(float64(int64(with)-int64(without))/streams, "heap-B/muxer")
}

// BenchmarkStartup measures the time from publishing a live stream (paced
// in real time, 1 s GOP) to the first playable media playlist for an
// on-demand request made right after the publish.
func BenchmarkStartup(b *testing.B) {
	needTools(b, "ffmpeg")
	tracks, units := loadUnits(b, "h264_aac_1s_gop.mp4")
	for _, v := range allVariants {
		b.Run(string(v), func(b *testing.B) {
			e := newEnv(b, ruleWith(PathConfig{Variant: v}, nil), nil)
			var total time.Duration
			for i := range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				path := fmt.Sprintf("start/%d", i)
				start := time.Now()
				e.pace(ctx, b, path, tracks, units, 10*time.Second, false)
				code, _, body := get(b, ctx, e.base+path+"/stream.m3u8")
				if code != http.StatusOK {
					b.Fatalf("%d %s", code, body)
				}
				total += time.Since(start)
				cancel()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-playlist")
		})
	}
}
