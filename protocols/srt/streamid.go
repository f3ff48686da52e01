package srt

import (
	"errors"
	"fmt"
	"strings"

	"mps/internal/redact"
)

// Mode says whether a client sends media to the server or receives it.
type Mode int

// Connection modes.
const (
	// ModeRead receives a path's stream (SRT's m=request).
	ModeRead Mode = iota
	// ModePublish sends a stream to a path (m=publish).
	ModePublish
)

// String returns "publish" or "read", as in the short stream ID form.
func (m Mode) String() string {
	if m == ModePublish {
		return "publish"
	}
	return "read"
}

// Errors of ParseStreamID, which the server maps to SRT rejection codes.
var (
	// ErrBadStreamID is a stream ID this server cannot make sense of.
	ErrBadStreamID = errors.New("srt: malformed stream ID")
	// ErrBadMode is a well-formed stream ID asking for a mode other than
	// publish or request, or a media type other than a live stream.
	ErrBadMode = errors.New("srt: unsupported mode in stream ID")
)

// StreamID is what a client asks for in its SRT stream ID.
type StreamID struct {
	// Mode is ModePublish or ModeRead.
	Mode Mode
	// Path is the stream's path, without leading or trailing slashes.
	Path string
	// User and Pass are credentials the client sent, if any.
	User, Pass string
	// Session is the client's session ID (the s= key), for logs.
	Session string
	// Query is what followed a '?' after the path in the short form, e.g.
	// a token for an external authenticator.
	Query string
}

// accessControlPrefix starts a stream ID in SRT's standard syntax.
const accessControlPrefix = "#!::"

// ParseStreamID parses the stream ID of an SRT connection request. Two
// forms are accepted:
//
//	publish:PATH[:USER:PASS]   read:PATH[:USER:PASS]   (PATH may end in ?QUERY)
//	#!::r=PATH,m=publish|request[,u=USER][,p=PASS][,s=SESSION][,t=stream]
//
// The second is SRT's access-control syntax: m defaults to request (read),
// keys other than r, m, u, p, s, t and h are ignored, and p (a password) is
// an MPS extension. A USER:PASS pair in the short form may not contain
// colons in the user; the password takes the rest.
func ParseStreamID(s string) (StreamID, error) {
	if strings.HasPrefix(s, accessControlPrefix) {
		return parseAccessControl(s[len(accessControlPrefix):])
	}
	action, rest, ok := strings.Cut(s, ":")
	if !ok {
		return StreamID{}, fmt.Errorf("%w %q: want publish:PATH, read:PATH or #!::r=PATH,m=MODE", ErrBadStreamID, s)
	}
	var id StreamID
	switch action {
	case "publish":
		id.Mode = ModePublish
	case "read":
		id.Mode = ModeRead
	default:
		return StreamID{}, fmt.Errorf("%w %q: action %q is neither publish nor read", ErrBadMode, s, action)
	}
	parts := strings.SplitN(rest, ":", 3)
	switch len(parts) {
	case 1:
	case 3:
		id.User, id.Pass = parts[1], parts[2]
		if id.User == "" {
			return StreamID{}, fmt.Errorf("%w %q: empty user", ErrBadStreamID, s)
		}
	default:
		return StreamID{}, fmt.Errorf("%w %q: want PATH or PATH:USER:PASS after the action", ErrBadStreamID, s)
	}
	path, query, _ := strings.Cut(parts[0], "?")
	id.Query = query
	if err := id.setPath(path); err != nil {
		return StreamID{}, fmt.Errorf("%w %q: %w", ErrBadStreamID, s, err)
	}
	return id, nil
}

func parseAccessControl(s string) (StreamID, error) {
	var id StreamID
	var path string
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return StreamID{}, fmt.Errorf("%w: %q is not KEY=VALUE", ErrBadStreamID, kv)
		}
		if seen[k] {
			return StreamID{}, fmt.Errorf("%w: key %q repeated", ErrBadStreamID, k)
		}
		seen[k] = true
		switch k {
		case "r":
			path = v
		case "m":
			switch v {
			case "request":
				id.Mode = ModeRead
			case "publish":
				id.Mode = ModePublish
			default:
				return StreamID{}, fmt.Errorf("%w: m=%q (want publish or request)", ErrBadMode, v)
			}
		case "t":
			if v != "stream" {
				return StreamID{}, fmt.Errorf("%w: t=%q (only live streams)", ErrBadMode, v)
			}
		case "u":
			id.User = v
		case "p":
			id.Pass = v
		case "s":
			id.Session = v
		}
	}
	if err := id.setPath(path); err != nil {
		return StreamID{}, fmt.Errorf("%w: %w", ErrBadStreamID, err)
	}
	return id, nil
}

// setPath trims the slashes clients like to add and rejects what can never
// be a path; the hub validates the rest.
func (id *StreamID) setPath(p string) error {
	p = strings.Trim(p, "/")
	if p == "" {
		return errors.New("empty path")
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("control character in path %q", p)
		}
	}
	id.Path = p
	return nil
}

// String formats the stream ID in the short form, without the password or
// credentials in its query, for logs.
func (id StreamID) String() string {
	s := id.Mode.String() + ":" + id.Path
	if id.Query != "" {
		s += redact.URL("?" + id.Query) // ?jwt=, ?pass= values masked
	}
	if id.User != "" {
		s += ":" + id.User + ":***"
	}
	return s
}
