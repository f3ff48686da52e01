// Package rtsp is MPS's RTSP adapter: a server that lets encoders publish
// (ANNOUNCE/RECORD) and players read (DESCRIBE/SETUP/PLAY) at
// rtsp://HOST:PORT/PATH over TCP-interleaved or UDP transport, and a client
// that pulls remote RTSP sources into the hub (Pull) or pushes a hub stream
// to a remote RTSP server (Push).
//
// The RTSP protocol itself is gortsplib's; this package only translates
// between RTP and the media core: incoming RTP is depacketized into access
// units (ingest.go), outgoing units are packetized into RTP
// (packetizer.go). Every RTSP player session has its own gortsplib
// ServerStream fed by its own stream.Reader (output.go), so each starts at
// once from the stream's GOP cache; the units themselves stay shared. A
// DESCRIBE holds nothing: its SDP is built directly (describe.go).
package rtsp
