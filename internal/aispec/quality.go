package aispec

import (
	"fmt"
	"sort"
	"strings"
)

// QualitySpec configures a quality evaluation: full-reference metrics
// against Reference when one is given, no-reference picture and sound
// measures always, and a QC verdict from named checks.
type QualitySpec struct {
	// Reference is the original the input is compared with (PSNR, SSIM,
	// MS-SSIM when available, VMAF when ffmpeg has libvmaf); empty runs
	// the no-reference measures only. It must have the input's duration
	// and picture size.
	Reference string `json:"reference,omitempty" yaml:"reference,omitempty"`
	// Checks overrides the thresholds of named QC checks (see
	// QualityChecks); a check set to its "off" value is skipped.
	Checks map[string]float64 `json:"checks,omitempty" yaml:"checks,omitempty"`
	// Disable lists checks not to evaluate.
	Disable []string `json:"disable,omitempty" yaml:"disable,omitempty"`
	// Plots writes SVG plots of the per-frame series (default true).
	Plots *bool `json:"plots,omitempty" yaml:"plots,omitempty"`
}

// QualityCheck is one named QC check: a measured value compared with a
// threshold.
type QualityCheck struct {
	// Name is how templates and reports spell the check.
	Name string
	// Threshold is the default limit.
	Threshold float64
	// Max means the value must not exceed the threshold (else it must not
	// fall below it).
	Max bool
	// Doc says what is measured, for the report.
	Doc string
}

// QualityChecks are the named QC checks with their default thresholds.
// Checks whose measure is not available for an input (PSNR without a
// reference, loudness without audio) are reported as skipped.
var QualityChecks = []QualityCheck{
	{"psnr_min", 35, false, "mean PSNR against the reference (dB)"},
	{"psnr_frame_min", 25, false, "lowest per-frame PSNR (dB)"},
	{"ssim_min", 0.95, false, "mean SSIM against the reference"},
	{"ssim_frame_min", 0.85, false, "lowest per-frame SSIM"},
	{"blur_max", 10, true, "mean blur (blurdetect)"},
	{"blockiness_max", 30, true, "mean blockiness (blockdetect)"},
	{"noise_max", 10, true, "mean luma difference to a 3x3 median-filtered copy (640 px wide, 2 frames/s)"},
	{"brightness_min", 16, false, "mean luma (YAVG)"},
	{"brightness_max", 235, true, "mean luma (YAVG)"},
	{"out_of_range_max", 0.05, true, "share of pixels out of broadcast range (TOUT)"},
	{"black_frames_max", 0.1, true, "share of black frames"},
	{"frozen_frames_max", 0.1, true, "share of frozen frames"},
	{"fps_min", 20, false, "measured frame rate"},
	{"pts_jitter_max", 0.005, true, "standard deviation of frame intervals (s)"},
	{"dropped_frames_max", 0, true, "frames missing from the timeline"},
	{"duplicated_frames_max", 0.1, true, "share of duplicated pictures"},
	{"resolution_changes_max", 0, true, "picture size changes"},
	{"loudness_min", -30, false, "integrated loudness (LUFS)"},
	{"loudness_max", -10, true, "integrated loudness (LUFS)"},
	{"true_peak_max", -1, true, "true peak (dBTP)"},
	{"clipping_max", 0.001, true, "share of 0.1 s windows with runs of samples at full scale"},
	{"silence_max", 0.2, true, "share of time silent"},
	{"channel_imbalance_max", 6, true, "level difference between channels (dB)"},
}

// Validate checks the settings without touching a file.
func (s *QualitySpec) Validate() error {
	known := map[string]bool{}
	for _, c := range QualityChecks {
		known[c.Name] = true
	}
	var bad []string
	for n := range s.Checks {
		if !known[n] {
			bad = append(bad, n)
		}
	}
	for _, n := range s.Disable {
		if !known[n] {
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("unknown quality check %s (known: %s)", strings.Join(bad, ", "), strings.Join(checkNames(), " "))
	}
	return nil
}

func checkNames() []string {
	var out []string
	for _, c := range QualityChecks {
		out = append(out, c.Name)
	}
	return out
}
