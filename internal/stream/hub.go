package stream

import "context"

// Request describes a client that wants to publish to or read from a path.
// Protocol adapters fill it from their wire request; the hub checks it
// against the path rules (authentication, allowed protocols).
type Request struct {
	// Path is the stream name, e.g. "live/cam1", without leading slash.
	Path string
	// Protocol is the adapter's name: "rtmp", "rtsp", "srt", "webrtc", "hls"...
	Protocol string
	// Query is the raw query string of the client's URL, if any.
	Query string
	// User and Pass are the credentials the client presented, if any.
	User, Pass string
	// Token is a bearer token (JWT) the client presented, if any; a `jwt`
	// or `token` parameter in Query counts too.
	Token string
	// RemoteAddr is the client's address, for logs and IP rules.
	RemoteAddr string
	// Digest, when set, is a Digest answer (RTSP) the client gave instead
	// of a password; User names who answered.
	Digest *DigestAuth
}

// DigestAuth is a client's answer to a Digest challenge (RFC 2617, MD5,
// no qop), as RTSP clients send it. It proves the password without
// sending it, so the authorizer checks it against the realm hash it keeps
// (MD5 of user:realm:password) rather than a clear password.
type DigestAuth struct {
	// Method and URI are the request's, as the client hashed them.
	Method, URI string
	// Nonce is the server's challenge the door checked as its own.
	Nonce string
	// Response is the client's hex answer.
	Response string
}

// Hub is what protocol adapters need from the path manager. Defining it here
// keeps the adapters independent of the server package that implements it.
type Hub interface {
	// Publish makes the caller the publisher of req.Path with the given
	// tracks and returns the new Stream to write into. The stream ends when
	// the caller closes it, or earlier when the hub kicks the publisher;
	// Stream.Done tells the publisher to hang up.
	Publish(ctx context.Context, req Request, tracks []*Track, opts Options) (*Stream, error)
	// Read returns the live stream of req.Path, waiting for an on-demand
	// source to come up when the path has one. The caller then attaches a
	// Reader with Stream.NewReader.
	Read(ctx context.Context, req Request) (*Stream, error)
}
