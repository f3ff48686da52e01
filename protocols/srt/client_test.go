package srt

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/stream"
	"mps/internal/testutil"
)

func TestPullAndPushBetweenServers(t *testing.T) {
	a := startServer(t, Config{})
	b := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	pub := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, a.url("publish:live/a", ""))
	src := testutil.WaitStream(t, a.hub, "live/a", nil, 10*time.Second)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	// B pulls A's live/a as live/b.
	pullCtx, stopPull := context.WithCancel(ctx)
	pullErr := make(chan error, 1)
	go func() { pullErr <- Pull(pullCtx, a.url("read:live/a", "latency=200"), b.hub, "live/b", log) }()
	pulled := testutil.WaitStream(t, b.hub, "live/b", nil, 10*time.Second)
	checkTracks(t, pulled)

	// A pushes its live/a to B as live/c.
	pushCtx, stopPush := context.WithCancel(ctx)
	pushErr := make(chan error, 1)
	go func() { pushErr <- Push(pushCtx, b.url("publish:live/c", ""), src, log) }()
	pushed := testutil.WaitStream(t, b.hub, "live/c", nil, 10*time.Second)
	checkTracks(t, pushed)

	for name, st := range map[string]*stream.Stream{"pulled": pulled, "pushed": pushed} {
		units := readUnits(t, st, 40, 10*time.Second)
		n, keys := videoUnits(units)
		if n < 40 || keys == 0 || !units[0].Key {
			t.Errorf("%s: %d video units, %d keys, first key %v; want 40 starting at a keyframe", name, n, keys, units[0].Key)
		}
	}
	// A player of B decodes what was pushed.
	r := play(t, ctx, b.url("read:live/c", ""), 45)
	if err := r.wait(t, 15*time.Second); err != nil {
		t.Errorf("player of the pushed stream: %v\n%s", err, r.stderr.String())
	}

	stopPull()
	stopPush()
	for name, ch := range map[string]chan error{"Pull": pullErr, "Push": pushErr} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s after cancel: %v, want nil", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not return after cancel", name)
		}
	}
	for _, p := range []string{"live/b", "live/c"} {
		deadline := time.Now().Add(5 * time.Second)
		for b.hub.Get(p) != nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if b.hub.Get(p) != nil {
			t.Errorf("%s still live on B after its client stopped", p)
		}
	}
	pub.stop(t)
}

func TestPullErrors(t *testing.T) {
	s := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := Pull(ctx, s.url("read:live/none", ""), s.hub, "live/x", nil)
	if code, ok := RejectionCode(err); !ok || code != gosrt.REJX_NOTFOUND || !strings.Contains(err.Error(), "REJX_NOTFOUND") {
		t.Errorf("Pull of a missing path: %v, want a REJX_NOTFOUND refusal", err)
	}
	if err := Pull(ctx, "rtmp://example.com/x", s.hub, "live/x", nil); err == nil {
		t.Error("Pull of a non-srt URL succeeded")
	}
	err = Pull(ctx, s.url("read:live/none", "passphrase=some-secret-phrase"), s.hub, "live/x", nil)
	if err == nil || strings.Contains(err.Error(), "some-secret-phrase") {
		t.Errorf("error %v: want a refusal that does not leak the passphrase", err)
	}
	// A cancelled context ends a dial at once, with no error to retry on.
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if err := Pull(cctx, "srt://127.0.0.1:9?streamid=read:x", s.hub, "live/x", nil); err == nil {
		t.Error("Pull with a cancelled context succeeded")
	}
}

func checkTracks(t *testing.T, st *stream.Stream) {
	t.Helper()
	var v, a *stream.Track
	for _, tr := range st.Tracks() {
		switch tr.Codec {
		case stream.CodecH264:
			v = tr
		case stream.CodecAAC:
			a = tr
		}
	}
	if v == nil || v.Width != 320 || v.Height != 240 || a == nil || a.SampleRate != 48000 || a.Channels != 2 {
		t.Errorf("%s tracks %v, want h264 320x240 and aac 48000Hz 2ch", st.Path(), st.Tracks())
	}
}
