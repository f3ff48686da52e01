package rtmp

import (
	"context"
	"testing"
	"time"

	"mps/internal/pathmgr"
	"mps/internal/stream"
)

func TestRequestMapping(t *testing.T) {
	h := &serverConn{app: "live", remote: "1.2.3.4:5"}
	req, err := h.request("cam1?user=x&pass=y")
	if err != nil {
		t.Fatal(err)
	}
	want := stream.Request{Path: "live/cam1", Protocol: "rtmp", Query: "user=x&pass=y", User: "x", Pass: "y", RemoteAddr: "1.2.3.4:5"}
	if req != want {
		t.Errorf("got %+v, want %+v", req, want)
	}
	if _, err := h.request("?x=1"); err == nil {
		t.Error("empty stream name accepted")
	}
	u, err := parseURL("rtmp://h/app/sub/stream?k=v")
	if err != nil || u.app != "app/sub" || u.name != "stream?k=v" || u.tcURL != "rtmp://h:1935/app/sub" {
		t.Errorf("parseURL: %+v, %v", u, err)
	}
}

func TestParseTags(t *testing.T) {
	v, err := parseVideoTag(legacyVideoTag(codecIDAVC, frameKey, pktCodedFrames, -33, []byte{0, 0, 0, 1, 0x65}))
	if err != nil || v.Codec != stream.CodecH264 || v.FrameType != frameKey || v.CompositionTime != -33 || len(v.Data) != 5 {
		t.Errorf("legacy AVC: %+v %v", v, err)
	}
	v, err = parseVideoTag(exVideoTag(fourccHEVC, frameInter, pktCodedFrames, 66, []byte{1}))
	if err != nil || v.Codec != stream.CodecH265 || v.PacketType != pktCodedFrames || v.CompositionTime != 66 {
		t.Errorf("hvc1 CodedFrames: %+v %v", v, err)
	}
	v, err = parseVideoTag(exVideoTag(fourccHEVC, frameInter, pktCodedFrames, 0, []byte{1})) // becomes CodedFramesX
	if err != nil || v.PacketType != pktCodedFrames || v.CompositionTime != 0 || len(v.Data) != 1 {
		t.Errorf("hvc1 CodedFramesX: %+v %v", v, err)
	}
	v, err = parseVideoTag([]byte{0x80 | frameKey<<4 | pktSequenceStart, 'a', 'v', '0', '1', 0x81})
	if err != nil || v.Codec != stream.CodecAV1 || v.PacketType != pktSequenceStart || len(v.Data) != 1 {
		t.Errorf("av01 SequenceStart: %+v %v", v, err)
	}
	if _, err := parseVideoTag([]byte{0x80 | pktMultitrack, 0}); err == nil {
		t.Error("multitrack accepted")
	}
	a, err := parseAudioTag(aacTag(pktSequenceStart, []byte{0x11, 0x90}))
	if err != nil || a.Codec != stream.CodecAAC || a.PacketType != pktSequenceStart || len(a.Data) != 2 {
		t.Errorf("AAC: %+v %v", a, err)
	}
}

// Publish credentials come from the stream name's query.
func TestPublishAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, hub := startServer(t, func(string) pathmgr.Policy { return pathmgr.Policy{PublishUser: "u", PublishPass: "p"} }, Config{})
	bad := publishFile(t, ctx, fileGOP, rtmpURLOf(s, "live/auth?user=u&pass=wrong"))
	if err := bad.wait(t, 10*time.Second); err == nil {
		t.Error("publisher with a wrong password exited cleanly")
	}
	if hub.Get("live/auth") != nil {
		t.Fatal("unauthorized publisher got the path")
	}
	good := publishFile(t, ctx, fileGOP, rtmpURLOf(s, "live/auth?user=u&pass=p"))
	waitPath(t, hub, "live/auth")
	_ = good
}
