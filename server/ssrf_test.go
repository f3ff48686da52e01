package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
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
	testutil.WaitFor(t, 60*time.Second, "task ended", func() bool {
		getJSON(t, base+"/api/v1/tasks/"+task.ID, &task)
		return task.Status == "FINISH" || task.Status == "FAIL"
	})
	msg := task.Error
	for _, o := range task.Ops {
		msg += " " + o.Error
	}
	return task.Status, msg
}

// TestWebhookSSRF configures a webhook on a loopback receiver: deliveries
// are refused (and logged) unless the receiver's address is allowlisted.
func TestWebhookSSRF(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowlisted=%v", allow), func(t *testing.T) {
			hits := make(chan string, 10)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits <- r.Header.Get("X-MPS-Event")
			}))
			defer recv.Close()
			cfg := testConfig(t)
			cfg.Webhooks = []config.Webhook{{URL: recv.URL + "/hook"}}
			if allow {
				cfg.Tasks.URLAllowlist = []string{strings.TrimPrefix(recv.URL, "http://")}
			}
			s, logs := startLoggedServer(t, cfg)
			runURLTask(t, "http://"+s.HTTPAddr(), "http://127.0.0.1:1/in.mp4")
			if allow {
				select {
				case ev := <-hits:
					t.Logf("delivered %s", ev)
				case <-time.After(20 * time.Second):
					t.Fatal("allowlisted webhook not delivered")
				}
				return
			}
			testutil.WaitFor(t, 20*time.Second, "refused delivery logged", func() bool {
				return strings.Contains(logs.String(), "webhook delivery failed") && strings.Contains(logs.String(), "not allowed")
			})
			if len(hits) > 0 {
				t.Fatal("the loopback receiver was reached")
			}
		})
	}
}
