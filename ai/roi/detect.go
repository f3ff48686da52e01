package roi

import (
	_ "embed"
	"fmt"

	pigo "github.com/esimov/pigo/core"
)

// facefinder is pigo's frontal face cascade, copied from the module
// (MIT, see facefinder.LICENSE): go:embed cannot reach into another
// module.
//
//go:embed facefinder
var facefinder []byte

// box is a face in detection pixels.
type box struct {
	x, y, w, h float64
	score      float64
}

// detector finds faces in grayscale frames with pigo's cascade.
type detector struct {
	cascade   *pigo.Pigo
	minSize   int
	threshold float64
}

func newDetector(minSize int, threshold float64) (*detector, error) {
	c, err := pigo.NewPigo().Unpack(facefinder)
	if err != nil {
		return nil, fmt.Errorf("face cascade: %w", err)
	}
	return &detector{cascade: c, minSize: max(minSize, 20), threshold: threshold}, nil
}

// detect returns the faces of one w x h grayscale frame.
func (d *detector) detect(pix []byte, w, h int) []box {
	params := pigo.CascadeParams{
		MinSize: d.minSize, MaxSize: min(w, h), ShiftFactor: 0.1, ScaleFactor: 1.1,
		ImageParams: pigo.ImageParams{Pixels: pix, Rows: h, Cols: w, Dim: w},
	}
	dets := d.cascade.ClusterDetections(d.cascade.RunCascade(params, 0), 0.2)
	var out []box
	for _, det := range dets {
		if float64(det.Q) < d.threshold {
			continue
		}
		s := float64(det.Scale)
		out = append(out, box{x: float64(det.Col) - s/2, y: float64(det.Row) - s/2, w: s, h: s, score: float64(det.Q)})
	}
	return out
}

// iou is the intersection over union of two boxes.
func iou(a, b box) float64 {
	ix := max(0, min(a.x+a.w, b.x+b.w)-max(a.x, b.x))
	iy := max(0, min(a.y+a.h, b.y+b.h)-max(a.y, b.y))
	in := ix * iy
	union := a.w*a.h + b.w*b.h - in
	if union <= 0 {
		return 0
	}
	return in / union
}
