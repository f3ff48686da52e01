package server

import (
	"crypto/hmac"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/tasks"
)

// signedReceiver is a loopback webhook endpoint that counts the
// task.completed events whose signature checks out.
type signedReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	ok  int
	bad int
}

func newSignedReceiver(t *testing.T, secret string) *signedReceiver {
	r := &signedReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ts, err := strconv.ParseInt(req.Header.Get("X-MPS-Timestamp"), 10, 64)
		good := err == nil && hmac.Equal([]byte(tasks.Sign(secret, ts, body)), []byte(req.Header.Get("X-MPS-Signature")))
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case !good:
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
		case req.Header.Get("X-MPS-Event") == "task.completed":
			r.ok++
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *signedReceiver) counts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, r.bad
}

// TestSchemeNotifiesEveryWebhook runs a scheme from a config file whose
// notify.webhooks lists two receivers: both get the signed task.completed.
func TestSchemeNotifiesEveryWebhook(t *testing.T) {
	needFFmpeg(t)
	a, b := newSignedReceiver(t, "two-hooks"), newSignedReceiver(t, "two-hooks")
	file, err := config.Parse("mps.yaml", []byte(`
schemes:
  - name: probe-both
    operations:
      - type: probe
    notify:
      webhooks: [`+a.srv.URL+`/a, `+b.srv.URL+`/b]
      secret: two-hooks
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Schemes = file.Schemes
	cfg.Tasks.InputRoots = []string{filepath.Dir(testdata(t, "h264_aac_1s_gop.mp4"))}
	cfg.Tasks.AllowPrivateURLs = true // both receivers are on loopback
	s := startServer(t, cfg)
	base := "http://" + s.HTTPAddr()
	body := `{"input":"` + testdata(t, "h264_aac_1s_gop.mp4") + `","scheme":"probe-both"}`
	resp, err := http.Post(base+"/api/v1/tasks", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create task: %d %s", resp.StatusCode, msg)
	}
	testutil.WaitFor(t, 30*time.Second, "both receivers told", func() bool {
		okA, _ := a.counts()
		okB, _ := b.counts()
		return okA == 1 && okB == 1
	})
	for name, r := range map[string]*signedReceiver{"first": a, "second": b} {
		if ok, bad := r.counts(); ok != 1 || bad != 0 {
			t.Errorf("%s receiver: %d signed task.completed (want 1), %d bad signatures", name, ok, bad)
		}
	}
}
