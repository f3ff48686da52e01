package server

import (
	"context"
	"net/http"
	"os/exec"
	"time"

	"mps/ai/ffmeta"
	"mps/internal/config"
	"mps/internal/httpjson"
	"mps/internal/redact"
)

// capabilities is what this node can do for media processing, detected
// once at start: the ffmpeg in use, the local engines installed, and which
// AI requests go to a local engine or an external endpoint.
type capabilities struct {
	FFmpeg ffmeta.Capabilities `json:"ffmpeg"`
	// Notes explain metrics that are missing ("no libvmaf").
	Notes []string `json:"notes,omitempty"`
	// Tools reports the local engines on PATH.
	Tools map[string]bool `json:"tools"`
	// Providers says, per kind of AI request, local or external.
	Providers map[string]providerInfo `json:"providers"`
	// DetectError is set when ffmpeg could not be asked.
	DetectError string `json:"detect_error,omitempty"`
}

// providerInfo is one kind of AI request's engine.
type providerInfo struct {
	// Kind is local or external.
	Kind string `json:"kind"`
	// Engine names the local engine.
	Engine string `json:"engine,omitempty"`
	// BaseURL (secrets hidden) and Model of an external endpoint.
	BaseURL string `json:"base_url,omitempty"`
	Model   string `json:"model,omitempty"`
}

// detectCapabilities asks ffmpeg and looks for the local engines.
func detectCapabilities() capabilities {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c capabilities
	caps, err := ffmeta.Detect(ctx)
	if err != nil {
		c.DetectError = err.Error()
	}
	c.FFmpeg = caps
	if !caps.VMAF {
		c.Notes = append(c.Notes, "VMAF unavailable: this ffmpeg is built without libvmaf (Debian's is); quality reports PSNR and SSIM")
	}
	if !caps.MSSSIM {
		c.Notes = append(c.Notes, "MS-SSIM unavailable: this ffmpeg has no MS-SSIM filter")
	}
	c.Tools = map[string]bool{}
	for _, t := range []string{"ffmpeg", "ffprobe", "tesseract", "pocketsphinx_continuous"} {
		_, err := exec.LookPath(t)
		c.Tools[t] = err == nil
	}
	return c
}

// providers maps ai.providers to local or external per kind of request.
func providers(cfg *config.Config) map[string]providerInfo {
	p := cfg.AI.Providers
	out := map[string]providerInfo{}
	for _, k := range []struct {
		name, local string
		ext         *config.AIProvider
	}{
		{"transcription", "pocketsphinx", p.Transcription},
		{"chat", "extractive", p.Chat},
		{"moderation", "blocklists", p.Moderation},
	} {
		if k.ext == nil {
			out[k.name] = providerInfo{Kind: "local", Engine: k.local}
			continue
		}
		out[k.name] = providerInfo{Kind: "external", BaseURL: redact.URL(k.ext.BaseURL), Model: k.ext.Model}
	}
	return out
}

// apiCapabilities answers GET /api/v1/capabilities.
func (s *Server) apiCapabilities(w http.ResponseWriter, r *http.Request) {
	c := s.caps
	c.Providers = providers(s.Config())
	httpjson.Write(w, http.StatusOK, c)
}
