package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"mps/internal/auth"
	"mps/internal/auth/authtest"
	"mps/internal/stream"
)

func newAuth(t *testing.T, cfg auth.Config) *auth.Authorizer {
	t.Helper()
	a, err := auth.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// want is an expected outcome: nil, or one of the auth errors.
func check(t *testing.T, a *auth.Authorizer, r auth.Request, want error) {
	t.Helper()
	_, err := a.Authorize(context.Background(), r)
	if want == nil && err != nil {
		t.Fatalf("%+v: refused (%v), want allowed", r, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("%+v: got %v, want %v", r, err, want)
	}
	if err != nil && !errors.Is(err, stream.ErrUnauthorized) {
		t.Fatalf("%v does not wrap stream.ErrUnauthorized", err)
	}
}

func TestInternalUsers(t *testing.T) {
	hash, err := auth.HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, auth.Config{Methods: []string{auth.MethodInternal}, Users: []auth.User{
		{Name: auth.AnyUser, Actions: []auth.Action{auth.ActionRead, auth.ActionPublish}},
		{Name: auth.AnyUser, Actions: []auth.Action{auth.ActionAPI, auth.ActionMetrics}, IPs: []string{"127.0.0.1/8", "::1"}},
		{Name: "alice", Pass: hash, Actions: []auth.Action{auth.ActionPublish, auth.ActionPlayback}, Paths: []string{"cams/*"}, IPs: []string{"10.0.0.0/8"}},
		{Name: "viewer", Pass: "plain", Actions: []auth.Action{auth.ActionAPIRead}},
	}})
	cases := []struct {
		name string
		r    auth.Request
		want error
	}{
		{"open read", auth.Request{Action: auth.ActionRead, Path: "live/a", IP: "192.0.2.1:5000"}, nil},
		{"api from loopback", auth.Request{Action: auth.ActionAPI, Write: true, IP: "127.0.0.1:1"}, nil},
		{"api from ::1", auth.Request{Action: auth.ActionAPI, IP: "[::1]:1"}, nil},
		{"api from afar", auth.Request{Action: auth.ActionAPI, IP: "192.0.2.1:1"}, auth.ErrUnauthorized},
		{"metrics from afar", auth.Request{Action: auth.ActionMetrics, IP: "192.0.2.1"}, auth.ErrUnauthorized},
		{"playback anonymous", auth.Request{Action: auth.ActionPlayback, Path: "cams/1", IP: "10.1.1.1:1"}, auth.ErrUnauthorized},
		{"alice right", auth.Request{Action: auth.ActionPlayback, Path: "cams/1", IP: "10.1.1.1:1", User: "alice", Pass: "s3cret"}, nil},
		{"alice again (cached hash)", auth.Request{Action: auth.ActionPlayback, Path: "cams/1", IP: "10.1.1.1:1", User: "alice", Pass: "s3cret"}, nil},
		{"alice wrong pass", auth.Request{Action: auth.ActionPlayback, Path: "cams/1", IP: "10.1.1.1:1", User: "alice", Pass: "nope"}, auth.ErrUnauthorized},
		{"alice wrong path", auth.Request{Action: auth.ActionPlayback, Path: "live/1", IP: "10.1.1.1:1", User: "alice", Pass: "s3cret"}, auth.ErrForbidden},
		{"alice wrong ip", auth.Request{Action: auth.ActionPlayback, Path: "cams/1", IP: "192.0.2.9:1", User: "alice", Pass: "s3cret"}, auth.ErrForbidden},
		{"viewer reads api", auth.Request{Action: auth.ActionAPI, IP: "192.0.2.1:1", User: "viewer", Pass: "plain"}, nil},
		{"viewer may not write", auth.Request{Action: auth.ActionAPI, Write: true, IP: "192.0.2.1:1", User: "viewer", Pass: "plain"}, auth.ErrForbidden},
		{"path creds missing", auth.Request{Action: auth.ActionRead, Path: "p", PathUser: "u", PathPass: "p", IP: "192.0.2.1:1"}, auth.ErrUnauthorized},
		{"path creds right", auth.Request{Action: auth.ActionRead, Path: "p", PathUser: "u", PathPass: "p", User: "u", Pass: "p", IP: "192.0.2.1:1"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, a, c.r, c.want) })
	}
}

func TestBadConfigRefused(t *testing.T) {
	for name, cfg := range map[string]auth.Config{
		"bad hash":   {Methods: []string{"internal"}, Users: []auth.User{{Name: "a", Pass: "$argon2id$v=19$m=1,t=1,p=1$x$y"}}},
		"bad action": {Methods: []string{"internal"}, Users: []auth.User{{Name: "a", Actions: []auth.Action{"fly"}}}},
		"bad cidr":   {Methods: []string{"internal"}, Users: []auth.User{{Name: "a", IPs: []string{"10.0.0.0/99"}}}},
		"bad regexp": {Methods: []string{"internal"}, Users: []auth.User{{Name: "a", Paths: []string{"~("}}}},
		"no jwks":    {Methods: []string{"jwt"}},
		"no url":     {Methods: []string{"http"}},
		"bad method": {Methods: []string{"ldap"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := auth.New(cfg, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestJWTRotation(t *testing.T) {
	keys := authtest.NewJWKS(t)
	a := newAuth(t, auth.Config{Methods: []string{auth.MethodJWT}, JWT: auth.JWTConfig{JWKSURL: keys.URL, RefreshUnknown: time.Millisecond}})
	read := authtest.Perm{Action: "read", Path: "live/*"}
	good := keys.Sign(t, "bob", time.Hour, read)
	r := auth.Request{Action: auth.ActionRead, Path: "live/a", Token: good, IP: "127.0.0.1:1"}
	check(t, a, r, nil)
	check(t, a, auth.Request{Action: auth.ActionRead, Path: "other", Token: good}, auth.ErrForbidden)
	check(t, a, auth.Request{Action: auth.ActionPublish, Path: "live/a", Token: good}, auth.ErrForbidden)
	check(t, a, auth.Request{Action: auth.ActionRead, Path: "live/a", Pass: good}, nil) // token as a password
	check(t, a, auth.Request{Action: auth.ActionRead, Path: "live/a", Token: keys.Sign(t, "bob", -time.Hour, read)}, auth.ErrUnauthorized)
	check(t, a, auth.Request{Action: auth.ActionRead, Path: "live/a", Token: good[:len(good)-4] + "AAAA"}, auth.ErrUnauthorized)

	keys.Rotate(t)
	fresh := keys.Sign(t, "bob", time.Hour, read)
	check(t, a, auth.Request{Action: auth.ActionRead, Path: "live/a", Token: fresh}, nil)
	check(t, a, auth.Request{Action: auth.ActionRead, Path: "live/a", Token: good}, auth.ErrUnauthorized)
}

func TestCallback(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var b map[string]any
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &b); err != nil {
			t.Errorf("callback body %q: %v", body, err)
		}
		for _, k := range []string{"action", "path", "protocol", "ip", "user", "pass", "token", "query", "id"} {
			if _, ok := b[k]; !ok {
				t.Errorf("callback body lacks %q: %s", k, body)
			}
		}
		switch b["user"] {
		case "ok":
			w.WriteHeader(http.StatusNoContent)
		case "slow":
			<-r.Context().Done()
		case "body-no":
			_, _ = io.WriteString(w, `{"allow": false}`)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	a := newAuth(t, auth.Config{Methods: []string{auth.MethodHTTP}, Callback: auth.CallbackConfig{URL: srv.URL, Timeout: 200 * time.Millisecond, Cache: time.Hour}})
	req := func(user string) auth.Request {
		return auth.Request{Action: auth.ActionRead, Path: "x", Protocol: "rtsp", IP: "127.0.0.1:9", User: user, Pass: "p", Query: "a=b", ID: "c1"}
	}
	check(t, a, req("ok"), nil)
	check(t, a, req("ok"), nil)
	if n := calls.Load(); n != 1 {
		t.Fatalf("callback called %d times for a cached decision, want 1", n)
	}
	check(t, a, req("no"), auth.ErrUnauthorized)
	check(t, a, req("body-no"), auth.ErrUnauthorized)
	check(t, a, req("slow"), auth.ErrUnauthorized)
}

func TestMethodsInOrder(t *testing.T) {
	keys := authtest.NewJWKS(t)
	a := newAuth(t, auth.Config{Methods: []string{auth.MethodInternal, auth.MethodJWT}, Users: []auth.User{{Name: "u", Pass: "p", Actions: []auth.Action{auth.ActionRead}}},
		JWT: auth.JWTConfig{JWKSURL: keys.URL}})
	check(t, a, auth.Request{Action: auth.ActionRead, User: "u", Pass: "p"}, nil)
	check(t, a, auth.Request{Action: auth.ActionMetrics, Token: keys.Sign(t, "m", time.Minute, authtest.Perm{Action: "metrics"})}, nil)
	check(t, a, auth.Request{Action: auth.ActionMetrics}, auth.ErrUnauthorized)
}

func TestFailedLoginsThrottled(t *testing.T) {
	a := newAuth(t, auth.Config{Methods: []string{auth.MethodInternal}, Users: []auth.User{{Name: "u", Pass: "p", Actions: []auth.Action{auth.ActionAPI}}},
		FailLimit: auth.FailLimit{DelayAfter: 1, Delay: time.Millisecond, BlockAfter: 3}})
	bad := auth.Request{Action: auth.ActionAPI, User: "u", Pass: "x", IP: "192.0.2.7:1"}
	for range 3 {
		check(t, a, bad, auth.ErrUnauthorized)
	}
	check(t, a, auth.Request{Action: auth.ActionAPI, User: "u", Pass: "p", IP: "192.0.2.7:2"}, auth.ErrTooManyFailures)
	check(t, a, auth.Request{Action: auth.ActionAPI, User: "u", Pass: "p", IP: "192.0.2.8:2"}, nil)
	if got := auth.HTTPStatus(auth.ErrTooManyFailures); got != http.StatusTooManyRequests {
		t.Fatalf("status %d", got)
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	h, err := auth.HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.CheckHash(h); err != nil {
		t.Fatalf("%s: %v", h, err)
	}
}
