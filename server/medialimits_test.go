package server

import (
	"bufio"
	"testing"
	"time"

	"mps/internal/testutil"
	"mps/protocols/srt"

	gosrt "github.com/datarhei/gosrt"
)

// TestMediaConnectionCaps opens more RTMP and RTSP connections from one
// address than max_connections_per_ip allows: the extra one is closed at
// once, while another address still gets in.
func TestMediaConnectionCaps(t *testing.T) {
	cfg := testConfig(t)
	cfg.RTSP.Enabled = true
	cfg.RTSP.Address = "127.0.0.1:0"
	cfg.RTSP.Transports = []string{"tcp"}
	cfg.RTMP.MaxConnectionsPerIP, cfg.RTSP.MaxConnectionsPerIP = 2, 2
	s := startServer(t, cfg)
	for name, addr := range map[string]string{"rtmp": s.RTMPAddr(), "rtsp": s.RTSPAddr()} {
		t.Run(name, func(t *testing.T) {
			held := []*bufio.Reader{}
			for range 2 {
				c := dialFrom(t, "127.0.0.1", addr)
				held = append(held, bufio.NewReader(c))
				testutil.WaitFor(t, 2*time.Second, "connection accepted and held", func() bool { return !closedByServer(c, held[len(held)-1]) })
			}
			extra := dialFrom(t, "127.0.0.1", addr)
			br := bufio.NewReader(extra)
			testutil.WaitFor(t, 5*time.Second, "connection over the per-IP cap closed", func() bool { return closedByServer(extra, br) })
			other := dialFrom(t, "127.0.0.2", addr)
			obr := bufio.NewReader(other)
			if closedByServer(other, obr) {
				t.Fatal("a connection from another address was refused")
			}
		})
	}
}

// TestSRTConnectionCap: with srt.max_connections_per_ip 2, a third SRT
// session from the same address is refused in the handshake with
// REJ_RESOURCE while two are held, and admitted again once one of them
// has left.
func TestSRTConnectionCap(t *testing.T) {
	cfg := testConfig(t)
	cfg.SRT.Enabled = true
	cfg.SRT.Address = "127.0.0.1:0"
	cfg.SRT.MaxConnectionsPerIP = 2
	s := startServer(t, cfg)
	dial := func(path string) (gosrt.Conn, error) {
		conf := gosrt.DefaultConfig()
		conf.StreamId = "publish:" + path
		return gosrt.Dial("srt", s.SRTAddr(), conf)
	}
	var held []gosrt.Conn
	for _, p := range []string{"cap/a", "cap/b"} {
		c, err := dial(p)
		if err != nil {
			t.Fatalf("session %s under the cap refused: %v", p, err)
		}
		held = append(held, c)
	}
	_, err := dial("cap/c")
	if code, ok := srt.RejectionCode(err); !ok || code != gosrt.REJ_RESOURCE {
		t.Fatalf("third session: %v (code %v), want a REJ_RESOURCE rejection", err, code)
	}
	held[0].Close()
	testutil.WaitFor(t, 10*time.Second, "a slot freed by a session that left", func() bool {
		c, err := dial("cap/d")
		if err != nil {
			return false
		}
		held = append(held, c)
		return true
	})
	for _, c := range held[1:] {
		c.Close()
	}
}
