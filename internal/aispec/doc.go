// Package aispec holds the settings of the media-AI operations (subtitles,
// highlights, summaries, ROI, erase, audit, quality) as the config and task
// requests spell them.
//
// The specs live in the foundation, apart from the code in ai/ that runs
// them, because they are part of the one config model: a template in
// configs/mps.yaml, an inline operation of a scheme and a JSON task request
// all decode into internal/vod.Operation, whose AI fields are these types.
// Each spec validates itself without touching a file, so a bad template is
// refused when the config loads and a bad request before it is queued.
// Nothing here runs a model or a process.
package aispec
