package speech

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"mps/ai/openai"
)

// External sends the audio to an OpenAI-compatible transcription endpoint.
type External struct {
	Client *openai.Client
}

// Name implements Engine.
func (e *External) Name() string { return "openai" }

// Transcribe implements Engine: ffmpeg extracts the first audio track as
// 16 kHz mono WAV (what every Whisper server resamples to anyway, so
// nothing is lost), the endpoint answers verbose_json with word times.
func (e *External) Transcribe(ctx context.Context, input, language string, progress func(float64)) (*Transcript, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	dur, err := probeAudio(ctx, input)
	if err != nil {
		return nil, err
	}
	wav, err := extractWAV(ctx, input)
	if err != nil {
		return nil, err
	}
	progress(10)
	base, _, _ := strings.Cut(strings.ToLower(language), "-")
	ans, err := e.Client.Transcribe(ctx, openai.TranscriptionRequest{
		Audio: bytes.NewReader(wav), FileName: "audio.wav", Language: base,
	})
	if err != nil {
		return nil, fmt.Errorf("transcription endpoint: %w", err)
	}
	t := fromVerbose(ans)
	t.Language, t.Engine, t.Model = language, e.Name(), e.Client.Model()
	if t.Duration == 0 {
		t.Duration = dur
	}
	t.joinText()
	return t, nil
}

// fromVerbose maps a verbose_json answer onto a Transcript: segments as
// the endpoint cut them, each with the words that fall inside it (the
// top-level word list, or the segment's own).
func fromVerbose(a *openai.Transcription) *Transcript {
	t := &Transcript{Duration: a.Duration}
	words := a.Words
	wi := 0
	for _, s := range a.Segments {
		seg := Segment{Start: s.Start, End: s.End, Text: strings.TrimSpace(s.Text)}
		src := s.Words
		if len(src) == 0 {
			for wi < len(words) && (words[wi].Start < s.End || len(a.Segments) == 0) {
				src = append(src, words[wi])
				wi++
			}
		}
		for _, w := range src {
			if txt := strings.TrimSpace(w.Word); txt != "" {
				seg.Words = append(seg.Words, Word{Text: txt, Start: w.Start, End: w.End, Confidence: w.Probability})
			}
		}
		t.Segments = append(t.Segments, seg)
	}
	if wi < len(words) { // words past the last segment, or no segments at all
		seg := Segment{Start: words[wi].Start, End: words[len(words)-1].End}
		for _, w := range words[wi:] {
			if txt := strings.TrimSpace(w.Word); txt != "" {
				seg.Words = append(seg.Words, Word{Text: txt, Start: w.Start, End: w.End, Confidence: w.Probability})
			}
		}
		t.Segments = append(t.Segments, seg)
	}
	return t
}

// extractWAV decodes input's first audio track to 16 kHz mono WAV in
// memory (about 1.9 MB per minute).
func extractWAV(ctx context.Context, input string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", input,
		"-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", "pipe:1")
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	var errb tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("ffmpeg: extract audio: %w: %s", err, errb.last())
	}
	return out.Bytes(), nil
}
