package stream

import "errors"

// Errors shared by the core and the adapters, so that each protocol can map
// them to its own refusal (an RTMP status, an RTSP code, an SRT reject).
var (
	// ErrClosed is returned by Write on a stream that has ended.
	ErrClosed = errors.New("stream closed")
	// ErrReaderClosed is returned by Read after the reader was closed.
	ErrReaderClosed = errors.New("reader closed")
	// ErrOverrun is returned by Read for readers whose policy is to be
	// dropped, rather than skipped forward, when they fall a ring behind.
	ErrOverrun = errors.New("reader overrun: fell a whole ring behind the publisher")
	// ErrPathBusy refuses a second publisher on a path.
	ErrPathBusy = errors.New("path already has a publisher")
	// ErrNotFound answers a reader of a path nobody publishes.
	ErrNotFound = errors.New("no stream on this path")
	// ErrUnauthorized refuses a client whose credentials do not pass.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrKicked ends a stream whose publisher was removed by the API or
	// replaced by another publisher.
	ErrKicked = errors.New("publisher kicked")
)
