package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/config"
)

// lockedBuffer is a log sink tests can scan while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServerLogged is startServer with the log also kept for scanning.
func startServerLogged(t *testing.T, cfg *config.Config) (*Server, *lockedBuffer) {
	t.Helper()
	buf := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(buf, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(cfg, log)
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s, buf
}

// TestDoorsCallback: with the http method, an RTMP publisher and API
// calls are decided by the callback, which receives the documented body;
// a decision is cached; a callback that does not answer in time denies.
func TestDoorsCallback(t *testing.T) {
	needFFmpeg(t)
	var mu sync.Mutex
	var bodies []map[string]any
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("callback body: %v", err)
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		switch {
		case b["user"] == "slow":
			<-r.Context().Done()
		case b["user"] == "cb" && b["pass"] == "ok":
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer cb.Close()
	cfg := testConfig(t)
	cfg.Auth.Methods = []string{"http"}
	cfg.Auth.Callback = config.AuthCallback{URL: cb.URL, Timeout: config.Duration(300 * time.Millisecond), Cache: config.Duration(time.Minute)}
	s, logs := startServerLogged(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := &doorsEnv{s: s, ctx: ctx, file: testdata(t, "h264_aac_1s_gop.mp4")}

	if ok, got := e.ffPublish(t, "cb/bad", "-f", "flv", "rtmp://"+s.RTMPAddr()+"/cb/bad?user=cb&pass=Sekrit-Wrong"); ok {
		t.Fatalf("publish with a password the callback refuses: %s", got)
	}
	if ok, got := e.ffPublish(t, "cb/good", "-f", "flv", "rtmp://"+s.RTMPAddr()+"/cb/good?user=cb&pass=ok"); !ok {
		t.Fatalf("publish the callback allows: %s", got)
	}
	mu.Lock()
	var pub map[string]any
	for _, b := range bodies {
		if b["path"] == "cb/good" {
			pub = b
		}
	}
	mu.Unlock()
	if pub == nil || pub["action"] != "publish" || pub["protocol"] != "rtmp" || pub["ip"] != "127.0.0.1" || pub["user"] != "cb" ||
		pub["pass"] != "ok" || !strings.Contains(pub["query"].(string), "user=cb") {
		t.Fatalf("callback body for the publish = %v", pub)
	}
	for _, k := range []string{"token", "id"} {
		if _, ok := pub[k]; !ok {
			t.Errorf("callback body lacks %q: %v", k, pub)
		}
	}

	api := "http://" + s.HTTPAddr() + "/api/v1/streams"
	mu.Lock()
	before := len(bodies)
	mu.Unlock()
	for range 3 {
		if code, _ := httpDo(t, nil, "GET", api, "cb", "ok", nil); code != 200 {
			t.Fatalf("API with callback-approved credentials: %d", code)
		}
	}
	mu.Lock()
	calls := len(bodies) - before
	mu.Unlock()
	if calls != 1 {
		t.Fatalf("3 identical API calls asked the callback %d times, want 1 (cached)", calls)
	}
	if code, _ := httpDo(t, nil, "GET", api, "slow", "x", nil); code != 401 {
		t.Fatalf("callback time-out: %d, want 401", code)
	}
	if strings.Contains(logs.String(), "Sekrit-Wrong") {
		t.Fatal("the log shows a refused password")
	}
}

// TestFailedLoginsLogNoSecret: refused passwords and tokens never reach
// the log, while the refusal itself is logged with user, IP and door.
func TestFailedLoginsLogNoSecret(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth.Users = []config.AuthUser{{User: "ops", Pass: "pw", Actions: []string{"api"}}}
	s, logs := startServerLogged(t, cfg)
	base := "http://" + s.HTTPAddr()
	httpDo(t, nil, "GET", base+"/api/v1/streams", "ops", "Guess-Sekrit-1", nil)
	req, _ := http.NewRequest("GET", base+"/metrics?jwt=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.Sekrit-Sig", nil)
	req.Header.Set("Authorization", "Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ5In0.Sekrit-Bearer")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	l := logs.String()
	if !strings.Contains(l, `msg="auth refused"`) || !strings.Contains(l, "user=ops") {
		t.Fatalf("no refusal logged:\n%s", l)
	}
	if strings.Contains(l, "Sekrit") {
		t.Fatalf("a secret reached the log:\n%s", l)
	}
}

// TestAuthReload: a reloaded auth section applies to the next request:
// adding users locks the API that the defaults left open on loopback.
func TestAuthReload(t *testing.T) {
	cfg := testConfig(t)
	s := startServer(t, cfg)
	api := "http://" + s.HTTPAddr() + "/api/v1/streams"
	if code, _ := httpDo(t, nil, "GET", api, "", "", nil); code != 200 {
		t.Fatalf("defaults from loopback: %d, want 200", code)
	}
	next := *cfg
	next.Auth.Users = []config.AuthUser{{User: "ops", Pass: "pw", Actions: []string{"api"}}}
	s.Reload(&next)
	if code, _ := httpDo(t, nil, "GET", api, "", "", nil); code != 401 {
		t.Fatalf("after reload, anonymous: %d, want 401", code)
	}
	if code, _ := httpDo(t, nil, "GET", api, "ops", "pw", nil); code != 200 {
		t.Fatalf("after reload, ops: %d, want 200", code)
	}
}

// TestConfigAPIHidesAuthSecrets: /api/v1/config shows the auth section
// without user passwords or credentials in the JWKS and callback URLs.
func TestConfigAPIHidesAuthSecrets(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth.Methods = []string{"internal"}
	cfg.Auth.Users = []config.AuthUser{{User: "ops", Pass: "Sekrit-Pass", Actions: []string{"api"}}}
	cfg.Auth.JWT.JWKS = "https://u:Sekrit-Jwks@keys.example/jwks.json"
	cfg.Auth.Callback.URL = "https://u:Sekrit-Cb@auth.example/check"
	s := startServer(t, cfg)
	code, body := httpDo(t, nil, "GET", "http://"+s.HTTPAddr()+"/api/v1/config", "ops", "Sekrit-Pass", nil)
	if code != 200 || !strings.Contains(body, `"users"`) || !strings.Contains(body, "keys.example") {
		t.Fatalf("config: %d %.300s", code, body)
	}
	if strings.Contains(body, "Sekrit") {
		t.Fatalf("/api/v1/config shows a secret:\n%s", body)
	}
}
