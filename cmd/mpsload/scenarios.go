package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	srt "github.com/datarhei/gosrt"
	"github.com/pion/rtp"

	"mps/protocols/rtmp"
)

// fanout is the "P publishers to N readers" scenario: P ffmpeg publishers
// loop file to load/fanout0..P-1 over RTMP, and N cheap Go readers (the
// project's RTMP client, gortsplib's RTSP client, gosrt, an LL-HLS player
// of llhls.go) read them, spread over the paths and the read protocols.
// Each reader counts the video frames it receives; a reader below 95% of
// the source frame rate over the measured window has fallen behind and
// counts as a failure.
type fanout struct {
	urls       urls
	pid        int
	file       string
	fps        float64
	publishers int
	readers    int
	protos     []string
	dur        time.Duration
}

// run returns the process exit code: 1 if a reader fell behind.
func (f fanout) run(ctx context.Context) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.publishers = max(f.publishers, 1)
	for p := range f.publishers {
		pub := exec.CommandContext(ctx, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error",
			"-re", "-stream_loop", "-1", "-i", f.file, "-c", "copy"}, f.urls.publish("rtmp", fmt.Sprintf("load/fanout%d", p))...)...)
		pub.WaitDelay = time.Second
		if err := pub.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "mpsload: ffmpeg:", err)
			return 1
		}
		defer func() { cancel(); _ = pub.Wait() }()
	}
	time.Sleep(2 * time.Second)

	frames := make([]atomic.Int64, f.readers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range f.readers {
		proto := f.protos[i%len(f.protos)]
		path := fmt.Sprintf("load/fanout%d", i%f.publishers)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch proto {
			case "rtsp":
				err = readRTSP(ctx, fmt.Sprintf("rtsp://%s:%d/%s", f.urls.host, f.urls.rtsp, path), &frames[i])
			case "srt":
				err = readSRT(ctx, fmt.Sprintf("%s:%d", f.urls.host, f.urls.srt), "read:"+path, &frames[i])
			case "hls":
				// the first playlist needs a segment: retry while it is not there
				for try := 0; try < 20 && ctx.Err() == nil; try++ {
					if err = readLLHLS(ctx, fmt.Sprintf("http://%s:%d/hls/%s/", f.urls.host, f.urls.http, path), &frames[i]); err == nil || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Second)
				}
			default:
				err = rtmp.Play(ctx, fmt.Sprintf("rtmp://%s:%d/%s", f.urls.host, f.urls.rtmp, path),
					func(video bool, _ uint32, body []byte) {
						if video && len(body) > 1 && body[1] == 1 { // AVC coded frames
							frames[i].Add(1)
						}
					})
			}
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "mpsload: reader %d (%s): %v\n", i, proto, err)
			}
		}()
		if i%20 == 19 {
			time.Sleep(100 * time.Millisecond) // do not land every handshake at once
		}
	}
	time.Sleep(5 * time.Second)
	t0, c0, err := cpuTicks(f.pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpsload:", err)
		return 1
	}
	start := make([]int64, f.readers)
	for i := range frames {
		start[i] = frames[i].Load()
	}
	time.Sleep(f.dur)
	t1, c1, err := cpuTicks(f.pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpsload:", err)
		return 1
	}
	rates := make([]float64, f.readers)
	for i := range frames {
		rates[i] = float64(frames[i].Load()-start[i]) / t1.Sub(t0).Seconds()
	}
	rss, _ := rssKiB(f.pid)
	return f.report(float64(c1-c0)/100/t1.Sub(t0).Seconds(), rss, rates)
}

func (f fanout) report(cpu float64, rssKiB int, rates []float64) int {
	sorted := slices.Clone(rates)
	slices.Sort(sorted)
	failed := 0
	for _, r := range rates {
		if r < 0.95*f.fps {
			failed++
		}
	}
	fmt.Printf("scenario=fanout publishers=%d readers=%d (%v) duration=%s server_cpu=%.1f%% of one core"+
		" cpu_per_stream=%.2f%% cpu_per_reader=%.3f%% rss=%d MiB fps min=%.1f median=%.1f max=%.1f (source %.0f) behind=%d\n",
		f.publishers, f.readers, f.protos, f.dur, cpu*100, cpu*100/float64(f.publishers), cpu*100/float64(len(rates)), rssKiB/1024,
		sorted[0], sorted[len(sorted)/2], sorted[len(sorted)-1], f.fps, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// readRTSP plays url over RTSP/TCP with gortsplib and counts the video
// frames (RTP packets with the marker bit on the video media).
func readRTSP(ctx context.Context, url string, frames *atomic.Int64) error {
	u, err := base.ParseURL(url)
	if err != nil {
		return err
	}
	tcp := gortsplib.TransportTCP
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp}
	if err := c.Start2(); err != nil {
		return err
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		return err
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		return err
	}
	c.OnPacketRTPAny(func(m *description.Media, _ format.Format, pkt *rtp.Packet) {
		if m.Type == description.MediaTypeVideo && pkt.Marker {
			frames.Add(1)
		}
	})
	if _, err := c.Play(nil); err != nil {
		return err
	}
	go func() { <-ctx.Done(); c.Close() }()
	return c.Wait()
}

// readSRT reads streamID from addr with gosrt and counts the video frames
// of the MPEG-TS it carries: TS packets that start a PES of a video
// stream (stream_id 0xE0-0xEF).
func readSRT(ctx context.Context, addr, streamID string, frames *atomic.Int64) error {
	cfg := srt.DefaultConfig()
	cfg.StreamId = streamID
	conn, err := srt.Dial("srt", addr, cfg)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer conn.Close()
	buf := make([]byte, 1500)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return err
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
