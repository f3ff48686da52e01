package webrtctest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/testutil"
	"mps/protocols/webrtc"
	"mps/protocols/webrtc/webrtctest"
)

// TestPublishOnceAndClose covers what the adapter's own tests do not:
// a video-only publisher without Loop finishes (Done), a player then sees
// video and no audio, a second publisher's refusal is a StatusError, and
// Publisher.Close unpublishes.
func TestPublishOnceAndClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	media, err := webrtctest.MakeMedia(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webrtctest.Publish(ctx, "http://127.0.0.1:1/x/whip", webrtctest.PublishOptions{}); err == nil {
		t.Fatal("Publish without media succeeded")
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := pathmgr.New(log, events.NewBus(), nil)
	defer hub.Close()
	srv := webrtc.New(webrtc.Config{ICEUDPAddress: "127.0.0.1:0", ICETCPAddress: "127.0.0.1:0", ConnectTimeout: 10 * time.Second}, hub, log)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle(webrtc.URLPrefix, srv.Handler())
	hs := httptest.NewServer(mux)
	defer hs.Close()
	whip, whep := hs.URL+"/webrtc/live/once/whip", hs.URL+"/webrtc/live/once/whep"

	pub, err := webrtctest.Publish(ctx, whip, webrtctest.PublishOptions{Media: media, NoAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if !testutil.Eventually(ctx, func() bool { return hub.Get("live/once") != nil }) {
		t.Fatal("never published")
	}
	if n := len(hub.Get("live/once").Tracks()); n != 1 {
		t.Fatalf("%d tracks, want video only", n)
	}

	_, err = webrtctest.Publish(ctx, whip, webrtctest.PublishOptions{Media: media})
	if webrtctest.Status(err) != http.StatusConflict || !strings.Contains(err.Error(), "409") {
		t.Fatalf("second publisher: %v", err)
	}

	pl, err := webrtctest.Play(ctx, whep, webrtctest.PlayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if err := pl.WaitFrames(ctx, webrtctest.GOPFrames); err != nil {
		t.Fatal(err)
	}
	if w, h := pl.VideoSize(); w != 320 || h != 240 || pl.AudioPackets() != 0 {
		t.Fatalf("player: %dx%d, %d audio packets", w, h, pl.AudioPackets())
	}

	select {
	case <-pub.Done():
	case <-ctx.Done():
		t.Fatal("publisher without Loop never finished")
	}
	pub.Close()
	if !testutil.Eventually(ctx, func() bool { return hub.Get("live/once") == nil }) {
		t.Fatal("stream still published after Publisher.Close")
	}
}
