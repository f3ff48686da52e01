package rtsp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mps/internal/stream"
)

func TestPullAndPush(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	log := testLogger(t)

	hubA := newHub(t, nil)
	a := startServer(t, hubA, true)
	hubB := newHub(t, nil)
	b := startServer(t, hubB, false)

	pub := publishFFmpeg(ctx, t, rtspURL(a, "live/src"), "tcp", testdata(t, mainFile))
	src := waitStream(t, hubA, "live/src", pub)

	// Pull A -> hub B (over UDP), push A's stream -> server B (TCP).
	pullDone := make(chan error, 1)
	go func() {
		pullDone <- ClientConfig{Transport: "udp"}.Pull(ctx, rtspURL(a, "live/src"), hubB, "pulled/src", log)
	}()
	pushDone := make(chan error, 1)
	go func() { pushDone <- Push(ctx, rtspURL(b, "pushed/src"), src, log) }()

	pulled := waitStream(t, hubB, "pulled/src", nil)
	pushed := waitStream(t, hubB, "pushed/src", nil)
	for name, st := range map[string]*stream.Stream{"pulled": pulled, "pushed": pushed} {
		tr := st.Tracks()
		if len(tr) != 2 || tr[0].Codec != stream.CodecH264 || tr[0].Width != 320 || tr[0].Height != 240 ||
			tr[1].Codec != stream.CodecAAC || tr[1].SampleRate != 48000 {
			t.Fatalf("%s tracks %v, want h264 320x240 + aac 48000", name, tr)
		}
	}

	// Players of B decode what came through either way.
	rPull := readFFmpeg(ctx, t, rtspURL(b, "pulled/src"), "tcp")
	rPush := readFFmpeg(ctx, t, rtspURL(b, "pushed/src"), "tcp")

	if err := pub.wait(t, 20*time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.stderrString())
	}
	// Push ends cleanly with its source stream; Pull ends with an error
	// saying the remote went away. Both within seconds.
	select {
	case err := <-pushDone:
		if err != nil {
			t.Errorf("push: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("push did not end with its source")
	}
	select {
	case err := <-pullDone:
		if err == nil {
			t.Errorf("pull returned nil when the remote ended")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("pull did not end with the remote")
	}
	for name, r := range map[string]*proc{"pulled": rPull, "pushed": rPush} {
		if err := r.wait(t, 5*time.Second); err != nil {
			t.Errorf("%s reader: %v\n%s", name, err, r.stderrString())
		}
		if e := r.stderrString(); e != "" {
			t.Errorf("%s reader decode errors:\n%s", name, e)
		}
		n := frameCounts(r.stdoutString())
		t.Logf("%s reader: %v", name, n)
		if n[0] < 90 || n[1] < 120 {
			t.Errorf("%s reader decoded %d video / %d audio frames, want >= 90 / 120", name, n[0], n[1])
		}
	}
}

func TestPullErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, false)
	log := testLogger(t)

	err := Pull(ctx, rtspURL(s, "nobody/here"), hub, "x", log)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("pull of a missing path: %v, want a 404 error", err)
	}
	if err := Pull(ctx, "http://example.com/x", hub, "x", log); err == nil {
		t.Error("pull accepted a non-rtsp URL")
	}
	if err := (ClientConfig{Transport: "sctp"}).Pull(ctx, rtspURL(s, "a"), hub, "x", log); err == nil {
		t.Error("pull accepted transport sctp")
	}
	// A cancelled context ends Pull with the context's error.
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if err := Pull(cctx, rtspURL(s, "a"), hub, "x", log); !errors.Is(err, context.Canceled) {
		t.Errorf("pull with cancelled ctx: %v", err)
	}
	// Push of a stream with nothing RTSP can carry is refused up front.
	st, err := hub.Publish(ctx, stream.Request{Path: "flac/only", Protocol: "test"},
		[]*stream.Track{{Codec: "flac", ClockRate: 44100}}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := Push(ctx, rtspURL(s, "out"), st, log); err == nil || !strings.Contains(err.Error(), "no track") {
		t.Errorf("push of a flac-only stream: %v", err)
	}
}
