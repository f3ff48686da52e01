package ai

import (
	"net/http"

	"mps/internal/config"
	"mps/internal/vod"
)

// Extensions returns the operation types ai/ runs, keyed as
// vod.Env.Extensions expects, built for cfg. hc carries the transport of
// the external providers (the server passes its SSRF-guarded client).
func Extensions(cfg *config.Config, hc *http.Client) map[string]vod.Extension {
	m := map[string]vod.Extension{}
	registerAnalysis(m, cfg, hc)
	return m
}
