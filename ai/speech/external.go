package speech

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"mps/ai/openai"
)

// External sends the audio to an OpenAI-compatible transcription endpoint.
type External struct {
	Client *openai.Client
	// ChunkSeconds is the longest audio sent in one request (default 600:
	// about 19 MB of WAV, under the 25 MB the hosted endpoints accept).
	// Longer inputs go as consecutive chunks whose times are shifted back
	// onto the whole file.
	ChunkSeconds float64
}

// defaultChunkSeconds keeps one request's WAV under 25 MB.
const defaultChunkSeconds = 600

// Name implements Engine.
func (e *External) Name() string { return "openai" }

// Transcribe implements Engine: ffmpeg extracts the first audio track as
// 16 kHz mono WAV (what every Whisper server resamples to anyway, so
// nothing is lost), chunk by chunk for long inputs; the endpoint answers
// verbose_json with word times.
func (e *External) Transcribe(ctx context.Context, input, language string, progress func(float64)) (*Transcript, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	dur, err := probeAudio(ctx, input)
	if err != nil {
		return nil, err
	}
	chunk := e.ChunkSeconds
	if chunk <= 0 {
		chunk = defaultChunkSeconds
	}
	base, _, _ := strings.Cut(strings.ToLower(language), "-")
	t := &Transcript{Language: language, Engine: e.Name(), Model: e.Client.Model()}
	for off := 0.0; off == 0 || off < dur; off += chunk {
		wav, err := extractWAV(ctx, input, off, chunk)
		if err != nil {
			return nil, err
		}
		ans, err := e.Client.Transcribe(ctx, openai.TranscriptionRequest{
			Audio: bytes.NewReader(wav), FileName: "audio.wav", Language: base,
		})
		if err != nil {
			if off > 0 {
				return nil, fmt.Errorf("transcription endpoint, audio from %.0f s: %w", off, err)
			}
			return nil, fmt.Errorf("transcription endpoint: %w", err)
		}
		part := fromVerbose(ans)
		part.shift(off)
		t.Segments = append(t.Segments, part.Segments...)
		t.Duration = max(t.Duration, off+part.Duration)
		if dur > 0 {
			progress(min(99, 100*(off+chunk)/dur))
		}
	}
	t.Duration = max(t.Duration, dur)
	t.joinText()
	return t, nil
}

// shift moves every time of t by off seconds, for a chunk that started
// off seconds into the file.
func (t *Transcript) shift(off float64) {
	if off == 0 {
		return
	}
	for i := range t.Segments {
		s := &t.Segments[i]
		s.Start += off
		s.End += off
		for j := range s.Words {
			s.Words[j].Start += off
			s.Words[j].End += off
		}
	}
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

// extractWAV decodes seconds of input's first audio track from start to
// 16 kHz mono WAV in memory (about 1.9 MB per minute).
func extractWAV(ctx context.Context, input string, start, seconds float64) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-ss", strconv.FormatFloat(start, 'f', 3, 64), "-i", input, "-t", strconv.FormatFloat(seconds, 'f', 3, 64),
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
