package aispec

import (
	"fmt"
	"strings"
)

// AuditSpec configures a content audit of a file: technical problems found
// by ffmpeg's detectors, on-screen text read by OCR and transcript words
// matched against the blocklists of ai.audit.lists, optionally sent to an
// external moderation endpoint. The verdict (pass, review or block) is
// what a scheme branches on.
type AuditSpec struct {
	// Transcript is a transcript JSON file ([{"word","start","end"}], as the
	// subtitles operation writes) whose words are matched against the
	// lists; empty audits picture and sound only.
	Transcript string `json:"transcript,omitempty" yaml:"transcript,omitempty"`
	// Lists names the ai.audit.lists to apply; empty applies all.
	Lists []string `json:"lists,omitempty" yaml:"lists,omitempty"`
	// OCRInterval is the time between sampled frames read by OCR, in
	// seconds, besides every scene cut (default 2; negative turns OCR off).
	OCRInterval float64 `json:"ocr_interval,omitempty" yaml:"ocr_interval,omitempty"`
	// Moderation sends the transcript text and the sampled frames to the
	// ai.providers.moderation endpoint too.
	Moderation bool `json:"moderation,omitempty" yaml:"moderation,omitempty"`
	// Technical holds the thresholds of the technical checks.
	Technical AuditTechnical `json:"technical,omitzero" yaml:"technical,omitempty"`
}

// AuditTechnical are the limits beyond which a technical problem is
// reported; zero fields take the defaults in brackets.
type AuditTechnical struct {
	// BlackSeconds is the shortest black or solid-colour span [1].
	BlackSeconds float64 `json:"black_seconds,omitempty" yaml:"black_seconds,omitempty"`
	// FreezeSeconds is the shortest frozen-picture span [2].
	FreezeSeconds float64 `json:"freeze_seconds,omitempty" yaml:"freeze_seconds,omitempty"`
	// SilenceSeconds is the shortest silent span [1].
	SilenceSeconds float64 `json:"silence_seconds,omitempty" yaml:"silence_seconds,omitempty"`
	// LoudnessMin and LoudnessMax bound the integrated loudness in LUFS
	// [-35, -8].
	LoudnessMin float64 `json:"loudness_min,omitempty" yaml:"loudness_min,omitempty"`
	LoudnessMax float64 `json:"loudness_max,omitempty" yaml:"loudness_max,omitempty"`
	// Suggestion is what a technical problem suggests: review [review] or
	// block.
	Suggestion string `json:"suggestion,omitempty" yaml:"suggestion,omitempty"`
}

// Audit suggestions, in rising order of severity.
const (
	SuggestPass   = "pass"
	SuggestReview = "review"
	SuggestBlock  = "block"
)

// Validate checks the settings without touching a file.
func (s *AuditSpec) Validate() error {
	if s.OCRInterval > 3600 {
		return fmt.Errorf("ocr_interval %g s is over an hour", s.OCRInterval)
	}
	for i, n := range s.Lists {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("lists[%d]: empty list name", i)
		}
	}
	t := s.Technical
	for name, v := range map[string]float64{"black_seconds": t.BlackSeconds, "freeze_seconds": t.FreezeSeconds, "silence_seconds": t.SilenceSeconds} {
		if v < 0 {
			return fmt.Errorf("technical.%s must not be negative", name)
		}
	}
	if t.LoudnessMin != 0 && t.LoudnessMax != 0 && t.LoudnessMin >= t.LoudnessMax {
		return fmt.Errorf("technical.loudness_min %g must be below loudness_max %g", t.LoudnessMin, t.LoudnessMax)
	}
	switch t.Suggestion {
	case "", SuggestReview, SuggestBlock:
	default:
		return fmt.Errorf("technical.suggestion must be review or block, not %q", t.Suggestion)
	}
	return nil
}

// WithDefaults returns the thresholds with every zero field set to its
// default.
func (t AuditTechnical) WithDefaults() AuditTechnical {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.BlackSeconds, 1)
	def(&t.FreezeSeconds, 2)
	def(&t.SilenceSeconds, 1)
	def(&t.LoudnessMin, -35)
	def(&t.LoudnessMax, -8)
	if t.Suggestion == "" {
		t.Suggestion = SuggestReview
	}
	return t
}
