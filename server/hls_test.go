package server

import (
	"context"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// TestHLSOfRTMPPublish publishes over RTMP with ffmpeg and reads the HLS
// output of each variant with ffprobe through the whole server: h264
// 320x240 frames decode from /hls/PATH/index.m3u8.
func TestHLSOfRTMPPublish(t *testing.T) {
	needFFmpeg(t)
	cfg := testConfig(t)
	for _, v := range []string{"lowLatency", "fmp4", "mpegts"} {
		variant := v
		cfg.Paths = append(cfg.Paths, config.PathRule{Name: "hls/" + v, HLS: &config.HLSOverride{Variant: &variant}})
	}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, v := range []string{"lowLatency", "fmp4", "mpegts"} {
		t.Run(v, func(t *testing.T) {
			publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/hls/"+v, true)
			testutil.WaitFor(t, 10*time.Second, "stream", func() bool { return s.Paths().Get("hls/"+v) != nil })
			codec, w, h, frames := probeFrames(t, ctx, "http://"+s.HTTPAddr()+"/hls/hls/"+v+"/index.m3u8", 60)
			if codec != "h264" || w != 320 || h != 240 || frames < 60 {
				t.Fatalf("HLS %s: %s %dx%d %d frames, want h264 320x240 >= 60 frames", v, codec, w, h, frames)
			}
		})
	}
}
