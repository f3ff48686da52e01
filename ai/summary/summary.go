// Package summary describes a file from its transcript: a title, a
// one-paragraph summary, keywords and chapters with start times, written as
// summary.json and as WebVTT chapters (chapters.vtt) for players. With a
// chat provider it asks an OpenAI-compatible model, the transcript sent in
// chunks that fit the model's context and the chapters anchored back to
// transcript times; without one a local extractive summariser answers in
// the same shape.
package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mps/ai/internal/ffexec"
	"mps/ai/openai"
	"mps/internal/vod"
)

// Chat answers chat requests; *openai.Client is one.
type Chat interface {
	Complete(ctx context.Context, messages []openai.Message, schema *openai.Schema) ([]byte, error)
}

// Extension runs the summary operation type.
type Extension struct {
	// Chat is the configured chat provider; nil uses the local summariser.
	Chat Chat
	// Model names the provider's model in the report.
	Model string
}

// Report is summary.json, also the operation result's report. Both
// engines fill the same fields.
type Report struct {
	Title    string    `json:"title"`
	Summary  string    `json:"summary"`
	Keywords []string  `json:"keywords"`
	Chapters []Chapter `json:"chapters"`
	// Engine is "local" or "chat:" and the model.
	Engine string `json:"engine"`
}

// Chapter is one chapter; it runs to the next one's start.
type Chapter struct {
	Start float64 `json:"start"`
	Title string  `json:"title"`
}

// Run reads the transcript, summarises it and writes summary.json and
// chapters.vtt into outDir.
func (e Extension) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	if op.Summary == nil {
		return vod.Result{}, fmt.Errorf("missing \"summary\" settings")
	}
	spec := op.Summary.WithDefaults()
	words, err := ReadTranscript(SiblingPath(outDir, spec.Transcript))
	if err != nil {
		return vod.Result{}, err
	}
	if len(words) == 0 {
		return vod.Result{}, fmt.Errorf("transcript %s holds no words", filepath.Base(spec.Transcript))
	}
	var cuts []float64
	if spec.SceneCuts {
		if cuts, err = sceneCuts(ctx, input); err != nil {
			return vod.Result{}, err
		}
	}
	progress(10)
	var rep Report
	if e.Chat != nil && !spec.Local {
		rep, err = e.chatSummary(ctx, words, cuts, spec, progress)
		if err != nil {
			return vod.Result{}, err
		}
	} else {
		rep = localSummary(words, cuts, spec.MaxChapters, spec.MinChapterSeconds)
	}
	end := words[len(words)-1].End
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return vod.Result{}, err
	}
	if err := os.WriteFile(filepath.Join(outDir, "summary.json"), data, 0o644); err != nil {
		return vod.Result{}, err
	}
	if err := os.WriteFile(filepath.Join(outDir, "chapters.vtt"), []byte(chaptersVTT(rep.Chapters, end)), 0o644); err != nil {
		return vod.Result{}, err
	}
	files, err := ffexec.OutputFiles(ctx, outDir, "summary.json", "chapters.vtt")
	if err != nil {
		return vod.Result{}, err
	}
	return vod.Result{Files: files, VTT: "chapters.vtt", Report: data}, nil
}

// chaptersVTT writes the chapters as a WebVTT chapters track, each cue
// running to the next chapter (the last to end).
func chaptersVTT(chapters []Chapter, end float64) string {
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	for i, c := range chapters {
		stop := end
		if i+1 < len(chapters) {
			stop = chapters[i+1].Start
		}
		if stop <= c.Start {
			stop = c.Start + 1
		}
		fmt.Fprintf(&b, "%d\n%s --> %s\n%s\n\n", i+1, vttTime(c.Start), vttTime(stop), strings.ReplaceAll(c.Title, "-->", "->"))
	}
	return b.String()
}

func vttTime(s float64) string {
	ms := int64(s*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// sceneCuts lists the scene cuts of the input's video (none without
// video).
func sceneCuts(ctx context.Context, input string) ([]float64, error) {
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return nil, err
	}
	if !info.HasVideo() {
		return nil, nil
	}
	dir, err := ffexec.TempDir("mps-summary-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "cuts.txt")
	args := []string{"-i", input, "-map", "0:v:0", "-vf",
		"scale=w=320:h=-2:flags=fast_bilinear,scdet=threshold=10,metadata=mode=print:key=lavfi.scd.time:file=" + file,
		"-f", "null", "-"}
	if err := ffexec.FFmpeg(ctx, args, 0, nil); err != nil {
		return nil, fmt.Errorf("scene cuts: %w", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("scene cuts: %w", err)
	}
	var cuts []float64
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "lavfi.scd.time="); ok {
			var t float64
			if _, err := fmt.Sscan(v, &t); err == nil {
				cuts = append(cuts, t)
			}
		}
	}
	return cuts, nil
}
