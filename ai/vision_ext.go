package ai

import (
	"mps/ai/erase"
	"mps/ai/highlights"
	"mps/ai/roi"
	"mps/ai/summary"
	"mps/internal/vod"
)

// registerVision adds the editing and vision operations: highlights,
// summary (through the shared chat client when one is configured), roi
// and erase.
func registerVision(r *Registry) {
	r.Add(vod.TypeHighlights, highlights.Extension{})
	sum := summary.Extension{}
	if c := r.Chat(); c != nil {
		sum = summary.Extension{Chat: c, Model: c.Model()}
	}
	r.Add(vod.TypeSummary, sum)
	r.Add(vod.TypeROI, roi.Extension{})
	r.Add(vod.TypeErase, erase.Extension{})
}
