package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// publish keeps one publisher on soak/sI, RTMP for even I and SRT for odd,
// restarting it if it drops.
func (s *soakServer) publish(ctx context.Context, i int, file string) {
	path := fmt.Sprintf("soak/s%d", i)
	out := []string{"-f", "flv", "rtmp://" + s.addrs["rtmp"] + "/" + path}
	if i%2 == 1 {
		out = []string{"-f", "mpegts", "srt://" + s.addrs["srt"] + "?streamid=publish:" + path + "&pkt_size=1316"}
	}
	args := append([]string{"-re", "-stream_loop", "-1", "-i", file, "-c", "copy"}, out...)
	for ctx.Err() == nil {
		_ = ffmpegRun(ctx, nil, args...)
		sleepCtx(ctx, time.Second)
	}
}

// reader is one well-behaved player and the frames it got.
type reader struct {
	proto, path string

	n atomic.Int64 // frames counted by a Go reader (-go)

	mu       sync.Mutex
	frames   int // latest count of the current ffmpeg
	total    int // frames of earlier ffmpeg runs
	restarts int
	lastErr  string // why a Go reader last dropped
}

func (r *reader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total + r.frames + int(r.n.Load())
}

func (s *soakServer) inputArgs(proto, path string) []string {
	switch proto {
	case "rtsp":
		return []string{"-rtsp_transport", "tcp", "-i", "rtsp://" + s.addrs["rtsp"] + "/" + path}
	case "hls":
		return []string{"-i", s.http + "/hls/" + path + "/index.m3u8"}
	default:
		return []string{"-i", "rtmp://" + s.addrs["rtmp"] + "/" + path}
	}
}

// read plays r's path until ctx ends; a reader that drops is restarted
// and counted, since a well-behaved reader should never drop.
func (s *soakServer) read(ctx context.Context, r *reader) {
	args := append(s.inputArgs(r.proto, r.path), "-c", "copy", "-f", "null", "-")
	for ctx.Err() == nil {
		_ = ffmpegRun(ctx, func(n int) { r.mu.Lock(); r.frames = n; r.mu.Unlock() }, args...)
		r.mu.Lock()
		r.total += r.frames
		r.frames = 0
		if ctx.Err() == nil {
			r.restarts++
		}
		r.mu.Unlock()
		sleepCtx(ctx, time.Second)
	}
}

// churn starts a short-lived reader every second on the paths and
// protocols in turn.
func (s *soakServer) churn(ctx context.Context, paths int) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ctx.Err() == nil; i++ {
		proto := []string{"rtmp", "rtsp", "hls", "srt"}[i%4]
		path := fmt.Sprintf("soak/s%d", i%paths)
		in := s.inputArgs(proto, path)
		if proto == "srt" {
			in = []string{"-i", "srt://" + s.addrs["srt"] + "?streamid=read:" + path}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ffmpegRun(ctx, nil, append(in, "-t", "2", "-c", "copy", "-f", "null", "-")...)
		}()
		sleepCtx(ctx, time.Second)
	}
}

// malformed sends every second: random bytes to RTMP and RTSP, a bad
// RTSP request, an HTTP request that never finishes its headers, a
// truncated RTMP handshake and a random SRT datagram.
func (s *soakServer) malformed(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	host := strings.TrimPrefix(s.http, "http://")
	for ctx.Err() == nil {
		for _, m := range []struct {
			network, addr string
			payload       []byte
			hold          time.Duration
		}{
			{"tcp", s.addrs["rtmp"], randBytes(3000), 0},
			{"tcp", s.addrs["rtmp"], append([]byte{3}, randBytes(700)...), 3 * time.Second},
			{"tcp", s.addrs["rtsp"], []byte("DESCRIBE rtsp://x/../../etc RTSP/9.9\r\nCSeq: zz\r\nContent-Length: 99999999\r\n\r\n"), 0},
			{"tcp", s.addrs["rtsp"], randBytes(2000), 0},
			{"tcp", host, []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "), 3 * time.Second},
			{"tcp", host, []byte("POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"input\":"), 3 * time.Second},
			{"udp", s.addrs["srt"], randBytes(1316), 0},
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout(m.network, m.addr, 2*time.Second)
				if err != nil {
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Write(m.payload)
				sleepCtx(ctx, m.hold)
			}()
		}
		sleepCtx(ctx, time.Second)
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
