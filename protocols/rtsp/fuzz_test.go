package rtsp

import (
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/sdp"
	"github.com/pion/rtp"
)

func FuzzStreamPath(f *testing.F) {
	for _, s := range []string{"/live/cam1", "/live/cam1/", "/", "", "//", "/a/../b", "/x?y", strings.Repeat("/a", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := streamPath(in)
		if err != nil {
			return
		}
		if p == "" || len(p) > maxPathLen || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
			t.Fatalf("streamPath(%q) = %q", in, p)
		}
	})
}

func FuzzCredentials(f *testing.F) {
	for _, s := range []string{"Basic cHViOnNlY3JldA==", "Basic !!!", "Basic ", "Digest username=\"a\"", "", "Basic cHVic2VjcmV0",
		`Digest username="a", realm="mps", nonce="n0nce", uri="rtsp://127.0.0.1/live/x", response="0123"`,
		`Digest username="a", realm="mps", nonce="other", uri="/live", response="0123", algorithm="SHA-256"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		u, _ := base.ParseURL("rtsp://127.0.0.1/live/x")
		req := &base.Request{Method: base.Describe, URL: u, Header: base.Header{"Authorization": base.HeaderValue{v}}}
		c := credentials(req, "n0nce")
		if c.user == "" && (c.pass != "" || c.digest != nil) {
			t.Fatalf("credentials without user from %q", v)
		}
		if c.digest != nil && c.digest.Response != "" && c.digest.Nonce != "n0nce" {
			t.Fatalf("answer to a foreign nonce kept from %q", v)
		}
	})
}

// FuzzIngest feeds an arbitrary SDP, as in an ANNOUNCE or a pulled
// source's DESCRIBE, then arbitrary RTP packets to every track it yields.
// Nothing may panic; errors are fine.
func FuzzIngest(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"+
		"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LADdoFB+wEQAAAAwBAAAAPA8UKqA==,aM48gA==\r\n"+
		"m=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/48000/2\r\na=fmtp:97 streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n"),
		[]byte{0x80, 0xe0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x65, 0x88, 0x84})
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"+
		"m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/44100/2\r\na=fmtp:96 cpresent=0; config=400024203fc0\r\n"+
		"m=audio 0 RTP/AVP 0\r\n"+
		"m=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"+
		"m=audio 0 RTP/AVP 99\r\na=rtpmap:99 opus/48000/2\r\n"+
		"m=video 0 RTP/AVP 100\r\na=rtpmap:100 VP9/90000\r\n"),
		[]byte{0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x10, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, sdpText, pkt []byte) {
		var sd sdp.SessionDescription
		if err := sd.Unmarshal(sdpText); err != nil {
			return
		}
		var desc description.Session
		if err := desc.Unmarshal(&sd); err != nil {
			return
		}
		in, err := newIngest(&desc)
		if err != nil {
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(pkt); err != nil {
			return
		}
		for _, it := range in.tracks {
			for i := 0; i < 3; i++ {
				cp := p
				cp.SequenceNumber += uint16(i)
				units, _ := it.decode(&cp, int64(i)*3000, time.Now())
				for _, u := range units {
					if u.Track != it.track {
						t.Fatal("unit of the wrong track")
					}
				}
			}
		}
	})
}
