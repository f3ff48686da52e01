package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"mps/protocols/rtmp"
	"mps/protocols/webrtc/webrtctest"
)

// goProtos are the well-behaved readers of a -go soak, in turn: Go
// clients (HLS: the LL-HLS player of llhls.go, which fetches every part;
// gohlslib's client follows only preload hints and skips a part whenever
// two complete between its playlist reloads, as they do behind bursty
// MPEG-TS input) cheap enough that 200 of them fit beside the server on a small
// machine, where 200 ffmpeg processes would not.
var goProtos = []string{"rtmp", "rtsp", "hls", "whep", "srt"}

// goRead plays r's path with a Go client until ctx ends, counting video
// frames in r.n; a client that drops is restarted and counted.
func (s *soakServer) goRead(ctx context.Context, r *reader) {
	for ctx.Err() == nil {
		before := r.n.Load()
		err := s.goReadOnce(ctx, r.proto, r.path, &r.n)
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		if before > 0 || r.n.Load() > 0 {
			r.restarts++ // dropped after playing; a stream too new to join is not counted
		}
		r.lastErr = fmt.Sprint(err)
		r.mu.Unlock()
		sleepCtx(ctx, time.Second)
	}
}

func (s *soakServer) goReadOnce(ctx context.Context, proto, path string, n *atomic.Int64) error {
	switch proto {
	case "rtsp":
		return readRTSP(ctx, "rtsp://"+s.addrs["rtsp"]+"/"+path, n)
	case "srt":
		return readSRT(ctx, s.addrs["srt"], "read:"+path, n)
	case "hls":
		return readLLHLS(ctx, s.http+"/hls/"+path+"/", n)
	case "whep":
		return readWHEP(ctx, s.http+"/webrtc/"+path+"/whep", n)
	default:
		return rtmp.Play(ctx, "rtmp://"+s.addrs["rtmp"]+"/"+path, func(video bool, _ uint32, body []byte) {
			if video && len(body) > 1 && body[1] == 1 { // AVC coded frames
				n.Add(1)
			}
		})
	}
}

// readWHEP plays a path over WebRTC, counting whole video frames.
func readWHEP(ctx context.Context, url string, n *atomic.Int64) error {
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	p, err := webrtctest.Play(sctx, url, webrtctest.PlayOptions{CountOnly: true})
	cancel()
	if err != nil {
		return err
	}
	defer p.Close() //nolint:contextcheck // the session is deleted after ctx ended, on purpose
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, idle := 0, 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		c := p.FrameCount()
		n.Add(int64(c - last))
		if c == last {
			idle++
			if idle >= 10 {
				return fmt.Errorf("no video frame for 10 s")
			}
		} else {
			idle = 0
		}
		last = c
	}
}
