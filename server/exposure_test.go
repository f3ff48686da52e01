package server

import (
	"log/slog"
	"strings"
	"testing"
)

// TestWarnsOpenAPIOnAllInterfaces checks the start-up warning for an API
// reachable from anywhere with CORS "*", and its absence otherwise. The
// check runs on the config (tests bind loopback only); Start calls it.
func TestWarnsOpenAPIOnAllInterfaces(t *testing.T) {
	for _, tc := range []struct {
		name, addr string
		cors       []string
		api, warn  bool
	}{
		{"all interfaces", ":8080", []string{"*"}, true, true},
		{"0.0.0.0", "0.0.0.0:8080", []string{"*"}, true, true},
		{"::", "[::]:8080", []string{"*"}, true, true},
		{"loopback", "127.0.0.1:8080", []string{"*"}, true, false},
		{"named origin", ":8080", []string{"https://app.example"}, true, false},
		{"api off", ":8080", []string{"*"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.HTTP.Address, cfg.HTTP.CORSOrigins, cfg.API.Enabled = tc.addr, tc.cors, tc.api
			buf := &logBuffer{}
			s := New(cfg, slog.New(slog.NewTextHandler(buf, nil)))
			s.warnExposure(cfg)
			got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "all interfaces")
			if got != tc.warn {
				t.Fatalf("warned = %v, want %v; log %q", got, tc.warn, buf.String())
			}
		})
	}
	// A real start on loopback gives no warning.
	s, logs := startLoggedServer(t, testConfig(t))
	_ = s
	if strings.Contains(logs.String(), "all interfaces") {
		t.Fatal("warned for a loopback listener")
	}
}
