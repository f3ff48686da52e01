package hls

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

var allVariants = []Variant{VariantLowLatency, VariantFMP4, VariantMPEGTS}

// TestLiveVariantsDecode publishes a live H.264+AAC stream and checks, for
// each variant, that ffprobe sees the right codecs through the playlist and
// that every segment decodes without errors and starts on a keyframe.
func TestLiveVariantsDecode(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	for _, v := range allVariants {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			limit(t)
			e := newEnv(t, ruleWith(PathConfig{Variant: v, AlwaysOn: true}, nil), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e.publish(t, "live/cam", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
			pl := waitSegments(t, ctx, e.base+"live/cam/stream.m3u8", 3)

			probe := ffprobe(t, ctx, nil, "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", e.base+"live/cam/index.m3u8")
			if !strings.Contains(probe, "h264,320,240") || !strings.Contains(probe, "aac") {
				t.Errorf("ffprobe of the multivariant playlist: %q, want h264 320x240 and aac", probe)
			}

			var init []byte
			if pl.Map != nil {
				init = mustGet(t, ctx, e.base+"live/cam/"+pl.Map.URI)
			} else if v != VariantMPEGTS {
				t.Fatalf("%s playlist without EXT-X-MAP", v)
			}
			for i, seg := range pl.Segments {
				if d := seg.Duration.Seconds(); d < 0.9 || d > 1.1 {
					t.Errorf("segment %d lasts %.3f s, want 1 s (1 s GOP, 1 s segments)", i, d)
				}
				data := append(append([]byte(nil), init...), mustGet(t, ctx, e.base+"live/cam/"+seg.URI)...)
				ffmpegDecode(t, ctx, "pipe:0", data)
				frames := ffprobe(t, ctx, data, "-select_streams", "v:0", "-show_entries", "frame=key_frame", "-of", "csv=p=0", "pipe:0")
				lines := strings.Fields(strings.ReplaceAll(frames, ",", ""))
				if len(lines) == 0 || lines[0] != "1" {
					t.Errorf("segment %d: first frame key_frame=%v, want 1", i, lines[:min(1, len(lines))])
				}
				if n := len(lines); n < 29 || n > 31 {
					t.Errorf("segment %d has %d video frames, want 30", i, n)
				}
			}
		})
	}
}

// TestVODPlaylist publishes files as VOD (lossless) and checks the
// playlist ends with ENDLIST, lasts as long as the file, and decodes whole.
func TestVODPlaylist(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	cases := []struct {
		file    string
		frames  int
		dur     float64
		variant Variant
	}{
		{"h264_aac_1s_gop.mp4", 180, 6, VariantLowLatency},
		{"h264_bframes.mp4", 120, 4, VariantFMP4},
		{"h264_bframes.mp4", 120, 4, VariantMPEGTS},
		{"audio_only.m4a", 0, -1, VariantLowLatency},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.file, c.variant), func(t *testing.T) {
			t.Parallel()
			limit(t)
			e := newEnv(t, ruleWith(PathConfig{Variant: c.variant, AlwaysOn: true, CloseAfter: 30 * time.Second}, nil), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := e.publish(t, "vod/file", c.file, pubOpts{lossless: true})
			select {
			case <-p.done:
			case <-ctx.Done():
				t.Fatal("file not published in time")
			}
			if p.err != nil {
				t.Fatal(p.err)
			}
			url := e.base + "vod/file/stream.m3u8"
			var body string
			for {
				body = string(mustGet(t, ctx, url))
				if strings.Contains(body, "#EXT-X-ENDLIST") || ctx.Err() != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			pl := mediaPlaylist(t, ctx, url)
			if !pl.Endlist || pl.PlaylistType == nil || *pl.PlaylistType != "VOD" {
				t.Fatalf("playlist of a finished file lacks ENDLIST/PLAYLIST-TYPE:VOD:\n%s", body)
			}
			if pl.ServerControl != nil || pl.PreloadHint != nil || pl.MediaSequence != 0 {
				t.Errorf("VOD playlist keeps live-only tags or lost its start:\n%s", body)
			}
			var total time.Duration
			for _, s := range pl.Segments {
				total += s.Duration
			}
			want := c.dur
			if want < 0 {
				out := ffprobe(t, ctx, nil, "-show_entries", "format=duration", "-of", "csv=p=0", testdata(c.file))
				want, _ = strconv.ParseFloat(strings.TrimSpace(out), 64)
			}
			if math.Abs(total.Seconds()-want) > 1.0 {
				t.Errorf("playlist lasts %.3f s, file %.3f s: want within one segment", total.Seconds(), want)
			}
			ffmpegDecode(t, ctx, url, nil)
			if c.frames > 0 {
				n := ffprobe(t, ctx, nil, "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames,codec_name", "-of", "csv=p=0", url)
				if first := strings.Fields(n); len(first) == 0 || first[0] != fmt.Sprintf("h264,%d", c.frames) {
					t.Errorf("ffprobe read %q from the VOD playlist, want h264,%d", n, c.frames)
				}
			} else {
				n := ffprobe(t, ctx, nil, "-show_entries", "stream=codec_type,codec_name", "-of", "csv=p=0", url)
				if f := strings.Fields(n); len(f) == 0 || f[0] != "aac,audio" || strings.Contains(n, "video") {
					t.Errorf("audio-only VOD streams: %q, want aac,audio only", n)
				}
			}
			// The playlist outlives the stream: still served after it ended.
			if e.hub.Get("vod/file") != nil {
				t.Error("file stream still published after its end")
			}
			mustGet(t, ctx, e.base+"vod/file/index.m3u8")
		})
	}
}
