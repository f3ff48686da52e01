package quality

// Report is the quality evaluation's result: summaries, per-frame series,
// the named QC checks and the verdict.
type Report struct {
	// Verdict is pass when every evaluated check passed, else fail.
	Verdict string `json:"verdict"`
	// Failed names the checks that failed.
	Failed []string `json:"failed"`
	// Checks are every named check, evaluated or skipped.
	Checks []CheckResult `json:"checks"`
	// FullReference holds the metrics against the reference (absent
	// without one).
	FullReference *FullReference `json:"full_reference,omitempty"`
	// Video and Audio are the no-reference measures (absent when the input
	// has no such track).
	Video *VideoStats `json:"video,omitempty"`
	Audio *AudioStats `json:"audio,omitempty"`
	// Series are the per-frame (or per-sample) values behind the
	// summaries, for plots and tools.
	Series map[string]Series `json:"series"`
	// Plots are the SVG files drawn from the series.
	Plots []string `json:"plots,omitempty"`
	// Seconds is how long the evaluation took.
	Seconds float64 `json:"seconds"`
}

// Summary is the mean, minimum and maximum of a series.
type Summary struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// FullReference are the metrics of the input against the reference.
type FullReference struct {
	// PSNR is over Y, U and V weighted as ffmpeg weighs them; Mean is the
	// PSNR of the mean squared error over all frames, as ffmpeg's own
	// summary ("average:") computes it.
	PSNR Summary `json:"psnr"`
	// SSIM is the mean of the per-frame SSIM (All), as ffmpeg's summary.
	SSIM Summary `json:"ssim"`
	// MSSSIM is absent: ffmpeg 5.1 has no MS-SSIM filter (see Notes).
	MSSSIM *Summary `json:"ms_ssim"`
	// VMAF is present only when ffmpeg has libvmaf.
	VMAF *Summary `json:"vmaf"`
	// Frames is how many frame pairs were compared.
	Frames int `json:"frames"`
	// Notes say which metrics are unavailable and why.
	Notes []string `json:"notes,omitempty"`
}

// VideoStats are the no-reference picture and timing measures.
type VideoStats struct {
	Width, Height     int     `json:"-"`
	Resolution        string  `json:"resolution"`
	Frames            int     `json:"frames"`
	FPS               float64 `json:"fps"`
	NominalFPS        float64 `json:"nominal_fps"`
	PTSJitter         float64 `json:"pts_jitter"`
	DroppedFrames     int     `json:"dropped_frames"`
	DuplicatedShare   float64 `json:"duplicated_share"`
	FrozenShare       float64 `json:"frozen_share"`
	BlackShare        float64 `json:"black_share"`
	ResolutionChanges int     `json:"resolution_changes"`
	Blur              Summary `json:"blur"`
	Blockiness        Summary `json:"blockiness"`
	Noise             Summary `json:"noise"`
	SI                Summary `json:"si"`
	TI                Summary `json:"ti"`
	Brightness        Summary `json:"brightness"`
	Saturation        Summary `json:"saturation"`
	OutOfRange        Summary `json:"out_of_range"`
}

// AudioStats are the no-reference sound measures.
type AudioStats struct {
	// Integrated loudness (LUFS), loudness range (LU), true peak (dBTP).
	Loudness  float64 `json:"loudness"`
	LRA       float64 `json:"lra"`
	TruePeak  float64 `json:"true_peak"`
	Clipping  float64 `json:"clipping_share"`
	Silence   float64 `json:"silence_share"`
	Imbalance float64 `json:"channel_imbalance"`
	Channels  int     `json:"channels"`
}

// Series is one measured value over time.
type Series struct {
	Time  []float64 `json:"time"`
	Value []float64 `json:"value"`
}

// CheckResult is one named check of the verdict.
type CheckResult struct {
	Name      string   `json:"name"`
	Value     *float64 `json:"value"`
	Threshold float64  `json:"threshold"`
	// Limit is "max" when the value must not exceed the threshold, "min"
	// when it must not fall below it.
	Limit   string `json:"limit"`
	Pass    bool   `json:"pass"`
	Skipped string `json:"skipped,omitempty"`
	Doc     string `json:"doc"`
}

func summarize(v []float64) Summary {
	if len(v) == 0 {
		return Summary{}
	}
	s := Summary{Min: v[0], Max: v[0]}
	sum := 0.0
	for _, x := range v {
		sum += x
		s.Min, s.Max = min(s.Min, x), max(s.Max, x)
	}
	s.Mean = round4(sum / float64(len(v)))
	return s
}
