package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"mps/internal/stream"
)

// Action is what a client wants to do.
type Action string

// Actions a permission can grant. ActionAPIRead grants only the API's
// read-only requests; ActionAPI grants reads and writes.
const (
	ActionPublish  Action = "publish"
	ActionRead     Action = "read"
	ActionPlayback Action = "playback"
	ActionAPI      Action = "api"
	ActionAPIRead  Action = "api_read"
	ActionMetrics  Action = "metrics"
)

// Actions lists every action name accepted in the config and in tokens.
var Actions = []Action{ActionPublish, ActionRead, ActionPlayback, ActionAPI, ActionAPIRead, ActionMetrics}

// Request describes one client asking for one action. Doors fill it from
// their wire request; secrets in it are never logged.
type Request struct {
	Action Action
	// Write is set for API requests that change something (any method but
	// GET, HEAD and OPTIONS); ActionAPIRead does not allow them.
	Write bool
	// Path is the stream path the action is on; empty for api and metrics.
	Path string
	// Protocol names the door: rtmp, rtsp, srt, webrtc, hls, http.
	Protocol string
	// IP is the client address (a host, or host:port).
	IP string
	// User and Pass are presented credentials; Token a bearer token (JWT).
	User, Pass, Token string
	// Query is the raw query of the client's URL, passed to the callback.
	Query string
	// ID identifies the client's connection for the callback
	// ("PROTOCOL:IP:PORT"); it is not part of the cached decision's key.
	ID string
	// PathUser and PathPass are the per-path credentials of a path rule
	// (publish_user/read_user): when set, anonymous users do not get this
	// action on this path and these credentials do.
	PathUser, PathPass string
	// Digest is an RTSP Digest answer given instead of Pass: only the
	// internal users and the path rule's credentials can check it (the
	// token and callback methods have no password to compare).
	Digest *stream.DigestAuth
}

// presented reports whether the client sent any credentials, which is what
// separates "who are you" (401) from a failed login.
func (r *Request) presented() bool {
	return r.User != "" || r.Pass != "" || r.Token != "" || r.Digest != nil
}

// addr returns the client IP parsed, or the zero Addr.
func (r *Request) addr() netip.Addr {
	h := r.IP
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Errors of Authorize. All of them wrap stream.ErrUnauthorized, so a door
// that knows only that still refuses; doors that can tell use HTTPStatus.
var (
	// ErrUnauthorized: no credentials, or credentials that match nobody.
	ErrUnauthorized = fmt.Errorf("%w: credentials missing or wrong", stream.ErrUnauthorized)
	// ErrForbidden: the caller is known but may not take this action on
	// this path from this address.
	ErrForbidden = fmt.Errorf("%w: not allowed", stream.ErrUnauthorized)
	// ErrTooManyFailures: the client IP failed to log in too often lately.
	ErrTooManyFailures = fmt.Errorf("%w: too many failed logins from this address", stream.ErrUnauthorized)
)

// HTTPStatus maps an Authorize error to the HTTP answer: 401, 403 or 429.
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrTooManyFailures):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	default:
		return http.StatusUnauthorized
	}
}

// Realm is the realm named in WWW-Authenticate challenges.
const Realm = "mps"

// Challenge is the WWW-Authenticate value HTTP doors send with a 401.
const Challenge = `Basic realm="` + Realm + `", Bearer realm="` + Realm + `"`

// FromHTTP returns the credentials an HTTP client presented: Basic gives
// user and password, Bearer a token, and for players that cannot set
// headers a `jwt` or `token` query parameter gives a token.
func FromHTTP(r *http.Request) (user, pass, token string) {
	user, pass, _ = r.BasicAuth()
	if scheme, val, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
		token = strings.TrimSpace(val)
	}
	if token == "" {
		token = TokenFromQuery(r.URL.RawQuery)
	}
	return user, pass, token
}
