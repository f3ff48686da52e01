package server

import (
	"net/http"

	"mps/internal/config"
	"mps/internal/ssrf"
)

// urlClient is the HTTP client for every URL fetched on a user's behalf
// (task inputs, webhooks): it refuses private destinations unless
// tasks.allow_private_urls or tasks.url_allowlist allows them. The config
// was validated, so the allowlist parses.
func (s *Server) urlClient(cfg *config.Config) *http.Client {
	g, err := ssrf.New(ssrf.Options{AllowPrivate: cfg.Tasks.AllowPrivateURLs, Allow: cfg.Tasks.URLAllowlist})
	if err != nil {
		s.log.Error("tasks.url_allowlist ignored", "error", err)
		g, _ = ssrf.New(ssrf.Options{AllowPrivate: cfg.Tasks.AllowPrivateURLs})
	}
	return g.Client(0)
}
