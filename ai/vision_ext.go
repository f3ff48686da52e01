package ai

import (
	"net/http"

	"mps/ai/erase"
	"mps/ai/highlights"
	"mps/ai/openai"
	"mps/ai/roi"
	"mps/ai/summary"
	"mps/internal/config"
	"mps/internal/vod"
)

// registerVision adds the editing and vision operations: highlights,
// summary, roi and erase.
func registerVision(m map[string]vod.Extension, cfg *config.Config, hc *http.Client) {
	m[vod.TypeHighlights] = highlights.Extension{}
	sum := summary.Extension{}
	if p := cfg.AI.Providers.Chat; p != nil {
		sum = summary.Extension{Chat: openai.New(*p, hc), Model: p.Model}
	}
	m[vod.TypeSummary] = sum
	m[vod.TypeROI] = roi.Extension{}
	m[vod.TypeErase] = erase.Extension{}
}
