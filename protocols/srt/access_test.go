package srt

import (
	"context"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/pathmgr"
	"mps/internal/testutil"
)

// dialRaw connects with gosrt as a third-party client would.
func dialRaw(t *testing.T, url string) (gosrt.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return dial(ctx, url)
}

func wantRejected(t *testing.T, url string, code gosrt.RejectionReason) {
	t.Helper()
	c, err := dialRaw(t, url)
	if err == nil {
		c.Close()
		t.Errorf("%s: connected, want refusal %s", redactURL(url), rejectionName(code))
		return
	}
	if got, ok := RejectionCode(err); !ok || got != code {
		t.Errorf("%s: %v, want refusal %s", redactURL(url), err, rejectionName(code))
	}
}

func TestPassphrase(t *testing.T) {
	const secret = "correct-horse-battery"
	s := startServer(t, Config{Passphrase: func(path string) string {
		if path == "live/secret" {
			return secret
		}
		return ""
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	// Publishers with a wrong or missing passphrase are refused.
	for _, extra := range []string{"passphrase=wrong-passphrase", ""} {
		p := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, s.url("publish:live/secret", extra))
		if err := p.wait(t, 15*time.Second); err == nil {
			t.Errorf("publisher with %q exited cleanly, want a refusal", extra)
		}
		if s.hub.Get("live/secret") != nil {
			t.Fatalf("publisher with %q got through", extra)
		}
	}
	// The right one works, and so does a reader that knows it.
	pub := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, s.url("publish:live/secret", "passphrase="+secret))
	testutil.WaitStream(t, s.hub, "live/secret", nil, 10*time.Second)
	r := play(t, ctx, s.url("read:live/secret", "passphrase="+secret), 45)
	if err := r.wait(t, 15*time.Second); err != nil {
		t.Errorf("reader with the passphrase: %v\n%s", err, r.stderr.String())
	}
	wantRejected(t, s.url("read:live/secret", ""), gosrt.REJ_UNSECURE)
	wantRejected(t, s.url("read:live/secret", "passphrase=not-the-secret"), gosrt.REJ_BADSECRET)
	// A path without a passphrase refuses encrypted clients: it could not
	// decrypt them.
	wantRejected(t, s.url("read:live/open", "passphrase="+secret), gosrt.REJ_UNSECURE)
	pub.stop(t)
}

func TestRefusals(t *testing.T) {
	s := startServer(t, Config{})
	s.hub.SetPolicy(func(path string) pathmgr.Policy {
		if path == "live/private" {
			return pathmgr.Policy{ReadUser: "viewer", ReadPass: "pw"}
		}
		return pathmgr.Policy{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	wantRejected(t, s.url("read:live/nobody", ""), gosrt.REJX_NOTFOUND)
	wantRejected(t, s.url("hello", ""), gosrt.REJX_BAD_REQUEST)
	wantRejected(t, s.url("play:live/a", ""), gosrt.REJX_BAD_MODE)
	wantRejected(t, s.url("%23!::r=live/a,m=bidirectional", ""), gosrt.REJX_BAD_MODE)
	wantRejected(t, s.url("read:live/../etc", ""), gosrt.REJX_BAD_REQUEST)

	pub := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, s.url("publish:live/private", ""))
	st := testutil.WaitStream(t, s.hub, "live/private", nil, 10*time.Second)
	wantRejected(t, s.url("read:live/private", ""), gosrt.REJX_UNAUTHORIZED)
	wantRejected(t, s.url("read:live/private:viewer:wrong", ""), gosrt.REJX_UNAUTHORIZED)
	c, err := dialRaw(t, s.url("read:live/private:viewer:pw", ""))
	if err != nil {
		t.Fatalf("reader with credentials: %v", err)
	}
	c.Close()

	// A second publisher on a busy path is refused in the handshake with a
	// code (the hub's CheckPublish); the first keeps the path.
	wantRejected(t, s.url("publish:live/private", ""), gosrt.REJX_CONFLICT)
	if s.hub.Get("live/private") != st {
		t.Error("the first publisher lost the path")
	}
	pub.stop(t)
}
