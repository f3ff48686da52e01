// Package ai is the media-AI layer of MPS: operations that understand
// what is in a file or a stream — subtitles from speech, transcripts and
// their search, highlights, summaries, regions of interest, content audit,
// quality evaluation. Each runs locally with what Debian and Go modules
// provide, and can send its model calls to an OpenAI-compatible endpoint
// configured in ai.providers instead.
//
// The foundation (internal/vod) only describes these operation types; it
// runs them through vod.Env.Extensions. This package builds that map:
// Extensions calls one small registration function per feature (each in
// its own file, registerSpeech in speech_ext.go and so on), which reads the
// config and adds the feature's operation types. The composition root
// (server, `mps process`) puts the map into the vod.Env it hands the task
// service, so templates, schemes, API tasks and the command line all run
// the same code.
package ai
