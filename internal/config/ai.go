package config

// AI configures the media-AI operations (ai/): which engine answers each
// kind of request. Every capability works with the local engines that
// `make deps` installs; a provider set here sends that kind of request to an
// OpenAI-compatible endpoint instead (whisper.cpp's server, a
// faster-whisper server, a hosted API, a local LLM server).
type AI struct {
	Providers AIProviders `yaml:"providers" json:"providers"`
	// Audit holds the content audit's blocklists.
	Audit AIAudit `yaml:"audit" json:"audit"`
}

// AIAudit configures the content audit (template type audit).
type AIAudit struct {
	// Lists are the labelled blocklists that on-screen text (OCR) and
	// transcript words are matched against.
	Lists []AuditList `yaml:"lists" json:"lists,omitempty"`
}

// AuditList is one labelled blocklist: a match of any of its words or
// regular expressions suggests Suggestion for the file.
type AuditList struct {
	// Label names the list in the audit result ("profanity", "brand").
	Label string `yaml:"label" json:"label"`
	// Words match whole words, case-insensitively.
	Words []string `yaml:"words" json:"words,omitempty"`
	// Regexps are Go regular expressions matched against each word and
	// each OCR line (add (?i) for case-insensitive).
	Regexps []string `yaml:"regexps" json:"regexps,omitempty"`
	// Suggestion is review (a person looks) or block (schemes skip the
	// file's later operations).
	Suggestion string `yaml:"suggestion" json:"suggestion"`
}

// AIProviders names the external endpoint for each kind of request; a nil
// entry keeps the local engine (for chat: the local extractive fallback).
type AIProviders struct {
	// Transcription answers POST {base_url}/v1/audio/transcriptions.
	Transcription *AIProvider `yaml:"transcription" json:"transcription,omitempty"`
	// Chat answers POST {base_url}/v1/chat/completions (summaries,
	// translation).
	Chat *AIProvider `yaml:"chat" json:"chat,omitempty"`
	// Moderation answers POST {base_url}/v1/moderations (content audit).
	Moderation *AIProvider `yaml:"moderation" json:"moderation,omitempty"`
}

// AIProvider is one OpenAI-compatible endpoint.
type AIProvider struct {
	// BaseURL is the endpoint's root, without /v1 ("http://gpu1:8080").
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Model is sent as the request's model field.
	Model string `yaml:"model" json:"model"`
	// APIKeyEnv names the environment variable that holds the API key
	// (sent as Authorization: Bearer); the key itself never sits in the
	// file, so /api/v1/config cannot show it.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// Timeout bounds one request (default 2m).
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Concurrency is how many requests may be in flight at once (default 2).
	Concurrency int `yaml:"concurrency" json:"concurrency"`
}

// LiveSubtitles is a path rule's `subtitles` section: speech recognition
// on the path's live audio, served as cues while the stream runs.
type LiveSubtitles struct {
	// Enabled runs one recogniser per published stream of the path.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Language is the spoken language (BCP 47, default en); the local
	// engine needs a model for it.
	Language string `yaml:"language" json:"language,omitempty"`
}
