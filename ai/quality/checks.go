package quality

import (
	"slices"

	"mps/internal/aispec"
)

// measure returns the value a named check looks at, or why it is skipped.
func measure(name string, r *Report) (float64, string) {
	fr, v, a := r.FullReference, r.Video, r.Audio
	switch name {
	case "psnr_min", "psnr_frame_min", "ssim_min", "ssim_frame_min":
		if fr == nil {
			return 0, "no reference"
		}
		return map[string]float64{"psnr_min": fr.PSNR.Mean, "psnr_frame_min": fr.PSNR.Min,
			"ssim_min": fr.SSIM.Mean, "ssim_frame_min": fr.SSIM.Min}[name], ""
	case "loudness_min", "loudness_max", "true_peak_max", "clipping_max", "silence_max", "channel_imbalance_max":
		if a == nil {
			return 0, "no audio"
		}
		if name == "channel_imbalance_max" && a.Channels < 2 {
			return 0, "mono"
		}
		return map[string]float64{"loudness_min": a.Loudness, "loudness_max": a.Loudness, "true_peak_max": a.TruePeak,
			"clipping_max": a.Clipping, "silence_max": a.Silence, "channel_imbalance_max": a.Imbalance}[name], ""
	}
	if v == nil {
		return 0, "no video"
	}
	return map[string]float64{
		"blur_max": v.Blur.Mean, "blockiness_max": v.Blockiness.Mean, "noise_max": v.Noise.Mean,
		"brightness_min": v.Brightness.Mean, "brightness_max": v.Brightness.Mean, "out_of_range_max": v.OutOfRange.Mean,
		"black_frames_max": v.BlackShare, "frozen_frames_max": v.FrozenShare, "fps_min": v.FPS,
		"pts_jitter_max": v.PTSJitter, "dropped_frames_max": float64(v.DroppedFrames),
		"duplicated_frames_max": v.DuplicatedShare, "resolution_changes_max": float64(v.ResolutionChanges),
	}[name], ""
}

// evaluate runs every named check with the spec's thresholds.
func evaluate(spec aispec.QualitySpec, r *Report) ([]CheckResult, []string) {
	var out []CheckResult
	failed := []string{}
	for _, c := range aispec.QualityChecks {
		res := CheckResult{Name: c.Name, Threshold: c.Threshold, Limit: "min", Doc: c.Doc, Pass: true}
		if c.Max {
			res.Limit = "max"
		}
		if t, ok := spec.Checks[c.Name]; ok {
			res.Threshold = t
		}
		if slices.Contains(spec.Disable, c.Name) {
			res.Skipped = "disabled"
			out = append(out, res)
			continue
		}
		v, skip := measure(c.Name, r)
		if skip != "" {
			res.Skipped = skip
			out = append(out, res)
			continue
		}
		v = round4(v)
		res.Value = &v
		if c.Max {
			res.Pass = v <= res.Threshold
		} else {
			res.Pass = v >= res.Threshold
		}
		if !res.Pass {
			failed = append(failed, c.Name)
		}
		out = append(out, res)
	}
	return out, failed
}
