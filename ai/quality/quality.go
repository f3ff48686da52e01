// Package quality is the quality evaluation (template type quality):
// full-reference PSNR and SSIM against an original (VMAF only when the
// ffmpeg in use has libvmaf; MS-SSIM when it has a filter for it, which
// ffmpeg 5.1 has not), no-reference picture measures (blur, blockiness,
// noise, SI/TI, signal statistics, frame timing, duplicated and dropped
// frames, resolution changes) and sound measures (EBU R128 loudness, true
// peak, clipping, silence, channel imbalance), all from one ffmpeg pass
// plus two packet-level ffprobe reads; then a QC verdict from the named
// checks of aispec.QualityChecks, per-frame series and SVG plots.
package quality

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"mps/ai/ffmeta"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// Evaluator runs quality evaluations with the detected ffmpeg.
type Evaluator struct {
	// Caps says which metrics the ffmpeg in use can compute.
	Caps ffmeta.Capabilities
}

// Verdicts.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
)

// ErrMismatch is returned (wrapped) when the reference cannot be compared
// with the input: another picture size or another length.
var ErrMismatch = errors.New("reference does not match the input")

// Run evaluates input and writes quality.json's plots into outDir.
func (e *Evaluator) Run(ctx context.Context, spec aispec.QualitySpec, input, outDir string, progress func(float64)) (Report, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	began := time.Now()
	if err := spec.Validate(); err != nil {
		return Report{}, err
	}
	in, err := absProbe(ctx, input)
	if err != nil {
		return Report{}, err
	}
	if !in.info.HasVideo() && !in.info.HasAudio() {
		return Report{}, fmt.Errorf("%s has neither video nor audio", filepath.Base(input))
	}
	var ref *probed
	if spec.Reference != "" {
		r, err := absProbe(ctx, spec.Reference)
		if err != nil {
			return Report{}, fmt.Errorf("reference: %w", err)
		}
		if err := comparable(in, r); err != nil {
			return Report{}, err
		}
		ref = &r
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Report{}, err
	}
	tmp, err := os.MkdirTemp(outDir, ".quality-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(tmp)
	rep := Report{Series: map[string]Series{}}
	p := &pass{e: e, in: in, ref: ref, tmp: tmp, rep: &rep}
	if err := p.run(ctx, func(f float64) { progress(f * 0.9) }); err != nil {
		return Report{}, err
	}
	if in.info.HasVideo() {
		if err := p.timing(ctx); err != nil {
			return Report{}, err
		}
	}
	rep.Checks, rep.Failed = evaluate(spec, &rep)
	rep.Verdict = VerdictPass
	if len(rep.Failed) > 0 {
		rep.Verdict = VerdictFail
	}
	if spec.Plots == nil || *spec.Plots {
		if rep.Plots, err = writePlots(outDir, rep.Series); err != nil {
			return Report{}, err
		}
	}
	rep.Seconds = math.Round(time.Since(began).Seconds()*1000) / 1000
	return rep, nil
}

// probed is a file with its absolute path and what ffprobe says.
type probed struct {
	path string
	info *vod.MediaInfo
}

func absProbe(ctx context.Context, name string) (probed, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return probed{}, err
	}
	info, err := vod.Probe(ctx, abs)
	if err != nil {
		return probed{}, err
	}
	return probed{abs, info}, nil
}

// comparable refuses a reference that cannot be compared frame by frame:
// one without video, of another picture size, or whose length differs by
// more than a frame and a half (or half a second without a frame rate).
func comparable(in, ref probed) error {
	if !in.info.HasVideo() {
		return fmt.Errorf("%w: the input has no video to compare", ErrMismatch)
	}
	if !ref.info.HasVideo() {
		return fmt.Errorf("%w: the reference has no video", ErrMismatch)
	}
	if in.info.Width != ref.info.Width || in.info.Height != ref.info.Height {
		return fmt.Errorf("%w: input is %dx%d, reference %dx%d (scale one to the other first)", ErrMismatch,
			in.info.Width, in.info.Height, ref.info.Width, ref.info.Height)
	}
	tol := 0.5
	if in.info.FPS > 0 {
		tol = 1.5 / in.info.FPS
	}
	if d := math.Abs(in.info.Duration - ref.info.Duration); d > tol {
		return fmt.Errorf("%w: input lasts %.3f s, reference %.3f s", ErrMismatch, in.info.Duration, ref.info.Duration)
	}
	return nil
}
