package vod

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"mps/internal/aispec"
)

// roiStage adds the regions of interest of a transcode's roi option at
// the end of the video chain: faces are found by the roi extension (ai/roi,
// above this package), their boxes mapped from input pixels to the output
// picture (scale and letterbox) and shifted by the clip start, and each
// time range gets its boxes through addroi in its own trimmed branch
// (addroi has no timeline support). in is the chain's last label; start
// and end are the clip window in input seconds (end 0: to the end).
func (j *job) roiStage(g *graph, in string, plan encodePlan, start, end float64) (string, error) {
	opt := plan.spec.ROI
	if opt == nil {
		return in, nil
	}
	var ext Extension
	if j.op.env != nil {
		ext = j.op.env.Extensions[TypeROI]
	}
	if ext == nil {
		return "", fmt.Errorf("roi: face detection is not available on this node")
	}
	tmp, err := os.MkdirTemp("", "mps-roi-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	det := opt.Detection()
	res, err := ext.Run(j.ctx, Operation{Type: TypeROI, ROI: &det}, j.input, tmp, func(float64) {})
	if err != nil {
		return "", fmt.Errorf("roi: %w", err)
	}
	var rep aispec.ROIReport
	if err := json.Unmarshal(res.Report, &rep); err != nil {
		return "", fmt.Errorf("roi: report: %w", err)
	}
	geo := j.outGeometry(plan)
	if end <= 0 {
		end = j.in.Duration
	}
	type part struct {
		s, e float64
		f    []string
	}
	var parts []part
	for _, r := range rep.Ranges {
		s, e := max(r.Start, start)-start, min(r.End, end)-start
		if e <= s {
			continue
		}
		p := part{s: s, e: e}
		for _, b := range r.Boxes {
			x, y, w, h := geo.box(b)
			if w > 0 && h > 0 {
				p.f = append(p.f, fmt.Sprintf("addroi=x=%d:y=%d:w=%d:h=%d:qoffset=%s", x, y, w, h, ftoa(opt.Offset())))
			}
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return in, nil
	}
	chains := make([]string, len(parts))
	for i, p := range parts {
		trim := "trim=start=" + ftoa(p.s)
		if i == 0 {
			trim = "trim=start=0"
		}
		if i+1 < len(parts) {
			trim += ":end=" + ftoa(p.e)
		}
		chains[i] = trim + ",setpts=PTS-STARTPTS" + prefixAll(",", p.f)
	}
	return roiBranches(g, in, chains), nil
}

// roiBranches splits in into one branch per chain and concatenates them.
func roiBranches(g *graph, in string, chains []string) string {
	labels := make([]string, len(chains))
	for i := range labels {
		labels[i] = g.next("roi")
	}
	g.raw(fmt.Sprintf("[%s]split=%d[%s]", in, len(chains), strings.Join(labels, "][")))
	outs := make([]string, len(chains))
	for i, c := range chains {
		outs[i] = g.add(c, labels[i])
	}
	return g.add(fmt.Sprintf("concat=n=%d:v=1:a=0", len(outs)), outs...)
}

func prefixAll(sep string, f []string) string {
	if len(f) == 0 {
		return ""
	}
	return sep + strings.Join(f, sep)
}

// geometry maps input pixels to output pixels.
type geometry struct {
	sx, sy, ox, oy float64
	w, h           int
}

func (g geometry) box(b aispec.ROIBox) (x, y, w, h int) {
	x0, y0 := int(math.Floor(float64(b.X)*g.sx+g.ox)), int(math.Floor(float64(b.Y)*g.sy+g.oy))
	x1, y1 := int(math.Ceil(float64(b.X+b.W)*g.sx+g.ox)), int(math.Ceil(float64(b.Y+b.H)*g.sy+g.oy))
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, g.w), min(y1, g.h)
	return x0, y0, x1 - x0, y1 - y0
}

// outGeometry follows the picture through the enhancements' upscales and
// the final scale (with its fill mode) of plan.
func (j *job) outGeometry(plan encodePlan) geometry {
	inW, inH := float64(j.in.Width), float64(j.in.Height)
	w, h := inW, inH
	for _, e := range plan.enhance {
		if u := e.Upscale; u != nil {
			w, h = fitSize(w, h, float64(u.Width), float64(u.Height))
		}
	}
	g := geometry{sx: w / inW, sy: h / inH}
	W, H := float64(even(plan.spec.Video.Width)), float64(even(plan.spec.Video.Height))
	switch {
	case W <= 0 && H <= 0:
	case W > 0 && H > 0 && plan.spec.Video.Fill == "stretch":
		g.sx, g.sy, w, h = g.sx*W/w, g.sy*H/h, W, H
	case W > 0 && H > 0:
		s := math.Min(W/w, H/h)
		g.sx, g.sy = g.sx*s, g.sy*s
		g.ox, g.oy = math.Floor((W-w*s)/2), math.Floor((H-h*s)/2)
		w, h = W, H
	default:
		nw, nh := fitSize(w, h, W, H)
		g.sx, g.sy, w, h = g.sx*nw/w, g.sy*nh/h, nw, nh
	}
	g.w, g.h = int(w), int(h)
	return g
}

// fitSize is w x h resized to nw x nh, a zero side keeping the aspect.
func fitSize(w, h, nw, nh float64) (float64, float64) {
	switch {
	case nw > 0 && nh > 0:
		return nw, nh
	case nw > 0:
		return nw, nw * h / w
	case nh > 0:
		return nh * w / h, nh
	}
	return w, h
}

// validateROI checks the roi option: only x264 and x265 honour regions of
// interest.
func (s *TranscodeSpec) validateROI(codec, containerDefault string) error {
	if s.ROI == nil {
		return nil
	}
	if err := s.ROI.Validate(); err != nil {
		return err
	}
	if codec == "" {
		codec = containerDefault
	}
	if codec != "h264" && codec != "h265" {
		return fmt.Errorf("roi needs h264 or h265 video (x264 and x265 honour regions of interest), not %q", codec)
	}
	return nil
}
