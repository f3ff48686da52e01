package webrtc

import (
	"context"
	"time"

	"mps/internal/stream"
)

// Config is the adapter's configuration. The server fills it from the YAML
// file; zero values take the defaults listed on each field.
type Config struct {
	// ICEUDPAddress is the one UDP address every session's media uses
	// (default ":8189").
	ICEUDPAddress string
	// ICETCPAddress is the passive ICE-TCP address, a fallback for clients
	// whose network blocks UDP (default ":8189").
	ICETCPAddress string
	// DisableICETCP turns the ICE-TCP fallback off.
	DisableICETCP bool
	// STUNServers are STUN URLs ("stun:stun.l.google.com:19302") used to
	// discover the server's public address (server-reflexive candidates).
	STUNServers []string
	// AdditionalHosts are extra IPs or host names announced as host
	// candidates on the ICE ports, for a server behind a 1:1 NAT or in a
	// container whose interfaces are not reachable from clients.
	AdditionalHosts []string
	// MaxSDPSize bounds a request body (default 128 KiB).
	MaxSDPSize int64
	// TrackTimeout bounds how long a WHIP session may take, after its
	// answer, to deliver every offered track and the first keyframe before
	// it is published with what it has, or dropped (default 10 s).
	TrackTimeout time.Duration
	// ConnectTimeout bounds ICE and DTLS establishment (default 15 s).
	ConnectTimeout time.Duration
	// AllowOrigin is the CORS Access-Control-Allow-Origin value (default "*").
	AllowOrigin string
	// AudioToOpus, when set, gives WHEP players of a stream whose audio is
	// AAC or MP3 a version with Opus audio (and the same video), shared per
	// path; release ends this player's use of it. Without it such players
	// get video only.
	AudioToOpus func(ctx context.Context, s *stream.Stream) (derived *stream.Stream, release func(), err error)
}

func (c *Config) setDefaults() {
	if c.ICEUDPAddress == "" {
		c.ICEUDPAddress = ":8189"
	}
	if c.ICETCPAddress == "" {
		c.ICETCPAddress = ":8189"
	}
	if c.MaxSDPSize <= 0 {
		c.MaxSDPSize = 128 << 10
	}
	if c.TrackTimeout <= 0 {
		c.TrackTimeout = 10 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 15 * time.Second
	}
	if c.AllowOrigin == "" {
		c.AllowOrigin = "*"
	}
}
