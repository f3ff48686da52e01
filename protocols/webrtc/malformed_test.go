package webrtc

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// TestMalformedRequests: bad signalling gets a clear 4xx, leaves no
// session behind, and the server keeps serving.
func TestMalformedRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	whip := e.url("/webrtc/live/bad/whip")
	noICE := "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n" +
		"a=mid:0\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\na=sendonly\r\n"
	dataOnly := "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
	cases := []struct {
		name, method, url, ctype, body string
		status                         int
		says                           string
	}{
		{"wrong content type", "POST", whip, "text/plain", "v=0", 415, "application/sdp"},
		{"no content type", "POST", whip, "", "v=0", 415, "application/sdp"},
		{"empty body", "POST", whip, mimeSDP, "", 400, "empty"},
		{"broken SDP", "POST", whip, mimeSDP, "v=0\r\nthis is not sdp\r\n", 400, "invalid SDP"},
		{"no media", "POST", whip, mimeSDP, "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 400, "no media"},
		{"data channel only", "POST", whip, mimeSDP, dataOnly, 400, "no audio or video"},
		{"no ICE credentials", "POST", whip, mimeSDP, noICE, 400, "offer"},
		{"huge body", "POST", whip, mimeSDP, "v=0\r\n" + strings.Repeat("a=x\r\n", 40000), 413, "larger"},
		{"WHEP broken SDP", "POST", e.url("/webrtc/live/bad/whep"), mimeSDP, "garbage", 400, "invalid SDP"},
		{"GET endpoint", "GET", whip, "", "", 405, "POST"},
		{"empty path", "POST", e.url("/webrtc/whip"), mimeSDP, noICE, 404, "WHIP"},
		{"bad path", "POST", e.url("/webrtc/a%20b/whip"), mimeSDP, noICE, 404, "path"},
		{"not an endpoint", "POST", e.url("/webrtc/live/bad"), mimeSDP, noICE, 404, "WHIP"},
		{"unknown session DELETE", "DELETE", whip + "/0123456789abcdef0123456789abcdef", "", "", 404, "no such session"},
		{"unknown session PATCH", "PATCH", whip + "/0123456789abcdef0123456789abcdef", mimeSDPFrag, "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n", 404, "no such session"},
		{"WHEP of nothing", "POST", e.url("/webrtc/no/stream/whep"), mimeSDP, noICE, 404, "no stream"},
	}
	for _, c := range cases {
		status, _, body := do(ctx, t, c.method, c.url, c.ctype, c.body)
		if status != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %q, want %d saying %q", c.name, status, body, c.status, c.says)
		}
	}
	if n := e.srv.SessionCount(); n != 0 {
		t.Fatalf("%d sessions left by refused requests", n)
	}

	status, hdr, _ := do(ctx, t, http.MethodOptions, whip, "", "")
	if status != http.StatusNoContent || hdr.Get("Accept-Post") != mimeSDP || hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("OPTIONS: %d %v", status, hdr)
	}

	// The server still works, and trickle PATCHes on a live session are
	// checked.
	pub := e.publish(ctx, t, "live/bad")
	e.waitStream(ctx, t, "live/bad")
	res := e.url(pub.Location())
	if st, _, body := do(ctx, t, http.MethodPatch, res, mimeSDPFrag, "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"); st != http.StatusNoContent {
		t.Errorf("trickle PATCH: %d %s", st, body)
	}
	if st, _, body := do(ctx, t, http.MethodPatch, res, mimeSDPFrag, "a=ice-ufrag:other\r\na=mid:0\r\n"); st != http.StatusNotImplemented {
		t.Errorf("ICE restart PATCH: %d %s", st, body)
	}
	if st, _, body := do(ctx, t, http.MethodPatch, res, mimeSDPFrag, "\x00\x01 not sdp"); st != http.StatusBadRequest {
		t.Errorf("garbage PATCH: %d %s", st, body)
	}
	if st, _, body := do(ctx, t, http.MethodPatch, res, mimeSDPFrag, "a=mid:0\r\na=candidate:garbage\r\n"); st != http.StatusBadRequest {
		t.Errorf("bad candidate PATCH: %d %s", st, body)
	}
	if st, _, body := do(ctx, t, http.MethodPatch, res, mimeSDP, "a=mid:0\r\n"); st != http.StatusUnsupportedMediaType {
		t.Errorf("PATCH with wrong type: %d %s", st, body)
	}
	if e.hub.Get("live/bad") == nil {
		t.Fatal("stream gone after bad PATCHes")
	}
}

// TestWHEPAuth: Basic credentials and Bearer tokens reach the hub, which
// refuses wrong ones with 401.
func TestWHEPAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnvPolicy(t, func(string) pathmgr.Policy { return pathmgr.Policy{ReadUser: "", ReadPass: "s3cret"} })
	st, err := e.hub.Publish(ctx, stream.Request{Path: "live/auth", Protocol: "test"},
		[]*stream.Track{{Codec: stream.CodecVP8, ClockRate: 90000}}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []struct {
		auth   string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("bob:wrong")), http.StatusUnauthorized},
		{"Bearer s3cret", http.StatusCreated},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte(":s3cret")), http.StatusCreated},
	} {
		e.auth = c.auth
		_, err := e.tryPlay(ctx, t, "live/auth")
		status, body := refusal(t, err)
		if status != c.status {
			t.Errorf("auth %q: %d %q, want %d", c.auth, status, body, c.status)
		}
	}
}

// TestWHIPAuth: a Bearer token reaches the hub as the password, and the hub
// judges it before the answer (CheckPublish), so a wrong token gets 401 and
// nothing is published.
func TestWHIPAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnvPolicy(t, func(string) pathmgr.Policy { return pathmgr.Policy{PublishPass: "tok"} })
	e.auth = "Bearer tok"
	e.publish(ctx, t, "live/good")
	e.waitStream(ctx, t, "live/good")

	e.auth = "Bearer wrong"
	_, err := e.tryPublish(ctx, t, "live/wrong", webrtc.MimeTypeH264)
	status, body := refusal(t, err)
	if status != http.StatusUnauthorized || !strings.Contains(body, "unauthorized") {
		t.Fatalf("wrong token: %d %q, want 401 unauthorized", status, body)
	}
	if n := e.srv.SessionCount(); n != 1 {
		t.Fatalf("%d sessions, want only the authorized one", n)
	}
	if e.hub.Get("live/wrong") != nil {
		t.Fatal("published with a wrong token")
	}
}
