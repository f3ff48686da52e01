package hls

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stampFilter draws the wall-clock time each frame is made into it, for
// browsertest/play.mjs --stamps: bit k of the epoch milliseconds is a white
// 20x20 block at (10+25*(k%12), 10+30*(k/12)) on black; block 24 is always
// white, block 25 never drawn. The frame's time stamp is the filter's
// RTCTIME while it is being made (ffmpeg -re paces the source), then set
// back to the frame count.
func stampFilter() string {
	f := []string{"settb=1/1000000", "setpts=RTCTIME"}
	box := func(k int) string {
		return fmt.Sprintf("drawbox=x=%d:y=%d:w=20:h=20:color=white:t=fill", 10+(k%12)*25, 10+(k/12)*30)
	}
	for k := range 24 {
		f = append(f, box(k)+fmt.Sprintf(":enable='eq(mod(floor(t*1000/%d),2),1)'", 1<<k))
	}
	f = append(f, box(24), "setpts=N/(30*TB)")
	return strings.Join(f, ",")
}

// publishStamped publishes a live 320x240 30 fps H.264 + AAC stream made
// by ffmpeg in real time, every frame stamped with its wall-clock time. The
// encoder adds no delay (x264 zerolatency: no B-frames, no lookahead), and
// the MPEG-TS muxer flushes every frame at once (no PES gathering), as a
// live encoder would send over RTMP or SRT.
func (e *env) publishStamped(t testing.TB, path string) *publisher {
	in := []string{"-re", "-f", "lavfi", "-i", "color=c=black:s=320x240:r=30"}
	if os.Getenv("HLS_G2G_NOAUDIO") == "" {
		in = append(in, "-re", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000")
	}
	return e.publish(t, path, "stamped", pubOpts{
		input: in,
		ffArgs: []string{
			"-vf", stampFilter(),
			"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p", "-b:v", "600k",
			"-c:a", "aac", "-b:a", "64k",
			"-pes_payload_size", "0", "-flush_packets", "1", "-muxdelay", "0",
		},
	})
}

// BenchmarkBrowserGlassToGlass plays a live stream with hls.js as it ships
// (config {lowLatencyMode: true}, nothing else) in headless Chromium, on
// the default LL-HLS config, and measures glass to glass for every frame
// shown: the time the browser presents it minus the wall-clock time drawn
// into it when it was made. Each iteration is a new stream, server and
// browser, played for HLS_G2G_SECONDS (default 20) s; the first 4 s of
// playback are start-up and not counted. It reports the median and p95
// of all frames of all iterations, and the stalls (video 'waiting' while
// playing) per iteration. Run it with e.g.
//
//	go test -run '^$' -bench BrowserGlassToGlass -benchtime 3x ./hls/
//
// HLS_PART_DURATION (a Go duration) overrides the part duration, to
// compare; HLS_G2G_NOAUDIO=1 publishes video only; HLS_G2G_DEBUG=1 logs
// hls.js's start-up event by event and its own latency estimate.
//
// With hls.js as it ships, the latency of a session is set at its start
// and stays: hls.js picks its start position (the playlist's edge minus
// PART-HOLD-BACK) when it loads the first playlist, loads the parts from
// the independent part before it, seeks there once the first is buffered
// and then plays at normal speed. Glass to glass is PART-HOLD-BACK plus
// that start-up time (parts loading, and Chromium's seek, about 250 ms
// more with an audio track than without on this machine) plus the
// encoder and the age of the first playlist.
func BenchmarkBrowserGlassToGlass(b *testing.B) {
	needTools(b, "ffmpeg")
	seconds := 20
	if v, err := strconv.Atoi(os.Getenv("HLS_G2G_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	cfg := DefaultPathConfig()
	cfg.PartDuration = benchPartDuration()
	var all, medians []float64
	stalls, unreadable := 0, 0
	for i := 0; i < b.N; i++ {
		g2g, r := glassToGlass(b, cfg, seconds)
		all = append(all, g2g...)
		medians = append(medians, quantile(g2g, 0.5))
		stalls += r.Waiting
		unreadable += r.Unreadable
		b.Logf("run %d: %d frames, median %.0f ms, p95 %.0f ms, stalls %d, parts %d, hls.js target latency %v s",
			i, len(g2g), quantile(g2g, 0.5), quantile(g2g, 0.95), r.Waiting, r.Parts, lastTarget(r))
	}
	b.ReportMetric(quantile(all, 0.5), "g2g-median-ms")
	b.ReportMetric(quantile(all, 0.95), "g2g-p95-ms")
	b.ReportMetric(float64(stalls)/float64(b.N), "stalls/op")
	b.Logf("%d frames in %d runs (unreadable %d): median %.0f ms, p95 %.0f ms; per-run medians %v",
		len(all), b.N, unreadable, quantile(all, 0.5), quantile(all, 0.95), medians)
}

// glassToGlass runs one stamped stream and one stock hls.js player and
// returns glass to glass in ms of every frame shown after start-up.
func glassToGlass(b *testing.B, cfg PathConfig, seconds int) ([]float64, *playReport) {
	b.StopTimer()
	defer b.StartTimer()
	e := newEnv(b, ruleWith(cfg, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+60)*time.Second)
	defer cancel()
	p := e.publishStamped(b, "live/g2g")
	defer p.stop()
	r := play(b, ctx, e.base+"live/g2g/index.m3u8", seconds, "--stock", "--stamps")
	if len(r.Fatal) > 0 {
		b.Fatalf("hls.js fatal errors: %v (non-fatal: %v)", r.Fatal, r.Errors)
	}
	if len(r.Stamps) == 0 {
		b.Fatalf("no stamped frame was shown (unreadable %d, parts %d, errors %v)", r.Unreadable, r.Parts, r.Errors)
	}
	if os.Getenv("HLS_G2G_DEBUG") != "" {
		for _, s := range r.Samples {
			if s.G2G != nil && s.Latency != nil {
				b.Logf("at %.1f t %.2f pdt-g2g %.3f hls.js latency %.3f", s.At, s.T, *s.G2G, *s.Latency)
			}
		}
	}
	for k, v := range r.Start {
		if v != nil {
			b.Logf("start %s %.3f", k, *v)
		}
	}
	if os.Getenv("HLS_G2G_DEBUG") != "" {
		for _, ev := range r.Events {
			b.Logf("%v", ev)
		}
	}
	first := r.Stamps[0][0]
	var out []float64
	for _, s := range r.Stamps {
		if s[0]-first >= 4000 {
			out = append(out, s[1])
		}
	}
	return out, r
}

// benchPartDuration is HLS_PART_DURATION (a Go duration) if set, to
// compare part durations in benchmarks, or 0 for the default.
func benchPartDuration() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("HLS_PART_DURATION"))
	return d
}

func lastTarget(r *playReport) any {
	for i := len(r.Samples) - 1; i >= 0; i-- {
		if r.Samples[i].Target != nil {
			return *r.Samples[i].Target
		}
	}
	return nil
}

// quantile returns the q quantile (nearest rank) of v, -1 if empty.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return -1
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
