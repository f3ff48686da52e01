package webrtc

import (
	"strings"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestParseRoute(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		in   string
		want route
		ok   bool
	}{
		{"/webrtc/live/cam1/whip", route{path: "live/cam1", kind: "whip"}, true},
		{"/webrtc/live/cam1/whep/", route{path: "live/cam1", kind: "whep"}, true},
		{"/webrtc/cam/whip/" + id, route{path: "cam", kind: "whip", session: id}, true},
		{"/webrtc/a/whip/whep", route{path: "a/whip", kind: "whep"}, true},
		{"/webrtc/a/whep/whip/" + id, route{path: "a/whep", kind: "whip", session: id}, true},
		{"/webrtc/whip", route{}, false},
		{"/webrtc/live/cam1", route{}, false},
		{"/webrtc/a/whip/nothex", route{}, false},
		{"/webrtc/a/../whip", route{}, false},
		{"/webrtc//a/whip", route{}, false},
		{"/other/a/whip", route{}, false},
		{"/webrtc/a b/whip", route{}, false},
	} {
		got, err := parseRoute(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseRoute(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestCredentials(t *testing.T) {
	for _, c := range []struct{ in, user, pass string }{
		{"Bearer tok", "", "tok"},
		{"bearer  tok ", "", "tok"},
		{"Basic dXNlcjpwYXNz", "user", "pass"},
		{"Basic !!!", "", ""},
		{"Digest x", "", ""},
		{"", "", ""},
	} {
		u, p := credentials(c.in)
		if u != c.user || p != c.pass {
			t.Errorf("credentials(%q) = %q, %q", c.in, u, p)
		}
	}
}

func TestParseOffer(t *testing.T) {
	sdp := "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=recvonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=0\r\n" +
		"a=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42e01f;packetization-mode=1\r\n" +
		"m=video 0 UDP/TLS/RTP/SAVPF 98\r\na=mid:2\r\na=rtpmap:98 VP8/90000\r\n"
	ms, err := parseOffer([]byte(sdp))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("%d media", len(ms))
	}
	a, v, dead := ms[0], ms[1], ms[2]
	if a.kind != "audio" || a.sends || !a.recvs || !a.has("OPUS") || !a.has("PCMU") || a.has("PCMA") {
		t.Errorf("audio %+v", a)
	}
	if v.kind != "video" || !v.sends || !v.recvs || !v.has("H264") || v.mid != "1" {
		t.Errorf("video %+v", v)
	}
	if dead.sends || dead.recvs {
		t.Errorf("port 0 section is active: %+v", dead)
	}
}

func TestParseSDPFrag(t *testing.T) {
	ufrag, cands, err := parseSDPFrag([]byte("a=ice-ufrag:abc\r\na=ice-pwd:x\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n" +
		"a=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\na=end-of-candidates\r\n"))
	if err != nil || ufrag != "abc" || len(cands) != 1 || cands[0].mid != "0" || !strings.HasPrefix(cands[0].candidate, "candidate:1 ") {
		t.Fatalf("%q %+v %v", ufrag, cands, err)
	}
	if _, _, err := parseSDPFrag([]byte("hello\n")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"/webrtc/live/cam1/whip", "/webrtc/a/whep/0123456789abcdef0123456789abcdef", "/webrtc//whip", "/webrtc/../whep", "/webrtc/whip/whep/whip"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r, err := parseRoute(p)
		if err != nil {
			return
		}
		if checkPath(r.path) != nil || !isKind(r.kind) || (r.session != "" && !validSessionID(r.session)) {
			t.Fatalf("accepted %q as %+v", p, r)
		}
		// The Location built from a route parses back to it.
		if r.session == "" {
			back, err := parseRoute(r.location("0123456789abcdef0123456789abcdef"))
			if err != nil || back.path != r.path || back.kind != r.kind {
				t.Fatalf("location of %+v parses as %+v, %v", r, back, err)
			}
		}
	})
}

func FuzzParseOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"))
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 8 111\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:999 x/1\r\na=fmtp:111\r\na=sendonly\r\n"))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := parseOffer(b)
		if err != nil {
			return
		}
		for _, m := range ms {
			for _, n := range ingestCodecs {
				m.has(n)
			}
			m.codecNames()
		}
	})
}

func FuzzParseSDPFrag(f *testing.F) {
	f.Add([]byte("a=ice-ufrag:abc\r\na=mid:0\r\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n"))
	f.Add([]byte("a=end-of-candidates\n"))
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, cands, err := parseSDPFrag(b)
		if err == nil && len(cands) > 64 {
			t.Fatal("unbounded candidates")
		}
	})
}

// FuzzDepacketizeH264 feeds arbitrary RTP payloads to the H.264 ingest
// path: it must never panic, and whatever it emits starts with a keyframe
// that carries its parameter sets.
func FuzzDepacketizeH264(f *testing.F) {
	f.Add([]byte{0x18, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1e, 0x00, 0x02, 0x68, 0xce, 0x00, 0x03, 0x65, 0x88, 0x84}, uint16(1), uint32(3000))
	f.Add([]byte{0x7c, 0x85, 0x88, 0x84, 0x00}, uint16(2), uint32(3000))
	f.Add([]byte{0x41, 0x9a, 0x00}, uint16(3), uint32(6000))
	f.Fuzz(func(t *testing.T, payload []byte, seq uint16, ts uint32) {
		d, err := newDepacketizer(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}})
		if err != nil {
			t.Fatal(err)
		}
		// The same payload three times, as one frame's packets would be.
		for i := range 3 {
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq + uint16(i), Timestamp: ts, Marker: i == 2}, Payload: payload}
			fr, err := d.push(pkt)
			if err != nil || fr == nil {
				continue
			}
			if !d.ready() {
				t.Fatal("frame emitted before the track is describable")
			}
			if _, err := d.track(); err != nil && fr.key {
				// A fuzzed SPS may not parse; the publisher then drops the track.
				continue
			}
		}
	})
}
