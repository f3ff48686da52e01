package summary

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mps/ai/openai"
	"mps/internal/aispec"
	"mps/internal/config"
)

// chatRequest is the part of a chat completion request the fake endpoint
// checks.
type chatRequest struct {
	Model          string           `json:"model"`
	Messages       []openai.Message `json:"messages"`
	ResponseFormat struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

// timedLine is a transcript line as the summary sends it.
var timedLine = regexp.MustCompile(`(?m)^\[\d+\.\d\] \w+`)

// fakeChat is an OpenAI-compatible chat endpoint on loopback: it checks
// every request (path, key, model, JSON-schema response format, transcript
// lines with times) and answers with answer(n) for the n-th request.
func fakeChat(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req chatRequest
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions":
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		case r.Header.Get("Authorization") != "Bearer sk-test":
			t.Errorf("authorization %q", r.Header.Get("Authorization"))
		case json.NewDecoder(r.Body).Decode(&req) != nil:
			t.Errorf("body is not JSON")
		case req.Model != "llama-3.1-8b-instruct" || req.ResponseFormat.Type != "json_schema" ||
			!json.Valid(req.ResponseFormat.JSONSchema.Schema) || len(req.Messages) != 2:
			t.Errorf("request %+v", req)
		case !timedLine.MatchString(req.Messages[1].Content) && !strings.Contains(req.Messages[1].Content, "Part 1:"):
			t.Errorf("user message lacks timed transcript lines: %.200s", req.Messages[1].Content)
		}
		answer(int(n.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func chatExt(t *testing.T, url string, timeout time.Duration) Extension {
	t.Setenv("MPS_TEST_CHAT_KEY", "sk-test")
	p := config.AIProvider{BaseURL: url, Model: "llama-3.1-8b-instruct", APIKeyEnv: "MPS_TEST_CHAT_KEY",
		Timeout: config.Duration(timeout)}
	return Extension{Chat: openai.New(p, nil), Model: p.Model}
}

func recorded(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "chat_completion.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChatSummary checks the chat path: the recorded answer becomes the
// report, chapter starts move onto the transcript's sentence starts.
func TestChatSummary(t *testing.T) {
	body := recorded(t)
	srv, n := fakeChat(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	dir := t.TempDir()
	topics := threeTopics()
	tr := writeTopics(t, dir, topics)
	_, rep, err := runSummary(t, chatExt(t, srv.URL, 5*time.Second), aispec.Summary{Transcript: filepath.Base(tr)}, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 || rep.Engine != "chat:llama-3.1-8b-instruct" || !strings.HasPrefix(rep.Title, "Volcanoes") {
		t.Fatalf("%d requests, report %+v", n.Load(), rep)
	}
	want := []float64{0, topics[1].start, topics[2].start}
	for i, c := range rep.Chapters {
		if i >= len(want) || c.Start != round1(want[i]) {
			t.Errorf("chapter %d at %g, want the sentence start %v", i+1, c.Start, want)
		}
	}
	if !slices.Contains(rep.Keywords, "satellite") {
		t.Errorf("keywords %v", rep.Keywords)
	}
}

// TestChatSummaryChunks checks that a transcript longer than the context
// goes in several requests plus one that joins them.
func TestChatSummaryChunks(t *testing.T) {
	body := recorded(t)
	srv, n := fakeChat(t, func(_ int, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	dir := t.TempDir()
	topics := threeTopics()
	for i := range topics {
		topics[i].sentences = append(topics[i].sentences, topics[i].sentences...)
	}
	tr := writeTopics(t, dir, topics)
	_, rep, err := runSummary(t, chatExt(t, srv.URL, 5*time.Second), aispec.Summary{Transcript: filepath.Base(tr), ContextTokens: 500}, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() < 3 || len(rep.Chapters) < 3 {
		t.Fatalf("%d requests, %d chapters; want several chunks and a joining request", n.Load(), len(rep.Chapters))
	}
}

// TestChatSummaryFailures checks that a slow endpoint, an endpoint error
// and answers that are not the JSON asked for fail with a clear message.
func TestChatSummaryFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   string
	}{
		{"time-out", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, "timed out"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"message":"model overloaded"}}`, http.StatusServiceUnavailable)
		}, "model overloaded"},
		{"content not json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"Sure! Here is a summary: {title"},"finish_reason":"stop"}]}`))
		}, "not the JSON asked for"},
		{"body not json", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>gateway</html>")) },
			"not a chat completion"},
		{"wrong shape", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"{\"title\":7}"},"finish_reason":"stop"}]}`))
		}, "does not fit the summary schema"},
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"{\"title\":"},"finish_reason":"length"}]}`))
		}, "length limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeChat(t, func(_ int, w http.ResponseWriter, r *http.Request) { tc.answer(w, r) })
			dir := t.TempDir()
			tr := writeTopics(t, dir, threeTopics())
			out := filepath.Join(dir, "out")
			_, _, err := runSummary(t, chatExt(t, srv.URL, 300*time.Millisecond), aispec.Summary{Transcript: filepath.Base(tr)}, out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "summary.json")); err == nil {
				t.Errorf("a failed summary wrote summary.json")
			}
		})
	}
}
