package pathmgr

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"mps/internal/auth"
	"mps/internal/events"
	"mps/internal/stream"
)

// TestAuthorizerAndPathCredentials: with an authorizer installed, a path
// rule's read credentials still shut out anonymous readers, named users
// and the rule's own credentials get in, and the trusted hub of the
// server's own processes is not asked.
func TestAuthorizerAndPathCredentials(t *testing.T) {
	m := New(slog.New(slog.DiscardHandler), events.NewBus(), func(path string) Policy {
		if path == "sec/a" {
			return Policy{ReadUser: "viewer", ReadPass: "pw"}
		}
		return Policy{}
	})
	defer m.Close()
	a, err := auth.New(auth.Config{Methods: []string{auth.MethodInternal}, Users: []auth.User{
		{Name: auth.AnyUser, Actions: []auth.Action{auth.ActionPublish, auth.ActionRead}},
		{Name: "ops", Pass: "opw", Actions: []auth.Action{auth.ActionRead}, Paths: []string{"sec/*"}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m.SetAuthorizer(a)
	tracks := []*stream.Track{{Codec: stream.CodecH264}}
	for _, p := range []string{"open/a", "sec/a"} {
		if _, err := m.Publish(context.Background(), stream.Request{Path: p, Protocol: "test"}, tracks, stream.Options{}); err != nil {
			t.Fatalf("publish %s: %v", p, err)
		}
	}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		req  stream.Request
		ok   bool
	}{
		{"open path, anonymous", stream.Request{Path: "open/a"}, true},
		{"protected path, anonymous", stream.Request{Path: "sec/a"}, false},
		{"protected path, rule credentials", stream.Request{Path: "sec/a", User: "viewer", Pass: "pw"}, true},
		{"protected path, named user", stream.Request{Path: "sec/a", User: "ops", Pass: "opw"}, true},
		{"protected path, wrong password", stream.Request{Path: "sec/a", User: "viewer", Pass: "x"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.Read(ctx, c.req)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok && !errors.Is(err, stream.ErrUnauthorized) {
				t.Fatalf("got %v, want unauthorized", err)
			}
		})
	}
	if _, err := m.Trusted().Read(ctx, stream.Request{Path: "sec/a"}); err != nil {
		t.Fatalf("trusted read: %v", err)
	}
}
