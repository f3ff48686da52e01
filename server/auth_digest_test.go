package server

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"mps/internal/auth"
	"mps/internal/config"
	"mps/internal/testutil"
)

// TestDoorsRTSPDigest: with rtsp.auth_methods [basic, digest] the RTSP
// door challenges with Basic and Digest (realm mps, a nonce per
// connection), and a user configured with only
// the realm hash — no password the server could compare Basic with —
// publishes and reads with ffmpeg, which answers the Digest challenge. A
// wrong password is refused with 401.
func TestDoorsRTSPDigest(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := allProtocolsConfig(t)
	cfg.RTSP.AuthMethods = []string{config.RTSPAuthBasic, config.RTSPAuthDigest}
	cfg.Auth.Users = []config.AuthUser{
		{User: "cam", Digest: auth.DigestHA1("cam", "s3cret"), Actions: []string{"publish", "read"}},
	}
	s := startServer(t, cfg)
	e := &doorsEnv{ctx: ctx, s: s, file: testdata(t, "h264_aac_1s_gop.mp4")}

	www := rtspChallenge(t, s.RTSPAddr(), "/live/digest")
	if !strings.Contains(www, `Digest realm="mps"`) || !strings.Contains(www, `nonce="`) || !strings.Contains(www, `Basic realm="mps"`) {
		t.Fatalf("401 challenge %q: want Basic and Digest, realm mps, with a nonce", www)
	}
	bcfg := allProtocolsConfig(t)
	bcfg.Auth.Users = cfg.Auth.Users
	basicOnly := startServer(t, bcfg)
	if www := rtspChallenge(t, basicOnly.RTSPAddr(), "/live/digest"); strings.Contains(www, "Digest") || !strings.Contains(www, "Basic") {
		t.Fatalf("default rtsp.auth_methods challenge %q: want Basic only", www)
	}
	right := cred{user: "cam", pass: "s3cret"}
	if ok, got := e.ffPublish(t, "live/digest", "-f", "rtsp", "-rtsp_transport", "tcp", rtspURL(s.RTSPAddr(), "live/digest", cred{user: "cam", pass: "wrong"})); ok {
		t.Fatalf("wrong password published: %s", got)
	} else if !strings.Contains(got, "401") {
		t.Fatalf("wrong password: %s, want 401", got)
	}
	pub, stderr := ffmpeg(ctx, "-re", "-stream_loop", "-1", "-i", e.file, "-c", "copy",
		"-f", "rtsp", "-rtsp_transport", "tcp", rtspURL(s.RTSPAddr(), "live/digest", right))
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pub.Process.Kill(); _ = pub.Wait() }()
	testutil.WaitFor(t, 20*time.Second, "Digest publish live", func() bool {
		if s.Paths().Get("live/digest") == nil && pub.ProcessState != nil {
			t.Fatalf("publisher ended: %s", stderr.String())
		}
		return s.Paths().Get("live/digest") != nil
	})
	if ok, got := e.ffRead(t, rtspURL(s.RTSPAddr(), "live/digest", right), "-rtsp_transport", "tcp"); !ok {
		t.Fatalf("Digest read: %s", got)
	}
	if ok, got := e.ffRead(t, rtspURL(s.RTSPAddr(), "live/digest", cred{user: "cam", pass: "s3cre"}), "-rtsp_transport", "tcp"); ok || !strings.Contains(got, "401") {
		t.Fatalf("read with a wrong password: %s, want refused with 401", got)
	}
}

// rtspChallenge sends an anonymous DESCRIBE and returns the
// WWW-Authenticate lines of the answer.
func rtspChallenge(t *testing.T, addr, path string) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	u := url.URL{Scheme: "rtsp", Host: addr, Path: path}
	if _, err := c.Write([]byte("DESCRIBE " + u.String() + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, " 401 ") {
		t.Fatalf("anonymous DESCRIBE: %q %v, want 401", status, err)
	}
	var www []string
	for {
		l, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(l) == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "WWW-Authenticate") {
			www = append(www, strings.TrimSpace(v))
		}
	}
	return strings.Join(www, "; ")
}
