package rtsp

import (
	"errors"
	"fmt"
	"strings"

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

// credentials returns the user and password of a request's Basic
// Authorization header, or empty strings. Only Basic is offered by the
// server: the authorizer keeps passwords as argon2id hashes, and Digest
// would need the clear password (or its realm hash) on the server instead.
// A JWT goes as the password or as ?jwt= in the URL.
func credentials(req *base.Request) (user, pass string) {
	if req == nil {
		return "", ""
	}
	v, ok := req.Header["Authorization"]
	if !ok {
		return "", ""
	}
	var a headers.Authorization
	if err := a.Unmarshal(v); err != nil || a.Method != headers.AuthMethodBasic {
		return "", ""
	}
	if a.Username == "" { // "Basic" of ":secret": no user, so no credentials
		return "", ""
	}
	return a.Username, a.BasicPass
}

// refusal maps a hub error onto the RTSP response that tells the client
// why. An ErrServerAuth error makes gortsplib challenge a client that sent
// no credentials (401 with WWW-Authenticate) and drop one whose
// credentials were wrong.
func refusal(err error) (*base.Response, error) {
	switch {
	case errors.Is(err, auth.ErrForbidden), errors.Is(err, auth.ErrTooManyFailures):
		// known caller without the right, or an IP that failed too often:
		// no challenge, since other credentials would not help
		return &base.Response{StatusCode: base.StatusForbidden, StatusMessage: statusMessage(err)}, nil
	case errors.Is(err, stream.ErrUnauthorized):
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
