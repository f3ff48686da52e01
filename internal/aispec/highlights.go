package aispec

import (
	"fmt"
	"strings"
)

// Highlights picks the most interesting moments of a file: scene cuts,
// loud passages, motion and spoken keywords give each second a score, and
// the best non-overlapping clips are cut and joined into a reel.
type Highlights struct {
	// Top is how many clips to pick (default 3).
	Top int `json:"top,omitempty" yaml:"top,omitempty"`
	// MinSeconds and MaxSeconds bound a clip's length (defaults 4 and 12).
	MinSeconds float64 `json:"min_seconds,omitempty" yaml:"min_seconds,omitempty"`
	MaxSeconds float64 `json:"max_seconds,omitempty" yaml:"max_seconds,omitempty"`
	// Keywords raise the score of the seconds in which the transcript
	// has one of them (case-insensitive, whole words).
	Keywords []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	// Transcript is a transcript JSON file ([{"word","start","end"}], as
	// the subtitles operation writes); a relative name is looked up next
	// to this operation's output folder, so a sibling operation's output
	// can be named. Empty: keywords are not scored.
	Transcript string `json:"transcript,omitempty" yaml:"transcript,omitempty"`
	// NoReel skips cutting the reel; the JSON and thumbnails are still
	// written.
	NoReel bool `json:"no_reel,omitempty" yaml:"no_reel,omitempty"`
	// Crossfade, in seconds, blends each clip of the reel into the next
	// (picture and sound). The reel is then re-encoded whole, since a
	// blend has no source frames to copy; 0 joins the clips by cuts.
	Crossfade float64 `json:"crossfade,omitempty" yaml:"crossfade,omitempty"`
}

// Defaults of [Highlights].
const (
	HighlightsTop        = 3
	HighlightsMinSeconds = 4.0
	HighlightsMaxSeconds = 12.0
)

// WithDefaults fills the zero fields.
func (h Highlights) WithDefaults() Highlights {
	if h.Top == 0 {
		h.Top = HighlightsTop
	}
	if h.MinSeconds == 0 {
		h.MinSeconds = HighlightsMinSeconds
	}
	if h.MaxSeconds == 0 {
		h.MaxSeconds = max(HighlightsMaxSeconds, h.MinSeconds)
	}
	return h
}

// Validate checks the settings without touching a file.
func (h Highlights) Validate() error {
	h = h.WithDefaults()
	switch {
	case h.Top < 0 || h.Top > 100:
		return fmt.Errorf("top %d out of range 1-100", h.Top)
	case h.MinSeconds < 0.5:
		return fmt.Errorf("min_seconds %g below 0.5", h.MinSeconds)
	case h.MaxSeconds < h.MinSeconds:
		return fmt.Errorf("max_seconds %g below min_seconds %g", h.MaxSeconds, h.MinSeconds)
	case h.MaxSeconds > 600:
		return fmt.Errorf("max_seconds %g above 600", h.MaxSeconds)
	case h.Crossfade < 0 || h.Crossfade > 5:
		return fmt.Errorf("crossfade %g out of range 0-5 seconds", h.Crossfade)
	case h.Crossfade > 0 && h.Crossfade >= h.MinSeconds/2:
		return fmt.Errorf("crossfade %g must be under half of min_seconds %g", h.Crossfade, h.MinSeconds)
	}
	for _, k := range h.Keywords {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("empty keyword")
		}
	}
	return validJSONName("transcript", h.Transcript)
}

// validJSONName refuses a file name (a transcript, a roi report) that is
// not a JSON file, that is absolute, or that climbs out of the task's
// folder with "..": a request names another operation's output of the same
// task, never a file elsewhere on the server.
func validJSONName(field, p string) error {
	if p == "" {
		return nil
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") || (len(p) > 1 && p[1] == ':') {
		return fmt.Errorf("%s %q must be relative to the task's outputs (another operation's file)", field, p)
	}
	if !strings.HasSuffix(strings.ToLower(p), ".json") {
		return fmt.Errorf("%s %q is not a .json file", field, p)
	}
	for _, part := range strings.Split(strings.ReplaceAll(p, "\\", "/"), "/") {
		if part == ".." {
			return fmt.Errorf("%s %q climbs out of the task folder", field, p)
		}
	}
	return nil
}
