package subtitles

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mps/ai/openai"
	"mps/ai/speech"
	"mps/internal/aispec"
	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
	"mps/internal/vod"
)

func needTools(t testing.TB) {
	for _, c := range []string{"ffmpeg", "ffprobe", "pocketsphinx_continuous"} {
		testutil.NeedCommand(t, c)
	}
}

// chatServer stands in for an OpenAI-compatible chat endpoint (no model
// runs here): it checks the request and "translates" each line by
// prefixing it with the target language. fail makes it answer an error.
func chatServer(t *testing.T, fail bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer chat-key" {
			http.Error(w, `{"error":{"message":"bad path or key"}}`, http.StatusUnauthorized)
			return
		}
		if fail {
			http.Error(w, `{"error":{"message":"rate limit reached for model tr-1"}}`, http.StatusTooManyRequests)
			return
		}
		var req struct {
			Model          string `json:"model"`
			Messages       []openai.Message
			ResponseFormat struct {
				Type string `json:"type"`
			} `json:"response_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		if req.Model != "tr-1" || req.ResponseFormat.Type != "json_schema" || len(req.Messages) != 2 {
			t.Errorf("chat request %+v", req)
		}
		lang := "?"
		if strings.Contains(req.Messages[0].Content, `into the language with tag "de"`) {
			lang = "DE"
		}
		var in struct{ Lines []string }
		_ = json.Unmarshal([]byte(req.Messages[1].Content), &in)
		for i := range in.Lines {
			in.Lines[i] = lang + ": " + in.Lines[i]
		}
		content, _ := json.Marshal(in)
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": string(content)}}}})
	}))
}

func runner(t *testing.T, chat *httptest.Server) *Runner {
	r := &Runner{Local: &speech.Local{}}
	if chat != nil {
		t.Setenv("MPS_TEST_CHAT_KEY", "chat-key")
		c := openai.New(config.AIProvider{BaseURL: chat.URL, Model: "tr-1", APIKeyEnv: "MPS_TEST_CHAT_KEY"}, chat.Client())
		r.Translator = &Translator{Client: c}
	}
	return r
}

func run(t *testing.T, r *Runner, input, outDir string, spec *aispec.Subtitles) (vod.Result, error) {
	env := &vod.Env{Extensions: map[string]vod.Extension{vod.TypeSubtitles: r}}
	op := vod.Operation{Type: vod.TypeSubtitles, Subtitles: spec}.Bind(env)
	return op.Run(context.Background(), input, outDir, nil)
}

func TestSubtitlesOperation(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	pcm, placed := speechtest.Layout(t, speechtest.Set[:4], 0.6, 1.2)
	in := speechtest.Video(t, dir, "talk.mp4", pcm)
	chat := chatServer(t, false)
	defer chat.Close()
	out := filepath.Join(dir, "out")
	res, err := run(t, runner(t, chat), in, out, &aispec.Subtitles{
		BurnIn: &aispec.BurnIn{FontSize: 24}, SoftTrack: "mp4", TranslateTo: []string{"de"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(res.Report, &rep); err != nil {
		t.Fatal(err)
	}
	t.Run("transcript", func(t *testing.T) {
		if len(rep.Segments) == 0 || len(rep.Segments[0].Words) == 0 || rep.Segments[0].Words[0].End <= 0 {
			t.Fatalf("report without word times: %s", res.Report)
		}
		b, err := os.ReadFile(filepath.Join(out, "subtitles.transcript.json"))
		if err != nil || !bytes.Contains(b, []byte(`"words"`)) {
			t.Fatalf("transcript file: %v", err)
		}
	})
	t.Run("cues", func(t *testing.T) {
		checkCueRules(t, rep.Cues)
		for _, p := range placed {
			best := math.Inf(1)
			for _, c := range rep.Cues {
				best = math.Min(best, math.Abs(c.Start-p.Start))
			}
			if best > 0.5 {
				t.Errorf("no cue starts within 0.5 s of %q at %.2f s", p.Text, p.Start)
			}
		}
		vtt, _ := os.ReadFile(filepath.Join(out, "subtitles.en.vtt"))
		srt, _ := os.ReadFile(filepath.Join(out, "subtitles.en.srt"))
		if !bytes.HasPrefix(vtt, []byte("WEBVTT\n")) || !bytes.Contains(srt, []byte(" --> ")) || res.VTT != "subtitles.en.vtt" {
			t.Errorf("vtt %q srt %q", vtt, srt)
		}
	})
	t.Run("translation keeps times", func(t *testing.T) {
		de := rep.Translations["de"]
		if len(de) != len(rep.Cues) {
			t.Fatalf("%d German cues for %d", len(de), len(rep.Cues))
		}
		for i := range de {
			if de[i].Start != rep.Cues[i].Start || de[i].End != rep.Cues[i].End || !strings.HasPrefix(de[i].Text(), "DE: ") {
				t.Errorf("cue %d: %+v vs %+v", i, de[i], rep.Cues[i])
			}
		}
		if _, err := os.Stat(filepath.Join(out, "subtitles.de.srt")); err != nil {
			t.Error(err)
		}
	})
	t.Run("translations become HLS renditions", func(t *testing.T) {
		want := []vod.SubtitleTrack{{Language: "en", VTT: "subtitles.en.vtt"}, {Language: "de", VTT: "subtitles.de.vtt"}}
		if fmt.Sprint(res.Subtitles) != fmt.Sprint(want) {
			t.Fatalf("result lists subtitles %+v, want %+v", res.Subtitles, want)
		}
		ladder := vod.Operation{Type: vod.TypeAdaptive, Adaptive: &vod.AdaptiveSpec{SegmentSeconds: 2, Preset: "ultrafast",
			Rungs: []vod.Rung{{Height: 120, VideoBitrate: "150k"}}}}
		pkgDir := filepath.Join(dir, "pkg")
		pkg, err := ladder.Run(context.Background(), in, pkgDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := vod.AddSubtitles(context.Background(), pkgDir, &pkg, out, res.Subtitles); err != nil {
			t.Fatal(err)
		}
		master, _ := os.ReadFile(filepath.Join(pkgDir, vod.MasterPlaylist))
		if !strings.Contains(string(master), `LANGUAGE="de",NAME="de",DEFAULT=NO,AUTOSELECT=YES,URI="subtitles/de/index.m3u8"`) {
			t.Errorf("master:\n%s", master)
		}
		seg, _ := os.ReadFile(filepath.Join(pkgDir, "subtitles", "de", "seg_0000.vtt"))
		if !strings.Contains(string(seg), "DE: ") {
			t.Errorf("German segment:\n%s", seg)
		}
	})
	t.Run("soft track", func(t *testing.T) {
		got := ffprobeStreams(t, filepath.Join(out, "subtitles.soft.mp4"))
		if got != "h264,aac,mov_text:eng,mov_text:ger" {
			t.Errorf("streams %s", got)
		}
	})
	t.Run("burn-in only in the subtitle band", func(t *testing.T) {
		at := (rep.Cues[0].Start + rep.Cues[0].End) / 2
		src := grayFrame(t, in, at)
		burned := grayFrame(t, filepath.Join(out, "subtitles.burned.mp4"), at)
		band, rest := bandDiff(src, burned, 320, 240, 170)
		if band < 8 || rest > 3 {
			t.Errorf("mean difference in subtitle band %.2f (want > 8), above it %.2f (want < 3)", band, rest)
		}
	})
}

func TestSubtitlesSoftTrackWebM(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	pcm, _ := speechtest.Layout(t, speechtest.Set[:1], 0.3, 0.8)
	mp4 := speechtest.Video(t, dir, "a.mp4", pcm)
	webm := filepath.Join(dir, "a.webm")
	if b, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-i", mp4, "-c:v", "libvpx-vp9", "-deadline", "realtime",
		"-cpu-used", "8", "-b:v", "200k", "-c:a", "libopus", webm).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out := filepath.Join(dir, "out")
	if _, err := run(t, runner(t, nil), webm, out, &aispec.Subtitles{SoftTrack: "webm"}); err != nil {
		t.Fatal(err)
	}
	if got := ffprobeStreams(t, filepath.Join(out, "subtitles.soft.webm")); got != "vp9,opus,webvtt:eng" {
		t.Errorf("streams %s", got)
	}
	// H.264 cannot go into WebM: a clear error, not a broken file.
	_, err := run(t, runner(t, nil), mp4, filepath.Join(dir, "out2"), &aispec.Subtitles{SoftTrack: "webm"})
	if err == nil || !strings.Contains(err.Error(), "use soft_track mp4") {
		t.Errorf("err = %v", err)
	}
}

func TestSubtitlesFailures(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	pcm, _ := speechtest.Layout(t, speechtest.Set[:1], 0.3, 0.8)
	in := speechtest.Video(t, dir, "a.mp4", pcm)
	failing := chatServer(t, true)
	defer failing.Close()
	for _, tc := range []struct {
		name  string
		r     *Runner
		input string
		spec  *aispec.Subtitles
		want  string
	}{
		{"no audio", runner(t, nil), testutil.TestData("video_only.mp4"), nil, "no audio track"},
		{"unknown language", runner(t, nil), in, &aispec.Subtitles{Language: "fi"}, `no model for language "fi"`},
		{"no chat endpoint", runner(t, nil), in, &aispec.Subtitles{TranslateTo: []string{"de"}}, "set ai.providers.chat"},
		{"no transcription endpoint", runner(t, nil), in, &aispec.Subtitles{Engine: "external"}, "set ai.providers.transcription"},
		{"failing chat endpoint", runner(t, failing), in, &aispec.Subtitles{TranslateTo: []string{"de"}}, "rate limit reached for model tr-1"},
		{"bad spec", runner(t, nil), in, &aispec.Subtitles{SoftTrack: "avi"}, `soft_track "avi"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			_, err := run(t, tc.r, tc.input, out, tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// A failed operation leaves no half-made outputs behind (the task's
	// other operations keep theirs): the English file written before the
	// translation failed is removed with the rest.
	if _, err := os.Stat(filepath.Join(dir, "failing_chat_endpoint", "subtitles.en.vtt")); err == nil {
		t.Errorf("a failed subtitles operation left its English file behind")
	}
}

func ffprobeStreams(t *testing.T, file string) string {
	t.Helper()
	b, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name:stream_tags=language",
		"-of", "json", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var p struct {
		Streams []struct {
			CodecName string            `json:"codec_name"`
			Tags      map[string]string `json:"tags"`
		}
	}
	_ = json.Unmarshal(b, &p)
	var parts []string
	for _, s := range p.Streams {
		x := s.CodecName
		if l := s.Tags["language"]; l != "" && l != "und" && (x == "mov_text" || x == "webvtt") {
			x += ":" + l
		}
		parts = append(parts, x)
	}
	return strings.Join(parts, ",")
}

// grayFrame decodes the frame at sec as 8-bit gray pixels.
func grayFrame(t *testing.T, file string, sec float64) []byte {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-ss", strconv.FormatFloat(sec, 'f', 3, 64), "-i", file, "-frames:v", "1",
		"-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("frame of %s: %v", file, err)
	}
	return out.Bytes()
}

// bandDiff returns the mean absolute difference of rows from y0 down and
// of the rows above it.
func bandDiff(a, b []byte, w, h, y0 int) (band, rest float64) {
	if len(a) < w*h || len(b) < w*h {
		return 0, 255
	}
	var sb, sr float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := math.Abs(float64(a[y*w+x]) - float64(b[y*w+x]))
			if y >= y0 {
				sb += d
			} else {
				sr += d
			}
		}
	}
	return sb / float64((h-y0)*w), sr / float64(y0*w)
}
