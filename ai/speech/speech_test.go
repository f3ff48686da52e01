package speech

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/ai/openai"
	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
)

func needTools(t testing.TB) {
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "ffprobe")
	testutil.NeedCommand(t, "pocketsphinx_continuous")
}

func TestLocalTranscribesFliteSpeech(t *testing.T) {
	needTools(t)
	set := speechtest.Set[:3]
	pcm, placed := speechtest.Layout(t, set, 0.5, 1.2)
	in := speechtest.Video(t, t.TempDir(), "speech.mp4", pcm)
	var last float64
	tr, err := (&Local{}).Transcribe(context.Background(), in, "en", func(p float64) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	var ref []string
	for _, s := range set {
		ref = append(ref, speechtest.Words(s.Text)...)
	}
	hyp := speechtest.Words(tr.Text)
	if wer := speechtest.WER(ref, hyp); wer > 0.3 {
		t.Errorf("WER %.2f: heard %q", wer, tr.Text)
	}
	if last <= 0 {
		t.Error("no progress reported")
	}
	if tr.Engine != "pocketsphinx" || tr.Model != "en-us" || tr.Duration < placed[2].End {
		t.Errorf("transcript header %+v", tr)
	}
	// Every sentence starts an utterance near where it was spoken.
	for _, p := range placed {
		best := math.Inf(1)
		for _, s := range tr.Segments {
			best = math.Min(best, math.Abs(s.Start-p.Start))
		}
		if best > 0.5 {
			t.Errorf("no utterance within 0.5 s of %q at %.2f s (segments %+v)", p.Text, p.Start, tr.Segments)
		}
	}
	for _, w := range tr.Words() {
		if w.End < w.Start || strings.ContainsAny(w.Text, "()<>[]") {
			t.Errorf("bad word %+v", w)
		}
	}
}

func TestLocalLanguages(t *testing.T) {
	needTools(t)
	for _, tc := range []struct {
		lang, model, err string
	}{
		{"en", "en-us", ""},
		{"en-US", "en-us", ""},
		{"de", "", `no model for language "de" (installed: en-us)`},
		{"../etc", "", "no model"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			m, err := (&Local{}).Model(tc.lang)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || m.Tag != tc.model {
				t.Fatalf("model %+v, %v", m, err)
			}
		})
	}
}

func TestNoAudioTrack(t *testing.T) {
	needTools(t)
	in := testutil.TestData("video_only.mp4")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("endpoint called for a file without audio")
	}))
	defer srv.Close()
	for _, e := range []Engine{&Local{}, &External{Client: openai.New(config.AIProvider{BaseURL: srv.URL}, srv.Client())}} {
		t.Run(e.Name(), func(t *testing.T) {
			_, err := e.Transcribe(context.Background(), in, "en", nil)
			if !errors.Is(err, ErrNoAudio) {
				t.Fatalf("err = %v, want ErrNoAudio", err)
			}
		})
	}
}

// verboseJSON is an answer recorded from an OpenAI-compatible server for
// "Hello world. Good morning." with word timestamps.
const verboseJSON = `{"task":"transcribe","language":"english","duration":4.2,
"text":"Hello world. Good morning.",
"segments":[{"id":0,"seek":0,"start":0.5,"end":1.6,"text":" Hello world.","tokens":[1,2],"temperature":0,"avg_logprob":-0.2,"compression_ratio":0.8,"no_speech_prob":0.01},
{"id":1,"seek":0,"start":2.4,"end":3.5,"text":" Good morning.","tokens":[3,4],"temperature":0,"avg_logprob":-0.2,"compression_ratio":0.8,"no_speech_prob":0.01}],
"words":[{"word":"Hello","start":0.5,"end":0.9},{"word":"world.","start":0.95,"end":1.6},
{"word":"Good","start":2.4,"end":2.8},{"word":"morning.","start":2.85,"end":3.5}]}`

// transcriptionServer is a stand-in for an OpenAI-compatible endpoint (no
// model can run here): it checks the request as the real API would and
// answers with a recorded verbose_json.
func transcriptionServer(t *testing.T, key string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+key {
			http.Error(w, `{"error":{"message":"Incorrect API key provided"}}`, http.StatusUnauthorized)
			return
		}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := r.MultipartForm
		want := map[string][]string{
			"model": {"whisper-large-v3"}, "response_format": {"verbose_json"},
			"timestamp_granularities[]": {"word", "segment"}, "language": {"en"},
		}
		for k, v := range want {
			if strings.Join(f.Value[k], ",") != strings.Join(v, ",") {
				t.Errorf("field %s = %q, want %q", k, f.Value[k], v)
			}
		}
		fh := f.File["file"]
		if len(fh) != 1 || !strings.HasSuffix(fh[0].Filename, ".wav") {
			t.Fatalf("file part %v", fh)
		}
		fr, _ := fh[0].Open()
		head := make([]byte, 12)
		_, _ = io.ReadFull(fr, head)
		fr.Close()
		if string(head[:4]) != "RIFF" || string(head[8:12]) != "WAVE" || fh[0].Size < 16000 {
			t.Errorf("file is not a WAV of the audio: %q, %d bytes", head, fh[0].Size)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, verboseJSON)
	}))
}

func TestExternalTranscribe(t *testing.T) {
	needTools(t)
	t.Setenv("MPS_TEST_AI_KEY", "sk-test-123")
	srv := transcriptionServer(t, "sk-test-123")
	defer srv.Close()
	c := openai.New(config.AIProvider{BaseURL: srv.URL, Model: "whisper-large-v3", APIKeyEnv: "MPS_TEST_AI_KEY"}, srv.Client())
	tr, err := (&External{Client: c}).Transcribe(context.Background(), testutil.TestData("h264_aac_1s_gop.mp4"), "en-US", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Text != "Hello world. Good morning." || len(tr.Segments) != 2 {
		t.Fatalf("transcript %+v", tr)
	}
	got, _ := json.Marshal(tr.Segments[1].Words)
	if string(got) != `[{"text":"Good","start":2.4,"end":2.8},{"text":"morning.","start":2.85,"end":3.5}]` {
		t.Errorf("segment 2 words %s", got)
	}
	if tr.Engine != "openai" || tr.Model != "whisper-large-v3" || tr.Language != "en-US" {
		t.Errorf("header %+v", tr)
	}
}

func TestExternalFailures(t *testing.T) {
	needTools(t)
	in := testutil.TestData("h264_aac_1s_gop.mp4")
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"error answer", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"message":"model whisper-x is overloaded"}}`, http.StatusServiceUnavailable)
		}, "model whisper-x is overloaded"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done() // never answers within the time-out
		}, "deadline exceeded"},
		{"not json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html>proxy error</html>")
		}, "not verbose_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := openai.New(config.AIProvider{BaseURL: srv.URL, Timeout: config.Duration(300 * time.Millisecond)}, srv.Client())
			_, err := (&External{Client: c}).Transcribe(context.Background(), in, "en", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestExternalChunks: a file longer than one request's audio goes as
// consecutive chunks, each a WAV no longer than the chunk, and the words
// of each answer land at their time in the whole file.
func TestExternalChunks(t *testing.T) {
	needTools(t)
	var mu sync.Mutex
	var sizes []float64 // seconds of audio per request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fh := r.MultipartForm.File["file"][0]
		secs := float64(fh.Size-44) / 32000 // 16 kHz mono s16 after the WAV header
		mu.Lock()
		sizes = append(sizes, secs)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"duration":%.3f,"text":"tick","segments":[{"start":0.1,"end":0.3,"text":"tick"}],`+
			`"words":[{"word":"tick","start":0.1,"end":0.3}]}`, secs)
	}))
	defer srv.Close()
	c := openai.New(config.AIProvider{BaseURL: srv.URL}, srv.Client())
	tr, err := (&External{Client: c, ChunkSeconds: 2.5}).Transcribe(context.Background(), testutil.TestData("h264_aac_1s_gop.mp4"), "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 {
		t.Fatalf("%d requests for 6 s in 2.5 s chunks, want 3 (%v)", len(sizes), sizes)
	}
	for i, s := range sizes {
		if s > 2.5+0.05 || s < 0.5 {
			t.Errorf("request %d carried %.2f s of audio, want at most 2.5", i, s)
		}
	}
	words := tr.Words()
	if len(words) != 3 {
		t.Fatalf("words %+v", words)
	}
	for i, want := range []float64{0.1, 2.6, 5.1} {
		if math.Abs(words[i].Start-want) > 0.01 {
			t.Errorf("word %d at %.3f s, want %.1f", i, words[i].Start, want)
		}
	}
	if math.Abs(tr.Duration-6) > 0.1 {
		t.Errorf("duration %.2f, want 6", tr.Duration)
	}
}
