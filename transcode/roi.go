package transcode

import (
	"errors"
	"fmt"
	"image"
	"regexp"
	"time"
)

// RungROI is a rung's region-of-interest encoding: the faces of the live
// picture, found on frames sampled every SampleInterval and followed
// between samples, are encoded with QOffset (negative: a lower quantiser,
// more bits) at the rung's bitrate.
type RungROI struct {
	// QOffset is the quantiser offset inside the face box, -1 to 0
	// (default DefaultROIQOffset).
	QOffset float64 `json:"qoffset,omitempty" yaml:"qoffset"`
	// SampleInterval is the time between two searched frames (default
	// DefaultROISampleInterval).
	SampleInterval time.Duration `json:"sample_interval,omitempty" yaml:"sample_interval"`
}

// Defaults of RungROI.
const (
	DefaultROIQOffset        = -0.4
	DefaultROISampleInterval = time.Second
)

func (o RungROI) withDefaults() RungROI {
	if o.QOffset == 0 {
		o.QOffset = DefaultROIQOffset
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = DefaultROISampleInterval
	}
	return o
}

func (o RungROI) validate() error {
	if o.QOffset < -1 || o.QOffset > 0 {
		return fmt.Errorf("roi qoffset %g out of range -1..0", o.QOffset)
	}
	if o.SampleInterval != 0 && (o.SampleInterval < 100*time.Millisecond || o.SampleInterval > 10*time.Second) {
		return fmt.Errorf("roi sample interval %v out of range 100ms..10s", o.SampleInterval)
	}
	return nil
}

// FaceTracker finds and follows faces on the sampled grey frames of a
// ladder with ROI rungs. The server supplies one (ai/roi's live tracker);
// the transcoder only moves the boxes it returns.
type FaceTracker interface {
	// Track searches one w×h grey frame, the next sample, and returns the
	// boxes to favour until the next one, in the frame's pixels.
	Track(pix []byte, w, h int) []image.Rectangle
}

// planTap returns the frame tap of a ladder with ROI rungs (nil without):
// the shortest sample interval of its rungs, at most maxTapWidth wide.
func planTap(rungs []Rung, src ladderSource, fd int) (*frameTap, error) {
	var every time.Duration
	for _, r := range rungs {
		if r.ROI != nil {
			iv := r.ROI.withDefaults().SampleInterval
			if every == 0 || iv < every {
				every = iv
			}
		}
	}
	if every == 0 {
		return nil, nil
	}
	if src.Width <= 0 || src.Height <= 0 {
		return nil, errors.New("roi needs the source's picture size, which its stream does not give")
	}
	w := min(src.Width, maxTapWidth) &^ 1
	h := int(float64(src.Height)*float64(w)/float64(src.Width)+0.5) &^ 1
	return &frameTap{FD: fd, Width: w, Height: h, Interval: every}, nil
}

// controlPathRE is what the zmq filter's socket path may hold without
// escaping in a filter graph.
var controlPathRE = regexp.MustCompile(`^/[A-Za-z0-9/_.-]+$`)

// roiChain returns the filters of rung i's ROI grid from label in to out,
// the graph's zmq filter first when first is set.
func roiChain(r Rung, i int, src ladderSource, in, out string, first bool) (string, roiGrid, error) {
	w, h := r.size(src.Width, src.Height)
	if w <= 0 || h <= 0 {
		return "", roiGrid{}, errors.New("roi needs the source's picture size, which its stream does not give")
	}
	g := newROIGrid(fmt.Sprintf("roi%d", i), w, h, r.ROI.withDefaults().QOffset)
	if !first {
		return g.chain(in, out, g.off()), g, nil
	}
	if !controlPathRE.MatchString(src.Control) || len(src.Control) > 100 {
		return "", g, fmt.Errorf("roi control socket %q: want an absolute path of letters, digits, / _ . - under 100 bytes", src.Control)
	}
	zin := fmt.Sprintf("z%d", i)
	// ipc\\: — the graph's level of escaping, then the filter's.
	return fmt.Sprintf("[%s]zmq=b=ipc\\\\://%s[%s];", in, src.Control, zin) + g.chain(zin, out, g.off()), g, nil
}
