package transcode

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Video codecs of a rung.
const (
	CodecH264   = "h264"   // libx264 (the default)
	CodecH265   = "h265"   // libx265
	CodecSource = "source" // the source's own video and audio, not re-encoded
)

// DefaultGOP is the keyframe interval of every encoded rung when the ladder
// does not set one: rungs switch cleanly only if their keyframes fall at
// the same instants.
const DefaultGOP = 2 * time.Second

// Ladder is an adaptive-bitrate ladder: the renditions to make of a source.
type Ladder struct {
	// Name identifies the ladder in status and events.
	Name string `json:"name" yaml:"name"`
	// Rungs are published as PATH/RUNG.Name.
	Rungs []Rung `json:"rungs" yaml:"rungs"`
	// Watermark names a watermark template burnt into every encoded rung
	// (drawn once, before scaling).
	Watermark string `json:"watermark,omitempty" yaml:"watermark"`
	// GOP is the keyframe interval shared by all encoded rungs (default
	// DefaultGOP).
	GOP time.Duration `json:"gop,omitempty" yaml:"gop"`
	// OnDemand leaves the ladder stopped until a reader asks for one of
	// its rungs (Manager.Demand), and stops it CloseAfter after the
	// rungs' last reader left.
	OnDemand   bool          `json:"on_demand,omitempty" yaml:"on_demand"`
	CloseAfter time.Duration `json:"close_after,omitempty" yaml:"close_after"`
}

// Rung is one rendition.
type Rung struct {
	// Name is the last element of the rung's path ("720p").
	Name string `json:"name" yaml:"name"`
	// Width and Height are the picture size; when one is 0 it follows the
	// source's aspect ratio, when both are 0 the source size is kept.
	// Sizes are rounded down to even numbers.
	Width  int `json:"width,omitempty" yaml:"width"`
	Height int `json:"height,omitempty" yaml:"height"`
	// VideoBitrate is the target and MaxBitrate the cap, in bits/s
	// (MaxBitrate defaults to VideoBitrate; 0 for both means CRF 23).
	VideoBitrate int `json:"video_bitrate,omitempty" yaml:"video_bitrate"`
	MaxBitrate   int `json:"max_bitrate,omitempty" yaml:"max_bitrate"`
	// FPS caps the frame rate (0 keeps the source's).
	FPS float64 `json:"fps,omitempty" yaml:"fps"`
	// Codec is "h264" (default), "h265" or "source".
	Codec string `json:"codec,omitempty" yaml:"codec"`
	// Preset and Profile are the encoder's (default veryfast; profile
	// left to the encoder).
	Preset  string `json:"preset,omitempty" yaml:"preset"`
	Profile string `json:"profile,omitempty" yaml:"profile"`
	// AudioCodec is "aac", "opus", "none", or "" to copy the source's.
	AudioCodec   string `json:"audio_codec,omitempty" yaml:"audio_codec"`
	AudioBitrate int    `json:"audio_bitrate,omitempty" yaml:"audio_bitrate"`
	// Watermark names a watermark template for this rung only (drawn
	// after scaling, over the ladder's watermark if both are set).
	Watermark string `json:"watermark,omitempty" yaml:"watermark"`
	// ROI gives the faces found in the live picture more of the rung's
	// bits (h264 only); nil for none.
	ROI *RungROI `json:"roi,omitempty" yaml:"roi"`
}

var (
	rungNameRE = regexp.MustCompile(`^[A-Za-z0-9_.~-]{1,64}$`)
	wordRE     = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
)

// Validate checks the ladder before any ffmpeg is started for it.
func (l Ladder) Validate() error {
	if len(l.Rungs) == 0 {
		return fmt.Errorf("ladder %q: no rungs", l.Name)
	}
	if l.GOP < 0 || l.GOP > 20*time.Second {
		return fmt.Errorf("ladder %q: gop %v out of range (0..20s)", l.Name, l.GOP)
	}
	seen := map[string]bool{}
	for _, r := range l.Rungs {
		if !rungNameRE.MatchString(r.Name) || r.Name == "." || r.Name == ".." {
			return fmt.Errorf("ladder %q: rung name %q: use 1-64 letters, digits, _ . ~ -", l.Name, r.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("ladder %q: rung %q twice", l.Name, r.Name)
		}
		seen[r.Name] = true
		if err := r.validate(); err != nil {
			return fmt.Errorf("ladder %q rung %q: %w", l.Name, r.Name, err)
		}
	}
	return nil
}

func (r Rung) validate() error {
	switch r.Codec {
	case "", CodecH264, CodecH265, CodecSource:
	default:
		return fmt.Errorf("codec %q: want h264, h265 or source", r.Codec)
	}
	switch r.AudioCodec {
	case "", "aac", "opus", "none":
	default:
		return fmt.Errorf("audio codec %q: want aac, opus, none or empty (copy)", r.AudioCodec)
	}
	if r.Width < 0 || r.Height < 0 || r.Width > 8192 || r.Height > 8192 {
		return fmt.Errorf("size %dx%d out of range", r.Width, r.Height)
	}
	if r.VideoBitrate < 0 || r.MaxBitrate < 0 || r.AudioBitrate < 0 {
		return fmt.Errorf("negative bitrate")
	}
	if r.MaxBitrate > 0 && r.MaxBitrate < r.VideoBitrate {
		return fmt.Errorf("max_bitrate %d below video_bitrate %d", r.MaxBitrate, r.VideoBitrate)
	}
	if r.FPS < 0 || r.FPS > 240 {
		return fmt.Errorf("fps %v out of range", r.FPS)
	}
	for _, w := range []string{r.Preset, r.Profile} {
		if w != "" && !wordRE.MatchString(w) {
			return fmt.Errorf("preset/profile %q: one word expected", w)
		}
	}
	if r.ROI != nil {
		if r.codec() != CodecH264 {
			return fmt.Errorf("roi needs an h264 rung, not %s", r.codec())
		}
		if r.Preset == "ultrafast" {
			return errors.New("roi needs x264's adaptive quantisation, which preset ultrafast turns off")
		}
		return r.ROI.validate()
	}
	return nil
}

func (r Rung) codec() string {
	if r.Codec == "" {
		return CodecH264
	}
	return r.Codec
}

// size returns the rung's output size for a source of sw×sh (0 if
// unknown), with the aspect kept when one side is 0 and both sides even.
// A zero result means "as the source" or "unknown".
func (r Rung) size(sw, sh int) (int, int) {
	w, h := r.Width, r.Height
	switch {
	case w == 0 && h == 0:
		w, h = sw, sh
	case w == 0 && sh > 0:
		w = int(float64(h)*float64(sw)/float64(sh)/2+0.5) * 2
	case h == 0 && sw > 0:
		h = int(float64(w)*float64(sh)/float64(sw)/2+0.5) * 2
	}
	return w &^ 1, h &^ 1
}
