package hls

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// partURI names part idx of segment msn in pl's numbering.
func hintOf(t *testing.T, pl *playlist.Media) (msn uint64, idx int) {
	t.Helper()
	if pl.PreloadHint == nil {
		t.Fatal("no EXT-X-PRELOAD-HINT")
	}
	f, ok := parseMediaFile(pl.PreloadHint.URI)
	if !ok || f.kind != 'p' {
		t.Fatalf("preload hint %q is not a part", pl.PreloadHint.URI)
	}
	return f.msn, f.part
}

// checkLLPlaylist checks the LL-HLS rules of RFC 8216bis on a parsed
// playlist.
func checkLLPlaylist(t *testing.T, pl *playlist.Media) {
	t.Helper()
	if pl.Version < 6 {
		t.Errorf("EXT-X-VERSION %d, want >= 6 for LL-HLS", pl.Version)
	}
	if pl.ServerControl == nil || !pl.ServerControl.CanBlockReload || pl.ServerControl.PartHoldBack == nil {
		t.Fatalf("EXT-X-SERVER-CONTROL missing CAN-BLOCK-RELOAD or PART-HOLD-BACK: %+v", pl.ServerControl)
	}
	if pl.PartInf == nil || pl.PartInf.PartTarget <= 0 {
		t.Fatal("EXT-X-PART-INF missing")
	}
	target := pl.PartInf.PartTarget
	if want := DefaultPartDuration; target > want+want/200 || target < want*3/4 {
		t.Errorf("PART-TARGET %v, want about the configured %v", target, want)
	}
	if phb := *pl.ServerControl.PartHoldBack; phb < 2*target {
		t.Errorf("PART-HOLD-BACK %v < 2 x PART-TARGET %v (the RFC minimum)", phb, target)
	}
	if len(pl.Segments) == 0 {
		t.Fatal("no segments")
	}
	first, _ := parseMediaFile(pl.Segments[0].URI)
	prefix := first.prefix
	checkParts := func(msn uint64, parts []*playlist.MediaPart) time.Duration {
		var sum time.Duration
		for i, p := range parts {
			f, ok := parseMediaFile(p.URI)
			if !ok || f.kind != 'p' || f.msn != msn || f.part != i || f.prefix != prefix {
				t.Errorf("part %d of segment %d is %q", i, msn, p.URI)
			}
			if p.Duration > target {
				t.Errorf("part %s lasts %v > PART-TARGET %v", p.URI, p.Duration, target)
			}
			if i == 0 && !p.Independent {
				t.Errorf("part %s starts a segment but is not INDEPENDENT", p.URI)
			}
			sum += p.Duration
		}
		return sum
	}
	var prevPDT *time.Time
	var prevDur time.Duration
	for i, s := range pl.Segments {
		msn := uint64(pl.MediaSequence + i)
		f, ok := parseMediaFile(s.URI)
		if !ok || f.kind != 's' || f.msn != msn {
			t.Errorf("segment %d is %q, want MSN %d", i, s.URI, msn)
		}
		if s.Duration.Round(time.Second) > time.Duration(pl.TargetDuration)*time.Second {
			t.Errorf("segment %d lasts %v > TARGETDURATION %d", msn, s.Duration, pl.TargetDuration)
		}
		if s.DateTime == nil {
			t.Errorf("segment %d has no EXT-X-PROGRAM-DATE-TIME", msn)
		} else if prevPDT != nil {
			if d := s.DateTime.Sub(*prevPDT) - prevDur; d < -5*time.Millisecond || d > 5*time.Millisecond {
				t.Errorf("PROGRAM-DATE-TIME of segment %d is %v off the previous one plus its duration", msn, d)
			}
		}
		prevPDT, prevDur = s.DateTime, s.Duration
		if len(s.Parts) > 0 {
			if sum := checkParts(msn, s.Parts); sum-s.Duration > time.Millisecond || s.Duration-sum > time.Millisecond {
				t.Errorf("parts of segment %d add up to %v, EXTINF %v", msn, sum, s.Duration)
			}
		}
	}
	last := uint64(pl.MediaSequence + len(pl.Segments) - 1)
	if len(pl.Segments[len(pl.Segments)-1].Parts) == 0 {
		t.Error("the newest segment lists no parts")
	}
	checkParts(last+1, pl.Parts)
	msn, idx := hintOf(t, pl)
	if msn != last+1 || idx != len(pl.Parts) {
		t.Errorf("preload hint names part %d.%d, want the next part %d.%d", msn, idx, last+1, len(pl.Parts))
	}
}

// hasPart reports whether pl lists part idx of segment msn (or the whole
// segment).
func hasPart(pl *playlist.Media, msn uint64, idx int) bool {
	first := uint64(pl.MediaSequence)
	if msn < first+uint64(len(pl.Segments)) {
		return true
	}
	return msn == first+uint64(len(pl.Segments)) && idx < len(pl.Parts)
}

// TestLowLatencyRules parses what the LL-HLS variant serves over a live
// stream and checks the RFC 8216bis rules, blocking reload and preload
// hints.
func TestLowLatencyRules(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := newEnv(t, ruleWith(PathConfig{AlwaysOn: true}, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.publish(t, "live/ll", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	url := e.base + "live/ll/stream.m3u8"
	pl := waitSegments(t, ctx, url, 3)
	checkLLPlaylist(t, pl)

	// Parts are the segment, cut in pieces.
	seg := pl.Segments[len(pl.Segments)-1]
	var joined []byte
	for _, p := range seg.Parts {
		b := mustGet(t, ctx, e.base+"live/ll/"+p.URI)
		if len(b) < 8 || string(b[4:8]) != "moof" {
			t.Fatalf("part %s does not start with a moof box", p.URI)
		}
		joined = append(joined, b...)
	}
	if !bytes.Equal(joined, mustGet(t, ctx, e.base+"live/ll/"+seg.URI)) {
		t.Error("the parts of a segment joined are not the segment")
	}

	// Blocking reload: ask for the hinted part, which does not exist yet.
	for range 6 {
		msn, idx := hintOf(t, pl)
		q := fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", url, msn, idx)
		start := time.Now()
		next := mediaPlaylist(t, ctx, q)
		if !hasPart(next, msn, idx) {
			t.Fatalf("blocking reload for %d.%d returned a playlist without it (after %v)", msn, idx, time.Since(start))
		}
		checkLLPlaylist(t, next)
		pl = next
	}

	// The hinted part is held until it exists, then served.
	msn, idx := hintOf(t, pl)
	b := mustGet(t, ctx, e.base+"live/ll/"+pl.PreloadHint.URI)
	if len(b) < 8 || string(b[4:8]) != "moof" {
		t.Errorf("preload-hinted part %d.%d is not an fMP4 fragment", msn, idx)
	}
	after := mediaPlaylist(t, ctx, url)
	if !hasPart(after, msn, idx) {
		t.Errorf("part %d.%d was served but is not in the playlist after", msn, idx)
	}

	// Requests that cannot be satisfied are refused at once.
	last := uint64(after.MediaSequence + len(after.Segments))
	for _, bad := range []string{
		fmt.Sprintf("?_HLS_msn=%d", last+10),
		fmt.Sprintf("?_HLS_msn=%d&_HLS_part=0", last+3),
		"?_HLS_part=1",
		"?_HLS_msn=x",
		"?_HLS_msn=1&_HLS_part=-1",
	} {
		start := time.Now()
		code, _, body := get(t, ctx, url+bad)
		if code != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", bad, code, body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("GET %s took %v, want an immediate refusal", bad, d)
		}
	}
	// An old MSN is answered at once with the current playlist.
	if old := mediaPlaylist(t, ctx, url+"?_HLS_msn=0&_HLS_part=0"); len(old.Segments) == 0 {
		t.Error("blocking reload of an old MSN returned nothing")
	}
}

// TestBlockingReloadTimesOut stalls a publisher and checks that a blocking
// reload for the next segment gives up with 503 after three target
// durations instead of hanging, and that the hinted part gives 404.
func TestBlockingReloadTimesOut(t *testing.T) {
	needTools(t, "ffmpeg")
	tracks, units := loadUnits(t, "h264_aac_1s_gop.mp4")
	e := newEnv(t, ruleWith(PathConfig{AlwaysOn: true}, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.pace(ctx, t, "live/stall", tracks, units, 2500*time.Millisecond, true)
	url := e.base + "live/stall/stream.m3u8"
	pl := waitSegments(t, ctx, url, 2)
	// Wait for the publisher to stall: the playlist stops changing.
	for {
		time.Sleep(700 * time.Millisecond)
		next := mediaPlaylist(t, ctx, url)
		if next.PreloadHint.URI == pl.PreloadHint.URI {
			break
		}
		pl = next
	}
	msn, _ := hintOf(t, pl)
	start := time.Now()
	code, _, body := get(t, ctx, fmt.Sprintf("%s?_HLS_msn=%d", url, msn+1))
	waited := time.Since(start)
	if code != http.StatusServiceUnavailable {
		t.Errorf("blocking reload on a stalled stream: %d %s, want 503", code, body)
	}
	target := time.Duration(pl.TargetDuration) * time.Second
	if waited < 3*target-100*time.Millisecond || waited > 3*target+3*time.Second {
		t.Errorf("blocking reload gave up after %v, want about 3 x target duration (%v)", waited, 3*target)
	}
	code, _, _ = get(t, ctx, e.base+"live/stall/"+pl.PreloadHint.URI)
	if code != http.StatusNotFound {
		t.Errorf("hinted part of a stalled stream: %d, want 404 after the wait", code)
	}
}

// TestPartTargetFollowsFrameRate plays 25 fps video with 100 ms parts
// configured: parts are cut on frame boundaries, so they last two frames
// (80 ms), and the playlist's PART-TARGET must be that, not 100 ms, for
// every part to last at least 85% of it (RFC 8216bis 4.4.4.9; only
// independent parts and the last part of a segment may be shorter) and
// for PART-HOLD-BACK to be no longer than it must.
func TestPartTargetFollowsFrameRate(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := newEnv(t, ruleWith(PathConfig{AlwaysOn: true, PartDuration: 100 * time.Millisecond}, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.publish(t, "live/pt", "h264_aac_1s_gop.mp4", pubOpts{loop: true, ffArgs: []string{
		"-c:v", "libx264", "-preset", "ultrafast", "-r", "25", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "copy"}})
	pl := waitSegments(t, ctx, e.base+"live/pt/stream.m3u8", 3)
	target := pl.PartInf.PartTarget
	if target != 80*time.Millisecond {
		t.Errorf("PART-TARGET %v, want 80ms (two 25 fps frames)", target)
	}
	if phb := *pl.ServerControl.PartHoldBack; phb != 2*target {
		t.Errorf("PART-HOLD-BACK %v, want 2 x PART-TARGET %v", phb, target)
	}
	n := 0
	for _, s := range pl.Segments {
		for i, p := range s.Parts {
			n++
			if p.Duration > target {
				t.Errorf("part %s lasts %v > PART-TARGET %v", p.URI, p.Duration, target)
			}
			if !p.Independent && i < len(s.Parts)-1 && p.Duration < target*85/100 {
				t.Errorf("part %s lasts %v < 85%% of PART-TARGET %v", p.URI, p.Duration, target)
			}
		}
	}
	if n == 0 {
		t.Fatal("no part listed")
	}
}
