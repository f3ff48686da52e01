// Package audit is the content audit (template type audit): one ffmpeg
// pass finds technical problems (black or solid-colour picture, frozen
// picture, silence, loudness out of range, clipping, missing audio), OCR
// reads the text on scene keyframes and sampled frames, transcript words
// and on-screen text are matched against the labelled blocklists of
// ai.audit.lists, and an optional OpenAI-compatible moderation endpoint
// judges the transcript and the frames. The result is a verdict — pass,
// review or block — with the segments and evidence behind each label.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"mps/ai/ffmeta"
	"mps/ai/openai"
	"mps/internal/aispec"
	"mps/internal/config"
	"mps/internal/vod"
)

// Auditor runs audits with the configured blocklists and, when set, the
// moderation endpoint.
type Auditor struct {
	// Lists are ai.audit.lists.
	Lists []config.AuditList
	// Moderation is the ai.providers.moderation client; nil when none is
	// configured (a spec asking for moderation then fails clearly).
	Moderation *openai.Client
}

// auditor is one run.
type auditor struct {
	*Auditor
	spec     aispec.AuditSpec
	input    string
	outDir   string
	tmp      string
	duration float64
	progress func(float64)
	rep      Report
}

// Run audits input, writing evidence snapshots and audit.json into outDir.
func (au *Auditor) Run(ctx context.Context, spec aispec.AuditSpec, input, outDir string, progress func(float64)) (Report, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	if spec.Moderation && au.Moderation == nil {
		return Report{}, errors.New("moderation asked for but ai.providers.moderation is not configured")
	}
	abs, err := filepath.Abs(input)
	if err != nil {
		return Report{}, err
	}
	info, err := vod.Probe(ctx, abs)
	if err != nil {
		return Report{}, err
	}
	if !info.HasVideo() && !info.HasAudio() {
		return Report{}, fmt.Errorf("%s has neither video nor audio", filepath.Base(input))
	}
	words, err := loadTranscript(spec.Transcript)
	if err != nil {
		return Report{}, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Report{}, err
	}
	tmp, err := os.MkdirTemp(outDir, ".audit-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(tmp)
	a := &auditor{Auditor: au, spec: spec, input: abs, outDir: outDir, tmp: tmp, duration: info.Duration, progress: progress}
	a.rep.Duration = info.Duration
	tech := spec.Technical.WithDefaults()
	if info.HasVideo() && !info.HasAudio() {
		a.rep.add("no_audio", "technical", tech.Suggestion, Segment{Start: 0, End: info.Duration, Confidence: 1, Evidence: &Evidence{Detail: "no audio track"}})
	}
	res, err := a.pass(ctx, info.HasVideo(), info.HasAudio())
	if err != nil {
		return Report{}, err
	}
	a.rep.Loudness = res.loudness
	lists := compile(au.Lists, spec.Lists)
	if err := a.ocr(ctx, res.shots, lists); err != nil {
		return Report{}, err
	}
	a.transcript(words, lists)
	progress(90)
	if spec.Moderation {
		if err := a.moderate(ctx, res.shots, words); err != nil {
			return Report{}, err
		}
	}
	a.rep.finish()
	return a.rep, nil
}

// loadTranscript reads a transcript JSON file: a list of words with times,
// or an object with such a list under "words".
func loadTranscript(name string) ([]Word, error) {
	if name == "" {
		return nil, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	var words []Word
	if err := json.Unmarshal(data, &words); err != nil {
		var obj struct {
			Words []Word `json:"words"`
		}
		if err2 := json.Unmarshal(data, &obj); err2 != nil || obj.Words == nil {
			return nil, fmt.Errorf("transcript %s: want [{\"word\",\"start\",\"end\"}]: %w", filepath.Base(name), err)
		}
		words = obj.Words
	}
	return words, nil
}

// ocr reads every sampled frame, finds the runs of consecutive samples
// where a list matches, and narrows each run's start and end between the
// samples (refine), so a caption's times are right to a quarter second
// rather than to the sampling interval.
func (a *auditor) ocr(ctx context.Context, shots []frameShot, lists []matcher) error {
	a.rep.OCRFrames = len(shots)
	if len(lists) == 0 {
		return nil
	}
	read := make([][]ocrLine, len(shots))
	for i, s := range shots {
		lines, err := readText(ctx, s.File)
		if err != nil {
			return err
		}
		read[i] = lines
		a.progress(60 + 20*float64(i+1)/float64(len(shots)))
	}
	for _, m := range lists {
		hitsAt := make([][]OCRText, len(shots))
		for i, lines := range read {
			for _, l := range lines {
				if m.matchLine(l.text.Text) {
					hitsAt[i] = append(hitsAt[i], l.text)
				}
			}
		}
		for i := 0; i < len(shots); i++ {
			if hitsAt[i] == nil {
				continue
			}
			j := i
			for j+1 < len(shots) && hitsAt[j+1] != nil {
				j++
			}
			seg, err := a.ocrSegment(ctx, m, shots, hitsAt, i, j)
			if err != nil {
				return err
			}
			a.rep.add(m.label, "ocr+transcript", m.suggestion, seg)
			i = j
		}
	}
	return nil
}

// ocrSegment builds the segment of the run of matching samples i..j.
func (a *auditor) ocrSegment(ctx context.Context, m matcher, shots []frameShot, hitsAt [][]OCRText, i, j int) (Segment, error) {
	var ev Evidence
	conf := 0.0
	for k := i; k <= j; k++ {
		for _, h := range hitsAt[k] {
			conf = max(conf, h.Confidence)
		}
	}
	ev.OCR = hitsAt[i]
	snap, err := a.keep(shots[i])
	if err != nil {
		return Segment{}, err
	}
	ev.Snapshot = snap
	band := bandOf(hitsAt[i])
	before, after := 0.0, a.duration
	if i > 0 {
		before = shots[i-1].Time
	}
	if j+1 < len(shots) {
		after = shots[j+1].Time
	}
	start, err := a.refine(ctx, m, band, before, shots[i].Time, true)
	if err != nil {
		return Segment{}, err
	}
	end, err := a.refine(ctx, m, band, shots[j].Time, after, false)
	if err != nil {
		return Segment{}, err
	}
	return Segment{Start: round3(start), End: round3(end), Confidence: conf, Evidence: &ev}, nil
}

// band is the horizontal strip of the picture where the text was read.
type band struct{ y, h int }

func bandOf(hits []OCRText) band {
	y0, y1 := hits[0].Y, hits[0].Y+hits[0].Height
	for _, h := range hits[1:] {
		y0, y1 = min(y0, h.Y), max(y1, h.Y+h.Height)
	}
	pad := (y1 - y0) / 2
	return band{max(0, y0-pad), y1 - y0 + 2*pad}
}

// refineStep is the precision of a refined OCR boundary in seconds.
const refineStep = 0.25

// refine narrows a boundary between a time without the text and a time
// with it (rising: miss at lo, hit at hi; else hit at lo, miss at hi) by
// bisection on frames cut to the text's band, and returns the boundary.
func (a *auditor) refine(ctx context.Context, m matcher, b band, lo, hi float64, rising bool) (float64, error) {
	for hi-lo > refineStep {
		mid := (lo + hi) / 2
		hit, err := a.matchAt(ctx, m, b, mid)
		if err != nil {
			return 0, err
		}
		if hit == rising {
			hi = mid
		} else {
			lo = mid
		}
	}
	return (lo + hi) / 2, nil
}

// matchAt reads the band of the frame at t and reports whether m matches.
func (a *auditor) matchAt(ctx context.Context, m matcher, b band, t float64) (bool, error) {
	name := filepath.Join(a.tmp, "refine.png")
	args := []string{"-loglevel", "error", "-ss", ftoa(t), "-i", a.input, "-frames:v", "1",
		"-vf", fmt.Sprintf("crop=iw:min(ih-%d\\,%d):0:%d", b.y, b.h, b.y), "-update", "1", name}
	if _, err := ffmeta.Run(ctx, a.tmp, args, 0, nil); err != nil {
		return false, err
	}
	lines, err := readText(ctx, name)
	if err != nil {
		return false, err
	}
	for _, l := range lines {
		if m.matchLine(l.text.Text) {
			return true, nil
		}
	}
	return false, nil
}

func (a *auditor) interval() float64 {
	if a.spec.OCRInterval > 0 {
		return a.spec.OCRInterval
	}
	return 2
}

// keep copies a sampled frame into the outputs as evidence and returns its
// name there.
func (a *auditor) keep(s frameShot) (string, error) {
	name := fmt.Sprintf("audit_%09.3f.png", s.Time)
	dst := filepath.Join(a.outDir, name)
	if _, err := os.Stat(dst); err == nil {
		return name, nil
	}
	data, err := os.ReadFile(s.File)
	if err != nil {
		return "", err
	}
	return name, os.WriteFile(dst, data, 0o644)
}

// transcript adds the listed words found in the transcript.
func (a *auditor) transcript(words []Word, lists []matcher) {
	for _, m := range lists {
		for _, w := range words {
			if m.matchWord(w.Word) {
				a.rep.add(m.label, "ocr+transcript", m.suggestion, Segment{Start: round3(w.Start), End: round3(w.End),
					Confidence: 1, Evidence: &Evidence{Words: []Word{w}}})
			}
		}
	}
}

// moderate asks the moderation endpoint about the transcript text and
// about each sampled frame (at most maxModerated), adding flagged
// categories as labels: review, or block when the score is 0.9 or more.
func (a *auditor) moderate(ctx context.Context, shots []frameShot, words []Word) error {
	a.rep.Moderation = true
	if len(words) > 0 {
		var text []string
		for _, w := range words {
			text = append(text, w.Word)
		}
		r, err := a.Moderation.Moderate(ctx, openai.ModerationInput{Text: strings.Join(text, " ")})
		if err != nil {
			return fmt.Errorf("moderation: %w", err)
		}
		a.flag(r, words[0].Start, words[len(words)-1].End, &Evidence{Words: words})
	}
	step := max(1, (len(shots)+maxModerated-1)/maxModerated)
	for i := 0; i < len(shots); i += step {
		png, err := os.ReadFile(shots[i].File)
		if err != nil {
			return err
		}
		r, err := a.Moderation.Moderate(ctx, openai.ModerationInput{PNG: png})
		if err != nil {
			return fmt.Errorf("moderation: %w", err)
		}
		end := min(a.duration, shots[i].Time+a.interval())
		if r.Flagged {
			snap, err := a.keep(shots[i])
			if err != nil {
				return err
			}
			a.flag(r, shots[i].Time, end, &Evidence{Snapshot: snap})
		}
	}
	return nil
}

// maxModerated bounds the frames sent to the moderation endpoint.
const maxModerated = 20

func (a *auditor) flag(r openai.ModerationResult, start, end float64, ev *Evidence) {
	for cat, on := range r.Categories {
		if !on {
			continue
		}
		score := r.CategoryScores[cat]
		sug := aispec.SuggestReview
		if score >= 0.9 {
			sug = aispec.SuggestBlock
		}
		e := *ev
		e.Detail = fmt.Sprintf("%s %.2f", cat, score)
		a.rep.add("moderation/"+cat, "moderation", sug, Segment{Start: round3(start), End: round3(end), Confidence: round3(score), Evidence: &e})
	}
}
