package testutil

import (
	"context"
	"strings"
	"testing"
)

// DASHReport is what hls/browsertest/playdash.mjs prints after playing an
// MPD with dash.js in headless Chromium.
type DASHReport struct {
	Fatal   []string `json:"fatal"`
	Errors  []string `json:"errors"`
	Frags   int      `json:"frags"`
	Dynamic *bool    `json:"dynamic"`
	// With the switch option: the representation playing when the switch
	// was asked, the one asked for, the position then, and the video
	// representations dash.js reported rendered, in order.
	SwitchFrom string   `json:"switchFrom"`
	SwitchTo   string   `json:"switchTo"`
	SwitchAt   float64  `json:"switchAt"`
	Rendered   []string `json:"rendered"`
	Reps       map[string][]struct {
		ID     string `json:"id"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
		Codecs string `json:"codecs"`
	} `json:"reps"`
	Samples []struct {
		At      float64  `json:"at"`
		T       float64  `json:"t"`
		Decoded *int     `json:"decoded"`
		Audio   *int     `json:"audio"`
		Latency *float64 `json:"latency"`
	} `json:"samples"`
}

// PlayDASH plays url (an MPD) with dash.js in headless Chromium for the
// given seconds; extra are more playdash.mjs options ("--switch"). It fails
// the test when node, chromium or the browser test's node modules (`make
// deps`) are missing.
func PlayDASH(t testing.TB, ctx context.Context, url string, seconds int, extra ...string) *DASHReport {
	t.Helper()
	var r DASHReport
	RunBrowserScript(t, ctx, "playdash.mjs", "dashjs", url, seconds, &r, extra...)
	return &r
}

// CheckPlayed fails the test unless dash.js played without a fatal
// error, the position advanced by at least minAdvance seconds and at least
// minFrames video frames were decoded, and no request dash.js made failed.
func (r *DASHReport) CheckPlayed(t testing.TB, minAdvance float64, minFrames int) {
	t.Helper()
	if len(r.Fatal) > 0 {
		t.Fatalf("dash.js fatal errors: %v (non-fatal: %v)", r.Fatal, r.Errors)
	}
	if len(r.Samples) < 4 {
		t.Fatalf("only %d samples", len(r.Samples))
	}
	start := -1.0
	for _, s := range r.Samples {
		if s.T > 0 {
			start = s.T
			break
		}
	}
	last := r.Samples[len(r.Samples)-1]
	if start < 0 || last.T-start < minAdvance {
		t.Errorf("video currentTime went %.2f -> %.2f: not playing (fragments %d, errors %v)", start, last.T, r.Frags, r.Errors)
	}
	if last.Decoded == nil || *last.Decoded < minFrames {
		t.Errorf("decoded frames %v, want at least %d", last.Decoded, minFrames)
	}
	for _, e := range r.Errors {
		// A failed manifest or segment request means the manifest named
		// something the server does not have.
		if strings.HasPrefix(e, "HTTP ") {
			t.Errorf("dash.js request failed: %s", e)
		}
	}
	if len(r.Errors) > 0 {
		t.Logf("dash.js non-fatal errors: %v", r.Errors)
	}
}
