// Package hls packages live streams as HLS for browsers and set-top players:
// Low-Latency HLS (fMP4/CMAF parts, blocking playlist reload, preload hints,
// rendition reports), plain fMP4 HLS and MPEG-TS HLS, a multivariant
// playlist across the renditions of an ABR ladder, a DVR window on disk and
// VOD playlists for files. The same fMP4 segments are described for
// MPEG-DASH players by PATH/index.mpd (dash.go, written by internal/dash).
//
// One muxer per path is a stream.Reader on the path's ring: it cuts the
// units into parts and segments on keyframes and keeps them in memory (or,
// for a DVR window, on disk). Muxers start when a stream is published
// (always-on paths) or at the first HTTP request, and stop after an idle
// period, so a path nobody watches costs nothing.
//
// The media playlists are written here rather than by gohlslib's Muxer
// because the packager needs things that muxer does not do: rendition
// reports across sibling paths of a ladder, a time-out on blocking reloads,
// ENDLIST when a file ends, and a DVR window whose length is set in time.
// gohlslib's playlist package is used to marshal the playlists, and
// mediacommon's fMP4 and MPEG-TS writers produce the media, except the
// fMP4 parts (moof+mdat), which marshalPart writes byte for byte as
// mediacommon would, without its reflection.
//
// Latency with players as they ship: a player starts PART-HOLD-BACK (two
// part targets) behind the edge of the first playlist it loads and, like
// hls.js by default, stays at that distance, so the part duration sets
// most of the latency, and the part target is what the parts really last.
// BenchmarkBrowserGlassToGlass measures it in Chromium.
package hls
