package speech

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mps/internal/vod"
)

// Word is one recognised word and when it was spoken, in seconds from the
// start of the media.
type Word struct {
	Text  string  `json:"text"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Confidence is the engine's posterior (0..1) when it gives one.
	Confidence float64 `json:"confidence,omitempty"`
}

// Segment is one utterance: a stretch of speech between pauses, as the
// engine split it. Its words are in time order.
type Segment struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
	Words []Word  `json:"words"`
}

// Transcript is everything said in a file.
type Transcript struct {
	Language string    `json:"language"`
	Engine   string    `json:"engine"`
	Model    string    `json:"model,omitempty"`
	Duration float64   `json:"duration"`
	Text     string    `json:"text"`
	Segments []Segment `json:"segments"`
}

// Words returns every word of the transcript in time order.
func (t *Transcript) Words() []Word {
	var out []Word
	for _, s := range t.Segments {
		out = append(out, s.Words...)
	}
	return out
}

// joinText sets each segment's text from its words and the transcript's
// from its segments.
func (t *Transcript) joinText() {
	parts := make([]string, 0, len(t.Segments))
	for i := range t.Segments {
		s := &t.Segments[i]
		if s.Text == "" {
			ws := make([]string, len(s.Words))
			for j, w := range s.Words {
				ws[j] = w.Text
			}
			s.Text = strings.Join(ws, " ")
		}
		parts = append(parts, strings.TrimSpace(s.Text))
	}
	t.Text = strings.Join(parts, " ")
}

// Engine transcribes the first audio track of a media file.
type Engine interface {
	// Name is "pocketsphinx" or "openai" (the wire protocol), for reports.
	Name() string
	// Transcribe recognises speech in language (a BCP 47 tag) and reports
	// progress in percent.
	Transcribe(ctx context.Context, input, language string, progress func(float64)) (*Transcript, error)
}

// ErrNoAudio is returned (wrapped) for an input without an audio track.
var ErrNoAudio = errors.New("the input has no audio track: nothing to transcribe")

// probeAudio checks input has audio and returns its duration in seconds.
func probeAudio(ctx context.Context, input string) (float64, error) {
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return 0, err
	}
	if !info.HasAudio() {
		return 0, fmt.Errorf("%s: %w", input, ErrNoAudio)
	}
	return info.Duration, nil
}
