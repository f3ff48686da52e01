// Package watermark turns a watermark template (a PNG logo or a line of
// text, placed in a corner) into an ffmpeg filter_complex fragment, so the
// live ladder and the VOD templates burn in the same marks the same way.
//
// Build returns the fragment and the extra ffmpeg inputs it needs (the
// image file, read as a single frame that overlay repeats); the caller
// splices them into its own argument list. Nothing
// here runs ffmpeg or a shell: text and paths are escaped for ffmpeg's
// filtergraph parser, which is the only interpreter they pass through.
package watermark
