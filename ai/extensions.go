package ai

import (
	"net/http"

	"mps/internal/config"
	"mps/internal/vod"
)

// Extensions returns the operation types this package implements, keyed
// by type, for vod.Env.Extensions. hc carries the transport for external
// providers (the SSRF guard's, in the server).
func Extensions(cfg *config.Config, hc *http.Client) map[string]vod.Extension {
	m := map[string]vod.Extension{}
	registerVision(m, cfg, hc)
	return m
}
