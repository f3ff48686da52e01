// Package webrtc is MPS's WebRTC adapter: browsers and encoders publish with
// WHIP (RFC 9725) and play with WHEP, over the server's shared HTTP port.
//
// Signalling is plain HTTP (Server.Handler, mounted under /webrtc/); media
// goes over one ICE UDP port shared by every session (and one ICE-TCP port
// as a fallback for networks that block UDP), so a deployment opens two
// ports however many peers connect. A WHIP session depacketizes RTP into
// stream.Units and publishes them on the hub; a WHEP session is one
// stream.Reader whose units are packetized back into RTP. Keyframe requests
// flow both ways: a player's PLI/FIR becomes Stream.RequestKeyframe, which
// a WebRTC publisher turns into an RTCP PLI to its encoder.
package webrtc
