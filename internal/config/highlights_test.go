package config

import (
	"strings"
	"testing"
	"time"
)

// TestPathHighlights checks a rule's highlights section: defaults fill
// what is left out, and out-of-range values are refused naming the key.
func TestPathHighlights(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"defaults", "{enabled: true}", ""},
		{"window too short", "{enabled: true, window: 10s}", "paths[0].highlights.window"},
		{"top", "{enabled: true, top: 0, min_seconds: 2}", ""},
		{"top too many", "{enabled: true, top: 500}", "paths[0].highlights.top"},
		{"max below min", "{enabled: true, min_seconds: 8, max_seconds: 5}", "paths[0].highlights.max_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("mps.yaml", []byte("paths:\n  - name: live/a\n    highlights: "+tc.yaml+"\n"))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one naming %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := cfg.Rule("live/a").Highlights
			if !h.Enabled || h.Window.D() != 10*time.Minute || h.Top != 5 || h.MaxSeconds != 12 {
				t.Errorf("resolved %+v, want enabled with 10m, top 5, max 12", h)
			}
			if cfg.Rule("live/other").Highlights.Enabled {
				t.Error("a path without the rule has highlights on")
			}
		})
	}
}
