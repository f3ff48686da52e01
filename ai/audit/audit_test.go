package audit

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"mps/ai/openai"
	"mps/internal/aispec"
	"mps/internal/config"
	"mps/internal/testutil"
)

const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// makeClip runs ffmpeg with args to make a test clip named name in dir.
func makeClip(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", name, err, b)
	}
	return out
}

// plantedClip is 20 s of 640x360: testsrc2 0-4, black 4-6, static bars
// (frozen) 6-9, testsrc2 9-20 with a boxed "CONFIDENTIAL INVOICE" 10-13;
// sound: a tone 0-14, silence 14-16, flite speech from 16, a tone after.
func plantedClip(t *testing.T, dir string) string {
	return makeClip(t, dir, "planted.mp4",
		"-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4",
		"-f", "lavfi", "-i", "color=black:s=640x360:r=25:d=2",
		"-f", "lavfi", "-i", "smptebars=s=640x360:r=25:d=3",
		"-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=11,drawtext=fontfile="+font+":text='CONFIDENTIAL INVOICE':fontsize=40:"+
			"fontcolor=white:box=1:boxcolor=black:boxborderw=12:x=(w-tw)/2:y=h/2:enable='between(t,1,4)'",
		"-f", "lavfi", "-i", "sine=f=440:r=48000:d=14",
		"-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=2",
		"-f", "lavfi", "-i", "flite=text='please wire the money now':voice=slt",
		"-f", "lavfi", "-i", "sine=f=330:r=48000:d=3",
		"-filter_complex", "[0:v][1:v][2:v][3:v]concat=n=4:v=1:a=0[v];[6:a]aresample=48000[sp];[4:a][5:a][sp][7:a]concat=n=4:v=0:a=1,volume=0.3[a]",
		"-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-c:a", "aac", "-ac", "1", "-t", "20")
}

func cleanClip(t *testing.T, dir string) string {
	return makeClip(t, dir, "clean.mp4", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=12",
		"-f", "lavfi", "-i", "sine=f=440:r=48000:d=12", "-af", "volume=0.3",
		"-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-ac", "1")
}

var lists = []config.AuditList{
	{Label: "finance", Words: []string{"invoice"}, Suggestion: "review"},
	{Label: "scam", Words: []string{"money"}, Regexps: []string{"(?i)^wire$"}, Suggestion: "block"},
}

// transcript writes the words of the flite sentence as a speech engine
// would time them.
func transcript(t *testing.T, dir string) string {
	words := []Word{{"please", 16.3, 16.6}, {"wire", 16.6, 16.9}, {"the", 16.9, 17.0}, {"money", 17.0, 17.4}, {"now", 17.4, 17.8}}
	data, _ := json.Marshal(words)
	p := filepath.Join(dir, "transcript.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func label(r Report, name string) *Label {
	for i := range r.Labels {
		if r.Labels[i].Label == name {
			return &r.Labels[i]
		}
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 0.5 }

func TestAuditFindsPlantedProblems(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "tesseract")
	dir := t.TempDir()
	clip := plantedClip(t, dir)
	au := &Auditor{Lists: lists}
	out := filepath.Join(dir, "out")
	rep, err := au.Run(context.Background(), aispec.AuditSpec{Transcript: transcript(t, dir)}, clip, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(rep, "", " ")
	t.Logf("%s", js)
	if rep.Suggestion != aispec.SuggestBlock {
		t.Errorf("suggestion = %s, want block", rep.Suggestion)
	}
	for _, c := range []struct {
		label      string
		start, end float64
	}{
		{"black", 4, 6}, {"freeze", 6, 9}, {"silence", 14, 16},
	} {
		t.Run(c.label, func(t *testing.T) {
			l := label(rep, c.label)
			if l == nil || len(l.Segments) != 1 {
				t.Fatalf("label %s = %+v", c.label, l)
			}
			if s := l.Segments[0]; !near(s.Start, c.start) || !near(s.End, c.end) {
				t.Fatalf("%s at %.2f-%.2f, want %g-%g ±0.5", c.label, s.Start, s.End, c.start, c.end)
			}
		})
	}
	t.Run("ocr", func(t *testing.T) {
		l := label(rep, "finance")
		if l == nil || l.Suggestion != "review" || len(l.Segments) != 1 {
			t.Fatalf("finance = %+v", l)
		}
		s := l.Segments[0]
		if !near(s.Start, 10) || !near(s.End, 13) {
			t.Errorf("on-screen word at %.2f-%.2f, want 10-13 ±0.5", s.Start, s.End)
		}
		ev := s.Evidence
		if ev == nil || len(ev.OCR) == 0 || !strings.Contains(ev.OCR[0].Text, "INVOICE") || ev.OCR[0].Width < 100 || ev.OCR[0].Y < 150 {
			t.Fatalf("evidence = %+v", ev)
		}
		if _, err := os.Stat(filepath.Join(out, ev.Snapshot)); err != nil {
			t.Fatalf("snapshot: %v", err)
		}
	})
	t.Run("transcript", func(t *testing.T) {
		l := label(rep, "scam")
		if l == nil || l.Suggestion != "block" || len(l.Segments) != 2 {
			t.Fatalf("scam = %+v", l)
		}
		if w := l.Segments[1].Evidence.Words; len(w) != 1 || w[0].Word != "money" || l.Segments[1].Start != 17 {
			t.Fatalf("money segment = %+v", l.Segments[1])
		}
	})
	for _, no := range []string{"loudness", "clipping", "no_audio", "solid_colour"} {
		if l := label(rep, no); l != nil {
			t.Errorf("unexpected %s: %+v", no, l)
		}
	}
}

func TestAuditCleanClipPasses(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "tesseract")
	dir := t.TempDir()
	rep, err := (&Auditor{Lists: lists}).Run(context.Background(), aispec.AuditSpec{}, cleanClip(t, dir), filepath.Join(dir, "out"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Suggestion != aispec.SuggestPass || len(rep.Labels) != 0 || rep.OCRFrames < 5 || rep.Loudness == nil {
		t.Fatalf("clean clip: %+v", rep)
	}
}

func TestAuditTechnicalOnly(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		label string
		err   string
	}{
		{"no audio", []string{"-f", "lavfi", "-i", "testsrc2=s=320x180:d=3", "-c:v", "libx264"}, "no_audio", ""},
		{"loud and clipped", []string{"-f", "lavfi", "-i", "testsrc2=s=320x180:d=3", "-f", "lavfi", "-i", "sine=f=100:d=3",
			"-af", "volume=30", "-c:v", "libx264", "-c:a", "pcm_s16le"}, "clipping", ""},
		{"solid colour", []string{"-f", "lavfi", "-i", "color=red:s=320x180:d=3", "-f", "lavfi", "-i", "sine=d=3", "-af", "volume=0.3",
			"-c:v", "libx264", "-c:a", "aac"}, "solid_colour", ""},
		{"not media", nil, "", "not a media file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var in string
			if c.args == nil {
				in = filepath.Join(dir, "text.mp4")
				os.WriteFile(in, []byte("hello"), 0o644)
			} else {
				ext := ".mp4"
				if c.label == "clipping" {
					ext = ".mkv"
				}
				in = makeClip(t, dir, strings.ReplaceAll(c.name, " ", "_")+ext, c.args...)
			}
			rep, err := (&Auditor{}).Run(context.Background(), aispec.AuditSpec{OCRInterval: -1}, in, filepath.Join(dir, "o"+c.name), nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if label(rep, c.label) == nil || rep.Suggestion != "review" {
				t.Fatalf("report = %+v, want %s", rep, c.label)
			}
		})
	}
}

func TestAuditBadTranscript(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	bad := filepath.Join(dir, "t.json")
	os.WriteFile(bad, []byte(`{"text": "no words"}`), 0o644)
	clip := cleanClip(t, dir)
	for _, c := range []struct{ name, file, want string }{
		{"missing", filepath.Join(dir, "none.json"), "transcript: open"},
		{"no words", bad, "want [{\"word\",\"start\",\"end\"}]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&Auditor{}).Run(context.Background(), aispec.AuditSpec{Transcript: c.file}, clip, filepath.Join(dir, "o"), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestAuditModeration runs the audit against a small OpenAI-compatible
// moderation server that checks each request (path, key, model, input
// shape) and flags the text that mentions money.
func TestAuditModeration(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	var texts, images atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model string          `json:"model"`
			Input json.RawMessage `json:"input"`
		}
		if r.URL.Path != "/v1/moderations" || r.Header.Get("Authorization") != "Bearer k3y" || json.Unmarshal(body, &req) != nil || req.Model != "omni-moderation-latest" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		var text string
		flagged := false
		if json.Unmarshal(req.Input, &text) == nil {
			texts.Add(1)
			flagged = strings.Contains(text, "money")
		} else {
			var parts []struct {
				Type     string `json:"type"`
				ImageURL struct {
					URL string `json:"url"`
				} `json:"image_url"`
			}
			if json.Unmarshal(req.Input, &parts) != nil || len(parts) != 1 || !strings.HasPrefix(parts[0].ImageURL.URL, "data:image/png;base64,") {
				http.Error(w, `{"error":{"message":"bad input"}}`, http.StatusBadRequest)
				return
			}
			images.Add(1)
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "modr-1", "model": req.Model, "results": []any{map[string]any{
			"flagged": flagged, "categories": map[string]bool{"illicit": flagged, "violence": false},
			"category_scores": map[string]float64{"illicit": 0.95, "violence": 0.01}}}})
	}))
	defer srv.Close()
	t.Setenv("MOD_KEY", "k3y")
	au := &Auditor{Moderation: openai.New(config.AIProvider{BaseURL: srv.URL, Model: "omni-moderation-latest", APIKeyEnv: "MOD_KEY"}, srv.Client())}
	rep, err := au.Run(context.Background(), aispec.AuditSpec{Moderation: true, Transcript: transcript(t, dir)}, cleanClip(t, dir), filepath.Join(dir, "out"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := label(rep, "moderation/illicit")
	if l == nil || l.Suggestion != "block" || l.Confidence != 0.95 || rep.Suggestion != "block" || !rep.Moderation {
		t.Fatalf("report = %+v", rep)
	}
	if texts.Load() != 1 || images.Load() < 3 {
		t.Fatalf("requests: %d texts, %d images", texts.Load(), images.Load())
	}
	t.Run("failing endpoint", func(t *testing.T) {
		bad := &Auditor{Moderation: openai.New(config.AIProvider{BaseURL: srv.URL, Model: "other"}, srv.Client())}
		_, err := bad.Run(context.Background(), aispec.AuditSpec{Moderation: true, OCRInterval: 5}, cleanClip(t, dir), filepath.Join(dir, "o2"), nil)
		if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "bad request") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		_, err := (&Auditor{}).Run(context.Background(), aispec.AuditSpec{Moderation: true}, "x.mp4", dir, nil)
		if err == nil || !strings.Contains(err.Error(), "ai.providers.moderation") {
			t.Fatalf("err = %v", err)
		}
	})
}
