package server

import (
	"bufio"
	"testing"
	"time"

	"mps/internal/testutil"
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
