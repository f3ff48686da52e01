package ai

import (
	"testing"

	"mps/ai/subtitles"
	"mps/internal/config"
	"mps/internal/vod"
)

func TestExtensions(t *testing.T) {
	for _, tc := range []struct {
		name               string
		providers          config.AIProviders
		external, translat bool
	}{
		{"local only", config.AIProviders{}, false, false},
		{"endpoints", config.AIProviders{
			Transcription: &config.AIProvider{BaseURL: "http://127.0.0.1:9", Model: "whisper-1"},
			Chat:          &config.AIProvider{BaseURL: "http://127.0.0.1:9", Model: "llm"},
		}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.AI.Providers = tc.providers
			exts := Extensions(cfg, nil)
			r, ok := exts[vod.TypeSubtitles].(*subtitles.Runner)
			if !ok {
				t.Fatalf("no subtitles extension in %v", exts)
			}
			if (r.External != nil) != tc.external || (r.Translator != nil) != tc.translat || r.Local == nil {
				t.Errorf("runner %+v", r)
			}
		})
	}
}
