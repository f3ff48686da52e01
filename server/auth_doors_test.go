package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/auth"
	"mps/internal/auth/authtest"
	"mps/internal/config"
	"mps/internal/testutil"
	"mps/protocols/srt"
	"mps/protocols/webrtc/webrtctest"

	gosrt "github.com/datarhei/gosrt"
)

// cred is one column of the doors table: what a client presents.
type cred struct {
	name        string
	user, pass  string
	token       string
	wantAllowed bool
}

// doorsEnv is a locked server with everything the doors test needs.
type doorsEnv struct {
	s     *Server
	ctx   context.Context
	keys  *authtest.JWKS
	media webrtctest.Media
	file  string
	base  string
}

// lockedConfig: no anonymous access at all; alice may do everything from
// loopback, faraway the same but only from 10.0.0.0/8; tokens from keys.
func lockedConfig(t *testing.T, keys *authtest.JWKS) *config.Config {
	hash, err := auth.HashPassword("right-pass")
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"publish", "read", "playback", "api", "metrics"}
	cfg := allProtocolsConfig(t)
	cfg.Auth.Methods = []string{"internal", "jwt"}
	cfg.Auth.Users = []config.AuthUser{
		{User: "alice", Pass: hash, Actions: all, IPs: []string{"127.0.0.0/8", "::1"}},
		{User: "faraway", Pass: "right-pass", Actions: all, IPs: []string{"10.0.0.0/8"}},
	}
	cfg.Auth.JWT.JWKS = keys.URL
	cfg.Auth.JWT.RefreshUnknown = config.Duration(10 * time.Millisecond)
	// the table makes many failed logins from 127.0.0.1 on purpose
	cfg.Auth.FailLimit = config.AuthFailLimit{Window: config.Duration(time.Minute), DelayAfter: 10000, BlockAfter: 10000}
	return cfg
}

func (e *doorsEnv) creds(t *testing.T) []cred {
	every := []authtest.Perm{{Action: "publish"}, {Action: "read"}, {Action: "playback"}, {Action: "api"}, {Action: "metrics"}}
	return []cred{
		{name: "none"},
		{name: "wrong password", user: "alice", pass: "wrong-pass"},
		{name: "right password", user: "alice", pass: "right-pass", wantAllowed: true},
		{name: "wrong IP", user: "faraway", pass: "right-pass"},
		{name: "expired JWT", token: e.keys.Sign(t, "tok", -time.Minute, every...)},
		{name: "valid JWT", token: e.keys.Sign(t, "tok", time.Hour, every...), wantAllowed: true},
	}
}

// ffQuery is the ?user=&pass= or ?jwt= query of c, as RTMP keys carry it.
func ffQuery(c cred) string {
	v := url.Values{}
	if c.user != "" {
		v.Set("user", c.user)
		v.Set("pass", c.pass)
	}
	if c.token != "" {
		v.Set("jwt", c.token)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// httpAuth is the Authorization header for c.
func httpAuth(c cred) string {
	switch {
	case c.token != "":
		return "Bearer " + c.token
	case c.user != "":
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.pass))
	}
	return ""
}

// ffLine is the first line ffmpeg wrote, without its URL, for the table.
func ffLine(stderr string) string {
	if strings.Contains(stderr, "REJECT reported") {
		return "handshake rejected" // the code: see the gosrt row
	}
	l, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	if i := strings.LastIndex(l, "] "); i >= 0 {
		l = l[i+2:]
	}
	l = ffURL.ReplaceAllString(l, "")
	if len(l) > 90 {
		l = l[:90]
	}
	return l
}

// ffURL matches the URL ffmpeg puts before its error.
var ffURL = regexp.MustCompile(`^[a-z]+://\S+: `)

// ffPublish runs an ffmpeg publisher until path is live (allowed) or
// ffmpeg gives up (refused, with what it printed).
func (e *doorsEnv) ffPublish(t *testing.T, path string, args ...string) (bool, string) {
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	cmd, stderr := ffmpeg(ctx, append([]string{"-re", "-stream_loop", "-1", "-i", e.file, "-c", "copy"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return false, "refused: " + ffLine(stderr.String())
		case <-tick.C:
			if e.s.Paths().Get(path) != nil {
				_ = cmd.Process.Kill()
				<-done
				return true, "published"
			}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
			return false, "timed out"
		}
	}
}

// ffRead reads 10 video frames from url with ffmpeg.
func (e *doorsEnv) ffRead(t *testing.T, url string, pre ...string) (bool, string) {
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	args := append(append([]string{}, pre...), "-i", url, "-map", "0:v:0", "-frames:v", "10", "-f", "null", "-")
	cmd, stderr := ffmpeg(ctx, args...)
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return false, "refused: " + ffLine(stderr.String())
		}
		return false, err.Error()
	}
	return true, "played 10 frames"
}

// httpStatus GETs (or method) u with c's credentials.
func (e *doorsEnv) httpStatus(method, u string, c cred) (bool, string) {
	req, _ := http.NewRequest(method, u, nil)
	if a := httpAuth(c); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err.Error()
	}
	resp.Body.Close()
	ok := resp.StatusCode != 401 && resp.StatusCode != 403 && resp.StatusCode != 429
	s := fmt.Sprint(resp.StatusCode)
	if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") != "" {
		s += " + WWW-Authenticate"
	}
	return ok, s
}

// srtCodes names the rejections the SRT door can answer with.
var srtCodes = map[gosrt.RejectionReason]string{
	gosrt.REJX_UNAUTHORIZED: "REJX_UNAUTHORIZED", gosrt.REJX_FORBIDDEN: "REJX_FORBIDDEN",
	gosrt.REJX_BAD_REQUEST: "REJX_BAD_REQUEST", gosrt.REJX_NOTFOUND: "REJX_NOTFOUND",
}

func srtURL(addr, streamID string) string {
	return "srt://" + addr + "?streamid=" + streamID + "&pkt_size=1316" // ffmpeg 5.1 does not unescape it
}

// srtID is c's stream ID: the short form with user and password, or the
// access-control form with the token as s=.
func srtID(mode, path string, c cred) string {
	switch {
	case c.token != "":
		m := map[string]string{"publish": "publish", "read": "request"}[mode]
		return "#!::r=" + path + ",m=" + m + ",s=" + c.token
	case c.user != "":
		return mode + ":" + path + ":" + c.user + ":" + c.pass
	}
	return mode + ":" + path
}

func rtspURL(addr, path string, c cred) string {
	u := url.URL{Scheme: "rtsp", Host: addr, Path: "/" + path}
	if c.user != "" {
		u.User = url.UserPassword(c.user, c.pass)
	}
	if c.token != "" {
		u.RawQuery = "jwt=" + c.token
	}
	return u.String()
}

// TestDoorsMatrix asks every door with every kind of credentials, with
// real clients against a locked server, and logs the table of answers.
func TestDoorsMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 80 real clients")
	}
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	keys := authtest.NewJWKS(t)
	e := &doorsEnv{ctx: ctx, keys: keys, file: testdata(t, "h264_aac_1s_gop.mp4")}
	e.s = startServer(t, lockedConfig(t, keys))
	e.base = "http://" + e.s.HTTPAddr()
	var err error
	if e.media, err = webrtctest.MakeMedia(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	src := publishRTMP(t, ctx, e.file, "rtmp://"+e.s.RTMPAddr()+"/live/src?user=alice&pass=right-pass", true)
	defer src.Process.Kill()
	testutil.WaitFor(t, 15*time.Second, "source stream", func() bool { return e.s.Paths().Get("live/src") != nil })

	type door struct {
		name string
		try  func(t *testing.T, c cred, slug string) (bool, string)
	}
	doors := []door{
		{"RTMP publish", func(t *testing.T, c cred, slug string) (bool, string) {
			return e.ffPublish(t, "pub/rtmp-"+slug, "-f", "flv", "rtmp://"+e.s.RTMPAddr()+"/pub/rtmp-"+slug+ffQuery(c))
		}},
		{"RTMP read", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.ffRead(t, "rtmp://"+e.s.RTMPAddr()+"/live/src"+ffQuery(c))
		}},
		{"RTSP publish", func(t *testing.T, c cred, slug string) (bool, string) {
			return e.ffPublish(t, "pub/rtsp-"+slug, "-f", "rtsp", "-rtsp_transport", "tcp", rtspURL(e.s.RTSPAddr(), "pub/rtsp-"+slug, c))
		}},
		{"RTSP read", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.ffRead(t, rtspURL(e.s.RTSPAddr(), "live/src", c), "-rtsp_transport", "tcp")
		}},
		{"SRT publish", func(t *testing.T, c cred, slug string) (bool, string) {
			return e.ffPublish(t, "pub/srt-"+slug, "-f", "mpegts", srtURL(e.s.SRTAddr(), srtID("publish", "pub/srt-"+slug, c)))
		}},
		{"SRT read", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.ffRead(t, srtURL(e.s.SRTAddr(), srtID("read", "live/src", c)))
		}},
		{"SRT read handshake (gosrt)", func(t *testing.T, c cred, _ string) (bool, string) {
			conf := gosrt.DefaultConfig()
			conf.StreamId = srtID("read", "live/src", c)
			conn, err := gosrt.Dial("srt", e.s.SRTAddr(), conf)
			if err != nil {
				code, _ := srt.RejectionCode(err)
				return false, srtCodes[code]
			}
			conn.Close()
			return true, "accepted"
		}},
		{"WHIP publish", func(t *testing.T, c cred, slug string) (bool, string) {
			p, err := webrtctest.Publish(ctx, e.base+"/webrtc/pub/whip-"+slug+"/whip", webrtctest.PublishOptions{Auth: httpAuth(c), Media: e.media, Loop: true})
			if err != nil {
				return false, fmt.Sprint("HTTP ", webrtctest.Status(err))
			}
			defer p.Close()
			return true, "201, published"
		}},
		{"WHEP read", func(t *testing.T, c cred, _ string) (bool, string) {
			p, err := webrtctest.Play(ctx, e.base+"/webrtc/live/src/whep", webrtctest.PlayOptions{Auth: httpAuth(c)})
			if err != nil {
				return false, fmt.Sprint("HTTP ", webrtctest.Status(err))
			}
			defer p.Close()
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
			defer wcancel()
			if err := p.WaitFrames(wctx, 10); err != nil {
				return false, "201 but no frames: " + err.Error()
			}
			return true, "201, 10 frames"
		}},
		{"HLS playlist (ffmpeg)", func(t *testing.T, c cred, _ string) (bool, string) {
			u := e.base + "/hls/live/src/index.m3u8"
			switch {
			case c.token != "":
				u += "?jwt=" + c.token // carried into the segment URIs
			case c.user != "":
				u = "http://" + url.UserPassword(c.user, c.pass).String() + "@" + e.s.HTTPAddr() + "/hls/live/src/index.m3u8"
			}
			return e.ffRead(t, u)
		}},
		{"HLS playlist (HTTP)", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/hls/live/src/index.m3u8", c)
		}},
		{"API read GET /api/v1/streams", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/api/v1/streams", c)
		}},
		{"API write DELETE /api/v1/streams/none/x", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("DELETE", e.base+"/api/v1/streams/none/x", c)
		}},
		{"recordings segments (playback)", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/api/v1/recordings/live/src/segments", c)
		}},
		{"recordings HLS (playback)", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/hls/recordings/live/src/index.m3u8", c)
		}},
		{"snapshot latest.jpg (read)", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/snapshots/live/src/latest.jpg", c)
		}},
		{"task outputs (api)", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/outputs/none/x.mp4", c)
		}},
		{"/metrics", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/metrics", c)
		}},
		{"console /", func(t *testing.T, c cred, _ string) (bool, string) {
			return e.httpStatus("GET", e.base+"/", c)
		}},
	}
	creds := e.creds(t)
	var mu sync.Mutex
	table := map[string]map[string]string{}
	for _, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			for _, c := range creds {
				slug := strings.ReplaceAll(c.name, " ", "-")
				ok, answer := d.try(t, c, slug)
				mu.Lock()
				if table[d.name] == nil {
					table[d.name] = map[string]string{}
				}
				table[d.name][c.name] = answer
				mu.Unlock()
				if ok != c.wantAllowed {
					t.Errorf("%s with %s: allowed=%v (%s), want allowed=%v", d.name, c.name, ok, answer, c.wantAllowed)
				}
			}
		})
	}
	var b strings.Builder
	b.WriteString("| door |")
	for _, c := range creds {
		b.WriteString(" " + c.name + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(creds)) + "\n")
	for _, d := range doors {
		n := d.name
		b.WriteString("| " + n + " |")
		for _, c := range creds {
			b.WriteString(" " + table[n][c.name] + " |")
		}
		b.WriteString("\n")
	}
	t.Logf("doors table:\n%s", b.String())
}

// boundClient is an HTTP client whose connections come from local, so a
// test can be "another machine" on loopback (127.0.0.2).
func boundClient(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestDoorsClientIP: a user allowed only from 127.0.0.2 gets in from there
// and is refused (403) from 127.0.0.1; the default entry for the API
// (loopback) lets 127.0.0.2 in without credentials.
func TestDoorsClientIP(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth.Users = []config.AuthUser{{User: "two", Pass: "pw", Actions: []string{"api"}, IPs: []string{"127.0.0.2/32"}}}
	s := startServer(t, cfg)
	u := "http://" + s.HTTPAddr() + "/api/v1/streams"
	if code, _ := httpDo(t, boundClient("127.0.0.2"), "GET", u, "two", "pw", nil); code != 200 {
		t.Fatalf("from 127.0.0.2: %d, want 200", code)
	}
	if code, _ := httpDo(t, boundClient("127.0.0.1"), "GET", u, "two", "pw", nil); code != 403 {
		t.Fatalf("from 127.0.0.1: %d, want 403", code)
	}
	if code, _ := httpDo(t, boundClient("127.0.0.1"), "GET", u, "", "", nil); code != 401 {
		t.Fatalf("anonymous with users configured: %d, want 401", code)
	}

	def := startServer(t, testConfig(t))
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		if code, _ := httpDo(t, boundClient(ip), "GET", "http://"+def.HTTPAddr()+"/api/v1/streams", "", "", nil); code != 200 {
			t.Fatalf("default config, API from %s: %d, want 200", ip, code)
		}
	}
}

// TestDoorsJWTRotation: after the JWKS rotates its key, tokens of the new
// key are accepted at once and tokens of the old one refused.
func TestDoorsJWTRotation(t *testing.T) {
	keys := authtest.NewJWKS(t)
	cfg := testConfig(t)
	cfg.Auth.Methods = []string{"jwt"}
	cfg.Auth.JWT.JWKS = keys.URL
	cfg.Auth.JWT.RefreshUnknown = config.Duration(10 * time.Millisecond)
	s := startServer(t, cfg)
	e := &doorsEnv{}
	u := "http://" + s.HTTPAddr() + "/api/v1/streams"
	old := cred{token: keys.Sign(t, "svc", time.Hour, authtest.Perm{Action: "api"})}
	if ok, got := e.httpStatus("GET", u, old); !ok {
		t.Fatalf("token before rotation: %s", got)
	}
	keys.Rotate(t)
	fresh := cred{token: keys.Sign(t, "svc", time.Hour, authtest.Perm{Action: "api"})}
	if ok, got := e.httpStatus("GET", u, fresh); !ok {
		t.Fatalf("token of the new key: %s", got)
	}
	if ok, got := e.httpStatus("GET", u, old); ok || got != "401 + WWW-Authenticate" {
		t.Fatalf("token of the rotated-out key: %s, want 401", got)
	}
	readOnly := cred{token: keys.Sign(t, "svc", time.Hour, authtest.Perm{Action: "api_read"})}
	if ok, got := e.httpStatus("DELETE", u+"/none/x", readOnly); ok || got != "403" {
		t.Fatalf("api_read token writing: %s, want 403", got)
	}
}

// TestDoorsFailedLoginsThrottled: after block_after wrong passwords from an
// IP its logins are refused with 429 (even the right one), while another
// IP is not affected.
func TestDoorsFailedLoginsThrottled(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth.Users = []config.AuthUser{{User: "ops", Pass: "pw", Actions: []string{"api"}}}
	cfg.Auth.FailLimit = config.AuthFailLimit{Window: config.Duration(time.Minute), DelayAfter: 2, Delay: config.Duration(10 * time.Millisecond), BlockAfter: 4}
	s := startServer(t, cfg)
	u := "http://" + s.HTTPAddr() + "/api/v1/streams"
	one, two := boundClient("127.0.0.1"), boundClient("127.0.0.2")
	for i := range 4 {
		if code, _ := httpDo(t, one, "GET", u, "ops", fmt.Sprint("guess", i), nil); code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	if code, _ := httpDo(t, one, "GET", u, "ops", "pw", nil); code != 429 {
		t.Fatalf("right password from a blocked IP: %d, want 429", code)
	}
	if code, _ := httpDo(t, two, "GET", u, "ops", "pw", nil); code != 200 {
		t.Fatalf("right password from another IP: %d, want 200", code)
	}
}
