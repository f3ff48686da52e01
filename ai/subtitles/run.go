package subtitles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mps/ai/speech"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// Runner runs the "subtitles" operation. It is a vod.Extension.
type Runner struct {
	// Local is the built-in engine; External the configured endpoint's, or
	// nil when ai.providers.transcription is not set.
	Local    speech.Engine
	External speech.Engine
	// Translator is nil when ai.providers.chat is not set.
	Translator *Translator
	// OnTranscript, if set, is told of every transcript made (the search
	// index hangs on it); its error is logged by the caller, not fatal.
	OnTranscript func(ctx context.Context, input string, t *speech.Transcript)
}

// Report is the operation's JSON report: the transcript with word times
// and the cues of each language.
type Report struct {
	*speech.Transcript
	Cues         []Cue            `json:"cues"`
	Translations map[string][]Cue `json:"translations,omitempty"`
}

// Run implements vod.Extension.
func (r *Runner) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	spec := op.Subtitles.WithDefaults()
	engine, err := r.engine(spec)
	if err != nil {
		return vod.Result{}, err
	}
	if len(spec.TranslateTo) > 0 && r.Translator == nil {
		return vod.Result{}, errors.New("translate_to needs a chat endpoint: set ai.providers.chat")
	}
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return vod.Result{}, err
	}
	if !info.HasAudio() {
		return vod.Result{}, speech.ErrNoAudio
	}
	if spec.BurnIn != nil && !info.HasVideo() {
		return vod.Result{}, errors.New("burn_in: the input has no video to draw on")
	}
	stages := stageWeights(spec)
	tr, err := engine.Transcribe(ctx, input, spec.Language, stages.scale(progress, 0))
	if err != nil {
		return vod.Result{}, err
	}
	if r.OnTranscript != nil {
		r.OnTranscript(ctx, input, tr)
	}
	d := &delivery{dir: outDir, base: sanitize(op.Label())}
	layout := DefaultLayout
	layout.MaxLineChars, layout.MaxLines = spec.MaxLineChars, spec.MaxLines
	rep := Report{Transcript: tr, Cues: Build(tr, layout)}
	if err := d.writeJSON(d.base+".transcript.json", tr); err != nil {
		return vod.Result{}, err
	}
	tracks, err := d.writeCues(spec.Language, rep.Cues)
	if err != nil {
		return vod.Result{}, err
	}
	more, err := r.translate(ctx, spec, layout, &rep, d, stages.scale(progress, 1))
	if err != nil {
		return vod.Result{}, err
	}
	tracks = append(tracks, more...)
	if err := d.mediaOutputs(ctx, spec, input, info, tracks, stages, progress); err != nil {
		return vod.Result{}, err
	}
	rb, err := json.Marshal(rep)
	if err != nil {
		return vod.Result{}, err
	}
	subs := make([]vod.SubtitleTrack, len(tracks))
	for i, t := range tracks {
		subs[i] = vod.SubtitleTrack{Language: t.lang, VTT: t.vtt}
	}
	return vod.Result{Files: d.files, VTT: tracks[0].vtt, Subtitles: subs, Report: rb}, nil
}

// translate adds a translation of the cues per target language to rep
// and writes its files.
func (r *Runner) translate(ctx context.Context, spec aispec.Subtitles, layout Layout, rep *Report, d *delivery, progress func(float64)) ([]langFiles, error) {
	var out []langFiles
	for i, lang := range spec.TranslateTo {
		cues, err := r.Translator.Translate(ctx, rep.Cues, spec.Language, lang, layout)
		if err != nil {
			return nil, err
		}
		if rep.Translations == nil {
			rep.Translations = map[string][]Cue{}
		}
		rep.Translations[lang] = cues
		more, err := d.writeCues(lang, cues)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
		progress(float64(i+1) / float64(len(spec.TranslateTo)) * 100)
	}
	return out, nil
}

// mediaOutputs makes the burnt-in copy and the soft-track copy asked for.
func (d *delivery) mediaOutputs(ctx context.Context, spec aispec.Subtitles, input string, info *vod.MediaInfo, tracks []langFiles, stages stages, progress func(float64)) error {
	if b := spec.BurnIn; b != nil {
		out := d.base + ".burned.mp4"
		if err := burnIn(ctx, d.dir, input, tracks[0].srt, out, *b, info, stages.scale(progress, 2)); err != nil {
			return err
		}
		d.media(ctx, out)
	}
	// soft_track hls is the task's to do: it adds the WebVTT files to the
	// package of its adaptive operation (vod.AddSubtitles).
	if c := spec.SoftTrack; c == aispec.SoftTrackMP4 || c == aispec.SoftTrackWebM {
		out := d.base + ".soft." + c
		var ts []track
		for _, t := range tracks {
			f := t.srt
			if c == aispec.SoftTrackWebM {
				f = t.vtt
			}
			ts = append(ts, track{file: f, lang: t.lang})
		}
		if err := softTrack(ctx, d.dir, input, c, ts, out, info, stages.scale(progress, 3)); err != nil {
			return err
		}
		d.media(ctx, out)
	}
	return nil
}

func (r *Runner) engine(spec aispec.Subtitles) (speech.Engine, error) {
	switch spec.Engine {
	case aispec.EngineExternal:
		if r.External == nil {
			return nil, errors.New("engine external needs a transcription endpoint: set ai.providers.transcription")
		}
		return r.External, nil
	case aispec.EngineLocal:
		return r.Local, nil
	}
	if r.External != nil {
		return r.External, nil
	}
	return r.Local, nil
}

// stages splits the progress bar between transcription, translation,
// burn-in and soft track, by rough cost.
type stages [4]float64

func stageWeights(s aispec.Subtitles) stages {
	w := stages{60, 0, 0, 0}
	if len(s.TranslateTo) > 0 {
		w[1] = 10
	}
	if s.BurnIn != nil {
		w[2] = 40
	}
	if s.SoftTrack == aispec.SoftTrackMP4 || s.SoftTrack == aispec.SoftTrackWebM {
		w[3] = 5
	}
	sum := w[0] + w[1] + w[2] + w[3]
	for i := range w {
		w[i] = w[i] / sum * 100
	}
	return w
}

// scale maps stage i's own 0..100 onto its share of the whole.
func (w stages) scale(progress func(float64), i int) func(float64) {
	base := 0.0
	for j := 0; j < i; j++ {
		base += w[j]
	}
	return func(p float64) {
		if progress != nil {
			progress(min(99, base+p/100*w[i]))
		}
	}
}

// delivery writes the output files and lists them.
type delivery struct {
	dir, base string
	files     []vod.File
}

// langFiles are the subtitle files of one language (names in the dir).
type langFiles struct {
	lang, vtt, srt string
}

func (d *delivery) writeCues(lang string, cues []Cue) ([]langFiles, error) {
	lf := langFiles{lang: lang, vtt: d.base + "." + sanitize(lang) + ".vtt", srt: d.base + "." + sanitize(lang) + ".srt"}
	if err := d.write(lf.vtt, WebVTT(cues)); err != nil {
		return nil, err
	}
	if err := d.write(lf.srt, SRT(cues)); err != nil {
		return nil, err
	}
	return []langFiles{lf}, nil
}

func (d *delivery) writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return d.write(name, b)
}

func (d *delivery) write(name string, b []byte) error {
	p := filepath.Join(d.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	d.files = append(d.files, vod.File{Name: name, Path: p, Size: int64(len(b))})
	return nil
}

// media lists a media output with its facts.
func (d *delivery) media(ctx context.Context, name string) {
	p := filepath.Join(d.dir, name)
	f := vod.File{Name: name, Path: p}
	if st, err := os.Stat(p); err == nil {
		f.Size = st.Size()
	}
	if info, err := vod.Probe(ctx, p); err == nil {
		f.Duration, f.Format, f.VideoCodec, f.AudioCodec = info.Duration, info.Format, info.VideoCodec, info.AudioCodec
		f.Width, f.Height = info.Width, info.Height
	}
	d.files = append(d.files, f)
}

// sanitize keeps a label usable as a file name and free of characters
// that ffmpeg's filter graph would need escaped.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "subtitles"
	}
	return b.String()
}
