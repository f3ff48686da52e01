package rtsp

import (
	"errors"
	"fmt"
	"strings"

	rtspauth "github.com/bluenviron/gortsplib/v4/pkg/auth"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/headers"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"

	"mps/internal/auth"
	"mps/internal/stream"
)

// maxPathLen bounds the path taken from a request URL before the hub
// validates it.
const maxPathLen = 1024

// streamPath turns the path of an RTSP URL ("/live/cam1", "/live/cam1/")
// into a hub path ("live/cam1"). It rejects what no hub path can be, so the
// hub only sees plausible names.
func streamPath(urlPath string) (string, error) {
	p := strings.Trim(urlPath, "/")
	if p == "" {
		return "", fmt.Errorf("empty path: use rtsp://host:port/PATH")
	}
	if len(p) > maxPathLen {
		return "", fmt.Errorf("path longer than %d bytes", maxPathLen)
	}
	return p, nil
}

// presented is what a request's Authorization header gave: Basic user
// and password, or a Digest answer (with its user) for the connection's
// nonce. A JWT goes as the Basic password or as ?jwt= in the URL.
type presented struct {
	user, pass string
	digest     *stream.DigestAuth
}

// credentials reads a request's Authorization header. Basic gives the
// password; Digest (MD5, realm "mps", the connection's nonce) gives an
// answer the authorizer checks against its realm hash. A Digest answer
// for another nonce or realm counts as wrong credentials, not as none, so
// the client is not challenged again for ever.
func (h *handler) credentials(req *base.Request, nonce string) presented {
	c := credentials(req, nonce)
	cfg := &h.s.cfg
	if c.digest != nil && !cfg.Digest {
		c.digest.Response = "" // not offered: never matches
	}
	if c.pass != "" && cfg.NoBasic {
		c.pass = "\x00" // not offered: a password no one has
	}
	return c
}

// challenge is the WWW-Authenticate of a 401 for the offered methods.
func (h *handler) challenge(nonce string) base.HeaderValue {
	var m []rtspauth.VerifyMethod
	if !h.s.cfg.NoBasic {
		m = append(m, rtspauth.VerifyMethodBasic)
	}
	if h.s.cfg.Digest && nonce != "" {
		m = append(m, rtspauth.VerifyMethodDigestMD5)
	}
	return rtspauth.GenerateWWWAuthenticate(m, auth.Realm, nonce)
}

func credentials(req *base.Request, nonce string) presented {
	if req == nil {
		return presented{}
	}
	v, ok := req.Header["Authorization"]
	if !ok {
		return presented{}
	}
	var a headers.Authorization
	if err := a.Unmarshal(v); err != nil {
		return presented{}
	}
	switch a.Method {
	case headers.AuthMethodBasic:
		if a.Username == "" { // "Basic" of ":secret": no user, so no credentials
			return presented{}
		}
		return presented{user: a.Username, pass: a.BasicPass}
	case headers.AuthMethodDigest:
		if a.Username == "" {
			return presented{}
		}
		d := &stream.DigestAuth{Method: string(req.Method), URI: a.URI, Nonce: a.Nonce, Response: a.Response}
		if a.Realm != auth.Realm || nonce == "" || a.Nonce != nonce ||
			(a.Algorithm != nil && *a.Algorithm != headers.AuthAlgorithmMD5) || !sameResource(req.URL, a.URI) {
			d.Response = "" // never matches: a stale or foreign answer
		}
		return presented{user: a.Username, digest: d}
	}
	return presented{}
}

// sameResource reports whether a Digest answer's URI names the request's
// resource (SETUP URLs add a track to it), so an answer cannot be moved to
// another path on the same connection.
func sameResource(reqURL *base.URL, uri string) bool {
	if reqURL == nil {
		return false
	}
	p := uri
	if u, err := base.ParseURL(uri); err == nil {
		p = u.Path
	}
	want := strings.TrimSuffix(reqURL.Path, "/")
	p = strings.TrimSuffix(p, "/")
	return p != "" && (want == p || strings.HasPrefix(want, p+"/"))
}

// refusal maps a hub error onto the RTSP response that tells the client
// why; challenge is the connection's WWW-Authenticate. A client that sent no credentials is challenged (401 with
// WWW-Authenticate, the connection kept for its retry); one whose
// credentials were wrong gets 401 and, through ErrServerAuth, its
// connection closed by gortsplib.
func refusal(err error, creds presented, challenge base.HeaderValue) (*base.Response, error) {
	switch {
	case errors.Is(err, auth.ErrForbidden), errors.Is(err, auth.ErrTooManyFailures):
		// known caller without the right, or an IP that failed too often:
		// no challenge, since other credentials would not help
		return &base.Response{StatusCode: base.StatusForbidden, StatusMessage: statusMessage(err)}, nil
	case errors.Is(err, stream.ErrUnauthorized):
		if creds.user == "" && creds.pass == "" && creds.digest == nil {
			return &base.Response{StatusCode: base.StatusUnauthorized,
				Header: base.Header{"WWW-Authenticate": challenge}}, nil
		}
		return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
	case errors.Is(err, stream.ErrNotFound):
		return &base.Response{StatusCode: base.StatusNotFound, StatusMessage: "Stream Not Found"}, nil
	case errors.Is(err, stream.ErrPathBusy):
		return &base.Response{StatusCode: base.StatusBadRequest, StatusMessage: "Path Busy: Another Publisher Is Active"}, nil
	}
	return &base.Response{StatusCode: base.StatusBadRequest, StatusMessage: statusMessage(err)}, nil
}

// statusMessage makes a one-line printable-ASCII RTSP reason phrase out of
// an error, since the reason phrase is the only place a plain RTSP client
// shows it.
func statusMessage(err error) string {
	msg := err.Error()
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, msg)
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
