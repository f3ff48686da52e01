package config

import (
	"testing"
	"time"
)

func TestListenerSettingErrors(t *testing.T) {
	runParseErrorCases(t, []parseErrorCase{
		{"cert without key", "http:\n  tls_cert_file: c.pem\n", 2, "http.tls_cert_file", "must be set together"},
		{"key without cert", "rtmp:\n  enabled: true\n  tls_key_file: k.pem\n", 3, "rtmp.tls_key_file", "must be set together"},
		{"rtsps with udp", "rtsp:\n  transports: [udp, tcp]\n  tls_cert_file: c.pem\n  tls_key_file: k.pem\n", 2, "rtsp.transports", "TCP only"},
		{"negative cap", "srt:\n  max_connections_per_ip: -1\n", 2, "srt.max_connections_per_ip", "must not be negative"},
		{"tiny body cap", "http:\n  max_body_size: 10\n", 2, "http.max_body_size", "at least 1KiB"},
		{"zero idle", "http:\n  idle_timeout: 0s\n", 2, "http.idle_timeout", "at least 100ms"},
		{"zero write timeout", "rtmp:\n  write_timeout: 0s\n", 2, "rtmp.write_timeout", "at least 100ms"},
		{"bad allowlist", "tasks:\n  url_allowlist: [\"10.0.0.0/99\"]\n", 2, "tasks.url_allowlist[0]", "want a CIDR"},
	})
}

func TestListenerSettingsFromEnv(t *testing.T) {
	c, err := ParseEnv("t.yaml", nil, []string{"MPS_RTMP_WRITE_TIMEOUT=3s", "MPS_HTTP_MAX_CONNECTIONS_PER_IP=7", "MPS_TASKS_URL_ALLOWLIST=10.0.0.0/8,hooks:80"})
	if err != nil {
		t.Fatal(err)
	}
	if c.RTMP.WriteTimeout.D() != 3*time.Second || c.HTTP.MaxConnectionsPerIP != 7 || len(c.Tasks.URLAllowlist) != 2 {
		t.Fatalf("env not applied: %+v %+v %v", c.RTMP.IOTimeouts, c.HTTP.ConnLimits, c.Tasks.URLAllowlist)
	}
}
