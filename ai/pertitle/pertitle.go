// Package pertitle picks an adaptive ladder per title (the adaptive
// template's ladder: auto): short trial encodes of sampled scenes at
// several resolutions and CRFs are measured against the source (SSIM and
// PSNR after scaling back; VMAF is not used because Debian's ffmpeg has no
// libvmaf), the upper convex hull of quality over bitrate gives the
// cheapest resolution and bitrate for each quality target, and the same
// measure taken on the fixed ladder's rungs says how much bitrate the
// chosen ladder saves at equal measured quality.
package pertitle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"mps/ai/ffmeta"
	"mps/internal/vod"
)

// Search holds the trial grid; zero fields take the defaults.
type Search struct {
	// Heights are the candidate picture heights [1080 720 540 360 240],
	// limited to the source's.
	Heights []int
	// CRFs are the x264 constant-quality points tried at each height
	// [20 25 30 35 40].
	CRFs []int
	// Samples and SampleSeconds: how many scenes, evenly spread, of what
	// length make the trial clip [3 × 2 s].
	Samples       int
	SampleSeconds float64
}

// DefaultTargets are the SSIM targets of an auto ladder without rungs to
// compare with.
var DefaultTargets = []float64{0.99, 0.98, 0.96, 0.93}

// Report is the search's result, the adaptive operation's Report.
type Report struct {
	// Rungs is the chosen ladder, highest first, as the adaptive
	// operation encodes it.
	Rungs []vod.Rung `json:"rungs"`
	// Chosen are the rungs with the quality the search expects of them.
	Chosen []Point `json:"chosen"`
	// Fixed is the comparison ladder (the spec's rungs) as measured.
	Fixed []Point `json:"fixed,omitempty"`
	// SavedPercent is how much less total bitrate the chosen ladder needs
	// than the fixed one at equal measured SSIM (absent without rungs).
	SavedPercent *float64 `json:"saved_percent,omitempty"`
	// Trials are every trial encode; OnHull marks the convex hull.
	Trials []Point `json:"trials"`
	// Metric is the quality measure the choice used.
	Metric string `json:"metric"`
	// SampleSeconds is the length of the trial clip.
	SampleSeconds float64 `json:"sample_seconds"`
}

// Point is one encode: its size, rate and measured quality.
type Point struct {
	Name    string  `json:"name,omitempty"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	CRF     int     `json:"crf,omitempty"`
	Bitrate float64 `json:"bitrate"` // bits per second
	SSIM    float64 `json:"ssim"`
	PSNR    float64 `json:"psnr,omitempty"`
	OnHull  bool    `json:"on_hull,omitempty"`
}

// run is one search.
type run struct {
	s        Search
	spec     *vod.AdaptiveSpec
	input    string
	tmp      string
	info     *vod.MediaInfo
	sample   string
	dur      float64
	preset   string
	progress func(float64)
}

// Run searches the ladder for input. spec is the adaptive operation's
// settings: its QualityTargets, or else its Rungs measured, are the
// targets.
func (s Search) Run(ctx context.Context, spec *vod.AdaptiveSpec, input, outDir string, progress func(float64)) (Report, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	s = s.withDefaults()
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return Report{}, err
	}
	if !info.HasVideo() || info.Height <= 0 {
		return Report{}, errors.New("input has no video for a ladder")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Report{}, err
	}
	tmp, err := os.MkdirTemp(outDir, ".pertitle-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(tmp)
	r := &run{s: s, spec: spec, input: input, tmp: tmp, info: info, preset: spec.Preset, progress: progress}
	if r.preset == "" {
		r.preset = "veryfast"
	}
	if err := r.makeSample(ctx); err != nil {
		return Report{}, err
	}
	return r.search(ctx)
}

func (s Search) withDefaults() Search {
	if len(s.Heights) == 0 {
		s.Heights = []int{1080, 720, 540, 360, 240}
	}
	if len(s.CRFs) == 0 {
		s.CRFs = []int{20, 25, 30, 35, 40}
	}
	if s.Samples <= 0 {
		s.Samples = 3
	}
	if s.SampleSeconds <= 0 {
		s.SampleSeconds = 2
	}
	return s
}

// makeSample cuts the sampled scenes, evenly spread, into one lossless
// clip that every trial encodes and is measured against.
func (r *run) makeSample(ctx context.Context) error {
	d := r.info.Duration
	n, seg := r.s.Samples, r.s.SampleSeconds
	if float64(n)*seg >= d {
		n, seg = 1, d
	}
	var args []string
	for i := range n {
		start := (d - seg) * (float64(i) + 0.5) / float64(n)
		args = append(args, "-ss", ftoa(start), "-t", ftoa(seg), "-i", r.input)
	}
	graph := ""
	for i := range n {
		graph += fmt.Sprintf("[%d:v:0]setsar=1,format=yuv420p[s%d];", i, i)
	}
	for i := range n {
		graph += fmt.Sprintf("[s%d]", i)
	}
	graph += fmt.Sprintf("concat=n=%d:v=1:a=0[out]", n)
	r.sample = filepath.Join(r.tmp, "sample.mkv")
	r.dur = float64(n) * seg
	args = append([]string{"-loglevel", "error"}, args...)
	args = append(args, "-filter_complex", graph, "-map", "[out]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", r.sample)
	_, err := ffmeta.Run(ctx, r.tmp, args, 0, nil)
	return err
}

// search runs the trials, builds the hull and picks the rungs.
func (r *run) search(ctx context.Context) (Report, error) {
	rep := Report{Metric: "ssim", SampleSeconds: r.dur}
	heights := r.heights()
	total := len(heights)*len(r.s.CRFs) + 2*len(r.spec.Rungs) + len(r.spec.QualityTargets)
	done := 0
	step := func() { done++; r.progress(100 * float64(done) / float64(total)) }
	for _, h := range heights {
		for _, crf := range r.s.CRFs {
			p, err := r.trial(ctx, h, []string{"-crf", strconv.Itoa(crf)})
			if err != nil {
				return Report{}, err
			}
			p.CRF = crf
			rep.Trials = append(rep.Trials, p)
			step()
		}
	}
	markHull(rep.Trials)
	targets := r.spec.QualityTargets
	for _, rung := range r.spec.Rungs {
		h := rung.Height
		if h == 0 {
			h = evenInt(float64(rung.Width) * float64(r.info.Height) / float64(r.info.Width))
		}
		br, _ := bitrateOf(rung.VideoBitrate)
		maxr := br * 1.07
		p, err := r.trial(ctx, h, []string{"-b:v", ftoa(br), "-maxrate", ftoa(maxr), "-bufsize", ftoa(maxr * 1.5)})
		if err != nil {
			return Report{}, err
		}
		p.Name = rung.Name
		p.Bitrate = br
		rep.Fixed = append(rep.Fixed, p)
		step()
	}
	if len(targets) == 0 {
		for _, f := range rep.Fixed {
			targets = append(targets, f.SSIM)
		}
	}
	if len(targets) == 0 {
		targets = DefaultTargets
	}
	rep.Chosen = choose(rep.Trials, targets)
	if err := r.verify(ctx, rep.Chosen, targets); err != nil {
		return Report{}, err
	}
	if len(r.spec.QualityTargets) == 0 {
		// The fixed rung is a candidate too: where the search's pick costs
		// more for the same measured quality, keep the fixed rung.
		for i, f := range rep.Fixed {
			if rep.Chosen[i].Bitrate > f.Bitrate {
				rep.Chosen[i] = f
				rep.Chosen[i].Name = ""
			}
		}
	}
	rep.Rungs = rungs(rep.Chosen, r.spec.Rungs)
	if len(rep.Fixed) > 0 && len(r.spec.QualityTargets) == 0 {
		var fixed, chosen float64
		for i, f := range rep.Fixed {
			fixed += f.Bitrate
			chosen += rep.Chosen[i].Bitrate
		}
		saved := math.Round((1-chosen/fixed)*1000) / 10
		rep.SavedPercent = &saved
	}
	return rep, nil
}

// heights are the candidate heights not above the source's, plus the
// source's own.
func (r *run) heights() []int {
	seen := map[int]bool{}
	var out []int
	for _, h := range append([]int{r.info.Height}, r.s.Heights...) {
		if h <= r.info.Height && h >= 64 && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

func evenInt(f float64) int { return int(math.Round(f/2)) * 2 }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
