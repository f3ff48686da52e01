package webrtc

import (
	"errors"
	"strings"
)

// URLPrefix is where the server mounts Handler. Request paths keep it (mount
// with mux.Handle(URLPrefix, srv.Handler()), no StripPrefix), so Location
// headers can be built from them.
const URLPrefix = "/webrtc/"

// Endpoint kinds: the last element of a signalling URL.
const (
	kindWHIP = "whip"
	kindWHEP = "whep"
)

// maxPathLen matches the hub's limit on path names.
const maxPathLen = 256

// route is a parsed signalling URL: /webrtc/PATH/KIND for the endpoint, or
// /webrtc/PATH/KIND/ID for a session resource.
type route struct {
	path    string // stream path, e.g. "live/cam1"
	kind    string // kindWHIP or kindWHEP
	session string // session ID, empty for the endpoint
}

var errNoRoute = errors.New("not a WHIP/WHEP URL: want /webrtc/PATH/whip or /webrtc/PATH/whep")

// parseRoute splits a request path. Resource URLs are recognised by a
// well-formed session ID after the kind, so a stream path may itself
// contain "whip" or "whep" elements.
func parseRoute(p string) (route, error) {
	rest, ok := strings.CutPrefix(p, URLPrefix)
	if !ok {
		return route{}, errNoRoute
	}
	rest = strings.TrimSuffix(rest, "/")
	els := strings.Split(rest, "/")
	n := len(els)
	var r route
	switch {
	case n >= 3 && isKind(els[n-2]) && validSessionID(els[n-1]):
		r = route{path: strings.Join(els[:n-2], "/"), kind: els[n-2], session: els[n-1]}
	case n >= 2 && isKind(els[n-1]):
		r = route{path: strings.Join(els[:n-1], "/"), kind: els[n-1]}
	default:
		return route{}, errNoRoute
	}
	if err := checkPath(r.path); err != nil {
		return route{}, err
	}
	return r, nil
}

func isKind(s string) bool { return s == kindWHIP || s == kindWHEP }

// checkPath rejects path names the hub would refuse (the same rule as
// stream.ValidPath: letters, digits and -_.~/), before any WebRTC work is
// done for them. A WHIP session only meets the hub after its answer, so a
// bad name must be caught here to get a 4xx.
func checkPath(p string) error {
	if p == "" {
		return errors.New("empty stream path")
	}
	if len(p) > maxPathLen {
		return errors.New("stream path longer than 256 bytes")
	}
	for _, c := range []byte(p) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0
		if !ok {
			return errors.New("stream path may only contain letters, digits and -_.~/")
		}
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return errors.New("stream path has an empty, '.' or '..' element")
		}
	}
	return nil
}

// sessionIDLen is the length of a session ID: 16 random bytes in hex.
const sessionIDLen = 32

func validSessionID(s string) bool {
	if len(s) != sessionIDLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// location is the URL of a session resource.
func (r route) location(id string) string {
	return URLPrefix + r.path + "/" + r.kind + "/" + id
}
