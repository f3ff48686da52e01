package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseErrors checks that every class of error names the file, the line
// of the offending key and the key path.
func TestParseErrors(t *testing.T) {
	cases := []parseErrorCase{
		// Unknown keys.
		{"unknown top-level key", "log:\n  level: info\nfoo: 1\n", 3, "foo", `unknown key "foo"`},
		{"unknown nested key", "rtmp:\n  enabled: true\n  adress: x\n", 3, "rtmp.adress", `unknown key "adress" (valid keys: enabled, address, read_timeout, write_timeout, max_connections, max_connections_per_ip, tls_cert_file, tls_key_file)`},
		{"unknown key in path rule", "paths:\n  - name: a\n    bogus: 1\n", 3, "paths[0].bogus", `unknown key "bogus"`},
		{"unknown key in second rule", "paths:\n  - name: a\n  - name: b\n    publish_usr: x\n", 4, "paths[1].publish_usr", "unknown key"},
		{"unknown key in rule record", "paths:\n  - name: a\n    record:\n      enabled: true\n      formatt: x\n", 5, "paths[0].record.formatt", "unknown key"},
		{"unknown key in rule hls", "paths:\n  - name: a\n    hls:\n      ladders: [b]\n", 4, "paths[0].hls.ladders", "unknown key"},
		{"duplicate key", "rtmp:\n  address: ':1'\n  address: ':2'\n", 3, "rtmp.address", "duplicate"},

		// Wrong types.
		{"string for bool", "rtmp:\n  enabled: yes please\n", 2, "rtmp.enabled", "expected true or false"},
		{"list for string", "rtmp:\n  address: [a]\n", 2, "rtmp.address", "expected a string, got a list"},
		{"word for int", "hls:\n  segment_count: many\n", 2, "hls.segment_count", "expected an integer"},
		{"scalar for list", "rtsp:\n  transports: udp\n", 2, "rtsp.transports", "expected a list"},
		{"scalar for section", "log: {}\nrtmp: 5\n", 2, "rtmp", "expected a mapping"},
		{"mapping for paths", "paths:\n  name: a\n", 1, "paths", "expected a list"},
		{"scalar for rule", "paths:\n  - live/a\n", 2, "paths[0]", "expected a mapping"},
		{"mapping for duration", "srt:\n  latency: {a: 1}\n", 2, "srt.latency", "expected a scalar"},
		{"bad duration", "hls:\n  part_duration: fast\n", 2, "hls.part_duration", `invalid duration "fast"`},
		{"number without unit", "hls:\n  close_after: 60\n", 2, "hls.close_after", "invalid duration"},
		{"negative duration", "srt:\n  latency: -5ms\n", 2, "srt.latency", "must not be negative"},
		{"bad size", "record:\n  queue_bytes: 12XB\n", 2, "record.queue_bytes", `invalid size "12XB"`},
		{"negative size", "record:\n  max_bytes: -1\n", 2, "record.max_bytes", "must not be negative"},

		// Bad values (semantic validation).
		{"bad address", "\nrtmp:\n  address: abc\n", 3, "rtmp.address", `invalid address "abc"`},
		{"bad port", "http:\n  address: ':99999'\n", 2, "http.address", "port"},
		{"bad host", "srt:\n  address: 'bad host!:1'\n", 2, "srt.address", "bad host"},
		{"bad rtsp udp address", "rtsp:\n  udp_rtp_address: x\n", 2, "rtsp.udp_rtp_address", "invalid address"},
		{"bad ice address", "webrtc:\n  ice_udp_address: '8189'\n", 2, "webrtc.ice_udp_address", "invalid address"},
		{"unknown log level", "log:\n  level: loud\n", 2, "log.level", `invalid value "loud" (want one of: debug, info, warn, error)`},
		{"unknown log format", "log:\n  format: xml\n", 2, "log.format", "invalid value"},
		{"unknown hls variant", "hls:\n  variant: dash\n", 2, "hls.variant", `invalid value "dash"`},
		{"hls part > segment", "hls:\n  segment_duration: 1s\n  part_duration: 2s\n", 3, "hls.part_duration", "must not exceed segment_duration"},
		{"hls segment < default part", "hls:\n  segment_duration: 50ms\n", 2, "hls.segment_duration", "must not exceed"},
		{"hls zero part", "hls:\n  part_duration: 0s\n", 2, "hls.part_duration", "greater than 0"},
		{"hls segment count", "hls:\n  segment_count: 2\n", 2, "hls.segment_count", "at least 3"},
		{"hls dvr window", "hls:\n  dvr_window: 10ms\n", 2, "hls.dvr_window", "at least segment_duration"},
		{"record format", "record:\n  format: mkv\n", 2, "record.format", `invalid value "mkv"`},
		{"record part > segment", "record:\n  segment_duration: 1s\n  part_duration: 2s\n", 3, "record.part_duration", "must not exceed"},
		{"record path absolute", "record:\n  path: /etc/x\n", 2, "record.path", "relative"},
		{"record path dotdot", "record:\n  path: a/../../x\n", 2, "record.path", ".."},
		{"storage target kind", "storage:\n  targets:\n    - name: a\n      kind: ftp\n", 4, "storage.targets[0].kind", "want one of"},
		{"storage s3 without bucket", "storage:\n  targets:\n    - name: a\n      kind: s3\n      endpoint: h:9000\n", 3, "storage.targets[0].bucket", "needs a bucket"},
		{"storage endpoint with scheme", "storage:\n  targets:\n    - name: a\n      kind: s3\n      endpoint: http://h:9000\n      bucket: b\n", 5, "storage.targets[0].endpoint", "without a scheme"},
		{"storage duplicate name", "storage:\n  targets:\n    - {name: a, kind: local, dir: x}\n    - {name: a, kind: local, dir: y}\n", 4, "storage.targets[1].name", "duplicate"},
		{"record path specifier", "record:\n  path: '%path/%Q'\n", 2, "record.path", "unknown specifier"},
		{"record unknown target", "storage:\n  targets:\n    - {name: nas, kind: local, dir: x}\nrecord:\n  target: archive\n", 5, "record.target", `unknown storage target "archive" (storage.targets: nas)`},
		{"rule record unknown target", "paths:\n  - name: a\n    record:\n      enabled: true\n      target: archive\n", 5, "paths[0].record.target", `unknown storage target "archive"`},
		{"rule record keep_local type", "paths:\n  - name: a\n    record:\n      keep_local: maybe\n", 4, "paths[0].record.keep_local", "expected true or false"},
		{"record queue zero", "record:\n  queue_bytes: 0\n", 2, "record.queue_bytes", "greater than 0"},
		{"empty data dir", "storage:\n  data_dir: ''\n", 2, "storage.data_dir", "must not be empty"},
		{"ring size", "stream:\n  ring_size: 1000\n", 2, "stream.ring_size", "power of two"},
		{"rtsp transport", "rtsp:\n  transports: [udp, quic]\n", 2, "rtsp.transports[1]", `invalid value "quic"`},
		{"rtsp transport on own line", "rtsp:\n  transports:\n    - tcp\n    - quic\n", 4, "rtsp.transports[1]", `invalid value "quic"`},
		{"rtsp no transports", "rtsp:\n  transports: []\n", 2, "rtsp.transports", "at least one"},
		{"rtp port odd", "rtsp:\n  udp_rtp_address: ':8001'\n  udp_rtcp_address: ':8002'\n", 2, "rtsp.udp_rtp_address", "must be even"},
		{"rtcp port", "rtsp:\n  udp_rtcp_address: ':9000'\n", 2, "rtsp.udp_rtcp_address", "RTP port + 1"},
		{"cors origin", "http:\n  cors_origins: ['*', 'example.com']\n", 2, "http.cors_origins[1]", "invalid origin"},
		{"stun server", "webrtc:\n  stun_servers: [stun.example.com]\n", 2, "webrtc.stun_servers[0]", "invalid STUN server"},
		{"additional host", "webrtc:\n  additional_hosts:\n    - 1.2.3.4\n    - 'no such host!'\n", 4, "webrtc.additional_hosts[1]", "invalid host"},

		// Path rules.
		{"rule with name and pattern", "paths:\n  - name: a\n    pattern: b/*\n", 3, "paths[0].pattern", "not both"},
		{"rule with neither", "paths:\n  - name: a\n  - source_retry: 2s\n", 3, "paths[1]", "needs a name"},
		{"bad regex", "paths:\n  - name: a\n  - pattern: live/*\n  - pattern: '~live/('\n", 4, "paths[2].pattern", "invalid regular expression"},
		{"bad glob", "paths:\n  - pattern: 'live/['\n", 2, "paths[0].pattern", "invalid glob"},
		{"bad rule name", "paths:\n  - name: /live/a\n", 2, "paths[0].name", "invalid path name"},
		{"dotdot rule name", "paths:\n  - name: live/../a\n", 2, "paths[0].name", "invalid path name"},
		{"duplicate rule name", "paths:\n  - name: a\n  - name: b\n  - name: a\n", 4, "paths[2].name", "duplicate name"},
		{"bad source scheme", "paths:\n  - name: a\n    source: ftp://host/x\n", 3, "paths[0].source", `scheme "ftp" not supported`},
		{"http source not m3u8", "paths:\n  - name: a\n    source: http://host/x.mp4\n", 3, "paths[0].source", ".m3u8"},
		{"source without host", "paths:\n  - name: a\n    source: rtsp:///x\n", 3, "paths[0].source", "missing host"},
		{"on demand without source", "paths:\n  - name: a\n    source_on_demand: true\n", 3, "paths[0].source_on_demand", "needs a source"},
		{"pass without user", "paths:\n  - name: a\n    read_pass: x\n", 3, "paths[0].read_pass", "needs read_user"},
		{"bad forward", "paths:\n  - name: a\n    forward:\n      - rtmp://h/a\n      - https://h/x.m3u8\n", 5, "paths[0].forward[1]", "not supported"},
		{"srt passphrase short", "paths:\n  - name: a\n    srt_passphrase: short\n", 3, "paths[0].srt_passphrase", "10 to 79"},
		{"rule record part > inherited segment", "paths:\n  - name: a\n    record:\n      part_duration: 2h\n", 4, "paths[0].record.part_duration", "must not exceed segment_duration 1h"},
		{"rule record format", "paths:\n  - name: a\n    record:\n      format: avi\n", 4, "paths[0].record.format", `invalid value "avi"`},
		{"rule hls variant", "paths:\n  - name: a\n    hls:\n      variant: x\n", 4, "paths[0].hls.variant", "invalid value"},
		{"rule hls ladder", "paths:\n  - name: a\n    hls:\n      ladder: [a/720p, ../x]\n", 4, "paths[0].hls.ladder[1]", "invalid path name"},
		{"rule duration", "paths:\n  - name: a\n    source_retry: soon\n", 3, "paths[0].source_retry", "invalid duration"},
	}
	runParseErrorCases(t, cases)
}

func TestParseSyntaxErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unclosed flow", "rtmp:\n  address: [\n", "t.yaml:"},
		{"bad indent", "rtmp:\n  address: ':1'\n   enabled: true\n", "t.yaml:"},
		{"two documents", "rtmp: {}\n---\nsrt: {}\n", "t.yaml:3: only one YAML document"},
		{"unknown alias", "rtmp:\n  address: *nope\n", "t.yaml:"},
		{"anchor at top", "base: &b {enabled: true}\n", `t.yaml:1: base: unknown key`},
		{"merge key", "rtmp:\n  <<: {enabled: true}\n", `t.yaml:2: rtmp: merge keys`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Line == 0 {
				t.Fatalf("want an *Error with a line, got %#v", err)
			}
		})
	}
}

func TestParseAnchorsAndEmpty(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("paths:\n  - name: a\n    forward: &f [rtmp://h/a]\n  - name: b\n    forward: *f\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Rule("b").Forward; len(got) != 1 || got[0] != "rtmp://h/a" {
		t.Fatalf("alias not resolved: %v", got)
	}
	for _, data := range []string{"", "# only a comment\n", "log:\n"} {
		cfg, err := Parse("t.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if !cfg.Equal(Defaults()) {
			t.Fatalf("%q does not give the defaults", data)
		}
	}
}

func TestLoadNamesFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mps.yaml")
	if err := os.WriteFile(file, []byte("rtmp:\n  address: abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file)
	if err == nil || !strings.HasPrefix(err.Error(), file+":2: rtmp.address: invalid address \"abc\"") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestLoadOrDefault(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("MPS_RTMP_ADDRESS", "127.0.0.1:19350")

	cfg, file, err := LoadOrDefault("")
	if err != nil || file != "" {
		t.Fatalf("no file: %v %q", err, file)
	}
	if cfg.RTMP.Address != "127.0.0.1:19350" || cfg.HLS.SegmentCount != 7 {
		t.Fatalf("defaults with env: %+v", cfg.RTMP)
	}

	if err := os.WriteFile(DefaultFile, []byte("srt:\n  address: ':9999'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, file, err = LoadOrDefault("")
	if err != nil || file != DefaultFile || cfg.SRT.Address != ":9999" || cfg.RTMP.Address != "127.0.0.1:19350" {
		t.Fatalf("./mps.yaml: %v %q %+v", err, file, cfg)
	}

	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte("srt:\n  address: ':1'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, file, err = LoadOrDefault(other)
	if err != nil || file != other || cfg.SRT.Address != ":1" {
		t.Fatalf("-c other: %v %q", err, file)
	}
	if _, _, err := LoadOrDefault(filepath.Join(dir, "nope.yaml")); err == nil {
		t.Fatal("a named missing file must be an error")
	}
}

func TestValidateInCode(t *testing.T) {
	cfg := Defaults()
	cfg.RTMP.Address = "nope"
	err := cfg.Validate()
	if err == nil || err.Error() != `rtmp.address: invalid address "nope": address nope: missing port in address` {
		t.Fatalf("err = %v", err)
	}
}

// TestOrigins: every key set in the file is reported at its line, a key
// from the environment by its variable, and a key left out not at all.
func TestOrigins(t *testing.T) {
	data := "rtmp:\n  address: 127.0.0.1:1936\npaths:\n  - name: live/a\n    record:\n      enabled: true\n"
	cfg, err := ParseEnv("mps.yaml", []byte(data), []string{"MPS_HLS_SEGMENT_COUNT=9"})
	if err != nil {
		t.Fatal(err)
	}
	file, keys := cfg.Origins()
	if file != "mps.yaml" {
		t.Fatalf("file = %q", file)
	}
	for k, want := range map[string]string{
		"rtmp.address": "mps.yaml:2", "paths[0].record.enabled": "mps.yaml:6", "hls.segment_count": "$MPS_HLS_SEGMENT_COUNT",
	} {
		if keys[k] != want {
			t.Errorf("origin of %s = %q, want %q", k, keys[k], want)
		}
	}
	if _, ok := keys["srt.address"]; ok {
		t.Error("a key left at its default has an origin")
	}
	again, _ := ParseEnv("other.yaml", []byte("\n\n"+data), nil)
	again.HLS.SegmentCount = 9
	if !cfg.Equal(again) {
		t.Error("the same settings at other lines are not Equal")
	}
}
