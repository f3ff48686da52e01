// Package ocrbox finds lines of text on sampled frames of a video with
// tesseract, as boxes per time range: a region-of-interest source for
// screen content (text keeps its bits) and the boxes erase fills in for
// burnt-in text. Tesseract reads boxed or plain text on a calm background
// well; text over a busy picture is often missed (a known limit).
package ocrbox

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"mps/ai/internal/ffexec"
	"mps/internal/aispec"
)

// Defaults of a search.
const (
	// DefaultSampleFPS is how many frames a second are read: OCR costs
	// about 0.6 s of one core per 720p frame, so one frame every two
	// seconds keeps a search near a third of real time.
	DefaultSampleFPS = 0.5
	// MinConfidence is the least tesseract word confidence kept.
	MinConfidence = 60
)

// Find samples sampleFPS frames per second of input (dur seconds long)
// and returns the text lines found as ranges covering the file in time
// order: each sample holds half a sample period either side, and
// neighbouring samples with the same lines are merged.
func Find(ctx context.Context, input string, dur, sampleFPS float64) ([]aispec.ROIRange, error) {
	if sampleFPS <= 0 {
		sampleFPS = DefaultSampleFPS
	}
	dir, err := ffexec.TempDir("mps-ocr-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Sample i is the first frame at or after i periods (the fps filter
	// would take a frame up to half a period early). Tesseract reads
	// grey pictures: its page layout analysis took coloured backgrounds
	// for images and missed boxed lines on them (testsrc2, gradients)
	// that it reads in grey.
	period := 1 / sampleFPS
	vf := "select='gte(t\\," + strconv.FormatFloat(period, 'f', -1, 64) + "*selected_n)',format=gray"
	args := []string{"-i", input, "-map", "0:v:0", "-vf", vf, "-fps_mode", "passthrough", filepath.Join(dir, "f%06d.png")}
	if err := ffexec.FFmpeg(ctx, args, dur, nil); err != nil {
		return nil, fmt.Errorf("ocr frames: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "f*.png"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []aispec.ROIRange
	for i, name := range names {
		boxes, err := Lines(ctx, name)
		if err != nil {
			return nil, err
		}
		t := float64(i) * period
		r := aispec.ROIRange{Start: round3(max(t-period/2, 0)), End: round3(t + period/2), Boxes: boxes}
		if dur > 0 {
			r.End = round3(min(r.End, dur))
		}
		if i == len(names)-1 && dur > r.End {
			r.End = round3(dur)
		}
		if n := len(out); n > 0 && sameBoxes(out[n-1].Boxes, boxes) {
			out[n-1].End = r.End
			out[n-1].Boxes = unite(out[n-1].Boxes, boxes)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Lines runs tesseract on one picture and returns a box per line of
// words it read with at least MinConfidence.
func Lines(ctx context.Context, image string) ([]aispec.ROIBox, error) {
	cmd := exec.CommandContext(ctx, "tesseract", image, "stdout", "tsv")
	// One thread: tesseract's OpenMP threads make it slower on a busy
	// machine (1.2-1.8 s a frame against 0.6 s).
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.WaitDelay = 2 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tesseract: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseTSV(string(out)), nil
}

// parseTSV unites the confident words of each line of tesseract's tsv
// (level page block par line word left top width height conf text).
func parseTSV(tsv string) []aispec.ROIBox {
	type key struct{ block, par, line int }
	lines := map[key]*aispec.ROIBox{}
	var order []key
	for _, row := range strings.Split(tsv, "\n") {
		f := strings.Split(row, "\t")
		if len(f) < 12 || f[0] != "5" || !hasText(f[11]) {
			continue
		}
		n := make([]int, 10)
		for i := range n {
			n[i], _ = strconv.Atoi(f[i])
		}
		conf, err := strconv.ParseFloat(f[10], 64)
		if err != nil || conf < MinConfidence || n[8] <= 0 || n[9] <= 0 {
			continue
		}
		k := key{n[2], n[3], n[4]}
		b, ok := lines[k]
		if !ok {
			lines[k] = &aispec.ROIBox{X: n[6], Y: n[7], W: n[8], H: n[9], Score: conf}
			order = append(order, k)
			continue
		}
		x0, y0 := min(b.X, n[6]), min(b.Y, n[7])
		x1, y1 := max(b.X+b.W, n[6]+n[8]), max(b.Y+b.H, n[7]+n[9])
		b.X, b.Y, b.W, b.H, b.Score = x0, y0, x1-x0, y1-y0, min(b.Score, conf)
	}
	out := []aispec.ROIBox{}
	for _, k := range order {
		b := *lines[k]
		b.Score = round3(b.Score)
		out = append(out, b)
	}
	return out
}

// hasText is true for a word with a letter or a digit: tesseract reports
// empty "words" over flat areas with a high confidence.
func hasText(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// sameBoxes says whether two samples found the same lines: as many, and
// each overlapping its counterpart by at least 60% (intersection over
// union); tesseract's box of one line varies by a few pixels and a stray
// mark between frames.
func sameBoxes(a, b []aispec.ROIBox) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if iou(a[i], b[i]) < 0.6 {
			return false
		}
	}
	return true
}

func iou(a, b aispec.ROIBox) float64 {
	iw := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	ih := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := float64(iw * ih)
	return inter / (float64(a.W*a.H+b.W*b.H) - inter)
}

// unite grows each box of a to hold its counterpart in b (same lines).
func unite(a, b []aispec.ROIBox) []aispec.ROIBox {
	out := make([]aispec.ROIBox, len(a))
	for i := range a {
		x0, y0 := min(a[i].X, b[i].X), min(a[i].Y, b[i].Y)
		x1, y1 := max(a[i].X+a[i].W, b[i].X+b[i].W), max(a[i].Y+a[i].H, b[i].Y+b[i].H)
		out[i] = aispec.ROIBox{X: x0, Y: y0, W: x1 - x0, H: y1 - y0, Score: min(a[i].Score, b[i].Score)}
	}
	return out
}

// Merge unites two range lists that each cover the file in time order
// (faces and text, say) into one: cut at every boundary of either, each
// piece holding the boxes of both.
func Merge(a, b []aispec.ROIRange) []aispec.ROIRange {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	var cuts []float64
	for _, l := range [][]aispec.ROIRange{a, b} {
		for _, r := range l {
			cuts = append(cuts, r.Start, r.End)
		}
	}
	sort.Float64s(cuts)
	var out []aispec.ROIRange
	for i := 0; i+1 < len(cuts); i++ {
		s, e := cuts[i], cuts[i+1]
		if e-s < 1e-6 {
			continue
		}
		mid := (s + e) / 2
		boxes := append(boxesAt(a, mid), boxesAt(b, mid)...)
		if n := len(out); n > 0 && out[n-1].End >= s-1e-6 && sameBoxes(out[n-1].Boxes, boxes) {
			out[n-1].End = e
			continue
		}
		out = append(out, aispec.ROIRange{Start: s, End: e, Boxes: boxes})
	}
	return out
}

func boxesAt(l []aispec.ROIRange, t float64) []aispec.ROIBox {
	for _, r := range l {
		if r.Start <= t && t < r.End {
			return append([]aispec.ROIBox{}, r.Boxes...)
		}
	}
	return []aispec.ROIBox{}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
