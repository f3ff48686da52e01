// Package subtitles turns a transcript with word times into subtitles the
// way a subtitler would cut them — at most two lines of 42 characters,
// one to seven seconds on screen, broken at pauses and sentence ends,
// never overlapping — and delivers them: WebVTT and SRT files, burnt into
// the picture with ffmpeg's subtitles filter, muxed as a soft track
// (mov_text in MP4, WebVTT in WebM), and translated cue by cue through a
// chat endpoint with the times kept. Run implements the "subtitles"
// operation for the ai package's registry.
package subtitles
