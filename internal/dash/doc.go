// Package dash writes MPEG-DASH manifests (MPDs, ISO/IEC 23009-1) that
// describe fragmented-MP4 (CMAF) segments which already exist for HLS, so
// DASH players (dash.js, Shaka, ExoPlayer, smart TVs) can play the same
// files and the same in-memory segments without a second copy.
//
// A Presentation is built by the caller from what it knows about its
// segments (start and duration of each, in a track time scale) and
// marshalled with encoding/xml: a static MPD for a finished package (VOD)
// or a dynamic one with a SegmentTimeline for a live window. Segment URLs
// are SegmentTemplate patterns with $Number$, so the manifest names the
// files the HLS playlists name.
package dash
