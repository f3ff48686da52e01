package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"mps/internal/auth/authtest"
	"mps/internal/config"
	"mps/internal/testutil"
)

// httpDo sends method url with optional Basic credentials and returns the
// status and body.
func httpDo(t testing.TB, client *http.Client, method, u, user, pass string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReadCredentialsCoverRecordingsAndSnapshots: a path with read_user /
// read_pass keeps its recordings and snapshots behind them too, at every
// URL that serves them (issue: they answered 200 to anyone).
func TestReadCredentialsCoverRecordingsAndSnapshots(t *testing.T) {
	needFFmpeg(t)
	cfg := testConfig(t)
	on := true
	seg, part, every := config.Duration(2*time.Second), config.Duration(time.Second), config.Duration(time.Second)
	cfg.Paths = []config.PathRule{{Name: "live/sec", ReadUser: "viewer", ReadPass: "pw",
		Record:    &config.RecordOverride{Enabled: &on, SegmentDuration: &seg, PartDuration: &part},
		Snapshots: &config.SnapshotsOverride{Enabled: &on, Interval: &every}}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/sec", false)
	if err := pub.Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	base := "http://" + s.HTTPAddr()
	var list struct {
		Items []struct {
			Name, URL string
			Start     time.Time
			Recording bool
		}
	}
	testutil.WaitFor(t, 15*time.Second, "closed segments", func() bool {
		code, body := httpDo(t, nil, "GET", base+"/api/v1/recordings/live/sec/segments", "viewer", "pw", nil)
		if code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Items) == 0 {
			return false
		}
		return !list.Items[len(list.Items)-1].Recording
	})
	testutil.WaitFor(t, 15*time.Second, "a snapshot", func() bool {
		code, _ := httpDo(t, nil, "GET", base+"/snapshots/live/sec/latest.jpg", "viewer", "pw", nil)
		return code == http.StatusOK
	})
	start := url.QueryEscape(list.Items[0].Start.Format(time.RFC3339Nano))
	urls := []string{
		"/api/v1/recordings/live/sec/segments",
		list.Items[0].URL,
		"/api/v1/recordings/live/sec/get?start=" + start + "&duration=1",
		"/hls/recordings/live/sec/index.m3u8",
		"/hls/recordings/live/sec/" + list.Items[0].Name,
		"/snapshots/live/sec/latest.jpg",
		"/api/v1/snapshots/live/sec",
	}
	for _, u := range urls {
		t.Run(strings.ReplaceAll(u, "/", "_"), func(t *testing.T) {
			if code, body := httpDo(t, nil, "GET", base+u, "", "", nil); code != http.StatusUnauthorized {
				t.Errorf("without credentials: %d %.100q, want 401", code, body)
			}
			if code, _ := httpDo(t, nil, "GET", base+u, "viewer", "nope", nil); code != http.StatusUnauthorized {
				t.Errorf("wrong password: %d, want 401", code)
			}
			if code, body := httpDo(t, nil, "GET", base+u, "viewer", "pw", nil); code != http.StatusOK {
				t.Errorf("with credentials: %d %.200q, want 200", code, body)
			}
		})
	}
}

// TestAPIQuotas: with auth.quotas set, one API caller may not start more
// recordings or uploads than allowed (429), while another caller may.
func TestAPIQuotas(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth.Users = []config.AuthUser{
		{User: "a", Pass: "pa", Actions: []string{"api"}},
		{User: "b", Pass: "pb", Actions: []string{"api"}},
	}
	cfg.Auth.Quotas = config.AuthQuotas{MaxRecordings: 1, MaxUploads: 1, MaxUploadBytes: 1000}
	s := startServer(t, cfg)
	base := "http://" + s.HTTPAddr()
	rec := func(user, pass, path, action string) int {
		code, _ := httpDo(t, nil, "POST", base+"/api/v1/recordings/"+path+"/"+action, user, pass, nil)
		return code
	}
	steps := []struct {
		user, pass, path, action string
		want                     int
	}{
		{"a", "pa", "q/one", "start", 200},
		{"a", "pa", "q/one", "start", 200}, // the same recording again is no new one
		{"a", "pa", "q/two", "start", 429},
		{"b", "pb", "q/two", "start", 200},
		{"a", "pa", "q/one", "stop", 200},
		{"a", "pa", "q/three", "start", 200},
	}
	for i, st := range steps {
		if got := rec(st.user, st.pass, st.path, st.action); got != st.want {
			t.Fatalf("step %d: %s %s %s: %d, want %d", i, st.user, st.action, st.path, got, st.want)
		}
	}
	up := func(user, pass string, n int) int {
		code, body := httpDo(t, nil, "POST", base+"/api/v1/uploads?name=f.bin", user, pass, strings.NewReader(strings.Repeat("x", n)))
		if code >= 500 {
			t.Fatalf("upload: %d %s", code, body)
		}
		return code
	}
	if c := up("a", "pa", 2000); c != 429 {
		t.Fatalf("upload over max_upload_bytes: %d, want 429", c)
	}
	if c := up("a", "pa", 100); c >= 300 {
		t.Fatalf("first upload: %d", c)
	}
	if c := up("a", "pa", 100); c != 429 {
		t.Fatalf("second upload of a: %d, want 429", c)
	}
	if c := up("b", "pb", 100); c >= 300 {
		t.Fatalf("upload of b: %d", c)
	}
	if c := up("a", "nope", 100); c != 401 {
		t.Fatalf("upload with a wrong password: %d, want 401", c)
	}
}

// TestRecordingsHLSCarriesToken: a recordings playlist fetched with ?jwt=
// names its segments with the same token, so a player that cannot set
// headers plays the recording; without the token the segments refuse.
func TestRecordingsHLSCarriesToken(t *testing.T) {
	needFFmpeg(t)
	keys := authtest.NewJWKS(t)
	cfg := testConfig(t)
	on := true
	seg := config.Duration(2 * time.Second)
	cfg.Paths = []config.PathRule{{Name: "live/rec", Record: &config.RecordOverride{Enabled: &on, SegmentDuration: &seg}}}
	cfg.Auth.Methods = []string{"internal", "jwt"}
	cfg.Auth.Users = []config.AuthUser{{User: "any", Actions: []string{"publish"}}}
	cfg.Auth.JWT.JWKS = keys.URL
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/rec", false).Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	tok := keys.Sign(t, "player", time.Hour, authtest.Perm{Action: "playback", Path: "live/*"})
	base := "http://" + s.HTTPAddr() + "/hls/recordings/live/rec/"
	var body string
	testutil.WaitFor(t, 15*time.Second, "recordings playlist", func() bool {
		var code int
		code, body = httpDo(t, nil, "GET", base+"index.m3u8?jwt="+tok, "", "", nil)
		return code == http.StatusOK && strings.Contains(body, "#EXT-X-ENDLIST")
	})
	var uri string
	for _, l := range strings.Split(body, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			uri = l
			break
		}
	}
	if !strings.HasSuffix(uri, "?jwt="+tok) {
		t.Fatalf("segment URI %q does not carry the token", uri)
	}
	if code, _ := httpDo(t, nil, "GET", base+uri, "", "", nil); code != http.StatusOK {
		t.Fatalf("segment with the carried token: %d", code)
	}
	bare, _, _ := strings.Cut(uri, "?")
	if code, _ := httpDo(t, nil, "GET", base+bare, "", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("segment without a token: %d, want 401", code)
	}
	if ok, out := (&doorsEnv{ctx: ctx}).ffRead(t, base+"index.m3u8?jwt="+tok); !ok {
		t.Fatalf("ffmpeg playing the recording with ?jwt=: %s", out)
	}
}
