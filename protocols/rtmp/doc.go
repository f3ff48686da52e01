// Package rtmp is MPS's RTMP adapter: encoders (OBS, ffmpeg) publish to
// rtmp://HOST/APP/STREAM and players read from the same URL, which maps to
// the path "APP/STREAM" of the stream hub. It also dials out, to pull a
// remote RTMP stream into the hub (Pull) or push a hub stream to a remote
// server (Push).
//
// Connections, handshakes and AMF commands come from github.com/yutopp/go-rtmp.
// Two parts of that library are not safe against hostile peers, so every
// connection runs through a chunk-stream normalizer of our own (chunkio.go):
// it parses the peer's chunks, bounds their sizes and counts, checks AMF0
// payloads (a 6-byte strict array can otherwise make the AMF decoder allocate
// 32 GB), and hands the library one well-formed chunk per message. A
// publisher's audio and video it hands to the ingest itself, without a copy
// (netconn.go). The library's client cannot receive messages on a media
// stream at all, so the normalizer also delivers those to our Pull and Push
// code directly.
//
// FLV tag bodies are parsed here too (tag.go) because go-flv does not know
// Enhanced RTMP: H.265, AV1 and VP9 travel with FourCCs 'hvc1', 'av01' and
// 'vp09', and Opus with 'Opus'.
package rtmp
