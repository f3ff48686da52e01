package config

import (
	"time"
)

// This file holds the settings every network listener shares: how many
// connections it holds, how long it waits on a client, and its TLS
// certificate. They are inline in each listener's section
// (rtmp.max_connections, http.tls_cert_file…).

// ConnLimits caps a listener's connections so one client cannot take the
// server's file descriptors; 0 is no limit.
type ConnLimits struct {
	// MaxConnections is the most connections the listener holds at once.
	MaxConnections int `yaml:"max_connections" json:"max_connections"`
	// MaxConnectionsPerIP is the most from one client address.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip" json:"max_connections_per_ip"`
}

// IOTimeouts bound each wait on a client of a media listener.
type IOTimeouts struct {
	// ReadTimeout is the longest a connection may stay silent before it
	// plays or publishes, and a publisher between two packets.
	ReadTimeout Duration `yaml:"read_timeout" json:"read_timeout"`
	// WriteTimeout is the longest one write may wait: a player that stops
	// reading for that long is dropped, the others go on.
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout"`
}

// TLSFiles is a listener's certificate and key (PEM). Both set makes the
// listener speak TLS; the files are read again when they change, so a
// renewed certificate is served without a restart.
type TLSFiles struct {
	CertFile string `yaml:"tls_cert_file" json:"tls_cert_file"`
	KeyFile  string `yaml:"tls_key_file" json:"tls_key_file"`
}

// Enabled reports whether the listener speaks TLS.
func (t TLSFiles) Enabled() bool { return t.CertFile != "" }

// HTTPLimits are the HTTP listener's protections against slow or greedy
// clients.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" json:"read_header_timeout"`
	// ReadTimeout is the longest a request body may pause; after it the
	// body must also average BodyMinRate, so a trickling upload is cut
	// while a long upload at a real speed is not.
	ReadTimeout Duration `yaml:"read_timeout" json:"read_timeout"`
	// BodyMinRate is the least average speed of a request body, bytes/s.
	BodyMinRate ByteSize `yaml:"body_min_rate" json:"body_min_rate"`
	// WriteTimeout is the longest one write of a response may wait on a
	// client that stopped reading.
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout"`
	// IdleTimeout closes a keep-alive connection with no request for this
	// long.
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// MaxBodySize caps every request body except uploads (which
	// tasks.upload_limit caps): JSON API calls, WHIP/WHEP offers.
	MaxBodySize ByteSize `yaml:"max_body_size" json:"max_body_size"`
}

func (v *validator) connLimits(sec string, l ConnLimits) error {
	if l.MaxConnections < 0 {
		return v.errorf(sec+".max_connections", "must not be negative (0 is no limit)")
	}
	if l.MaxConnectionsPerIP < 0 {
		return v.errorf(sec+".max_connections_per_ip", "must not be negative (0 is no limit)")
	}
	return nil
}

func (v *validator) ioTimeouts(sec string, t IOTimeouts) error {
	for k, d := range map[string]Duration{"read_timeout": t.ReadTimeout, "write_timeout": t.WriteTimeout} {
		if d.D() < 100*time.Millisecond {
			return v.errorf(sec+"."+k, "must be at least 100ms, got %s", d.D())
		}
	}
	return nil
}

func (v *validator) tlsFiles(sec string, t TLSFiles) error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return v.errorf(v.pick(sec+".tls_cert_file", sec+".tls_key_file"), "tls_cert_file and tls_key_file must be set together")
	}
	return nil
}

func (v *validator) httpLimits(h HTTPLimits) error {
	for _, d := range []struct {
		key string
		d   Duration
	}{
		{"read_header_timeout", h.ReadHeaderTimeout}, {"read_timeout", h.ReadTimeout},
		{"write_timeout", h.WriteTimeout}, {"idle_timeout", h.IdleTimeout},
	} {
		if d.d.D() < 100*time.Millisecond {
			return v.errorf("http."+d.key, "must be at least 100ms, got %s", d.d.D())
		}
	}
	if h.MaxBodySize < 1024 {
		return v.errorf("http.max_body_size", "must be at least 1KiB, got %d", int64(h.MaxBodySize))
	}
	return nil
}

// listeners checks the shared settings of every listener section.
func (v *validator) listeners(c *Config) error {
	checks := []error{
		v.httpLimits(c.HTTP.HTTPLimits),
		v.connLimits("http", c.HTTP.ConnLimits), v.tlsFiles("http", c.HTTP.TLSFiles),
		v.connLimits("rtmp", c.RTMP.ConnLimits), v.ioTimeouts("rtmp", c.RTMP.IOTimeouts), v.tlsFiles("rtmp", c.RTMP.TLSFiles),
		v.connLimits("rtsp", c.RTSP.ConnLimits), v.ioTimeouts("rtsp", c.RTSP.IOTimeouts), v.tlsFiles("rtsp", c.RTSP.TLSFiles),
		v.connLimits("srt", c.SRT.ConnLimits),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if c.RTSP.TLSFiles.Enabled() && c.RTSP.Enabled {
		for _, t := range c.RTSP.Transports {
			if t == TransportUDP {
				return v.errorf("rtsp.transports", "RTSPS (tls_cert_file set) carries media over TCP only: use transports: [tcp]")
			}
		}
	}
	return nil
}
