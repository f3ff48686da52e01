// Package config is the single source of MPS settings: the YAML schema, the
// built-in defaults, loading, validation, MPS_* environment overrides and hot
// reload.
//
// It exists so that every other package receives settings that are already
// complete and valid: a broken file is rejected here with an error that names
// the file, line and key (`mps.yaml:12: rtmp.address: ...`), and no caller
// ever has to fill in a default or merge a per-path override by hand — that
// is what (*Config).Rule is for.
//
// The defaults are the embedded default.yaml, which is byte-identical to the
// documented configs/mps.yaml (a test enforces it), so the documentation can
// never drift from the behaviour.
//
// A *Config is a value: treat one you did not create as read-only, and get a
// new one from Load, Parse or Defaults (each call returns a fresh copy).
package config

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"mps/internal/redact"
	"mps/internal/vod"
)

// Config is the whole MPS configuration, one field per top-level YAML
// section. Field tags give both the YAML and the JSON key so the REST API can
// show the config with the same names the file uses.
type Config struct {
	Log     Log     `yaml:"log" json:"log"`
	HTTP    HTTP    `yaml:"http" json:"http"`
	RTMP    RTMP    `yaml:"rtmp" json:"rtmp"`
	RTSP    RTSP    `yaml:"rtsp" json:"rtsp"`
	SRT     SRT     `yaml:"srt" json:"srt"`
	WebRTC  WebRTC  `yaml:"webrtc" json:"webrtc"`
	HLS     HLS     `yaml:"hls" json:"hls"`
	Record  Record  `yaml:"record" json:"record"`
	Storage Storage `yaml:"storage" json:"storage"`
	Stream  Stream  `yaml:"stream" json:"stream"`
	API     API     `yaml:"api" json:"api"`
	// Auth decides who may publish, read, play back recordings, call the
	// API and scrape metrics.
	Auth Auth `yaml:"auth" json:"auth"`

	Snapshots Snapshots `yaml:"snapshots" json:"snapshots"`
	Transcode Transcode `yaml:"transcode" json:"transcode"`
	// Watermarks are the watermark templates by name, referenced from
	// ladders and rungs.
	Watermarks map[string]Watermark `yaml:"watermarks" json:"watermarks"`

	NATS  NATS  `yaml:"nats" json:"nats"`
	Tasks Tasks `yaml:"tasks" json:"tasks"`
	// Templates are named VOD operations (transcode, snapshot, …) that
	// task requests and schemes refer to by name.
	Templates map[string]vod.Operation `yaml:"templates" json:"templates"`
	// Schemes are the VOD workflows: what fires them and what they run.
	Schemes  []Scheme  `yaml:"schemes" json:"schemes"`
	Webhooks []Webhook `yaml:"webhooks" json:"webhooks"`

	// AI configures the media-AI operations and their providers.
	AI AI `yaml:"ai" json:"ai"`

	Paths []PathRule `yaml:"paths" json:"paths"`

	// ReloadAllowEmpty lets a reload apply a config that removes every
	// path rule or every credential; without it such a reload is refused
	// as a likely mistake (an emptied or truncated file).
	ReloadAllowEmpty bool `yaml:"reload_allow_empty" json:"reload_allow_empty"`

	// origin is where each key was set, kept from loading for Origins.
	origin origins
}

// origins remembers the file a config came from and where its keys were
// set in it (or in the environment).
type origins struct {
	file string
	src  sources
}

// Origins tells where each key that was set came from: "FILE:LINE" for a
// key in the file, "$MPS_..." for an environment variable. Keys left out
// keep their defaults and are not listed. The console shows it next to the
// running config, so an operator can find the line to edit.
func (c *Config) Origins() (file string, keys map[string]string) {
	keys = map[string]string{}
	for k, s := range c.origin.src {
		switch {
		case s.env != "":
			keys[k] = "$" + s.env
		case s.line > 0:
			keys[k] = fmt.Sprintf("%s:%d", c.origin.file, s.line)
		}
	}
	return c.origin.file, keys
}

// Log configures the process-wide slog logger.
type Log struct {
	// Level is the minimum level logged: debug, info, warn or error.
	Level string `yaml:"level" json:"level"`
	// Format is text (human) or json (log shippers).
	Format string `yaml:"format" json:"format"`
}

// Log levels and formats accepted by the log section.
const (
	LogLevelDebug = "debug"
	LogLevelInfo  = "info"
	LogLevelWarn  = "warn"
	LogLevelError = "error"

	LogFormatText = "text"
	LogFormatJSON = "json"
)

// SlogLevel maps Level to a slog.Level so main does not repeat the table;
// an unknown level (impossible after validation) falls back to info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case LogLevelDebug:
		return slog.LevelDebug
	case LogLevelWarn:
		return slog.LevelWarn
	case LogLevelError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Handler builds the slog handler this section asks for, writing to w, so
// every entry point (serve, process, tests) logs the same way. A non-nil
// level (a *slog.LevelVar) replaces the section's level so that a reload
// can change it while the server runs; the format is fixed at start.
func (l Log) Handler(w io.Writer, level slog.Leveler) slog.Handler {
	if level == nil {
		level = l.SlogLevel()
	}
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == LogFormatJSON {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// HTTP is the one HTTP listener shared by the REST API, HLS, WebRTC
// signalling (WHIP/WHEP), metrics and the console, so a deployment needs to
// open a single TCP port for all of them.
type HTTP struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Address string `yaml:"address" json:"address"`
	// CORSOrigins lists the origins browsers may call from; "*" allows any.
	CORSOrigins []string `yaml:"cors_origins" json:"cors_origins"`
	HTTPLimits  `yaml:",inline" json:",inline"`
	ConnLimits  `yaml:",inline" json:",inline"`
	TLSFiles    `yaml:",inline" json:",inline"`
}

// RTMP is the RTMP publish/play listener.
type RTMP struct {
	Enabled    bool   `yaml:"enabled" json:"enabled"`
	Address    string `yaml:"address" json:"address"`
	IOTimeouts `yaml:",inline" json:",inline"`
	ConnLimits `yaml:",inline" json:",inline"`
	TLSFiles   `yaml:",inline" json:",inline"`
}

// RTSP is the RTSP listener plus the UDP port pair used by the UDP transport.
type RTSP struct {
	Enabled        bool   `yaml:"enabled" json:"enabled"`
	Address        string `yaml:"address" json:"address"`
	UDPRTPAddress  string `yaml:"udp_rtp_address" json:"udp_rtp_address"`
	UDPRTCPAddress string `yaml:"udp_rtcp_address" json:"udp_rtcp_address"`
	// Transports lists the lower transports offered to clients: udp, tcp.
	Transports []string `yaml:"transports" json:"transports"`
	// AuthMethods are the logins offered in challenges: basic, digest.
	AuthMethods []string `yaml:"auth_methods" json:"auth_methods"`
	IOTimeouts  `yaml:",inline" json:",inline"`
	ConnLimits  `yaml:",inline" json:",inline"`
	TLSFiles    `yaml:",inline" json:",inline"`
}

// RTSP transports accepted in rtsp.transports.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
)

// RTSP login methods accepted in rtsp.auth_methods.
const (
	RTSPAuthBasic  = "basic"
	RTSPAuthDigest = "digest"
)

// SRT is the SRT listener.
type SRT struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Address string `yaml:"address" json:"address"`
	// Latency is the SRT receiver latency (TSBPD delay).
	Latency    Duration `yaml:"latency" json:"latency"`
	ConnLimits `yaml:",inline" json:",inline"`
}

// WebRTC configures ICE for WHIP/WHEP; signalling itself rides on HTTP.
type WebRTC struct {
	Enabled       bool   `yaml:"enabled" json:"enabled"`
	ICEUDPAddress string `yaml:"ice_udp_address" json:"ice_udp_address"`
	ICETCPAddress string `yaml:"ice_tcp_address" json:"ice_tcp_address"`
	// STUNServers are URLs like stun:stun.l.google.com:19302, used to learn
	// the public address when the server sits behind NAT.
	STUNServers []string `yaml:"stun_servers" json:"stun_servers"`
	// AdditionalHosts are IPs or host names advertised as ICE candidates
	// (NAT 1:1, a public IP or DNS name in front of the server).
	AdditionalHosts []string `yaml:"additional_hosts" json:"additional_hosts"`
}

// HLS is the HLS packager's configuration, global and (through HLSOverride)
// per path.
type HLS struct {
	// Variant is lowLatency (LL-HLS, fMP4 parts), fmp4 or mpegts.
	Variant         string   `yaml:"variant" json:"variant"`
	SegmentDuration Duration `yaml:"segment_duration" json:"segment_duration"`
	PartDuration    Duration `yaml:"part_duration" json:"part_duration"`
	// SegmentCount is how many segments the live playlist keeps.
	SegmentCount int `yaml:"segment_count" json:"segment_count"`
	// AlwaysOn starts the muxer when a stream is published instead of when
	// the first HLS client asks.
	AlwaysOn bool `yaml:"always_on" json:"always_on"`
	// CloseAfter stops an on-demand muxer that has had no request for this
	// long; 0 keeps it until the stream ends.
	CloseAfter Duration `yaml:"close_after" json:"close_after"`
	// EndedKeep is how long the playlist of a live stream that ended stays
	// served, with EXT-X-ENDLIST and all its segments, before it is gone.
	EndedKeep Duration `yaml:"ended_keep" json:"ended_keep"`
	// DVRWindow keeps this much past media on disk for seeking back; 0
	// disables DVR.
	DVRWindow Duration `yaml:"dvr_window" json:"dvr_window"`
	// Directory holds DVR segments; relative paths are under storage.data_dir.
	Directory string `yaml:"directory" json:"directory"`
}

// HLS variants accepted in hls.variant.
const (
	HLSVariantLowLatency = "lowLatency"
	HLSVariantFMP4       = "fmp4"
	HLSVariantMPEGTS     = "mpegts"
)

// Record is the recorder's configuration, global and (through
// RecordOverride) per path.
type Record struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Format is fmp4 or mpegts.
	Format          string   `yaml:"format" json:"format"`
	SegmentDuration Duration `yaml:"segment_duration" json:"segment_duration"`
	PartDuration    Duration `yaml:"part_duration" json:"part_duration"`
	// Directory is the recordings root; relative paths are under
	// storage.data_dir.
	Directory string `yaml:"directory" json:"directory"`
	// Path is the file name template under Directory, without extension:
	// %path is the stream path, %Y %m %d %H %M %S the segment start time,
	// %f microseconds.
	Path string `yaml:"path" json:"path"`
	// DeleteAfter removes segments older than this; 0 keeps them forever.
	DeleteAfter Duration `yaml:"delete_after" json:"delete_after"`
	// MaxBytes caps a path's recordings on disk, deleting the oldest; 0 is
	// no limit.
	MaxBytes ByteSize `yaml:"max_bytes" json:"max_bytes"`
	// QueueBytes bounds media buffered in memory when the disk is slow;
	// past it the recording stops with an event, the stream does not.
	QueueBytes ByteSize `yaml:"queue_bytes" json:"queue_bytes"`
	// Tracks limits what is recorded: "video", "audio", codec names (h264,
	// aac…) or track indexes; empty records every track the format holds.
	Tracks []string `yaml:"tracks" json:"tracks"`
	// Target names a storage target (storage.targets) that finished
	// segments are uploaded to; empty keeps recordings on the local disk
	// only.
	Target string `yaml:"target" json:"target"`
	// KeepLocal keeps the local file after its upload to Target was
	// confirmed; false deletes it, and the segment is then listed and
	// played back from the bucket.
	KeepLocal bool `yaml:"keep_local" json:"keep_local"`
}

// Record formats accepted in record.format.
const (
	RecordFormatFMP4   = "fmp4"
	RecordFormatMPEGTS = "mpegts"
)

// Storage says where MPS keeps its files.
type Storage struct {
	// DataDir is the root of everything MPS writes (recordings, DVR, tasks).
	DataDir string `yaml:"data_dir" json:"data_dir"`
	// Targets are named local folders and S3-compatible buckets.
	Targets []StorageTarget `yaml:"targets" json:"targets"`
}

// Stream configures the media core shared by all paths.
type Stream struct {
	// RingSize is the ring buffer length in access units (a power of two);
	// a reader this far behind is overrun.
	RingSize int `yaml:"ring_size" json:"ring_size"`
}

// API configures the REST API (served on the HTTP listener).
type API struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// DataPath resolves p against storage.data_dir unless it is absolute, so that
// every package places its files the same way.
func (c *Config) DataPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Storage.DataDir, p)
}

// SegmentPath expands the record.path template for the segment of stream
// pathName that starts at start, giving a /-separated file path relative to
// Directory, without extension. It lives here so that the template language
// validated by this package is the one the recorder writes.
func (r Record) SegmentPath(pathName string, start time.Time) string {
	var b strings.Builder
	p := r.Path
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		rest := p[i:]
		switch {
		case strings.HasPrefix(rest, "%path"):
			b.WriteString(pathName)
			i += len("%path") - 1
			continue
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
		case strings.HasPrefix(rest, "%Y"):
			fmt.Fprintf(&b, "%04d", start.Year())
		case strings.HasPrefix(rest, "%m"):
			fmt.Fprintf(&b, "%02d", int(start.Month()))
		case strings.HasPrefix(rest, "%d"):
			fmt.Fprintf(&b, "%02d", start.Day())
		case strings.HasPrefix(rest, "%H"):
			fmt.Fprintf(&b, "%02d", start.Hour())
		case strings.HasPrefix(rest, "%M"):
			fmt.Fprintf(&b, "%02d", start.Minute())
		case strings.HasPrefix(rest, "%S"):
			fmt.Fprintf(&b, "%02d", start.Second())
		case strings.HasPrefix(rest, "%f"):
			fmt.Fprintf(&b, "%06d", start.Nanosecond()/1000)
		case strings.HasPrefix(rest, "%s"):
			fmt.Fprintf(&b, "%d", start.Unix())
		default:
			b.WriteByte('%') // rejected by validation; kept literally
			continue
		}
		i++ // two-character specifier
	}
	return b.String()
}

// redactedSecret replaces secrets in Redacted.
const redactedSecret = "***"

// Redacted returns a copy of c with passwords, passphrases, webhook secrets
// (schemes' included) and URL passwords replaced by "***", for showing the
// running config through the API or in logs. The copy shares unmodified lists and maps
// with c; treat both as read-only.
func (c *Config) Redacted() *Config {
	cp := *c
	if c.NATS.URL != "" {
		urls := strings.Split(c.NATS.URL, ",")
		for i := range urls {
			urls[i] = redactURL(strings.TrimSpace(urls[i]))
		}
		cp.NATS.URL = strings.Join(urls, ",")
	}
	cp.Auth = c.Auth.redacted()
	cp.Webhooks = slices.Clone(c.Webhooks)
	for i := range cp.Webhooks {
		w := &cp.Webhooks[i]
		w.URL = redactURL(w.URL)
		if w.Secret != "" {
			w.Secret = redactedSecret
		}
	}
	cp.Schemes = slices.Clone(c.Schemes)
	for i := range cp.Schemes {
		n := &cp.Schemes[i].Notify
		if n.Secret != "" {
			n.Secret = redactedSecret
		}
		if len(n.Webhooks) > 0 {
			n.Webhooks = slices.Clone(n.Webhooks)
			for j := range n.Webhooks {
				n.Webhooks[j] = redactURL(n.Webhooks[j])
			}
		}
	}
	cp.Paths = slices.Clone(c.Paths)
	for i := range cp.Paths {
		r := &cp.Paths[i]
		for _, s := range []*string{&r.PublishPass, &r.ReadPass, &r.SRTPassphrase} {
			if *s != "" {
				*s = redactedSecret
			}
		}
		r.Source = redactURL(r.Source)
		if len(r.Forward) > 0 {
			r.Forward = slices.Clone(r.Forward)
			for j := range r.Forward {
				r.Forward[j] = redactURL(r.Forward[j])
			}
		}
	}
	return &cp
}

// redactURL hides a URL's password and credential query parameters
// (?token=, &passphrase=…) the one way every package does.
func redactURL(s string) string { return redact.URLAllQuery(s) }

// Equal reports whether c and o hold the same settings, so a reload that
// changes nothing can be ignored. To see which paths a reload affects,
// compare old.Rule(p) with new.Rule(p) using ResolvedRule.Equal.
func (c *Config) Equal(o *Config) bool {
	strip := func(c *Config) Config {
		cp := *c
		cp.origin = origins{} // where a key sits is not a setting
		cp.Paths = slices.Clone(c.Paths)
		for i := range cp.Paths {
			cp.Paths[i].re = nil // compiled from Pattern
		}
		return cp
	}
	return reflect.DeepEqual(strip(c), strip(o))
}
