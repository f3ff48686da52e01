// Package tsconv converts between MPEG-TS byte streams and the media core's
// tracks and units, so that every part of MPS that speaks MPEG-TS (SRT
// ingest and egress, the recorder's mpegts format, the transcoder's ffmpeg
// pipes, file ingest) shares one tested implementation of the fiddly parts:
// 90 kHz timestamp conversion and 33-bit wrap, parameter sets that only
// travel in-band, ADTS framing, and one unit per audio frame.
//
// The container work itself is done by mediacommon's mpegts Reader and
// Writer; this package adapts them to stream.Track and stream.Unit.
package tsconv
