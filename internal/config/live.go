package config

import "time"

// This file holds the live-processing settings: transcoding ladders,
// watermark templates and snapshots. They mirror the transcode package's
// Ladder, Rung, watermark.Template and SnapshotRule field for field, but are
// this package's own types so that config stays free of media code; the
// server maps one onto the other.

// Transcode is the live transcoder's configuration: how many ffmpeg ladders
// may run at once and the named ladders a path rule can ask for with
// `transcode: NAME`.
type Transcode struct {
	// MaxTranscoders caps the ladders running at once; a path asking for
	// one beyond it is not transcoded (with an event). Encoding is by far
	// the most expensive thing MPS does: at x264 veryfast a 2-core machine
	// runs one 720p 3-rung ladder.
	MaxTranscoders int `yaml:"max_transcoders" json:"max_transcoders"`
	// Ladders are the available ladders by name. A ladder costs nothing
	// until a path rule names it.
	Ladders map[string]Ladder `yaml:"ladders" json:"ladders"`
}

// Ladder is an adaptive-bitrate ladder: the renditions to make of a live
// stream. Its name is its key in Transcode.Ladders.
type Ladder struct {
	// GOP is the keyframe interval of every encoded rung; rungs switch
	// cleanly only when their keyframes fall at the same instants.
	GOP Duration `yaml:"gop" json:"gop"`
	// Watermark names an entry of the watermarks section burnt into every
	// encoded rung (drawn once, before scaling); empty for none.
	Watermark string `yaml:"watermark" json:"watermark,omitempty"`
	// Rungs are published as PATH/NAME (live/cam1/720p).
	Rungs []Rung `yaml:"rungs" json:"rungs"`
}

// Rung is one rendition of a ladder.
type Rung struct {
	// Name is the last element of the rendition's path ("720p").
	Name string `yaml:"name" json:"name"`
	// Width and Height are the picture size; with one of them 0 it follows
	// the source's aspect ratio, with both 0 the source size is kept.
	Width  int `yaml:"width" json:"width"`
	Height int `yaml:"height" json:"height"`
	// VideoBitrate is the target and MaxBitrate the cap (MaxBitrate 0 means
	// VideoBitrate; both 0 means constant quality).
	VideoBitrate Bitrate `yaml:"video_bitrate" json:"video_bitrate"`
	MaxBitrate   Bitrate `yaml:"max_bitrate" json:"max_bitrate"`
	// FPS caps the frame rate; 0 keeps the source's.
	FPS float64 `yaml:"fps" json:"fps"`
	// Codec is h264, h265 or source (pass the source through untouched).
	Codec string `yaml:"codec" json:"codec"`
	// Preset is the x264/x265 preset; Profile the encoder profile (empty
	// leaves it to the encoder).
	Preset  string `yaml:"preset" json:"preset"`
	Profile string `yaml:"profile" json:"profile,omitempty"`
	// AudioCodec is aac, opus, none, or empty to copy the source's audio.
	AudioCodec   string  `yaml:"audio_codec" json:"audio_codec,omitempty"`
	AudioBitrate Bitrate `yaml:"audio_bitrate" json:"audio_bitrate"`
	// Watermark names a watermark for this rung only, drawn after scaling
	// (over the ladder's watermark when both are set).
	Watermark string `yaml:"watermark" json:"watermark,omitempty"`
	// ROI gives faces found in the live picture more of this rung's bits
	// (x264 regions of interest); nil for none. h264 rungs only.
	ROI *RungROI `yaml:"roi" json:"roi,omitempty"`
}

// RungROI is a rung's region-of-interest encoding: faces are looked for on
// frames sampled every SampleInterval, followed between samples, and
// encoded with QOffset (negative: a lower quantiser, more bits) at the same
// total bitrate.
type RungROI struct {
	// Faces looks for faces (pigo's cascade); the only region kind so far,
	// so it must be true.
	Faces bool `yaml:"faces" json:"faces"`
	// QOffset is the quantiser offset inside the face boxes, from -1 to
	// 0 exclusive; 0 means DefaultROIQOffset.
	QOffset float64 `yaml:"qoffset" json:"qoffset,omitempty"`
	// SampleInterval is the time between two searched frames, from
	// MinROISampleInterval to MaxROISampleInterval; 0 means
	// DefaultROISampleInterval.
	SampleInterval Duration `yaml:"sample_interval" json:"sample_interval,omitempty"`
}

// Defaults and bounds of a rung's roi keys.
const (
	DefaultROIQOffset        = -0.4
	DefaultROISampleInterval = Duration(time.Second)
	MinROISampleInterval     = Duration(100 * time.Millisecond)
	MaxROISampleInterval     = Duration(10 * time.Second)
)

// Rung codecs and audio codecs accepted in a ladder.
const (
	CodecH264   = "h264"
	CodecH265   = "h265"
	CodecSource = "source"

	AudioCodecAAC  = "aac"
	AudioCodecOpus = "opus"
	AudioCodecNone = "none"
	AudioCodecCopy = ""
)

// Defaults of ladder and rung keys left out of the file.
const (
	DefaultLadderGOP  = Duration(2 * time.Second)
	DefaultRungCodec  = CodecH264
	DefaultRungPreset = "veryfast"
	// MaxLadderGOP bounds gop: past it players wait too long to start.
	MaxLadderGOP = Duration(20 * time.Second)
)

// setDefaults gives a ladder decoded from the file its per-ladder defaults.
func (l *Ladder) setDefaults() { *l = Ladder{GOP: DefaultLadderGOP} }

// setDefaults gives a rung decoded from the file its per-rung defaults.
func (r *Rung) setDefaults() { *r = Rung{Codec: DefaultRungCodec, Preset: DefaultRungPreset} }

// Watermark is a named watermark template: a PNG image or a line of text
// placed against a corner of the picture. Its name is its key in
// Config.Watermarks.
type Watermark struct {
	// Type is image or text.
	Type string `yaml:"type" json:"type"`
	// Image is the PNG file of an image watermark (its alpha is kept); a
	// relative path is under storage.data_dir.
	Image string `yaml:"image" json:"image,omitempty"`
	// Corner is TopLeft, TopRight, BottomLeft or BottomRight; X and Y are
	// the offsets from it towards the centre, in pixels ("10") or percent
	// of the picture's width/height ("5%").
	Corner string `yaml:"corner" json:"corner"`
	X      string `yaml:"x" json:"x,omitempty"`
	Y      string `yaml:"y" json:"y,omitempty"`
	// Width scales an image watermark, in pixels or percent of the
	// picture's width, keeping its aspect; empty keeps its own size.
	Width string `yaml:"width" json:"width,omitempty"`
	// Opacity is from 0 (exclusive) to 1 (opaque).
	Opacity float64 `yaml:"opacity" json:"opacity"`
	// Text is the line of a text watermark; %{localtime}, %{gmtime},
	// %{pts}, %{frame_num} and %{timecode} expand.
	Text string `yaml:"text" json:"text,omitempty"`
	// FontSize is the text height in pixels; 0 is the transcoder's default.
	FontSize int `yaml:"font_size" json:"font_size,omitempty"`
	// FontColor and BoxColor are ffmpeg colours (white, #RRGGBB, 0xRRGGBB,
	// optionally @ALPHA); empty uses the transcoder's default.
	FontColor string `yaml:"font_color" json:"font_color,omitempty"`
	// Box draws a filled box behind the text.
	Box      bool   `yaml:"box" json:"box"`
	BoxColor string `yaml:"box_color" json:"box_color,omitempty"`
	// Font is a TrueType file; empty uses the transcoder's default font.
	Font string `yaml:"font" json:"font,omitempty"`
}

// Watermark types and corners.
const (
	WatermarkImage = "image"
	WatermarkText  = "text"

	CornerTopLeft     = "TopLeft"
	CornerTopRight    = "TopRight"
	CornerBottomLeft  = "BottomLeft"
	CornerBottomRight = "BottomRight"
)

// setDefaults gives a watermark decoded from the file its defaults.
func (w *Watermark) setDefaults() { *w = Watermark{Corner: CornerTopLeft, Opacity: 1} }

// Snapshots configures periodic JPEG pictures of live streams, global and
// (through SnapshotsOverride) per path, for thumbnails and monitoring.
type Snapshots struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Interval is the least time between two pictures; a picture is taken
	// at the first keyframe after it.
	Interval Duration `yaml:"interval" json:"interval"`
	// Width scales pictures to this width keeping the aspect; 0 keeps the
	// source's.
	Width int `yaml:"width" json:"width"`
	// Quality is the JPEG quality as ffmpeg's -q:v: 2 (best) to 31.
	Quality int `yaml:"quality" json:"quality"`
	// Keep is how many timestamped pictures are kept besides the latest.
	Keep int `yaml:"keep" json:"keep"`
}

// SnapshotsOverride is a partial snapshots section; a nil field inherits
// the global value.
type SnapshotsOverride struct {
	Enabled  *bool     `yaml:"enabled" json:"enabled,omitempty"`
	Interval *Duration `yaml:"interval" json:"interval,omitempty"`
	Width    *int      `yaml:"width" json:"width,omitempty"`
	Quality  *int      `yaml:"quality" json:"quality,omitempty"`
	Keep     *int      `yaml:"keep" json:"keep,omitempty"`
}
