package ai

import (
	"testing"

	"mps/ai/summary"
	"mps/internal/config"
	"mps/internal/vod"
)

// TestVisionRegistered checks that the four operation types run through
// the extensions, and that the summary uses the chat provider only when
// one is configured.
func TestVisionRegistered(t *testing.T) {
	cfg := &config.Config{}
	m := Extensions(cfg, nil)
	for _, typ := range []string{vod.TypeHighlights, vod.TypeSummary, vod.TypeROI, vod.TypeErase} {
		if m[typ] == nil {
			t.Errorf("%s not registered", typ)
		}
	}
	if s := m[vod.TypeSummary].(summary.Extension); s.Chat != nil {
		t.Error("summary has a chat provider without one configured")
	}
	cfg.AI.Providers.Chat = &config.AIProvider{BaseURL: "http://127.0.0.1:1", Model: "m"}
	if s := Extensions(cfg, nil)[vod.TypeSummary].(summary.Extension); s.Chat == nil || s.Model != "m" {
		t.Errorf("summary %+v does not use the configured chat provider", s)
	}
}
