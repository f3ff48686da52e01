// Package roi finds regions of interest — faces, with pigo's pure-Go
// cascade — on sampled frames of a video, follows them between samples
// and writes them as boxes per time range (roi.json). On request it
// encodes the file with x264 giving those regions a lower quantiser
// through ffmpeg's addroi, so faces get the bits at the same file size.
package roi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"mps/ai/internal/ffexec"
	"mps/ai/ocrbox"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// Extension runs the roi operation type.
type Extension struct{}

// ErrNoVideo is returned for an input without a picture.
var ErrNoVideo = errors.New("the input has no video track to find faces in")

// Run samples and searches the frames, writes roi.json and, with encode
// settings, roi.mp4. Progress: detection 0-50% (0-100% without encode).
func (Extension) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	var spec aispec.ROI
	if op.ROI != nil {
		spec = *op.ROI
	}
	spec = spec.WithDefaults()
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return vod.Result{}, err
	}
	if !info.HasVideo() || info.Width <= 0 || info.Height <= 0 {
		return vod.Result{}, ErrNoVideo
	}
	share := 100.0
	if spec.Encode != nil {
		share = 50
	}
	rep, err := Detect(ctx, input, info, spec, func(f float64) { progress(f * share) })
	if err != nil {
		return vod.Result{}, err
	}
	names := []string{"roi.json"}
	if spec.Encode != nil {
		rep.Encoded = "roi.mp4"
		args := append([]string{"-i", input}, EncodeArgs(rep.Ranges, *spec.Encode, info.Width, info.Height,
			info.HasAudio(), filepath.Join(outDir, rep.Encoded))...)
		if err := ffexec.FFmpeg(ctx, args, info.Duration, func(f float64) { progress(50 + 50*f) }); err != nil {
			return vod.Result{}, err
		}
		names = append(names, rep.Encoded)
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return vod.Result{}, err
	}
	if err := os.WriteFile(filepath.Join(outDir, "roi.json"), data, 0o644); err != nil {
		return vod.Result{}, err
	}
	files, err := ffexec.OutputFiles(ctx, outDir, names...)
	if err != nil {
		return vod.Result{}, err
	}
	return vod.Result{Files: files, Report: data}, nil
}

// Detect finds the faces of input and returns them as ranges; progress
// gets the share (0-1) done.
func Detect(ctx context.Context, input string, info *vod.MediaInfo, spec aispec.ROI, progress func(float64)) (aispec.ROIReport, error) {
	spec = spec.WithDefaults()
	k := 1.0
	if info.Width > maxDetectWidth {
		k = float64(maxDetectWidth) / float64(info.Width)
	}
	dw, dh := int(float64(info.Width)*k)&^1, int(float64(info.Height)*k)&^1
	k = float64(dw) / float64(info.Width)
	minFace := spec.MinFace
	if minFace == 0 {
		minFace = info.Height / 12
	}
	d, err := newDetector(int(float64(minFace)*k), spec.Threshold)
	if err != nil {
		return aispec.ROIReport{}, err
	}
	samples, err := sampleFaces(ctx, input, dw, dh, spec.SampleFPS, d, info.Duration, progress)
	if err != nil {
		return aispec.ROIReport{}, err
	}
	rep := aispec.ROIReport{Width: info.Width, Height: info.Height, SampleFPS: spec.SampleFPS, Samples: len(samples)}
	for _, s := range samples {
		if len(s.faces) > 0 {
			rep.SamplesWithFaces++
		}
	}
	rep.Ranges = toRanges(samples, buildTracks(samples), info.Duration, k, info.Width, info.Height)
	if spec.Text {
		text, err := ocrbox.Find(ctx, input, info.Duration, min(spec.SampleFPS, ocrbox.DefaultSampleFPS))
		if err != nil {
			return aispec.ROIReport{}, fmt.Errorf("text regions: %w", err)
		}
		rep.Ranges = ocrbox.Merge(rep.Ranges, text)
	}
	if rep.Ranges == nil {
		rep.Ranges = []aispec.ROIRange{}
	}
	return rep, nil
}
