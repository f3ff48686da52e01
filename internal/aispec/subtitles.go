package aispec

import (
	"fmt"
	"regexp"
)

// Subtitles is the settings of the "subtitles" operation: speech to text,
// then subtitle files built from the word times, optionally burnt into the
// picture, muxed as a soft track, and translated. Every field has a
// working default, so {"type": "subtitles"} alone makes English WebVTT and
// SRT files.
type Subtitles struct {
	// Language is the spoken language as a BCP 47 tag ("en", "en-US");
	// default en. The local engine refuses a language it has no model for.
	Language string `json:"language,omitempty" yaml:"language,omitempty"`
	// Engine is "local" (pocketsphinx), "external" (the configured
	// ai.providers.transcription endpoint) or empty: external when one is
	// configured, else local.
	Engine string `json:"engine,omitempty" yaml:"engine,omitempty"`
	// MaxLineChars is the longest subtitle line (default 42) and MaxLines
	// the most lines per cue (default 2), the usual broadcast limits.
	MaxLineChars int `json:"max_line_chars,omitempty" yaml:"max_line_chars,omitempty"`
	MaxLines     int `json:"max_lines,omitempty" yaml:"max_lines,omitempty"`
	// BurnIn draws the cues into the picture (a new MP4); nil for none.
	BurnIn *BurnIn `json:"burn_in,omitempty" yaml:"burn_in,omitempty"`
	// SoftTrack muxes the cues as a subtitle track (one per language) into
	// a copy of the input: "mp4" (mov_text) or "webm" (WebVTT); or "hls":
	// into the HLS package of the task's adaptive operation as WebVTT
	// renditions (which a task with both operations gets anyway; "hls"
	// makes the task refuse to run without one). Empty for none.
	SoftTrack string `json:"soft_track,omitempty" yaml:"soft_track,omitempty"`
	// TranslateTo lists target languages; each gets its own WebVTT and SRT
	// with the same cue times, translated through ai.providers.chat.
	TranslateTo []string `json:"translate_to,omitempty" yaml:"translate_to,omitempty"`
}

// BurnIn is how burnt-in subtitles look.
type BurnIn struct {
	// Font is a font family name (default "DejaVu Sans", from
	// fonts-dejavu-core).
	Font string `json:"font,omitempty" yaml:"font,omitempty"`
	// FontSize is in script pixels of a 288-line canvas, as libass takes it
	// (default 18, about 1/16 of the picture height).
	FontSize int `json:"font_size,omitempty" yaml:"font_size,omitempty"`
	// Position is bottom (default) or top.
	Position string `json:"position,omitempty" yaml:"position,omitempty"`
	// Margin is the distance from the picture edge in script pixels
	// (default 20).
	Margin int `json:"margin,omitempty" yaml:"margin,omitempty"`
	// Color is the text colour as RRGGBB hex (default FFFFFF).
	Color string `json:"color,omitempty" yaml:"color,omitempty"`
}

// Engines of speech recognition.
const (
	EngineAuto     = ""
	EngineLocal    = "local"
	EngineExternal = "external"
)

// Soft-track containers.
const (
	SoftTrackMP4  = "mp4"
	SoftTrackWebM = "webm"
	SoftTrackHLS  = "hls"
)

// Subtitle layout defaults.
const (
	DefaultLanguage     = "en"
	DefaultMaxLineChars = 42
	DefaultMaxLines     = 2
)

var (
	langRE  = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	fontRE  = regexp.MustCompile(`^[A-Za-z0-9 _-]{1,64}$`)
	colorRE = regexp.MustCompile(`^[0-9A-Fa-f]{6}$`)
)

// WithDefaults returns s (nil is fine) with every default filled in.
func (s *Subtitles) WithDefaults() Subtitles {
	var out Subtitles
	if s != nil {
		out = *s
	}
	if out.Language == "" {
		out.Language = DefaultLanguage
	}
	if out.MaxLineChars == 0 {
		out.MaxLineChars = DefaultMaxLineChars
	}
	if out.MaxLines == 0 {
		out.MaxLines = DefaultMaxLines
	}
	if b := out.BurnIn; b != nil {
		c := *b
		if c.Font == "" {
			c.Font = "DejaVu Sans"
		}
		if c.FontSize == 0 {
			c.FontSize = 18
		}
		if c.Position == "" {
			c.Position = "bottom"
		}
		if c.Margin == 0 {
			c.Margin = 20
		}
		if c.Color == "" {
			c.Color = "FFFFFF"
		}
		out.BurnIn = &c
	}
	return out
}

// Validate checks the settings without touching a file.
func (s *Subtitles) Validate() error {
	if s == nil {
		return nil
	}
	if s.Language != "" && !langRE.MatchString(s.Language) {
		return fmt.Errorf("language %q is not a language tag like en or en-US", s.Language)
	}
	switch s.Engine {
	case EngineAuto, EngineLocal, EngineExternal:
	default:
		return fmt.Errorf("engine %q: want local or external", s.Engine)
	}
	if s.MaxLineChars < 0 || s.MaxLineChars > 200 {
		return fmt.Errorf("max_line_chars %d out of range 1..200", s.MaxLineChars)
	}
	if s.MaxLines < 0 || s.MaxLines > 4 {
		return fmt.Errorf("max_lines %d out of range 1..4", s.MaxLines)
	}
	switch s.SoftTrack {
	case "", SoftTrackMP4, SoftTrackWebM, SoftTrackHLS:
	default:
		return fmt.Errorf("soft_track %q: want mp4, webm or hls", s.SoftTrack)
	}
	for _, l := range s.TranslateTo {
		if !langRE.MatchString(l) {
			return fmt.Errorf("translate_to: %q is not a language tag like de or pt-BR", l)
		}
	}
	if b := s.BurnIn; b != nil {
		return b.validate()
	}
	return nil
}

func (b *BurnIn) validate() error {
	if b.Font != "" && !fontRE.MatchString(b.Font) {
		return fmt.Errorf("burn_in.font %q: letters, digits, spaces, - and _ only", b.Font)
	}
	if b.FontSize < 0 || b.FontSize > 200 {
		return fmt.Errorf("burn_in.font_size %d out of range 1..200", b.FontSize)
	}
	switch b.Position {
	case "", "bottom", "top":
	default:
		return fmt.Errorf("burn_in.position %q: want bottom or top", b.Position)
	}
	if b.Margin < 0 || b.Margin > 500 {
		return fmt.Errorf("burn_in.margin %d out of range 0..500", b.Margin)
	}
	if b.Color != "" && !colorRE.MatchString(b.Color) {
		return fmt.Errorf("burn_in.color %q: want RRGGBB hex", b.Color)
	}
	return nil
}
