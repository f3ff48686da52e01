package ai

import (
	"net/http"

	"mps/ai/highlights"
	"mps/internal/config"
	"mps/internal/vod"
)

// registerVision adds the editing and vision operations: highlights,
// summary, roi and erase.
func registerVision(m map[string]vod.Extension, cfg *config.Config, hc *http.Client) {
	m[vod.TypeHighlights] = highlights.Extension{}
}
