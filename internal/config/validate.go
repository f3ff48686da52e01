package config

import (
	"errors"
	"fmt"
	"mps/internal/stream"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validate checks a Config built or changed in code (e.g. by the API) with
// the same rules Load applies; errors name the key but no line. It also
// prepares the path rules' pattern matching, so call it before sharing c.
func (c *Config) Validate() error {
	return validate(c, "", nil)
}

// validator collects the context every check needs to locate its error.
type validator struct {
	file string
	src  sources
}

func (v *validator) errorf(key, format string, args ...any) error {
	return locate(v.file, v.src, key, fmt.Errorf(format, args...))
}

func (v *validator) wrap(key string, err error) error {
	return locate(v.file, v.src, key, err)
}

// pick returns the first of keys that was set explicitly, else the first:
// a cross-field error is reported at the key the user actually wrote.
func (v *validator) pick(keys ...string) string {
	for _, k := range keys {
		if _, ok := v.src[k]; ok {
			return k
		}
	}
	return keys[0]
}

// validate checks cfg and returns the first problem as an *Error.
func validate(c *Config, file string, src sources) error {
	v := &validator{file: file, src: src}
	checks := []func() error{
		func() error {
			return v.oneOf("log.level", c.Log.Level, LogLevelDebug, LogLevelInfo, LogLevelWarn, LogLevelError)
		},
		func() error { return v.oneOf("log.format", c.Log.Format, LogFormatText, LogFormatJSON) },
		func() error { return v.address("http.address", c.HTTP.Address) },
		func() error { return v.corsOrigins(c.HTTP.CORSOrigins) },
		func() error { return v.address("rtmp.address", c.RTMP.Address) },
		func() error { return v.rtsp(&c.RTSP) },
		func() error { return v.address("srt.address", c.SRT.Address) },
		func() error { return v.webrtc(&c.WebRTC) },
		func() error { return v.listeners(c) },
		func() error { return v.hls("hls", c.HLS) },
		func() error { return v.record("record", c.Record) },
		func() error { return v.recordTarget(c, "record", c.Record) },
		func() error {
			if strings.TrimSpace(c.Storage.DataDir) == "" {
				return v.errorf("storage.data_dir", "must not be empty")
			}
			return v.storage(c.Storage)
		},
		func() error {
			n := c.Stream.RingSize
			if n < 16 || n > 1<<24 || n&(n-1) != 0 {
				return v.errorf("stream.ring_size", "must be a power of two between 16 and %d, got %d", 1<<24, n)
			}
			return nil
		},
		func() error { return v.auth(&c.Auth) },
		func() error { return v.snapshots("snapshots", c.Snapshots) },
		func() error { return v.watermarks(c) },
		func() error { return v.transcode(c) },
		func() error { return v.nats(c.NATS) },
		func() error { return v.tasks(c.Tasks) },
		func() error { return v.templates(c) },
		func() error { return v.schemes(c) },
		func() error { return v.webhooks(c.Webhooks) },
		func() error { return v.paths(c) },
		func() error { return v.aiAudit(c.AI.Audit) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) oneOf(key, val string, allowed ...string) error {
	if slices.Contains(allowed, val) {
		return nil
	}
	return v.errorf(key, "invalid value %q (want one of: %s)", val, strings.Join(allowed, ", "))
}

func (v *validator) address(key, addr string) error {
	if err := checkAddress(addr); err != nil {
		return v.wrap(key, err)
	}
	return nil
}

// checkAddress accepts "host:port" and ":port" listen addresses; port 0
// (any free port) is allowed for tests.
func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: %w", addr, err)
	}
	if _, err := parsePort(port); err != nil {
		return fmt.Errorf("invalid address %q: %w", addr, err)
	}
	if host != "" && !validHost(host) {
		return fmt.Errorf("invalid address %q: bad host %q", addr, host)
	}
	return nil
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 0 to 65535", p)
	}
	return n, nil
}

// validHost accepts an IP address or a DNS host name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 || h == "" {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func (v *validator) corsOrigins(origins []string) error {
	for i, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return v.errorf(fmt.Sprintf("http.cors_origins[%d]", i), "invalid origin %q (want \"*\" or like https://example.com)", o)
		}
	}
	return nil
}

func (v *validator) rtsp(r *RTSP) error {
	for _, a := range []struct{ key, addr string }{
		{"rtsp.address", r.Address},
		{"rtsp.udp_rtp_address", r.UDPRTPAddress},
		{"rtsp.udp_rtcp_address", r.UDPRTCPAddress},
	} {
		if err := v.address(a.key, a.addr); err != nil {
			return err
		}
	}
	if r.Enabled && len(r.Transports) == 0 {
		return v.errorf("rtsp.transports", "must list at least one of udp, tcp")
	}
	for i, t := range r.Transports {
		k := fmt.Sprintf("rtsp.transports[%d]", i)
		if err := v.oneOf(k, t, TransportUDP, TransportTCP); err != nil {
			return err
		}
		if slices.Index(r.Transports, t) != i {
			return v.errorf(k, "duplicate transport %q", t)
		}
	}
	if r.Enabled && len(r.AuthMethods) == 0 {
		return v.errorf("rtsp.auth_methods", "must list at least one of basic, digest")
	}
	for i, m := range r.AuthMethods {
		k := fmt.Sprintf("rtsp.auth_methods[%d]", i)
		if err := v.oneOf(k, m, RTSPAuthBasic, RTSPAuthDigest); err != nil {
			return err
		}
		if slices.Index(r.AuthMethods, m) != i {
			return v.errorf(k, "duplicate method %q", m)
		}
	}
	if slices.Contains(r.Transports, TransportUDP) {
		// RTP/RTCP over UDP use an even port and the next one (RFC 3550).
		_, rp, _ := net.SplitHostPort(r.UDPRTPAddress)
		_, cp, _ := net.SplitHostPort(r.UDPRTCPAddress)
		rtp, _ := parsePort(rp)
		rtcp, _ := parsePort(cp)
		if rtp != 0 || rtcp != 0 {
			if rtp%2 != 0 {
				return v.errorf("rtsp.udp_rtp_address", "RTP port %d must be even", rtp)
			}
			if rtcp != rtp+1 {
				return v.errorf(v.pick("rtsp.udp_rtcp_address", "rtsp.udp_rtp_address"), "RTCP port %d must be the RTP port + 1 (%d)", rtcp, rtp+1)
			}
		}
	}
	return nil
}

func (v *validator) webrtc(w *WebRTC) error {
	if err := v.address("webrtc.ice_udp_address", w.ICEUDPAddress); err != nil {
		return err
	}
	if w.ICETCPAddress != "" { // empty disables ICE over TCP
		if err := v.address("webrtc.ice_tcp_address", w.ICETCPAddress); err != nil {
			return err
		}
	}
	for i, s := range w.STUNServers {
		rest, ok := "", false
		for _, p := range []string{"stun:", "stuns:"} {
			if r, found := strings.CutPrefix(s, p); found {
				rest, ok = r, true
			}
		}
		host := rest
		if h, port, err := net.SplitHostPort(rest); err == nil {
			host = h
			if _, err := parsePort(port); err != nil {
				ok = false
			}
		}
		if !ok || !validHost(host) {
			return v.errorf(fmt.Sprintf("webrtc.stun_servers[%d]", i), "invalid STUN server %q (want like stun:stun.example.com:3478)", s)
		}
	}
	for i, h := range w.AdditionalHosts {
		if !validHost(h) {
			return v.errorf(fmt.Sprintf("webrtc.additional_hosts[%d]", i), "invalid host %q (want an IP address or host name)", h)
		}
	}
	return nil
}

// hls checks an effective hls section; prefix is "hls" or a rule's
// "paths[i].hls".
func (v *validator) hls(prefix string, h HLS) error {
	k := func(name string) string { return prefix + "." + name }
	if err := v.oneOf(k("variant"), h.Variant, HLSVariantLowLatency, HLSVariantFMP4, HLSVariantMPEGTS); err != nil {
		return err
	}
	if h.SegmentDuration <= 0 {
		return v.errorf(k("segment_duration"), "must be greater than 0")
	}
	if h.PartDuration <= 0 {
		return v.errorf(k("part_duration"), "must be greater than 0")
	}
	if h.PartDuration > h.SegmentDuration {
		return v.errorf(v.pick(k("part_duration"), k("segment_duration")),
			"part_duration %s must not exceed segment_duration %s", h.PartDuration, h.SegmentDuration)
	}
	if h.SegmentCount < 3 {
		return v.errorf(k("segment_count"), "must be at least 3 (players need 3 segments to start), got %d", h.SegmentCount)
	}
	if h.EndedKeep < 0 {
		return v.errorf(k("ended_keep"), "must not be negative")
	}
	if h.DVRWindow != 0 && h.DVRWindow < h.SegmentDuration {
		return v.errorf(v.pick(k("dvr_window"), k("segment_duration")),
			"dvr_window %s must be 0 (disabled) or at least segment_duration %s", h.DVRWindow, h.SegmentDuration)
	}
	if strings.TrimSpace(h.Directory) == "" {
		return v.errorf(k("directory"), "must not be empty")
	}
	return nil
}

// recordPathVerbs are the % specifiers record.path understands.
var recordPathVerbs = []string{"%path", "%Y", "%m", "%d", "%H", "%M", "%S", "%f", "%s", "%%"}

// record checks an effective record section; prefix is "record" or a rule's
// "paths[i].record".
func (v *validator) record(prefix string, r Record) error {
	k := func(name string) string { return prefix + "." + name }
	if err := v.oneOf(k("format"), r.Format, RecordFormatFMP4, RecordFormatMPEGTS); err != nil {
		return err
	}
	if r.SegmentDuration <= 0 {
		return v.errorf(k("segment_duration"), "must be greater than 0")
	}
	if r.PartDuration <= 0 {
		return v.errorf(k("part_duration"), "must be greater than 0")
	}
	if r.PartDuration > r.SegmentDuration {
		return v.errorf(v.pick(k("part_duration"), k("segment_duration")),
			"part_duration %s must not exceed segment_duration %s", r.PartDuration, r.SegmentDuration)
	}
	if strings.TrimSpace(r.Directory) == "" {
		return v.errorf(k("directory"), "must not be empty")
	}
	if err := checkRecordPath(r.Path); err != nil {
		return v.wrap(k("path"), err)
	}
	if r.QueueBytes <= 0 {
		return v.errorf(k("queue_bytes"), "must be greater than 0")
	}
	return nil
}

// recordTarget checks that a record section's target names a configured
// storage target.
func (v *validator) recordTarget(c *Config, prefix string, r Record) error {
	if r.Target == "" {
		return nil
	}
	if _, ok := c.Storage.Target(r.Target); !ok {
		names := make([]string, 0, len(c.Storage.Targets))
		for _, t := range c.Storage.Targets {
			names = append(names, t.Name)
		}
		return v.errorf(v.pick(prefix+".target", "record.target"), "unknown storage target %q (storage.targets: %s)", r.Target, strings.Join(names, ", "))
	}
	return nil
}

func checkRecordPath(p string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("must not be empty")
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return fmt.Errorf("invalid path %q: must be relative to record.directory, with / separators", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid path %q: empty, . or .. element", p)
		}
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		ok := false
		for _, verb := range recordPathVerbs {
			if strings.HasPrefix(p[i:], verb) {
				i += len(verb) - 1
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("invalid path %q: unknown specifier at %q (known: %s)", p, p[i:], strings.Join(recordPathVerbs, " "))
		}
	}
	return nil
}

// ValidatePathName reports whether p is usable as a stream path name. It is
// the media core's rule (stream.ValidPath), so config rules, protocols and
// the file system agree on what a path is.
func ValidatePathName(p string) error { return stream.ValidPath(p) }

// checkURL validates a pull source (hls true) or forward target URL.
func checkURL(s string, hls bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", s, err)
	}
	schemes := "rtsp, rtsps, rtmp, rtmps, srt"
	if hls {
		schemes += ", http, https (HLS)"
	}
	switch strings.ToLower(u.Scheme) {
	case "rtsp", "rtsps", "rtmp", "rtmps", "srt":
	case "http", "https":
		if !hls {
			return fmt.Errorf("invalid URL %q: scheme %q not supported (want %s)", s, u.Scheme, schemes)
		}
		if !strings.HasSuffix(strings.ToLower(u.Path), ".m3u8") {
			return fmt.Errorf("invalid URL %q: an http(s) source must be an HLS playlist ending in .m3u8", s)
		}
	default:
		return fmt.Errorf("invalid URL %q: scheme %q not supported (want %s)", s, u.Scheme, schemes)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("invalid URL %q: missing host", s)
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return fmt.Errorf("invalid URL %q: %w", s, err)
		}
	}
	return nil
}

// paths checks the rules and compiles their regular expressions.
func (v *validator) paths(c *Config) error {
	seen := map[string]int{}
	for i := range c.Paths {
		r := &c.Paths[i]
		p := fmt.Sprintf("paths[%d]", i)
		k := func(name string) string { return p + "." + name }
		switch {
		case r.Name != "" && r.Pattern != "":
			return v.errorf(k("pattern"), "set either name or pattern, not both")
		case r.Name == "" && r.Pattern == "":
			return v.errorf(p, "a rule needs a name (exact path) or a pattern")
		case r.Name != "":
			if err := ValidatePathName(r.Name); err != nil {
				return v.wrap(k("name"), err)
			}
		default:
			r.re = nil
			if expr, ok := strings.CutPrefix(r.Pattern, "~"); ok {
				if expr == "" {
					return v.errorf(k("pattern"), "empty regular expression after ~")
				}
				re, err := regexp.Compile(expr)
				if err != nil {
					return v.errorf(k("pattern"), "invalid regular expression %q: %w", expr, err)
				}
				r.re = re
			} else if _, err := path.Match(r.Pattern, ""); err != nil {
				return v.errorf(k("pattern"), "invalid glob %q: %w", r.Pattern, err)
			}
		}
		which := "name"
		if r.Name == "" {
			which = "pattern"
		}
		id := which + "\x00" + r.key()
		if j, dup := seen[id]; dup {
			return v.errorf(k(which), "duplicate %s %q (also paths[%d])", which, r.key(), j)
		}
		seen[id] = i
		if err := v.rule(c, r, p); err != nil {
			return err
		}
	}
	return nil
}

// rule checks one rule's own keys and its merged record/hls sections.
func (v *validator) rule(c *Config, r *PathRule, p string) error {
	k := func(name string) string { return p + "." + name }
	if r.Source != "" {
		if err := checkURL(r.Source, true); err != nil {
			return v.wrap(k("source"), err)
		}
	} else if r.SourceOnDemand {
		return v.errorf(k("source_on_demand"), "needs a source")
	}
	if r.PublishPass != "" && r.PublishUser == "" {
		return v.errorf(k("publish_pass"), "needs publish_user")
	}
	if r.ReadPass != "" && r.ReadUser == "" {
		return v.errorf(k("read_pass"), "needs read_user")
	}
	for i, f := range r.Forward {
		if err := checkURL(f, false); err != nil {
			return v.wrap(fmt.Sprintf("%s[%d]", k("forward"), i), err)
		}
	}
	if n := len(r.SRTPassphrase); n != 0 && (n < 10 || n > 79) {
		return v.errorf(k("srt_passphrase"), "must be 10 to 79 characters long (SRT), got %d", n)
	}
	if err := v.qc(k("qc"), r.QC); err != nil {
		return err
	}
	res := c.resolve(r)
	if err := v.ruleLive(c, r, res, p); err != nil {
		return err
	}
	if r.Record != nil {
		if err := v.record(k("record"), res.Record); err != nil {
			return err
		}
		if err := v.recordTarget(c, k("record"), res.Record); err != nil {
			return err
		}
	}
	if r.HLS != nil {
		if err := v.hls(k("hls"), res.HLS); err != nil {
			return err
		}
		for i, l := range r.HLS.Ladder {
			lk := fmt.Sprintf("%s.ladder[%d]", k("hls"), i)
			if err := ValidatePathName(l); err != nil {
				return v.wrap(lk, err)
			}
			if l == r.Name {
				return v.errorf(lk, "a path cannot be a rendition of itself")
			}
		}
	}
	return nil
}
