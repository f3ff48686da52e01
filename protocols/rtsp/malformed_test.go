package rtsp

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"

	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// rawRequest sends one raw RTSP request on a new connection and returns
// the parsed response.
func rawRequest(t *testing.T, addr, req string) *base.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	var res base.Response
	if err := res.Unmarshal(bufio.NewReader(c)); err != nil {
		t.Fatalf("no RTSP response to %q: %v", strings.SplitN(req, "\r\n", 2)[0], err)
	}
	return &res
}

func announce(url, sdp string, extra ...string) string {
	h := strings.Join(extra, "")
	return fmt.Sprintf("ANNOUNCE %s RTSP/1.0\r\nCSeq: 1\r\n%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		url, h, len(sdp), sdp)
}

func describe(url string, extra ...string) string {
	return fmt.Sprintf("DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\n%sAccept: application/sdp\r\n\r\n", url, strings.Join(extra, ""))
}

// validSDP is an H.264 + AAC session as MPS itself would describe it.
func validSDP(t *testing.T) string {
	tr, err := stream.NewH264Track(testSPS, testPPS)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := newPacketizer([]*stream.Track{tr})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pk.desc.Marshal(false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMalformedInputLeavesServerUp(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := New(Config{Address: "127.0.0.1:0", ReadTimeout: 2 * time.Second}, hub, testLogger(t))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := s.Addr().String()

	pub := publishFFmpeg(ctx, t, rtspURL(s, "live/ok"), "tcp", testdata(t, mainFile))
	st := waitStream(t, hub, "live/ok", pub)
	before := st.Stats().UnitsIn

	// Random bytes and a garbage request line: the connection is closed.
	for _, payload := range [][]byte{randomBytes(8192), []byte("GARBAGE\r\n\r\n"), []byte("DESCRIBE\r\n\r\n"),
		[]byte("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999999\r\n\r\n")} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(8 * time.Second))
		_, _ = c.Write(payload)
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
					t.Errorf("server kept a connection open after %.20q", payload)
				}
				break
			}
		}
		c.Close()
	}

	// An ANNOUNCE with a broken SDP is refused and publishes nothing.
	res := rawRequest(t, addr, announce("rtsp://"+addr+"/live/bad", "v=0\r\nthis is not SDP\r\nm=video\r\n"))
	if res.StatusCode != base.StatusBadRequest {
		t.Errorf("broken SDP: %d %s, want 400", res.StatusCode, res.StatusMessage)
	}
	// A valid SDP whose only media MPS cannot carry (MJPEG) is refused with a reason.
	mjpeg := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\n"
	res = rawRequest(t, addr, announce("rtsp://"+addr+"/live/mjpeg", mjpeg))
	if res.StatusCode != base.StatusUnsupportedMediaType || !strings.Contains(res.StatusMessage, "M-JPEG") {
		t.Errorf("mjpeg-only ANNOUNCE: %d %q, want 415 naming the codec", res.StatusCode, res.StatusMessage)
	}
	// A path the hub refuses as a name.
	res = rawRequest(t, addr, announce("rtsp://"+addr+"/a/../b", validSDP(t)))
	if res.StatusCode != base.StatusBadRequest {
		t.Errorf("path with '..': %d %s, want 400", res.StatusCode, res.StatusMessage)
	}
	for _, p := range []string{"live/bad", "live/mjpeg"} {
		if hub.Get(p) != nil {
			t.Errorf("%s was published", p)
		}
	}

	// The concurrent stream was not disturbed.
	time.Sleep(500 * time.Millisecond)
	if after := st.Stats().UnitsIn; after <= before {
		t.Fatalf("stream stopped receiving units (%d then %d)", before, after)
	}
	if err := pub.wait(t, 20*time.Second); err != nil {
		t.Fatalf("publisher disturbed: %v\n%s", err, pub.stderrString())
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestRefusalsMapHubErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, false)
	addr := s.Addr().String()

	res := rawRequest(t, addr, describe("rtsp://"+addr+"/nobody/here"))
	if res.StatusCode != base.StatusNotFound {
		t.Errorf("DESCRIBE of a missing path: %d, want 404", res.StatusCode)
	}

	busy, err := hub.Publish(ctx, stream.Request{Path: "live/busy", Protocol: "test"},
		[]*stream.Track{{Codec: stream.CodecOpus, ClockRate: 48000, Channels: 2}}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	res = rawRequest(t, addr, announce("rtsp://"+addr+"/live/busy", validSDP(t)))
	if res.StatusCode != base.StatusBadRequest || !strings.Contains(res.StatusMessage, "Busy") {
		t.Errorf("ANNOUNCE on a busy path: %d %q, want 400 Path Busy", res.StatusCode, res.StatusMessage)
	}

	flac, err := hub.Publish(ctx, stream.Request{Path: "live/flac", Protocol: "test"},
		[]*stream.Track{{Codec: "flac", ClockRate: 44100}}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer flac.Close()
	res = rawRequest(t, addr, describe("rtsp://"+addr+"/live/flac"))
	if res.StatusCode != base.StatusUnsupportedMediaType || !strings.Contains(res.StatusMessage, "flac") {
		t.Errorf("DESCRIBE of a flac-only stream: %d %q, want 415 naming the track", res.StatusCode, res.StatusMessage)
	}
}

func TestAuthBasic(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hub := newHub(t, func(string) pathmgr.Policy {
		return pathmgr.Policy{PublishUser: "pub", PublishPass: "secret", ReadUser: "viewer", ReadPass: "pw"}
	})
	s := startServer(t, hub, false)
	addr := s.Addr().String()

	// No credentials: challenged with Basic.
	res := rawRequest(t, addr, announce("rtsp://"+addr+"/live/auth", validSDP(t)))
	if res.StatusCode != base.StatusUnauthorized || !strings.Contains(strings.Join(res.Header["WWW-Authenticate"], " "), "Basic") {
		t.Fatalf("ANNOUNCE without credentials: %d %v, want 401 with a Basic challenge", res.StatusCode, res.Header)
	}
	// Wrong credentials: refused.
	res = rawRequest(t, addr, announce("rtsp://"+addr+"/live/auth", validSDP(t),
		"Authorization: Basic cHViOndyb25n\r\n")) // pub:wrong
	if res.StatusCode != base.StatusUnauthorized {
		t.Fatalf("ANNOUNCE with a wrong password: %d, want 401", res.StatusCode)
	}

	// ffmpeg with credentials in the URL answers the challenge and publishes.
	pub := publishFFmpeg(ctx, t, "rtsp://pub:secret@"+addr+"/live/auth", "tcp", testdata(t, mainFile))
	waitStream(t, hub, "live/auth", pub)

	res = rawRequest(t, addr, describe("rtsp://"+addr+"/live/auth"))
	if res.StatusCode != base.StatusUnauthorized {
		t.Errorf("DESCRIBE without credentials: %d, want 401", res.StatusCode)
	}
	probe := startProc(ctx, t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
		"rtsp://viewer:pw@"+addr+"/live/auth")
	if err := probe.wait(t, 20*time.Second); err != nil || !strings.Contains(probe.stdoutString(), "h264") {
		t.Fatalf("ffprobe with read credentials: %v %q\n%s", err, probe.stdoutString(), probe.stderrString())
	}
	// The hub kicking the publisher hangs up its RTSP session.
	if !hub.Kick("live/auth") {
		t.Fatal("nothing to kick")
	}
	_ = pub.wait(t, 5*time.Second)
}
