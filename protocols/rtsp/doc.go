// Package rtsp is MPS's RTSP adapter: a server that lets encoders publish
// (ANNOUNCE/RECORD) and players read (DESCRIBE/SETUP/PLAY) at
// rtsp://HOST:PORT/PATH over TCP-interleaved or UDP transport, and a client
// that pulls remote RTSP sources into the hub (Pull) or pushes a hub stream
// to a remote RTSP server (Push).
//
// The RTSP protocol itself is gortsplib's; this package only translates
// between RTP and the media core: incoming RTP is depacketized into access
// units (ingest.go), outgoing units are packetized into RTP
// (packetizer.go), once per stream for all its players (rtpshare.go).
// Every RTSP player session has its own gortsplib ServerStream and its own
// stream.Reader (output.go), so each starts at once from the stream's GOP
// cache; units and packets stay shared, and a player over TCP gets each
// unit's packets, with its own sequence numbers and SSRC, in one write
// (tcpegress.go). A DESCRIBE holds nothing: its SDP is built directly
// (describe.go).
package rtsp
