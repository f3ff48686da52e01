package server

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/protocols/webrtc/webrtctest"
)

// udpPair finds a free even/odd UDP port pair on loopback for RTSP's
// RTP/RTCP, which must be consecutive.
func udpPair(t testing.TB) (rtp, rtcp string) {
	t.Helper()
	for p := 20000 + int(time.Now().UnixNano()%10000)*2; p < 60000; p += 2 {
		a, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return fmt.Sprintf("127.0.0.1:%d", p), fmt.Sprintf("127.0.0.1:%d", p+1)
	}
	t.Fatal("no free UDP port pair")
	return "", ""
}

// allProtocolsConfig enables every protocol on free loopback ports.
func allProtocolsConfig(t testing.TB) *config.Config {
	cfg := testConfig(t)
	cfg.RTSP.Enabled = true
	cfg.RTSP.Address = "127.0.0.1:0"
	cfg.RTSP.UDPRTPAddress, cfg.RTSP.UDPRTCPAddress = udpPair(t)
	cfg.SRT.Enabled = true
	cfg.SRT.Address = "127.0.0.1:0"
	cfg.WebRTC.Enabled = true
	cfg.WebRTC.ICEUDPAddress = "127.0.0.1:0"
	cfg.WebRTC.ICETCPAddress = "127.0.0.1:0"
	return cfg
}

// TestCrossProtocolMatrix publishes the same H.264 source with every
// ingest protocol and reads each with every egress protocol at once. Each
// cell checks what a viewer would: frames of H.264 at 320x240 decode.
func TestCrossProtocolMatrix(t *testing.T) {
	needFFmpeg(t)
	s := startServer(t, allProtocolsConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	media, err := webrtctest.MakeMedia(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	file := testdata(t, "h264_aac_1s_gop.mp4")
	httpBase := "http://" + s.HTTPAddr()

	publishers := []struct {
		name  string
		start func(path string) func()
	}{
		{"rtmp", func(path string) func() {
			c := publishRTMP(t, ctx, file, "rtmp://"+s.RTMPAddr()+"/"+path, true)
			return func() { c.Process.Kill() }
		}},
		{"rtsp-tcp", func(path string) func() {
			c, _ := ffmpeg(ctx, "-re", "-stream_loop", "-1", "-i", file, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://"+s.RTSPAddr()+"/"+path)
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			return func() { c.Process.Kill() }
		}},
		{"rtsp-udp", func(path string) func() {
			c, _ := ffmpeg(ctx, "-re", "-stream_loop", "-1", "-i", file, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "udp", "rtsp://"+s.RTSPAddr()+"/"+path)
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			return func() { c.Process.Kill() }
		}},
		{"srt", func(path string) func() {
			c, _ := ffmpeg(ctx, "-re", "-stream_loop", "-1", "-i", file, "-c", "copy", "-f", "mpegts", "srt://"+s.SRTAddr()+"?streamid=publish:"+path+"&pkt_size=1316")
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			return func() { c.Process.Kill() }
		}},
		{"whip", func(path string) func() {
			p, err := webrtctest.Publish(ctx, httpBase+"/webrtc/"+path+"/whip", webrtctest.PublishOptions{Media: media, Loop: true})
			if err != nil {
				t.Fatalf("WHIP publish: %v", err)
			}
			return p.Close
		}},
	}
	readers := []struct {
		name string
		read func(t *testing.T, path string) (codec string, w, h, frames int)
	}{
		{"rtmp", func(t *testing.T, path string) (string, int, int, int) {
			return probeFrames(t, ctx, "rtmp://"+s.RTMPAddr()+"/"+path, 30)
		}},
		{"rtsp", func(t *testing.T, path string) (string, int, int, int) {
			return probeFrames(t, ctx, "rtsp://"+s.RTSPAddr()+"/"+path, 30, "-rtsp_transport", "tcp")
		}},
		{"srt", func(t *testing.T, path string) (string, int, int, int) {
			return probeFrames(t, ctx, "srt://"+s.SRTAddr()+"?streamid=read:"+path, 30, "-analyzeduration", "1000000")
		}},
		{"whep", func(t *testing.T, path string) (string, int, int, int) {
			p, err := webrtctest.Play(ctx, httpBase+"/webrtc/"+path+"/whep", webrtctest.PlayOptions{})
			if err != nil {
				t.Fatalf("WHEP play: %v", err)
			}
			defer p.Close()
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
			defer wcancel()
			if err := p.WaitFrames(wctx, 30); err != nil {
				t.Fatalf("WHEP frames: %v (got %d)", err, len(p.Frames()))
			}
			w, h := p.VideoSize()
			codec := map[string]string{"video/H264": "h264"}[p.VideoCodec()]
			return codec, w, h, len(p.Frames())
		}},
	}
	for _, pub := range publishers {
		t.Run(pub.name, func(t *testing.T) {
			path := "matrix/" + pub.name
			stop := pub.start(path)
			defer stop()
			testutil.WaitFor(t, 15*time.Second, "stream from "+pub.name, func() bool { return s.Paths().Get(path) != nil })
			var wg sync.WaitGroup
			for _, rd := range readers {
				wg.Add(1)
				go t.Run(rd.name, func(t *testing.T) {
					defer wg.Done()
					codec, w, h, frames := rd.read(t, path)
					if codec != "h264" || w != 320 || h != 240 || frames < 30 {
						t.Errorf("%s -> %s: got %q %dx%d, %d frames; want h264 320x240, >= 30 frames", pub.name, rd.name, codec, w, h, frames)
					}
				})
			}
			wg.Wait()
		})
	}
}
