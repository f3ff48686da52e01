// Package ai will hold the media AI operations of MPS — subtitles from
// speech (pocketsphinx), highlights, summaries, regions of interest (pigo
// face detection driving x264's addroi), content audit and quality
// evaluation — each running locally with what Debian and Go modules provide,
// and pluggable to an OpenAI-compatible endpoint. No operation is
// implemented yet: the package exists so the layout of DESIGN.md is in place
// for the issue that brings them.
package ai
