package auth_test

import (
	"testing"

	"mps/internal/auth"
	"mps/internal/testutil"
)

// TestDigestAnswers: RTSP Digest answers (made by gortsplib's client code)
// are checked against the realm hash the server keeps — given in the
// config, or derived from a plain-text password — never against a clear
// password it does not have; the token and callback methods take no part.
func TestDigestAnswers(t *testing.T) {
	hash, err := auth.HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, auth.Config{Methods: []string{auth.MethodInternal, auth.MethodHTTP},
		Callback: auth.CallbackConfig{URL: "http://127.0.0.1:1/never-asked"},
		Users: []auth.User{
			{Name: "cam", Digest: auth.DigestHA1("cam", "s3cret"), Actions: []auth.Action{auth.ActionPublish}},
			{Name: "plain", Pass: "pw", Actions: []auth.Action{auth.ActionRead}},
			{Name: "hashed", Pass: hash, Actions: []auth.Action{auth.ActionRead}},
		}})
	answer := func(user, pass, nonce string) *auth.Request {
		d := testutil.DigestAnswer(user, pass, auth.Realm, nonce, "DESCRIBE", "rtsp://127.0.0.1/live/x")
		if d == nil {
			t.Fatal("client code made no answer")
		}
		return &auth.Request{Action: auth.ActionRead, Path: "live/x", IP: "127.0.0.1:1", User: user, Digest: d}
	}
	publish := func(r *auth.Request) auth.Request { r.Action = auth.ActionPublish; return *r }
	replayed := answer("plain", "pw", "first")
	replayed.Digest.Nonce = "second"
	wrongRealm := answer("plain", "pw", "n")
	wrongRealm.Digest = testutil.DigestAnswer("plain", "pw", "ipcam", "n", "DESCRIBE", "rtsp://127.0.0.1/live/x")
	pathCreds := answer("u", "p", "n")
	pathCreds.PathUser, pathCreds.PathPass = "u", "p"
	cases := []struct {
		name string
		r    auth.Request
		want error
	}{
		{"digest-only user, right", publish(answer("cam", "s3cret", "n1")), nil},
		{"digest-only user, wrong password", publish(answer("cam", "s3cre", "n1")), auth.ErrUnauthorized},
		{"digest-only user, Basic refused", auth.Request{Action: auth.ActionPublish, Path: "live/x", User: "cam", Pass: "s3cret"}, auth.ErrUnauthorized},
		{"digest-only user, other action", *answer("cam", "s3cret", "n1"), auth.ErrForbidden},
		{"plain-text user, derived hash", *answer("plain", "pw", "n2"), nil},
		{"plain-text user, wrong", *answer("plain", "px", "n2"), auth.ErrUnauthorized},
		{"nonce changed after answering", *replayed, auth.ErrUnauthorized},
		{"answer for another realm", *wrongRealm, auth.ErrUnauthorized},
		{"hashed user without realm hash", *answer("hashed", "s3cret", "n3"), auth.ErrUnauthorized},
		{"path rule credentials", *pathCreds, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, a, c.r, c.want) })
	}
	if _, err := auth.New(auth.Config{Methods: []string{auth.MethodInternal},
		Users: []auth.User{{Name: "x", Digest: "not-hex", Actions: []auth.Action{auth.ActionRead}}}}, nil); err == nil {
		t.Fatal("a malformed realm hash was accepted")
	}
}
