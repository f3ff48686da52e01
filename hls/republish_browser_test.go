package hls

import (
	"context"
	"testing"
	"time"
)

// TestBrowserStreamEndsAndReturns plays a live path in hls.js while its
// publisher stops and, a few seconds later, a new one starts on the same
// path: the final playlist (EXT-X-ENDLIST) plays to its end without an
// error and the video fires 'ended'; the page then reloads the URL, as a
// player does on 'ended' (again while only the final playlist is there),
// and ends up playing the new publisher's playlist (its media sequence
// going on with a discontinuity).
//
// Only MPEG-TS: with fMP4 the publisher's audio ends a little before its
// video, and hls.js then stalls at the end of the audio instead of ending
// the stream (an open hls.js issue, "Cannot play video with shorter audio
// after end of audio", #7266); the final fMP4 playlists themselves are
// checked in TestEndedStreamPlaylist.
func TestBrowserStreamEndsAndReturns(t *testing.T) {
	needTools(t, "ffmpeg")
	for _, v := range []Variant{VariantMPEGTS} {
		t.Run(string(v), func(t *testing.T) {
			limit(t)
			e := newEnv(t, ruleWith(PathConfig{Variant: v, AlwaysOn: true, EndedKeep: 30 * time.Second}, nil), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			url := e.base + "live/re/stream.m3u8"
			p := e.publish(t, "live/re", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
			waitSegments(t, ctx, url, 2)
			done := make(chan *playReport, 1)
			// 30 s of playing leaves the new publisher time to start under load.
			go func() { done <- play(t, ctx, e.base+"live/re/index.m3u8", 30, "--reload-ended") }()
			// Let the player start, then end the stream and start another.
			deadline := time.After(6 * time.Second)
			<-deadline
			p.stop()
			for pl := mediaPlaylist(t, ctx, url); !pl.Endlist; pl = mediaPlaylist(t, ctx, url) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(4 * time.Second)
			e.publish(t, "live/re", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
			r := <-done
			if len(r.Fatal) > 0 {
				t.Fatalf("hls.js fatal errors: %v (non-fatal: %v)", r.Fatal, r.Errors)
			}
			if r.Reloads < 1 {
				t.Fatalf("the player never reloaded: the ended stream's playlist did not end playback (errors %v)", r.Errors)
			}
			// After the reload, the new publisher's stream plays.
			s := r.Samples
			last := s[len(s)-1]
			var before *float64
			for _, x := range s {
				if x.At <= last.At-4 {
					before = &x.T
				}
			}
			if before == nil || last.T-*before < 2 {
				from := -1.0
				if before != nil {
					from = *before
				}
				t.Errorf("after the reload the position went %.2f -> %.2f in the last 4 s: the new stream does not play (errors %v)", from, last.T, r.Errors)
			}
		})
	}
}
