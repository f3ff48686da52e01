package roi

import (
	"image"
	"math"
)

// Live follows faces over the frames sampled from a live stream, one at a
// time, for a ladder's ROI rungs (it satisfies transcode.FaceTracker).
// Unlike the file operation it cannot wait for later samples, so each
// track's box is smoothed with the samples before it, coasts on its
// velocity through up to maxGap missed samples, and is returned widened to
// cover where the face will be by the next sample. Not safe for concurrent
// use: one ladder run owns it.
type Live struct {
	det    *detector
	tracks []*liveTrack
}

// liveTrack is one face followed over samples: its smoothed box and the
// per-sample motion of its centre, in sample pixels.
type liveTrack struct {
	b      box
	vx, vy float64
	missed int
}

// Smoothing weights: a new detection moves the box this much of the way
// from where the track expected it; motion is averaged likewise.
const (
	liveBoxWeight = 0.6
	liveVelWeight = 0.5
)

// DefaultLiveThreshold is the cascade score a live detection needs, the
// file operation's default.
const DefaultLiveThreshold = 5

// NewLive returns a tracker with pigo's face cascade; faces smaller than a
// twelfth of the frame height are not searched.
func NewLive() (*Live, error) {
	d, err := newDetector(20, DefaultLiveThreshold)
	if err != nil {
		return nil, err
	}
	return &Live{det: d}, nil
}

// Track searches one w×h grey frame and returns the boxes of the faces
// followed, in its pixels: each grown by boxGrow on every side and
// stretched along its motion to where it will be at the next sample.
func (l *Live) Track(pix []byte, w, h int) []image.Rectangle {
	if w <= 0 || h <= 0 || len(pix) < w*h {
		return nil
	}
	l.det.minSize = max(h/12, 20)
	faces := l.det.detect(pix, w, h)
	used := make([]bool, len(faces))
	var kept []*liveTrack
	for _, tr := range l.tracks {
		pred := tr.b
		pred.x, pred.y = pred.x+tr.vx, pred.y+tr.vy
		best, bestIoU := -1, linkIoU
		for i, f := range faces {
			if v := iou(pred, f); !used[i] && v >= bestIoU {
				best, bestIoU = i, v
			}
		}
		if best < 0 {
			tr.b, tr.missed = pred, tr.missed+1
			if tr.missed <= maxGap {
				kept = append(kept, tr)
			}
			continue
		}
		used[best] = true
		f := faces[best]
		nb := box{
			x: pred.x + liveBoxWeight*(f.x-pred.x), y: pred.y + liveBoxWeight*(f.y-pred.y),
			w: pred.w + liveBoxWeight*(f.w-pred.w), h: pred.h + liveBoxWeight*(f.h-pred.h), score: f.score,
		}
		tr.vx += liveVelWeight * (nb.x + nb.w/2 - tr.b.x - tr.b.w/2 - tr.vx)
		tr.vy += liveVelWeight * (nb.y + nb.h/2 - tr.b.y - tr.b.h/2 - tr.vy)
		tr.b, tr.missed = nb, 0
		kept = append(kept, tr)
	}
	for i, f := range faces {
		if !used[i] {
			kept = append(kept, &liveTrack{b: f})
		}
	}
	l.tracks = kept
	out := make([]image.Rectangle, 0, len(kept))
	for _, tr := range kept {
		now, next := grow(tr.b), tr.b
		next.x, next.y = next.x+tr.vx, next.y+tr.vy
		r := rect(now).Union(rect(grow(next))).Intersect(image.Rect(0, 0, w, h))
		if !r.Empty() {
			out = append(out, r)
		}
	}
	return out
}

func rect(b box) image.Rectangle {
	return image.Rect(int(math.Floor(b.x)), int(math.Floor(b.y)), int(math.Ceil(b.x+b.w)), int(math.Ceil(b.y+b.h)))
}
