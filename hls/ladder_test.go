package hls

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/grafov/m3u8"
)

// loRung re-encodes the test file to a 160x120 rung with the same 1 s GOP,
// as the live transcoder would publish it.
var loRung = []string{"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-s", "160x120",
	"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "100k", "-c:a", "copy"}

// startLadder publishes live/lad/hi (copy) and live/lad/lo (re-encoded)
// and makes live/lad a ladder of the two.
func startLadder(t *testing.T, v Variant) *env {
	t.Helper()
	rule := ruleWith(PathConfig{Variant: v, AlwaysOn: true}, map[string][]string{"live/lad": {"live/lad/hi", "live/lad/lo"}})
	e := newEnv(t, rule, nil)
	e.publish(t, "live/lad/hi", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	e.publish(t, "live/lad/lo", "h264_aac_1s_gop.mp4", pubOpts{loop: true, ffArgs: loRung})
	return e
}

// TestLadderMultivariant checks the multivariant playlist of a two-rung
// ladder (parsed with an independent parser) and the rendition reports
// each rung's LL-HLS playlist gives about the other.
func TestLadderMultivariant(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := startLadder(t, VariantLowLatency)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitSegments(t, ctx, e.base+"live/lad/hi/stream.m3u8", 2)
	waitSegments(t, ctx, e.base+"live/lad/lo/stream.m3u8", 2)

	body := mustGet(t, ctx, e.base+"live/lad/index.m3u8?token=abc")
	pl, typ, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil || typ != m3u8.MASTER {
		t.Fatalf("multivariant playlist does not parse (%v):\n%s", err, body)
	}
	mv := pl.(*m3u8.MasterPlaylist)
	if len(mv.Variants) != 2 {
		t.Fatalf("%d variants, want 2:\n%s", len(mv.Variants), body)
	}
	want := map[string]string{"hi/stream.m3u8?token=abc": "320x240", "lo/stream.m3u8?token=abc": "160x120"}
	bw := map[string]uint32{}
	for _, v := range mv.Variants {
		res, ok := want[v.URI]
		if !ok {
			t.Errorf("variant URI %q, want one of %v", v.URI, want)
			continue
		}
		if v.Resolution != res {
			t.Errorf("%s RESOLUTION %q, want %q", v.URI, v.Resolution, res)
		}
		if !strings.HasPrefix(v.Codecs, "avc1.") || !strings.Contains(v.Codecs, "mp4a.40.2") {
			t.Errorf("%s CODECS %q, want avc1 and mp4a.40.2", v.URI, v.Codecs)
		}
		if v.FrameRate < 29 || v.FrameRate > 31 {
			t.Errorf("%s FRAME-RATE %v, want 30", v.URI, v.FrameRate)
		}
		if v.Bandwidth == 0 || v.AverageBandwidth == 0 || v.AverageBandwidth > v.Bandwidth {
			t.Errorf("%s BANDWIDTH %d AVERAGE-BANDWIDTH %d", v.URI, v.Bandwidth, v.AverageBandwidth)
		}
		bw[res] = v.Bandwidth
	}
	if bw["160x120"] >= bw["320x240"] {
		t.Errorf("the 160x120 rung claims %d b/s, not less than the 320x240 rung's %d", bw["160x120"], bw["320x240"])
	}

	// Each rung reports the other.
	for rung, other := range map[string]string{"hi": "../lo/stream.m3u8", "lo": "../hi/stream.m3u8"} {
		mp := mediaPlaylist(t, ctx, e.base+"live/lad/"+rung+"/stream.m3u8")
		if len(mp.RenditionReport) != 1 || mp.RenditionReport[0].URI != other {
			t.Errorf("%s reports %+v, want one EXT-X-RENDITION-REPORT for %s", rung, mp.RenditionReport, other)
			continue
		}
		r := mp.RenditionReport[0]
		sib := mediaPlaylist(t, ctx, e.base+"live/lad/"+strings.TrimPrefix(other, "../"))
		last := sib.MediaSequence + len(sib.Segments)
		if r.LastMSN < last-2 || r.LastMSN > last+1 || r.LastPart == nil {
			t.Errorf("%s reports LAST-MSN %d for %s, whose playlist ends near %d", rung, r.LastMSN, other, last)
		}
	}

	// A ladder of paths that are not live is a 404; one live rung is enough.
	e.hub.Kick("live/lad/lo")
	time.Sleep(200 * time.Millisecond)
	body = mustGet(t, ctx, e.base+"live/lad/index.m3u8")
	if strings.Count(string(body), "#EXT-X-STREAM-INF") != 1 {
		t.Errorf("with one rung gone the multivariant playlist should list one:\n%s", body)
	}
}
