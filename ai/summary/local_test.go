package summary

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/vod"
)

func runSummary(t *testing.T, ext Extension, spec aispec.Summary, outDir string) (vod.Result, Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := vod.Operation{Type: vod.TypeSummary, Summary: &spec}
	env := &vod.Env{Extensions: map[string]vod.Extension{vod.TypeSummary: ext}}
	res, err := op.Bind(env).Run(ctx, "", outDir, nil)
	var rep Report
	if err == nil {
		if err := json.Unmarshal(res.Report, &rep); err != nil {
			t.Fatal(err)
		}
	}
	return res, rep, err
}

// TestLocalSummaryThreeTopics is the fallback's figure: on a transcript
// of three topics each chapter starts within 2 s of its topic and the
// keywords hold every topic's key noun; summary.json and chapters.vtt
// say the same.
func TestLocalSummaryThreeTopics(t *testing.T) {
	dir := t.TempDir()
	topics := threeTopics()
	tr := writeTopics(t, dir, topics)
	out := filepath.Join(dir, "summary")
	res, rep, err := runSummary(t, Extension{}, aispec.Summary{Transcript: filepath.Base(tr), MinChapterSeconds: 10}, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report %+v", rep)
	if len(rep.Chapters) != len(topics) {
		t.Fatalf("%d chapters %+v, want %d", len(rep.Chapters), rep.Chapters, len(topics))
	}
	for i, tp := range topics {
		t.Run(tp.noun, func(t *testing.T) {
			want := tp.start
			if i == 0 {
				want = 0
			}
			if d := math.Abs(rep.Chapters[i].Start - want); d > 2 {
				t.Errorf("chapter %d starts at %g, topic at %g", i+1, rep.Chapters[i].Start, want)
			}
			if !slices.Contains(rep.Keywords, tp.noun) {
				t.Errorf("keywords %v lack %q", rep.Keywords, tp.noun)
			}
			if !strings.Contains(strings.ToLower(rep.Chapters[i].Title), tp.noun) {
				t.Errorf("chapter %d title %q lacks %q", i+1, rep.Chapters[i].Title, tp.noun)
			}
		})
	}
	if rep.Engine != "local" || rep.Title == "" || len(strings.Split(rep.Summary, ". ")) < 2 {
		t.Errorf("engine %q title %q summary %q", rep.Engine, rep.Title, rep.Summary)
	}
	vtt, err := os.ReadFile(filepath.Join(out, "chapters.vtt"))
	if err != nil || !strings.HasPrefix(string(vtt), "WEBVTT\n") || strings.Count(string(vtt), "-->") != 3 {
		t.Errorf("chapters.vtt: %v\n%s", err, vtt)
	}
	if res.VTT != "chapters.vtt" || len(res.Files) != 2 {
		t.Errorf("result %+v", res)
	}
}

// TestSummaryBadTranscript checks the clear errors for a missing, broken
// or empty transcript.
func TestSummaryBadTranscript(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return name // a sibling of the operation's output folder
	}
	for _, tc := range []struct {
		name, transcript, want string
	}{
		{"missing", "none.json", "no such file"},
		{"not json", write("bad.json", "[{"), "want a JSON array"},
		{"no words", write("empty.json", "[]"), "holds no words"},
		{"bad time", write("time.json", `[{"word":"a","start":2,"end":1}]`), "bad time"},
		{"not .json", "x.txt", "not a .json file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runSummary(t, Extension{}, aispec.Summary{Transcript: tc.transcript}, filepath.Join(dir, "out"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSiblingTranscript checks that a relative transcript name is read
// from next to the operation's output folder.
func TestSiblingTranscript(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "subtitles"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTopics(t, filepath.Join(dir, "subtitles"), threeTopics())
	_, rep, err := runSummary(t, Extension{}, aispec.Summary{Transcript: "subtitles/transcript.json"}, filepath.Join(dir, "summary"))
	if err != nil || len(rep.Keywords) == 0 {
		t.Fatalf("%v %+v", err, rep)
	}
}
