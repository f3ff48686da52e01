package hls

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// TestOnDemandLifecycle checks that a muxer starts at the first request
// (answering once the first segment exists), stops after CloseAfter
// without requests, and starts again for the next player.
func TestOnDemandLifecycle(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := newEnv(t, ruleWith(PathConfig{CloseAfter: 700 * time.Millisecond}, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code, _, _ := get(t, ctx, e.base+"live/od/stream.m3u8"); code != http.StatusNotFound {
		t.Fatalf("before publishing: %d, want 404", code)
	}
	p := e.publish(t, "live/od", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	time.Sleep(300 * time.Millisecond)
	if e.srv.running("live/od") != nil {
		t.Fatal("muxer started without a request on an on-demand path")
	}
	start := time.Now()
	pl := mediaPlaylist(t, ctx, e.base+"live/od/stream.m3u8")
	if len(pl.Segments) == 0 {
		t.Fatal("first request answered before the first segment existed")
	}
	t.Logf("on-demand startup: first playlist after %v", time.Since(start))
	m := e.srv.running("live/od")
	if m == nil {
		t.Fatal("no muxer after a request")
	}
	// Keep it alive with requests past CloseAfter.
	for range 5 {
		time.Sleep(300 * time.Millisecond)
		mustGet(t, ctx, e.base+"live/od/stream.m3u8")
	}
	if e.srv.running("live/od") != m {
		t.Fatal("muxer stopped although requests kept coming")
	}
	// Idle: it stops.
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.running("live/od") != nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if e.srv.running("live/od") != nil {
		t.Fatal("muxer still running after CloseAfter without requests")
	}
	if st := p.s.Stats(); st.Readers["hls"] != 0 {
		t.Errorf("the stopped muxer left %d hls readers on the stream", st.Readers["hls"])
	}
	// Next player: a new muxer with new names.
	pl2 := mediaPlaylist(t, ctx, e.base+"live/od/stream.m3u8")
	if pl2.Map.URI == pl.Map.URI {
		t.Error("restarted muxer reuses the old init name")
	}
	if code, _, _ := get(t, ctx, e.base+"live/od/"+pl.Segments[0].URI); code != http.StatusNotFound {
		t.Errorf("segment of the stopped muxer: %d, want 404", code)
	}
	// The stream ends: the live playlist goes away.
	p.stop()
	deadline = time.Now().Add(5 * time.Second)
	for e.srv.running("live/od") != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, _ := get(t, ctx, e.base+"live/od/stream.m3u8"); code != http.StatusNotFound {
		t.Errorf("after the stream ended: %d, want 404", code)
	}
}

// TestDVRWindow checks a DVR window on disk: the playlist lists the
// window, segments are files in the directory and decode, old ones are
// deleted, and the directory is removed when the stream ends.
func TestDVRWindow(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	limit(t)
	dir := t.TempDir()
	cfg := PathConfig{Variant: VariantFMP4, AlwaysOn: true, SegmentCount: 3, DVRWindow: 5 * time.Second, Directory: dir}
	e := newEnv(t, ruleWith(cfg, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	p := e.publish(t, "live/dvr", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	url := e.base + "live/dvr/stream.m3u8"
	pl := waitSegments(t, ctx, url, 5)
	for pl.MediaSequence == 0 {
		time.Sleep(300 * time.Millisecond)
		pl = mediaPlaylist(t, ctx, url)
	}
	if len(pl.Segments) != 5 {
		t.Errorf("DVR playlist lists %d segments, want the 5 s window (5 x 1 s), more than segment_count 3", len(pl.Segments))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "live", "dvr", "*", "*.seg"))
	if len(files) < 5 || len(files) > 6 {
		t.Errorf("%d segment files on disk, want the window (5)", len(files))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(files[0]), "0.seg")); !os.IsNotExist(err) {
		t.Errorf("segment 0 left the window but its file is still there (%v)", err)
	}
	init := mustGet(t, ctx, e.base+"live/dvr/"+pl.Map.URI)
	oldest := slices.Concat(init, mustGet(t, ctx, e.base+"live/dvr/"+pl.Segments[0].URI))
	ffmpegDecode(t, ctx, "pipe:0", oldest)
	p.stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left, _ := filepath.Glob(filepath.Join(dir, "live", "dvr", "*"))
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DVR files left after the stream ended: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEndedStreamPlaylist checks what players see when a live stream ends
// and comes back: the last playlist stays served, final (EXT-X-ENDLIST),
// with every segment it lists fetchable and decodable, for EndedKeep; a new
// publisher on the path meanwhile gets a playlist whose media sequence goes
// on from the old one with a discontinuity, so a player reloading it moves
// forward; once EndedKeep passes after the last end, the playlist is gone.
func TestEndedStreamPlaylist(t *testing.T) {
	needTools(t, "ffmpeg")
	for _, v := range []Variant{VariantLowLatency, VariantMPEGTS} {
		t.Run(string(v), func(t *testing.T) {
			limit(t)
			keep := 3 * time.Second
			e := newEnv(t, ruleWith(PathConfig{Variant: v, AlwaysOn: true, EndedKeep: keep}, nil), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			url := e.base + "live/end/stream.m3u8"
			p := e.publish(t, "live/end", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
			waitSegments(t, ctx, url, 3)
			p.stop()
			var pl *playlist.Media
			for pl = mediaPlaylist(t, ctx, url); !pl.Endlist; pl = mediaPlaylist(t, ctx, url) {
				time.Sleep(50 * time.Millisecond)
			}
			if len(pl.Segments) < 3 || len(pl.Parts) > 0 || pl.PreloadHint != nil {
				t.Fatalf("final playlist: %d segments, %d parts after them, hint %v; want >= 3 segments, no part or hint beyond", len(pl.Segments), len(pl.Parts), pl.PreloadHint)
			}
			var media []byte
			if pl.Map != nil {
				media = mustGet(t, ctx, e.base+"live/end/"+pl.Map.URI)
			}
			for _, s := range pl.Segments {
				media = append(media, mustGet(t, ctx, e.base+"live/end/"+s.URI)...)
			}
			ffmpegDecode(t, ctx, "pipe:0", media)
			last := pl.MediaSequence + len(pl.Segments) - 1

			// A new publisher within EndedKeep.
			p2 := e.publish(t, "live/end", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
			pl2 := mediaPlaylist(t, ctx, url)
			for pl2.Endlist || len(pl2.Segments) == 0 {
				time.Sleep(100 * time.Millisecond)
				pl2 = mediaPlaylist(t, ctx, url)
			}
			if pl2.MediaSequence <= last {
				t.Errorf("new publisher's playlist starts at media sequence %d, want after the old playlist's last %d", pl2.MediaSequence, last)
			}
			if !pl2.Segments[0].Discontinuity || pl2.DiscontinuitySequence == nil || *pl2.DiscontinuitySequence != 0 {
				t.Errorf("new publisher's first segment: discontinuity %v, discontinuity sequence %v; want the tag and sequence 0 before it",
					pl2.Segments[0].Discontinuity, pl2.DiscontinuitySequence)
			}
			p2.stop()
			for pl2 = mediaPlaylist(t, ctx, url); !pl2.Endlist; pl2 = mediaPlaylist(t, ctx, url) {
				time.Sleep(50 * time.Millisecond)
			}
			ended := time.Now()
			for {
				code, _, _ := get(t, ctx, url)
				if code == http.StatusNotFound {
					break
				}
				if time.Since(ended) > keep+5*time.Second {
					t.Fatalf("playlist still answers %d long after ended_keep %s", code, keep)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if time.Since(ended) < keep-500*time.Millisecond {
				t.Errorf("final playlist gone after %s, before ended_keep %s", time.Since(ended), keep)
			}
		})
	}
}
