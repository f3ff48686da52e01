package pathmgr

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

func newTestManager(t *testing.T, pol PolicyFunc) (*Manager, *events.Subscription) {
	t.Helper()
	bus := events.NewBus()
	sub := bus.Subscribe(16)
	m := New(slog.New(slog.DiscardHandler), bus, pol)
	t.Cleanup(m.Close)
	return m, sub
}

func video() []*stream.Track { return []*stream.Track{{Codec: stream.CodecH264, ClockRate: 90000}} }

func TestSecondPublisherRefused(t *testing.T) {
	m, sub := newTestManager(t, nil)
	ctx := context.Background()
	s1, err := m.Publish(ctx, stream.Request{Path: "live/a", Protocol: "rtmp", RemoteAddr: "1.2.3.4:5"}, video(), stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-sub.C; ev.Type != events.StreamPublished || ev.Path != "live/a" {
		t.Fatalf("event %+v", ev)
	}
	if err := m.CheckPublish(stream.Request{Path: "live/a"}); !errors.Is(err, stream.ErrPathBusy) {
		t.Fatalf("CheckPublish on busy path: %v", err)
	}
	_, err = m.Publish(ctx, stream.Request{Path: "live/a", Protocol: "rtsp"}, video(), stream.Options{})
	if !errors.Is(err, stream.ErrPathBusy) {
		t.Fatalf("second publisher: %v, want ErrPathBusy", err)
	}
	if m.Get("live/a") != s1 {
		t.Fatal("first publisher lost its path")
	}
	s1.Close()
	if ev := <-sub.C; ev.Type != events.StreamUnpublished {
		t.Fatalf("event %+v", ev)
	}
	waitGone(t, m, "live/a")
	if _, err := m.Publish(ctx, stream.Request{Path: "live/a"}, video(), stream.Options{}); err != nil {
		t.Fatalf("publish after the first left: %v", err)
	}
}

func waitGone(t *testing.T, m *Manager, path string) {
	t.Helper()
	for i := 0; m.Get(path) != nil; i++ {
		if i > 200 {
			t.Fatalf("%s still listed", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOverridePublisherTakesOver(t *testing.T) {
	m, _ := newTestManager(t, func(string) Policy { return Policy{OverridePublisher: true} })
	ctx := context.Background()
	s1, _ := m.Publish(ctx, stream.Request{Path: "live/a"}, video(), stream.Options{})
	if err := m.CheckPublish(stream.Request{Path: "live/a"}); err != nil {
		t.Fatalf("CheckPublish with override: %v", err)
	}
	r := s1.NewReader(ctx, stream.ReaderOptions{})
	defer r.Close()
	s2, err := m.Publish(ctx, stream.Request{Path: "live/a"}, video(), stream.Options{})
	if err != nil {
		t.Fatalf("override: %v", err)
	}
	select {
	case <-s1.Done():
	case <-time.After(time.Second):
		t.Fatal("old publisher not kicked")
	}
	if !errors.Is(s1.Err(), stream.ErrKicked) {
		t.Fatalf("old stream err %v", s1.Err())
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		t.Fatalf("reader of replaced stream: %v, want EOF", err)
	}
	if m.Get("live/a") != s2 {
		t.Fatal("new publisher not on the path")
	}
}

func TestCredentialsAndPathValidation(t *testing.T) {
	m, _ := newTestManager(t, func(p string) Policy {
		if p == "live/secret" {
			return Policy{PublishUser: "u", PublishPass: "p", ReadUser: "r", ReadPass: "q"}
		}
		return Policy{}
	})
	ctx := context.Background()
	for _, c := range []struct {
		user, pass string
		ok         bool
	}{{"", "", false}, {"u", "x", false}, {"x", "p", false}, {"u", "p", true}} {
		s, err := m.Publish(ctx, stream.Request{Path: "live/secret", User: c.user, Pass: c.pass}, video(), stream.Options{})
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, stream.ErrUnauthorized)) {
			t.Fatalf("publish as %q/%q: %v", c.user, c.pass, err)
		}
		if s != nil {
			defer s.Close()
		}
	}
	if err := m.CheckPublish(stream.Request{Path: "live/secret", User: "u", Pass: "bad"}); !errors.Is(err, stream.ErrUnauthorized) {
		t.Fatalf("CheckPublish with bad creds: %v", err)
	}
	if _, err := m.Read(ctx, stream.Request{Path: "live/secret"}); !errors.Is(err, stream.ErrUnauthorized) {
		t.Fatalf("read without creds: %v", err)
	}
	if _, err := m.Read(ctx, stream.Request{Path: "live/secret", User: "r", Pass: "q"}); err != nil {
		t.Fatalf("read with creds: %v", err)
	}
	if _, err := m.Read(ctx, stream.Request{Path: "live/none"}); !errors.Is(err, stream.ErrNotFound) {
		t.Fatalf("read of nothing: %v", err)
	}
	for _, bad := range []string{"", "../x", "live/../x", "/abs", "a//b", "a b", "live/a\x00"} {
		if _, err := m.Publish(ctx, stream.Request{Path: bad}, video(), stream.Options{}); err == nil {
			t.Fatalf("path %q accepted", bad)
		}
	}
}

func TestKickAndHooks(t *testing.T) {
	m, _ := newTestManager(t, nil)
	var hooked []*stream.Stream
	m.OnPublish(func(s *stream.Stream) { hooked = append(hooked, s) })
	s, _ := m.Publish(context.Background(), stream.Request{Path: "live/k"}, video(), stream.Options{})
	if len(hooked) != 1 || hooked[0] != s {
		t.Fatal("publish hook not called with the stream")
	}
	if !m.Kick("live/k") || m.Kick("live/none") {
		t.Fatal("kick result wrong")
	}
	<-s.Done()
	if !errors.Is(s.Err(), stream.ErrKicked) {
		t.Fatalf("err %v", s.Err())
	}
}

// TestOnDemandSource checks the source lifecycle: the first reader starts
// the source and gets its stream, the source stops after the idle time
// without readers, and a failing source is retried with its error shown.
func TestOnDemandSource(t *testing.T) {
	pol := Policy{Source: "test://origin", SourceOnDemand: true, SourceCloseAfter: 300 * time.Millisecond, SourceRetry: 50 * time.Millisecond}
	m, _ := newTestManager(t, func(string) Policy { return pol })
	started := make(chan struct{}, 10)
	fail := true
	m.SetSourceFunc(func(ctx context.Context, url, path string, hub stream.Hub) error {
		started <- struct{}{}
		if fail {
			fail = false
			return errors.New("origin not ready")
		}
		s, err := hub.Publish(ctx, stream.Request{Path: path, Protocol: "pull"}, video(), stream.Options{})
		if err != nil {
			return err
		}
		defer s.Close()
		<-ctx.Done()
		return nil
	})
	ctx := context.Background()
	s, err := m.Read(ctx, stream.Request{Path: "edge/a"})
	if err != nil {
		t.Fatalf("on-demand read: %v", err)
	}
	if len(started) != 2 {
		t.Fatalf("source started %d times, want 2 (one failure, one retry)", len(started))
	}
	var src []SourceState
	for i := 0; i < 100; i++ { // the state is set just after the stream appears
		if src = m.Sources(); len(src) == 1 && src[0].State == SourceRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(src) != 1 || src[0].State != SourceRunning || src[0].Restarts != 1 {
		t.Fatalf("source state %+v", src)
	}
	r := s.NewReader(ctx, stream.ReaderOptions{})
	time.Sleep(600 * time.Millisecond) // longer than close_after, but with a reader
	if len(m.Sources()) != 1 {
		t.Fatal("source stopped while it had a reader")
	}
	r.Close()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("idle on-demand source not stopped")
	}
	waitGone(t, m, "edge/a")
}
