package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"mps/ai/audit"
	"mps/ai/ffmeta"
	"mps/ai/pertitle"
	"mps/ai/quality"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// registerAnalysis adds the analysis operations: content audit, quality
// evaluation and the per-title ladder search of adaptive's ladder: auto.
func registerAnalysis(r *Registry) {
	au := &audit.Auditor{Lists: r.Config().AI.Audit.Lists}
	if c := r.Moderation(); c != nil {
		au.Moderation = c
	}
	r.Add(vod.TypeAudit, auditExt{au})
	caps, err := ffmeta.Detect(context.Background())
	if err != nil {
		caps = ffmeta.Capabilities{} // no VMAF claimed when ffmpeg cannot be asked
	}
	r.Add(vod.TypeQuality, qualityExt{&quality.Evaluator{Caps: caps}})
	r.Add(vod.ExtLadder, ladderExt{})
}

// ladderExt is the per-title search behind adaptive's ladder: auto.
type ladderExt struct{ search pertitle.Search }

// Run searches the ladder; the Report's "rungs" is what the adaptive
// operation encodes, the rest (trials, hull, fixed ladder measured, the
// bitrate saved) stays in the adaptive result's report.
func (e ladderExt) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	if op.Adaptive == nil {
		return vod.Result{}, fmt.Errorf("ladder auto: not an adaptive operation")
	}
	rep, err := e.search.Run(ctx, op.Adaptive, input, outDir, progress)
	if err != nil {
		return vod.Result{}, err
	}
	data, err := json.Marshal(rep)
	if err != nil {
		return vod.Result{}, err
	}
	return vod.Result{Report: data}, nil
}

// qualityExt runs template type quality.
type qualityExt struct{ ev *quality.Evaluator }

// Run evaluates input and writes quality.json and the SVG plots.
func (e qualityExt) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	var spec aispec.QualitySpec
	if op.Quality != nil {
		spec = *op.Quality
	}
	rep, err := e.ev.Run(ctx, spec, input, outDir, progress)
	if err != nil {
		return vod.Result{}, err
	}
	return reportResult(outDir, "quality.json", rep)
}

// auditExt runs template type audit.
type auditExt struct{ au *audit.Auditor }

// Run audits input and writes audit.json next to the evidence snapshots;
// the Report carries the same JSON, whose "suggestion" a scheme reads.
func (e auditExt) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	var spec aispec.AuditSpec
	if op.Audit != nil {
		spec = *op.Audit
	}
	rep, err := e.au.Run(ctx, spec, input, outDir, progress)
	if err != nil {
		return vod.Result{}, err
	}
	return reportResult(outDir, "audit.json", rep)
}

// reportResult writes rep as name in outDir and lists every file there.
func reportResult(outDir, name string, rep any) (vod.Result, error) {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return vod.Result{}, err
	}
	if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
		return vod.Result{}, err
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return vod.Result{}, err
	}
	res := vod.Result{Report: data}
	for _, e := range entries {
		if e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return vod.Result{}, fmt.Errorf("output %s: %w", e.Name(), err)
		}
		res.Files = append(res.Files, vod.File{Name: e.Name(), Path: filepath.Join(outDir, e.Name()), Size: fi.Size()})
	}
	return res, nil
}
