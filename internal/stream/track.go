package stream

import "fmt"

// Codec names the encoding of a track's payload. Its string form is the
// lower-case name used in the API and the config.
type Codec string

// Codecs carried by the core. Video payloads are lists of NAL units (H.264,
// H.265) or OBUs/frames (AV1, VP8, VP9); audio payloads are lists of frames.
const (
	CodecH264 Codec = "h264"
	CodecH265 Codec = "h265"
	CodecAV1  Codec = "av1"
	CodecVP8  Codec = "vp8"
	CodecVP9  Codec = "vp9"
	CodecAAC  Codec = "aac"
	CodecOpus Codec = "opus"
	CodecPCMA Codec = "pcma" // G.711 A-law
	CodecPCMU Codec = "pcmu" // G.711 µ-law
	CodecMP3  Codec = "mp3"
)

// IsVideo reports whether the codec carries pictures.
func (c Codec) IsVideo() bool {
	switch c {
	case CodecH264, CodecH265, CodecAV1, CodecVP8, CodecVP9:
		return true
	}
	return false
}

// Track describes one elementary stream of a Stream. A Track is created by
// the publisher before the Stream and is not changed afterwards: parameter
// sets that change mid-stream travel in-band inside the units, as they do on
// the wire, and consumers that need them out of band read the Track's copy.
type Track struct {
	// ID is the track's index in Stream.Tracks.
	ID int
	// Codec is the payload encoding.
	Codec Codec
	// ClockRate is the RTP-style clock of the codec (90000 for video, the
	// sample rate for most audio, 48000 for Opus). Protocol adapters use it
	// to convert timestamps; Units themselves carry time.Duration.
	ClockRate int

	// Width and Height are the picture size in pixels, when known.
	Width, Height int
	// VPS, SPS and PPS are the H.265/H.264 parameter sets, without start
	// codes. VPS is only set for H.265.
	VPS, SPS, PPS []byte
	// CodecData holds the codec's out-of-band configuration for codecs that
	// have one: the AV1 sequence header OBU, the VP9 codec private data.
	CodecData []byte

	// SampleRate and Channels describe audio tracks.
	SampleRate, Channels int
	// AudioConfig is the MPEG-4 AudioSpecificConfig of an AAC track.
	AudioConfig []byte
}

// IsVideo reports whether the track carries pictures.
func (t *Track) IsVideo() bool { return t.Codec.IsVideo() }

// String describes the track for logs, e.g. "h264 1280x720" or "aac 48000Hz 2ch".
func (t *Track) String() string {
	if t.IsVideo() {
		if t.Width > 0 {
			return fmt.Sprintf("%s %dx%d", t.Codec, t.Width, t.Height)
		}
		return string(t.Codec)
	}
	if t.SampleRate > 0 {
		return fmt.Sprintf("%s %dHz %dch", t.Codec, t.SampleRate, t.Channels)
	}
	return string(t.Codec)
}
