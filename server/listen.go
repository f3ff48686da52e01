package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"slices"

	"mps/internal/certfile"

	"mps/internal/config"
	"mps/internal/netlimit"
)

// listenHTTP binds the HTTP listener with its connection caps and per-write
// time-out. A client over a cap gets a 503 saying which.
func (s *Server) listenHTTP(cfg config.HTTP) (net.Listener, error) {
	raw, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("http: listen %s: %w", cfg.Address, err)
	}
	lim := netlimit.Limits{
		Max: cfg.MaxConnections, PerIP: cfg.MaxConnectionsPerIP, WriteTimeout: cfg.WriteTimeout.D(),
		Refuse: netlimit.HTTPRefusal, Name: "http", Log: s.log,
	}
	if !cfg.TLSFiles.Enabled() {
		return netlimit.Wrap(raw, lim), nil
	}
	tc, err := s.tlsConfig("http", cfg.TLSFiles)
	if err != nil {
		raw.Close()
		return nil, err
	}
	lim.Refuse = nil // a plain-text 503 means nothing to a TLS client
	return tls.NewListener(netlimit.Wrap(raw, lim), tc), nil
}

// tlsConfig loads a listener's certificate and watches its files for the
// server's lifetime; nil, nil when the listener has no TLS.
func (s *Server) tlsConfig(name string, f config.TLSFiles) (*tls.Config, error) {
	if !f.Enabled() {
		return nil, nil
	}
	p, err := certfile.Load(f.CertFile, f.KeyFile, s.component(compTLS).With("listener", name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := p.Watch(s.ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.certs = append(s.certs, p)
	return p.TLSConfig(), nil
}

// mediaWriteBuffer is the socket send buffer of RTMP and RTSP
// connections: a few seconds of a high-bitrate stream, so a player that
// stops reading blocks the server's writes (and is dropped after the
// protocol's write_timeout) within seconds rather than after the kernel
// has buffered megabytes for it.
const mediaWriteBuffer = 256 << 10

// limitListener wraps a media protocol's listener with its connection caps.
func (s *Server) limitListener(name string, l config.ConnLimits) func(net.Listener) net.Listener {
	return func(ln net.Listener) net.Listener {
		return netlimit.Wrap(ln, netlimit.Limits{
			Max: l.MaxConnections, PerIP: l.MaxConnectionsPerIP, WriteBuffer: mediaWriteBuffer, Name: name, Log: s.log,
		})
	}
}

// srtAdmit caps SRT sessions, which arrive as UDP handshakes rather than
// through a net.Listener.
func (s *Server) srtAdmit(l config.ConnLimits) func(net.Addr) (func(), error) {
	c := netlimit.NewCounter(netlimit.Limits{Max: l.MaxConnections, PerIP: l.MaxConnectionsPerIP, Name: "srt", Log: s.log})
	return c.Acquire
}

// boundAddrs are the addresses the listeners actually bound (the port a
// ":0" address got), for /api/v1/config: the config shows what was asked.
func (s *Server) boundAddrs() map[string]string {
	m := map[string]string{}
	for name, a := range map[string]string{"http": s.HTTPAddr(), "rtmp": s.RTMPAddr(), "rtsp": s.RTSPAddr(), "srt": s.SRTAddr()} {
		if a != "" {
			m[name] = a
		}
	}
	return m
}

// warnExposure warns at start when the HTTP listener answers on every
// interface while the REST API is on and any web page may call it (CORS
// "*"): anyone who can reach the machine, and any site its users visit,
// can then drive the API.
func (s *Server) warnExposure(cfg *config.Config) {
	if !cfg.HTTP.Enabled || !cfg.API.Enabled || !slices.Contains(cfg.HTTP.CORSOrigins, "*") {
		return
	}
	host, _, err := net.SplitHostPort(cfg.HTTP.Address)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return
	}
	s.log.Warn("the REST API listens on all interfaces with CORS allowing any origin: anyone on the network, "+
		"and any web page a user of this machine opens, can call it; bind http.address to 127.0.0.1, "+
		"restrict http.cors_origins or protect the API",
		"http.address", cfg.HTTP.Address, "cors_origins", cfg.HTTP.CORSOrigins)
}
