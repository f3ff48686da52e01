package rtsp

import (
	"crypto/tls"
	"net"
	"time"
)

// Config is the RTSP server's own configuration; the server package maps
// its YAML onto it so this package does not depend on the config schema.
type Config struct {
	// Address is the TCP listen address for RTSP requests and interleaved
	// RTP, e.g. ":8554" or "127.0.0.1:0".
	Address string
	// UDPRTPAddress and UDPRTCPAddress enable the UDP transport. RTSP
	// requires a consecutive pair (RTP on an even port, RTCP on the next
	// odd one), so ":0" cannot be used here. Leave both empty to offer TCP
	// only.
	UDPRTPAddress, UDPRTCPAddress string
	// ReadTimeout and WriteTimeout bound socket operations (10 s when
	// zero). ReadTimeout is also how long a connection may stay silent, or
	// stall in the middle of a request, before it plays or records: a
	// client sending garbage or half a request is disconnected after it.
	ReadTimeout, WriteTimeout time.Duration
	// WriteQueueSize is the per-player queue of outgoing RTP packets of a
	// player over UDP, a power of two (4096 when zero). It must hold the
	// burst of the GOP cache every player gets when it starts. Players
	// over TCP are written directly, one write per unit.
	WriteQueueSize int
	// IdleTimeout closes a player session that SETUP a path but did not
	// PLAY within this time (10 s when zero), freeing its output. A DESCRIBE
	// alone holds nothing.
	IdleTimeout time.Duration
	// WrapListener, when set, wraps the bound TCP listener (connection
	// caps).
	WrapListener func(net.Listener) net.Listener
	// TLS, when set, makes the listener speak RTSPS (TCP transport only).
	TLS *tls.Config
	// Digest offers Digest logins (MD5, realm "mps") besides Basic: the
	// hub checks the answers against the realm hashes it keeps. NoBasic
	// stops offering and taking Basic, so passwords never cross the wire.
	Digest, NoBasic bool
}

func (c *Config) setDefaults() {
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.WriteQueueSize <= 0 {
		c.WriteQueueSize = 4096
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 10 * time.Second
	}
}
