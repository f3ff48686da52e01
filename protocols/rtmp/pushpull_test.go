package rtmp

import (
	"context"
	"errors"
	"testing"
	"time"
)

// ffmpeg publishes to server A; Push sends A's stream to server B; Pull
// brings B's stream back into A's hub under another path; ffmpeg reads that
// path from A and decodes it.
func TestPushPull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, hubA := startServer(t, nil, Config{PlayWait: 20 * time.Second})
	b, hubB := startServer(t, nil, Config{})

	reader, out := readToFile(t, ctx, rtmpURLOf(a, "live/pulled"))
	pub := publishFile(t, ctx, fileGOP, rtmpURLOf(a, "live/src"))
	src := waitPath(t, hubA, "live/src")

	pushErr := make(chan error, 1)
	go func() { pushErr <- Push(ctx, rtmpURLOf(b, "live/pushed"), src, testLog(t)) }()
	waitPath(t, hubB, "live/pushed")
	pullErr := make(chan error, 1)
	go func() { pullErr <- Pull(ctx, rtmpURLOf(b, "live/pushed"), hubA, "live/pulled", testLog(t)) }()

	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	for name, ch := range map[string]chan error{"push": pushErr, "pull": pullErr} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not end after the source ended", name)
		}
	}
	if err := reader.wait(t, 5*time.Second); err != nil {
		t.Fatalf("reader: %v: %s", err, reader.stderr)
	}
	st := probe(t, out)
	if st["video"].CodecName != "h264" || st["audio"].CodecName != "aac" {
		t.Fatalf("codecs %q/%q", st["video"].CodecName, st["audio"].CodecName)
	}
	if n := frames(t, st["video"]); n < 60 {
		t.Errorf("reader of the pulled stream got %d frames", n)
	}
	if !firstVideoFrameIsKey(t, out) {
		t.Error("first frame is not a key frame")
	}
	decodeClean(t, out)
}

// Pull of a path nobody publishes fails with the server's refusal, and a
// cancelled Pull returns the context's error.
func TestPullErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, _ := startServer(t, nil, Config{})
	_, hub := startServer(t, nil, Config{})
	if err := Pull(ctx, rtmpURLOf(b, "live/none"), hub, "x/y", nil); err == nil {
		t.Error("pull of a missing stream succeeded")
	}
	if err := Pull(ctx, "http://example.com/a/b", hub, "x/y", nil); err == nil {
		t.Error("pull of an http URL succeeded")
	}
	waitCtx, stop := context.WithCancel(ctx)
	s2, _ := startServer(t, nil, Config{PlayWait: 30 * time.Second})
	done := make(chan error, 1)
	go func() { done <- Pull(waitCtx, rtmpURLOf(s2, "live/later"), hub, "x/z", nil) }()
	time.Sleep(300 * time.Millisecond)
	stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled pull returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pull did not return after cancel")
	}
}
