// Package srt is MPS's SRT adapter: encoders publish MPEG-TS over SRT
// (srt://HOST:8890?streamid=publish:PATH), players read it back
// (streamid=read:PATH), and pull sources and forwarders dial other SRT
// servers. The SRT transport is datarhei/gosrt; MPEG-TS is converted to and
// from the media core's units by internal/tsconv.
//
// A connection request is vetted before it is accepted: its stream ID is
// parsed (the short "publish:PATH" form and SRT's standard "#!::r=PATH,
// m=publish" access-control syntax), its passphrase is checked against the
// path's, and readers are refused at once when the path has no stream, so
// that callers get a precise SRT rejection code instead of a dead socket.
package srt
