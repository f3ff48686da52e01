package ai

import (
	"mps/ai/speech"
	"mps/ai/subtitles"
	"mps/internal/vod"
)

// registerSpeech adds the "subtitles" operation: pocketsphinx locally, the
// transcription endpoint when configured, translation through the chat
// endpoint.
func registerSpeech(r *Registry) {
	run := &subtitles.Runner{Local: &speech.Local{}, OnTranscript: r.opts.onTranscript}
	if c := r.Transcription(); c != nil {
		run.External = &speech.External{Client: c}
	}
	if c := r.Chat(); c != nil {
		run.Translator = &subtitles.Translator{Client: c}
	}
	r.Add(vod.TypeSubtitles, run)
}
