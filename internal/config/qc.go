package config

// QC is a path rule's live quality control (`qc:`): cheap checks on the
// compressed units of the stream (PTS, frame rate, bitrate, keyframe
// interval) and one low-rate decode for black, frozen and silent spans,
// exported as metrics and stream.qc events. Zero thresholds take the
// defaults in brackets.
type QC struct {
	// Enabled turns live QC on for the paths the rule matches.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Decode is which pictures the checker decodes for black and freeze:
	// keyframes (cheapest: one picture per GOP) or all [keyframes].
	Decode string `yaml:"decode" json:"decode,omitempty"`
	// Black, Freeze and Silence are how long a problem must last before it
	// starts [1s, 2s, 1s].
	Black   Duration `yaml:"black" json:"black"`
	Freeze  Duration `yaml:"freeze" json:"freeze"`
	Silence Duration `yaml:"silence" json:"silence"`
	// LoudnessMin is the short-term loudness (LUFS) below which the sound
	// counts as too quiet, above silence [-45].
	LoudnessMin float64 `yaml:"loudness_min" json:"loudness_min"`
	// FPSDrop is the share of the nominal frame rate under which the frame
	// rate counts as dropped [0.8].
	FPSDrop float64 `yaml:"fps_drop" json:"fps_drop"`
	// BitrateCollapse is the share of the running mean bitrate under which
	// the bitrate counts as collapsed [0.2].
	BitrateCollapse float64 `yaml:"bitrate_collapse" json:"bitrate_collapse"`
	// KeyframeInterval is the longest allowed time between keyframes [10s].
	KeyframeInterval Duration `yaml:"keyframe_interval" json:"keyframe_interval"`
	// PTSJump is the largest allowed jump between consecutive timestamps
	// of a track [1s].
	PTSJump Duration `yaml:"pts_jump" json:"pts_jump"`
}

// QC decode modes.
const (
	QCDecodeKeyframes = "keyframes"
	QCDecodeAll       = "all"
)
