package speech

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultModelDir is where Debian's pocketsphinx-* packages put their
// acoustic models, language models and dictionaries.
const DefaultModelDir = "/usr/share/pocketsphinx/model"

// Local recognises speech with pocketsphinx_continuous, fed by ffmpeg.
// It needs no network and runs at several times real time on one core.
type Local struct {
	// ModelDir holds one directory per language (en-us/ with the acoustic
	// model, en-us.lm.bin and cmudict-en-us.dict beside it); empty uses
	// DefaultModelDir.
	ModelDir string
}

// Name implements Engine.
func (l *Local) Name() string { return "pocketsphinx" }

// Model is the files of one pocketsphinx language.
type Model struct {
	Tag  string // the model's directory name, "en-us"
	HMM  string // acoustic model directory
	LM   string // language model
	Dict string // pronunciation dictionary
}

func (l *Local) modelDir() string {
	if l.ModelDir != "" {
		return l.ModelDir
	}
	return DefaultModelDir
}

// Languages lists the installed model tags.
func (l *Local) Languages() []string {
	ents, _ := os.ReadDir(l.modelDir())
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			if _, err := l.load(e.Name()); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out
}

// Model finds the model for a language tag: the exact tag ("en-us"),
// else the only installed model of its base language ("en" → "en-us").
// The error names the installed languages.
func (l *Local) Model(language string) (Model, error) {
	tag := strings.ToLower(language)
	if m, err := l.load(tag); err == nil {
		return m, nil
	}
	base, _, _ := strings.Cut(tag, "-")
	installed := l.Languages()
	for _, t := range installed {
		if t == base || strings.HasPrefix(t, base+"-") {
			return l.load(t)
		}
	}
	have := strings.Join(installed, ", ")
	if have == "" {
		have = "none; install pocketsphinx-en-us"
	}
	return Model{}, fmt.Errorf("the local speech engine (pocketsphinx) has no model for language %q (installed: %s); "+
		"set ai.providers.transcription to an external endpoint for other languages", language, have)
}

func (l *Local) load(tag string) (Model, error) {
	if tag == "" || strings.ContainsAny(tag, `/\`) || strings.HasPrefix(tag, ".") {
		return Model{}, fmt.Errorf("bad language %q", tag)
	}
	dir := filepath.Join(l.modelDir(), tag)
	m := Model{Tag: tag, HMM: filepath.Join(dir, tag), LM: filepath.Join(dir, tag+".lm.bin")}
	for _, d := range []string{"cmudict-" + tag + ".dict", tag + ".dict"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			m.Dict = filepath.Join(dir, d)
			break
		}
	}
	if st, err := os.Stat(m.HMM); err != nil || !st.IsDir() {
		return Model{}, fmt.Errorf("no acoustic model in %s", dir)
	}
	if _, err := os.Stat(m.LM); err != nil || m.Dict == "" {
		return Model{}, fmt.Errorf("no language model or dictionary in %s", dir)
	}
	return m, nil
}

// Transcribe implements Engine.
func (l *Local) Transcribe(ctx context.Context, input, language string, progress func(float64)) (*Transcript, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	m, err := l.Model(language)
	if err != nil {
		return nil, err
	}
	dur, err := probeAudio(ctx, input)
	if err != nil {
		return nil, err
	}
	t := &Transcript{Language: language, Engine: l.Name(), Model: m.Tag, Duration: dur}
	err = Recognize(ctx, m, Input{Args: []string{"-i", input}}, func(s Segment) {
		t.Segments = append(t.Segments, s)
		if dur > 0 {
			progress(min(99, s.End/dur*100))
		}
	})
	if err != nil {
		return nil, err
	}
	t.joinText()
	return t, nil
}

// Input is what ffmpeg decodes: its input arguments ("-i", file) and, for
// a live feed, the reader its stdin is copied from ("-i", "pipe:0").
type Input struct {
	Args  []string
	Stdin io.Reader
}

// Recognize runs ffmpeg (in → 16 kHz mono s16le, gaps in the audio's
// timestamps filled with silence, padded with a second of silence so the
// last utterance is not dropped) into
// pocketsphinx_continuous and calls emit with each utterance as soon as
// pocketsphinx finishes it. It returns when the input ends or ctx is done.
func Recognize(ctx context.Context, m Model, in Input, emit func(Segment)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ffArgs := append([]string{"-hide_banner", "-nostats", "-loglevel", "error"}, in.Args...)
	// aresample=async=1 fills a gap in the audio's timestamps with silence
	// (a live publisher's dropout): pocketsphinx counts samples, so a gap
	// left out would move every later word earlier.
	ffArgs = append(ffArgs, "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", "aresample=async=1,apad=pad_dur=1",
		"-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1")
	if in.Stdin == nil {
		ffArgs = append([]string{"-nostdin"}, ffArgs...)
	}
	ff := exec.CommandContext(ctx, "ffmpeg", ffArgs...)
	ff.Stdin = in.Stdin
	ps := exec.CommandContext(ctx, "pocketsphinx_continuous", "-infile", "/dev/stdin", "-time", "yes",
		"-logfn", "/dev/null", "-hmm", m.HMM, "-lm", m.LM, "-dict", m.Dict)
	for _, c := range []*exec.Cmd{ff, ps} {
		c.WaitDelay = 2 * time.Second
	}
	var ffErr, psErr tailBuffer
	ff.Stderr, ps.Stderr = &ffErr, &psErr
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	ff.Stdout, ps.Stdin = pw, pr
	out, err := ps.StdoutPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	if err := ps.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("start pocketsphinx_continuous (Debian package pocketsphinx): %w", err)
	}
	pr.Close()
	if err := ff.Start(); err != nil {
		pw.Close()
		cancel()
		_ = ps.Wait()
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	pw.Close()
	(&psParser{emit: emit}).parse(out)
	ffWait := ff.Wait()
	psWait := ps.Wait()
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case psWait != nil: // a dead recogniser also breaks ffmpeg's pipe
		return fmt.Errorf("pocketsphinx_continuous: %w: %s", psWait, psErr.last())
	case ffWait != nil:
		return fmt.Errorf("ffmpeg: %w: %s", ffWait, ffErr.last())
	}
	return nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

// last returns the last three lines.
func (t *tailBuffer) last() string {
	lines := strings.Split(string(bytes.TrimSpace(t.b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, "; ")
}
