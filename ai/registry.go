package ai

import (
	"context"
	"net/http"

	"mps/ai/openai"
	"mps/ai/speech"
	"mps/internal/config"
	"mps/internal/vod"
)

// Registry is what a feature's registration function gets: the config,
// the endpoints' clients, and where to add its operation types.
type Registry struct {
	cfg     *config.Config
	hc      *http.Client
	exts    map[string]vod.Extension
	clients map[*config.AIProvider]*openai.Client
	opts    options
}

// Option adjusts what Extensions builds.
type Option func(*options)

type options struct {
	onTranscript func(ctx context.Context, input string, t *speech.Transcript)
}

// WithTranscripts passes every transcript a speech operation makes to fn
// (the server indexes recording segments for search with it).
func WithTranscripts(fn func(ctx context.Context, input string, t *speech.Transcript)) Option {
	return func(o *options) { o.onTranscript = fn }
}

// Extensions returns the operation types of this package, keyed by type,
// configured from cfg. hc carries the HTTP transport for the external
// endpoints (the server's guarded client); nil uses the default client.
func Extensions(cfg *config.Config, hc *http.Client, opts ...Option) map[string]vod.Extension {
	r := &Registry{cfg: cfg, hc: hc, exts: map[string]vod.Extension{}, clients: map[*config.AIProvider]*openai.Client{}}
	for _, o := range opts {
		o(&r.opts)
	}
	registerSpeech(r)
	registerVision(r)
	registerAnalysis(r)
	return r.exts
}

// Add registers ext for operation type typ.
func (r *Registry) Add(typ string, ext vod.Extension) { r.exts[typ] = ext }

// Config is the config the extensions are built from.
func (r *Registry) Config() *config.Config { return r.cfg }

// Transcription returns the client of the configured transcription
// endpoint, or nil when none is set (use the local engine). Every feature
// gets the same client per endpoint, so the endpoint's concurrency bound
// holds across features.
func (r *Registry) Transcription() *openai.Client { return r.client(r.cfg.AI.Providers.Transcription) }

// Chat returns the chat endpoint's client, or nil; see Transcription.
func (r *Registry) Chat() *openai.Client { return r.client(r.cfg.AI.Providers.Chat) }

// Moderation returns the moderation endpoint's client, or nil; see
// Transcription.
func (r *Registry) Moderation() *openai.Client { return r.client(r.cfg.AI.Providers.Moderation) }

func (r *Registry) client(p *config.AIProvider) *openai.Client {
	if p == nil || p.BaseURL == "" {
		return nil
	}
	if c, ok := r.clients[p]; ok {
		return c
	}
	c := openai.New(*p, r.hc)
	r.clients[p] = c
	return c
}
