package aispec

import "fmt"

// Summary describes a file from its transcript: a title, one paragraph,
// keywords and chapters. With a chat provider configured it asks the
// model; without one a local extractive summariser answers in the same
// shape.
type Summary struct {
	// Transcript is the transcript JSON file ([{"word","start","end"}]); a
	// relative name is looked up next to this operation's output folder
	// (a sibling subtitles operation's output). Required.
	Transcript string `json:"transcript,omitempty" yaml:"transcript,omitempty"`
	// Language is the language the summary is written in (default: the
	// transcript's; only the chat provider honours another).
	Language string `json:"language,omitempty" yaml:"language,omitempty"`
	// MaxChapters bounds the number of chapters (default 12).
	MaxChapters int `json:"max_chapters,omitempty" yaml:"max_chapters,omitempty"`
	// MinChapterSeconds is the shortest chapter (default 20).
	MinChapterSeconds float64 `json:"min_chapter_seconds,omitempty" yaml:"min_chapter_seconds,omitempty"`
	// ContextTokens is the chat model's context; the transcript is sent
	// in chunks that fit (default 8000).
	ContextTokens int `json:"context_tokens,omitempty" yaml:"context_tokens,omitempty"`
	// SceneCuts also places chapter starts at the video's scene cuts
	// (one extra ffmpeg pass over the picture).
	SceneCuts bool `json:"scene_cuts,omitempty" yaml:"scene_cuts,omitempty"`
	// Local forces the local extractive summariser even when a chat
	// provider is configured.
	Local bool `json:"local,omitempty" yaml:"local,omitempty"`
}

// WithDefaults fills the zero fields.
func (s Summary) WithDefaults() Summary {
	if s.MaxChapters == 0 {
		s.MaxChapters = 12
	}
	if s.MinChapterSeconds == 0 {
		s.MinChapterSeconds = 20
	}
	if s.ContextTokens == 0 {
		s.ContextTokens = 8000
	}
	return s
}

// Validate checks the settings without touching a file.
func (s Summary) Validate() error {
	if s.Transcript == "" {
		return fmt.Errorf("missing \"transcript\" (a transcript JSON file)")
	}
	s = s.WithDefaults()
	switch {
	case s.MaxChapters < 1 || s.MaxChapters > 200:
		return fmt.Errorf("max_chapters %d out of range 1-200", s.MaxChapters)
	case s.MinChapterSeconds < 1:
		return fmt.Errorf("min_chapter_seconds %g below 1", s.MinChapterSeconds)
	case s.ContextTokens < 500:
		return fmt.Errorf("context_tokens %d below 500", s.ContextTokens)
	}
	return validJSONName("transcript", s.Transcript)
}
