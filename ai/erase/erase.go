// Package erase removes logos and burnt-in text from a video: every box
// of the template, or of a roi operation's report, is filled in from the
// pixels around it by ffmpeg's delogo over its time range, and the result
// is re-encoded as erase.mp4 with the audio kept.
package erase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mps/ai/internal/ffexec"
	"mps/ai/ocrbox"
	"mps/ai/summary"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// Extension runs the erase operation type.
type Extension struct{}

// ErrNoVideo is returned for an input without a picture.
var ErrNoVideo = errors.New("the input has no video track to erase from")

// Report is the operation result's report: the boxes erased, after
// clipping to the picture.
type Report struct {
	Boxes  []aispec.EraseBox `json:"boxes"`
	Output string            `json:"output"`
}

// Run erases the boxes and writes erase.mp4 into outDir.
func (Extension) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	if op.Erase == nil {
		return vod.Result{}, fmt.Errorf("missing \"erase\" settings")
	}
	spec := *op.Erase
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return vod.Result{}, err
	}
	if !info.HasVideo() || info.Width < 4 || info.Height < 4 {
		return vod.Result{}, ErrNoVideo
	}
	boxes := append([]aispec.EraseBox(nil), spec.Boxes...)
	if spec.FromROI != "" {
		more, err := roiBoxes(summary.SiblingPath(outDir, spec.FromROI))
		if err != nil {
			return vod.Result{}, err
		}
		boxes = append(boxes, more...)
	}
	if spec.FromOCR {
		text, err := ocrbox.Find(ctx, input, info.Duration, 0)
		if err != nil {
			return vod.Result{}, fmt.Errorf("from_ocr: %w", err)
		}
		boxes = append(boxes, rangeBoxes(text)...)
	}
	var filters []string
	rep := Report{Boxes: []aispec.EraseBox{}, Output: "erase.mp4"}
	for _, b := range boxes {
		b, ok := fitBox(b, spec.Margin, info.Width, info.Height)
		if !ok {
			continue
		}
		rep.Boxes = append(rep.Boxes, b)
		filters = append(filters, delogo(b))
	}
	if len(filters) == 0 {
		return vod.Result{}, fmt.Errorf("no box lies inside the %dx%d picture", info.Width, info.Height)
	}
	args := []string{"-i", input, "-map", "0:v:0", "-vf", strings.Join(append(filters, "format=yuv420p"), ","),
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "20"}
	if info.HasAudio() {
		args = append(args, "-map", "0:a:0")
		if info.AudioCodec == "aac" || info.AudioCodec == "mp3" {
			args = append(args, "-c:a", "copy")
		} else {
			args = append(args, "-c:a", "aac", "-b:a", "160k")
		}
	}
	args = append(args, "-sn", "-dn", "-movflags", "+faststart", filepath.Join(outDir, rep.Output))
	if err := ffexec.FFmpeg(ctx, args, info.Duration, func(f float64) { progress(f * 99) }); err != nil {
		return vod.Result{}, err
	}
	data, err := json.Marshal(rep)
	if err != nil {
		return vod.Result{}, err
	}
	files, err := ffexec.OutputFiles(ctx, outDir, rep.Output)
	if err != nil {
		return vod.Result{}, err
	}
	return vod.Result{Files: files, Report: data}, nil
}

// roiBoxes reads a roi report's boxes.
func roiBoxes(path string) ([]aispec.EraseBox, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("from_roi: %w", err)
	}
	var rep aispec.ROIReport
	if err := json.Unmarshal(data, &rep); err != nil || rep.Ranges == nil {
		return nil, fmt.Errorf("from_roi %s: not a roi report (want {\"ranges\": [...]}): %w", filepath.Base(path), err)
	}
	return rangeBoxes(rep.Ranges), nil
}

// rangeBoxes turns every box of every range into a box over that range.
func rangeBoxes(ranges []aispec.ROIRange) []aispec.EraseBox {
	var out []aispec.EraseBox
	for _, r := range ranges {
		for _, b := range r.Boxes {
			end := r.End
			if end <= r.Start {
				continue
			}
			out = append(out, aispec.EraseBox{X: b.X, Y: b.Y, W: b.W, H: b.H, Start: r.Start, End: end})
		}
	}
	return out
}

// fitBox grows b by margin and clips it so delogo accepts it: delogo
// needs a one-pixel border of picture around the box to interpolate from.
func fitBox(b aispec.EraseBox, margin, w, h int) (aispec.EraseBox, bool) {
	x0, y0 := max(b.X-margin, 1), max(b.Y-margin, 1)
	x1, y1 := min(b.X+b.W+margin, w-1), min(b.Y+b.H+margin, h-1)
	if x1-x0 < 1 || y1-y0 < 1 {
		return b, false
	}
	b.X, b.Y, b.W, b.H = x0, y0, x1-x0, y1-y0
	return b, true
}

// delogo is the filter erasing one box over its time range.
func delogo(b aispec.EraseBox) string {
	f := fmt.Sprintf("delogo=x=%d:y=%d:w=%d:h=%d", b.X, b.Y, b.W, b.H)
	switch {
	case b.End > 0:
		f += fmt.Sprintf(":enable='between(t,%.3f,%.3f)'", b.Start, b.End)
	case b.Start > 0:
		f += fmt.Sprintf(":enable='gte(t,%.3f)'", b.Start)
	}
	return f
}
