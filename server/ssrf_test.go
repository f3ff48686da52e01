package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestTaskURLInputSSRF submits tasks whose input URL points at the server's
// own machine: they fail with a refusal and the local file server is never
// asked, unless the config allowlists the address.
func TestTaskURLInputSSRF(t *testing.T) {
	needFFmpeg(t)
	media, err := os.ReadFile(testdata(t, "h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	hits := make(chan string, 100)
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.Path
		_, _ = w.Write(media)
	}))
	defer inner.Close()
	port := inner.URL[strings.LastIndex(inner.URL, ":")+1:]
	redirector := httptest.NewServer(http.RedirectHandler(inner.URL+"/clip.mp4", http.StatusFound))
	defer redirector.Close()

	for _, tc := range []struct {
		name, url string
		allow     []string
		ok        bool
	}{
		{"loopback", inner.URL + "/clip.mp4", nil, false},
		{"ipv6 loopback", "http://[::1]:" + port + "/clip.mp4", nil, false},
		{"localhost", "http://localhost:" + port + "/clip.mp4", nil, false},
		{"decimal", "http://2130706433:" + port + "/clip.mp4", nil, false},
		{"octal", "http://0177.0.0.1:" + port + "/clip.mp4", nil, false},
		{"redirect to loopback", redirector.URL + "/r", []string{strings.TrimPrefix(redirector.URL, "http://")}, false},
		{"allowlisted", inner.URL + "/clip.mp4", []string{strings.TrimPrefix(inner.URL, "http://")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Tasks.URLAllowlist = tc.allow
			s := startServer(t, cfg)
			for len(hits) > 0 {
				<-hits
			}
			status, msg := runURLTask(t, "http://"+s.HTTPAddr(), tc.url)
			if tc.ok {
				if status != "FINISH" {
					t.Fatalf("allowlisted input: %s %s", status, msg)
				}
				return
			}
			if status != "FAIL" || !strings.Contains(msg, "not allowed") {
				t.Fatalf("task = %s %q, want FAIL with a refusal", status, msg)
			}
			if len(hits) > 0 {
				t.Fatalf("the loopback server was reached: %s", <-hits)
			}
		})
	}
}

// runURLTask submits a probe task on url and returns its final status and
// error text.
func runURLTask(t *testing.T, base, url string) (string, string) {
	t.Helper()
	body := `{"input":"` + url + `","operations":[{"type":"probe"}]}`
	resp, err := http.Post(base+"/api/v1/tasks", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var task struct {
		ID, Status, Error string
		Ops               []struct{ Error string }
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &task) != nil {
		t.Fatalf("create task: %d %s", resp.StatusCode, b)
	}
	waitFor(t, 60*time.Second, "task ended", func() bool {
		getJSON(t, base+"/api/v1/tasks/"+task.ID, &task)
		return task.Status == "FINISH" || task.Status == "FAIL"
	})
	msg := task.Error
	for _, o := range task.Ops {
		msg += " " + o.Error
	}
	return task.Status, msg
}
