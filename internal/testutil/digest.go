package testutil

import (
	"github.com/bluenviron/gortsplib/v4/pkg/auth"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/headers"

	"mps/internal/stream"
)

// DigestAnswer is the Digest answer an RTSP client (gortsplib's own
// client-side code, not the server's) gives to a challenge of realm and
// nonce for a request of method on rawURL, so tests check the server's
// verification against an independent implementation. It returns nil if
// the client code fails.
func DigestAnswer(user, pass, realm, nonce, method, rawURL string) *stream.DigestAuth {
	challenge := auth.GenerateWWWAuthenticate([]auth.VerifyMethod{auth.VerifyMethodDigestMD5}, realm, nonce)
	se := &auth.Sender{WWWAuth: challenge, User: user, Pass: pass}
	if err := se.Initialize(); err != nil {
		return nil
	}
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return nil
	}
	req := &base.Request{Method: base.Method(method), URL: u, Header: base.Header{}}
	se.AddAuthorization(req)
	var a headers.Authorization
	if err := a.Unmarshal(req.Header["Authorization"]); err != nil {
		return nil
	}
	return &stream.DigestAuth{Method: method, URI: a.URI, Nonce: a.Nonce, Response: a.Response}
}
