// Package stream is the media core of MPS: tracks, access units, and the
// per-path ring buffer that fans every published unit out to all consumers.
//
// A publisher (an RTMP connection, an RTSP session, a file being processed)
// owns a Stream and calls Write for each access unit. Every consumer — a
// player of any protocol, the HLS muxer, the recorder, the transcoder feeder —
// is a Reader with its own cursor into the same ring. Units are shared, never
// copied, so fan-out costs one pointer per reader per unit.
//
// In live mode the writer never waits: a reader that falls a whole ring
// behind is told it overran and resumes at the newest keyframe, so one slow
// player never stalls the publisher or the others. In lossless mode (files)
// the writer waits for the slowest reader instead, so nothing is dropped.
//
// The package is a leaf: it imports nothing from MPS, so every protocol,
// packager and processor can depend on it without depending on each other.
package stream
