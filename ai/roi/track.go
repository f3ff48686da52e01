package roi

import (
	"math"

	"mps/internal/aispec"
)

// track is one face followed over samples: its box per sample index
// (nil where it was not seen).
type track struct {
	boxes []*box
	last  int
}

// Tracking: a detection joins the track whose last box overlaps it by
// this much; a track may miss this many samples and be filled in.
const (
	linkIoU  = 0.2
	maxGap   = 2
	boxGrow  = 0.15
	mergeIoU = 0.6
)

// buildTracks links the detections of consecutive samples into tracks,
// fills short gaps by interpolation and smooths each track's boxes over
// three samples, so a box does not jitter or blink between samples.
func buildTracks(samples []sampled) []*track {
	var tracks []*track
	for i, s := range samples {
		for _, f := range s.faces {
			f := f
			var best *track
			bestIoU := linkIoU
			for _, tr := range tracks {
				if i-tr.last > maxGap+1 || tr.last == i {
					continue
				}
				if v := iou(*tr.boxes[tr.last], f); v >= bestIoU {
					best, bestIoU = tr, v
				}
			}
			if best == nil {
				best = &track{boxes: make([]*box, len(samples))}
				tracks = append(tracks, best)
			}
			best.boxes[i] = &f
			best.last = i
		}
	}
	for _, tr := range tracks {
		tr.fillGaps()
		tr.smooth()
	}
	return tracks
}

// fillGaps interpolates the boxes of samples missed between two seen
// ones at most maxGap apart.
func (tr *track) fillGaps() {
	prev := -1
	for i, b := range tr.boxes {
		if b == nil {
			continue
		}
		if prev >= 0 && i-prev > 1 && i-prev <= maxGap+1 {
			a := tr.boxes[prev]
			for j := prev + 1; j < i; j++ {
				f := float64(j-prev) / float64(i-prev)
				tr.boxes[j] = &box{
					x: a.x + f*(b.x-a.x), y: a.y + f*(b.y-a.y), w: a.w + f*(b.w-a.w), h: a.h + f*(b.h-a.h),
					score: math.Min(a.score, b.score),
				}
			}
		}
		prev = i
	}
}

// smooth averages each box with its seen neighbours.
func (tr *track) smooth() {
	out := make([]*box, len(tr.boxes))
	for i, b := range tr.boxes {
		if b == nil {
			continue
		}
		var s box
		n := 0.0
		for j := max(0, i-1); j <= min(len(tr.boxes)-1, i+1); j++ {
			if c := tr.boxes[j]; c != nil {
				s.x, s.y, s.w, s.h = s.x+c.x, s.y+c.y, s.w+c.w, s.h+c.h
				n++
			}
		}
		out[i] = &box{x: s.x / n, y: s.y / n, w: s.w / n, h: s.h / n, score: b.score}
	}
	tr.boxes = out
}

// toRanges turns tracks into time ranges covering [0, dur): each sample
// holds from its time to the next sample's; consecutive samples whose
// boxes barely move are merged into one range with the union of their
// boxes. Boxes grow by boxGrow on each side (a face's hair and chin matter
// too) and are scaled from detection pixels to input pixels by k and
// clipped to the picture.
func toRanges(samples []sampled, tracks []*track, dur, k float64, w, h int) []aispec.ROIRange {
	var out []aispec.ROIRange
	for i, s := range samples {
		end := dur
		if i+1 < len(samples) {
			end = samples[i+1].t
		}
		if end <= s.t {
			continue
		}
		var boxes []box
		for _, tr := range tracks {
			if b := tr.boxes[i]; b != nil {
				boxes = append(boxes, *b)
			}
		}
		if n := len(out); n > 0 && similar(out[n-1].Boxes, boxes, k) {
			out[n-1].End = round3(end)
			out[n-1].Boxes = union(out[n-1].Boxes, boxes, k, w, h)
			continue
		}
		out = append(out, aispec.ROIRange{Start: round3(s.t), End: round3(end), Boxes: union(nil, boxes, k, w, h)})
	}
	if len(out) > 0 {
		out[0].Start = 0
	}
	return out
}

// similar reports whether boxes match prev one to one with a large
// overlap (the face has barely moved).
func similar(prev []aispec.ROIBox, boxes []box, k float64) bool {
	if len(prev) != len(boxes) {
		return false
	}
	for _, b := range boxes {
		ok := false
		for _, p := range prev {
			pb := box{x: float64(p.X) * k, y: float64(p.Y) * k, w: float64(p.W) * k, h: float64(p.H) * k}
			if iou(pb, grow(b)) >= mergeIoU {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func grow(b box) box {
	return box{x: b.x - b.w*boxGrow, y: b.y - b.h*boxGrow, w: b.w * (1 + 2*boxGrow), h: b.h * (1 + 2*boxGrow), score: b.score}
}

// union merges boxes (in detection pixels) into prev (input pixels): a
// box overlapping one of prev widens it, others are added.
func union(prev []aispec.ROIBox, boxes []box, k float64, w, h int) []aispec.ROIBox {
	out := append([]aispec.ROIBox{}, prev...)
	for _, b := range boxes {
		g := grow(b)
		x0 := clamp(int(math.Floor(g.x/k)), 0, w-1)
		y0 := clamp(int(math.Floor(g.y/k)), 0, h-1)
		x1 := clamp(int(math.Ceil((g.x+g.w)/k)), x0+1, w)
		y1 := clamp(int(math.Ceil((g.y+g.h)/k)), y0+1, h)
		nb := aispec.ROIBox{X: x0, Y: y0, W: x1 - x0, H: y1 - y0, Score: math.Round(b.score*10) / 10}
		merged := false
		for i, p := range out {
			if p.X < x1 && x0 < p.X+p.W && p.Y < y1 && y0 < p.Y+p.H {
				ux0, uy0 := min(p.X, x0), min(p.Y, y0)
				ux1, uy1 := max(p.X+p.W, x1), max(p.Y+p.H, y1)
				out[i] = aispec.ROIBox{X: ux0, Y: uy0, W: ux1 - ux0, H: uy1 - uy0, Score: max(p.Score, nb.Score)}
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, nb)
		}
	}
	return out
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
