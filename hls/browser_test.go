package hls

import (
	"context"
	"sort"
	"testing"
	"time"

	"mps/internal/testutil"
)

// playReport is what browsertest/play.mjs prints.
type playReport struct {
	Fatal      []string `json:"fatal"`
	Errors     []string `json:"errors"`
	Levels     int      `json:"levels"`
	Codecs     []string `json:"codecs"`
	Switched   []int    `json:"switched"`
	SwitchFrom int      `json:"switchFrom"`
	Frags      int      `json:"frags"`
	Parts      int      `json:"parts"`
	Reloads    int      `json:"reloads"`
	// Stamps are [epoch ms shown, glass to glass ms] per frame (--stamps).
	Stamps     [][2]float64 `json:"stamps"`
	Unreadable int          `json:"unreadable"`
	Waiting    int          `json:"waiting"`
	// Start is where hls.js started playing (position, buffer start,
	// live sync position, latency and target latency, in s).
	Start map[string]*float64 `json:"start"`
	// Events is hls.js's start-up, [ms, event, detail] (--stamps).
	Events  [][3]any `json:"events"`
	Samples []struct {
		At      float64  `json:"at"`
		T       float64  `json:"t"`
		Level   int      `json:"level"`
		G2G     *float64 `json:"g2g"`
		Latency *float64 `json:"latency"`
		Target  *float64 `json:"target"`
		Decoded *int     `json:"decoded"`
	} `json:"samples"`
}

// play runs hls.js in headless Chromium on url for the given time.
func play(t testing.TB, ctx context.Context, url string, seconds int, extra ...string) *playReport {
	t.Helper()
	var r playReport
	testutil.RunBrowserScript(t, ctx, "play.mjs", "playwright-core", url, seconds, &r, extra...)
	return &r
}

// checkPlayed asserts hls.js played without fatal errors and the video
// position advanced.
func checkPlayed(t *testing.T, r *playReport) {
	t.Helper()
	if len(r.Fatal) > 0 {
		t.Fatalf("hls.js fatal errors: %v (non-fatal: %v)", r.Fatal, r.Errors)
	}
	if len(r.Samples) < 4 {
		t.Fatalf("only %d samples", len(r.Samples))
	}
	first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
	var playStart float64 = -1
	for _, s := range r.Samples {
		if s.T > 0 {
			playStart = s.T
			break
		}
	}
	if playStart < 0 || last.T-playStart < 2 {
		t.Errorf("video currentTime went %.2f -> %.2f over %.1f s: not playing (frags %d parts %d, errors %v)",
			first.T, last.T, last.At-first.At, r.Frags, r.Parts, r.Errors)
	}
	if last.Decoded != nil && *last.Decoded < 30 {
		t.Errorf("only %d video frames decoded", *last.Decoded)
	}
	if r.Frags+r.Parts == 0 {
		t.Error("hls.js loaded no fragment")
	}
	if len(r.Errors) > 0 {
		t.Logf("hls.js non-fatal errors: %v", r.Errors)
	}
}

// TestBrowserPlayback plays each variant with hls.js in headless Chromium
// and, for LL-HLS, reports glass-to-glass latency.
func TestBrowserPlayback(t *testing.T) {
	needTools(t, "ffmpeg")
	for _, v := range allVariants {
		t.Run(string(v), func(t *testing.T) {
			limit(t)
			e := newEnv(t, ruleWith(PathConfig{Variant: v}, nil), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			e.publish(t, "live/web", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
			r := play(t, ctx, e.base+"live/web/index.m3u8", 8)
			checkPlayed(t, r)
			if v == VariantLowLatency && r.Parts == 0 {
				t.Errorf("hls.js loaded no LL-HLS part (frags %d)", r.Frags)
			}
			var g2g, est []float64
			for _, s := range r.Samples {
				if s.T > 0 && s.At > 4 { // after start-up settles
					if s.G2G != nil {
						g2g = append(g2g, *s.G2G)
					}
					if s.Latency != nil {
						est = append(est, *s.Latency)
					}
				}
			}
			t.Logf("%s: frags %d parts %d; glass-to-glass (wall clock - PROGRAM-DATE-TIME) median %.3f s; hls.js latency estimate median %.3f s",
				v, r.Frags, r.Parts, median(g2g), median(est))
		})
	}
}

// TestBrowserLadderSwitch plays a two-rung ladder and switches level.
func TestBrowserLadderSwitch(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := startLadder(t, VariantLowLatency)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := play(t, ctx, e.base+"live/lad/index.m3u8", 9, "--switch")
	checkPlayed(t, r)
	if r.Levels != 2 {
		t.Fatalf("hls.js sees %d levels, want 2", r.Levels)
	}
	want := 1 - r.SwitchFrom
	switched := false
	for _, l := range r.Switched {
		switched = switched || l == want
	}
	if !switched {
		t.Errorf("asked hls.js to switch from level %d to %d; LEVEL_SWITCHED events: %v", r.SwitchFrom, want, r.Switched)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
