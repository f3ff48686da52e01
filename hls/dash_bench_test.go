package hls

import (
	"context"
	"net/http"
	"testing"
	"time"

	"mps/internal/stream"
)

// BenchmarkManifestRequest measures answering one manifest request of a
// two-rung ladder over loopback HTTP (authorization, muxer lookup,
// manifest and gzip), the DASH MPD next to the HLS multivariant and media
// playlists. The rungs are fed faster than real time with the 320x240
// H.264+AAC test file until their windows are full.
func BenchmarkManifestRequest(b *testing.B) {
	needTools(b, "ffmpeg")
	tracks, units := loadUnits(b, "h264_aac_1s_gop.mp4")
	rule := ruleWith(PathConfig{Variant: VariantLowLatency, AlwaysOn: true}, map[string][]string{"b/lad": {"b/lad/hi", "b/lad/lo"}})
	e := newEnv(b, rule, nil)
	for _, p := range []string{"b/lad/hi", "b/lad/lo"} {
		ts, m := cloneTracks(tracks)
		s, err := e.hub.Publish(context.Background(), stream.Request{Path: p, Protocol: "bench"}, ts, stream.Options{RingSize: 4096})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
		e.srv.StreamStarted(s)
		feed(s, m, units, 2)
		for {
			mx := e.srv.running(p)
			mx.tl.mu.Lock()
			n := len(mx.tl.segments)
			mx.tl.mu.Unlock()
			if n >= 7 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, c := range []struct{ name, file string }{
		{"dash-mpd", "b/lad/index.mpd"},
		{"hls-multivariant", "b/lad/index.m3u8"},
		{"hls-media", "b/lad/hi/stream.m3u8"},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var size int
			for b.Loop() {
				code, _, body := get(b, ctx, e.base+c.file)
				if code != http.StatusOK {
					b.Fatalf("%d %s", code, body)
				}
				size = len(body)
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}
