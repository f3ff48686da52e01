package pertitle

import (
	"context"
	"fmt"
	"math"
	"sort"

	"mps/internal/vod"
)

// markHull marks and returns the upper convex hull of the trials in
// (log bitrate, SSIM): the points no mix of other encodes beats, lowest
// bitrate first.
func markHull(trials []Point) []*Point {
	idx := make([]int, len(trials))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return trials[idx[a]].Bitrate < trials[idx[b]].Bitrate })
	// Pareto front: each point better than every cheaper one.
	var front []int
	best := math.Inf(-1)
	for _, i := range idx {
		if trials[i].SSIM > best {
			front = append(front, i)
			best = trials[i].SSIM
		}
	}
	// Upper hull by the monotone chain: drop a middle point that lies
	// under the line joining its neighbours.
	var hull []int
	for _, i := range front {
		for len(hull) >= 2 && !above(trials[hull[len(hull)-2]], trials[hull[len(hull)-1]], trials[i]) {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, i)
	}
	out := make([]*Point, 0, len(hull))
	for _, i := range hull {
		trials[i].OnHull = true
		out = append(out, &trials[i])
	}
	return out
}

// above reports whether b lies strictly above the line from a to c.
func above(a, b, c Point) bool {
	ax, bx, cx := math.Log(a.Bitrate), math.Log(b.Bitrate), math.Log(c.Bitrate)
	return (bx-ax)*(c.SSIM-a.SSIM)-(b.SSIM-a.SSIM)*(cx-ax) < 0
}

// choose finds for each target the cheapest point on the hull that
// reaches it, interpolating the bitrate (in log scale) along the hull
// segment that crosses the target, at the resolution of the segment's
// upper end.
func choose(hull []*Point, targets []float64) []Point {
	var out []Point
	for _, q := range targets {
		var p Point
		switch {
		case len(hull) == 0:
		case q <= hull[0].SSIM:
			p = *hull[0]
		case q > hull[len(hull)-1].SSIM:
			p = *hull[len(hull)-1]
		default:
			for i := 1; i < len(hull); i++ {
				lo, hi := hull[i-1], hull[i]
				if q > hi.SSIM {
					continue
				}
				f := (q - lo.SSIM) / (hi.SSIM - lo.SSIM)
				p = *hi
				p.Bitrate = math.Round(math.Exp(math.Log(lo.Bitrate) + f*(math.Log(hi.Bitrate)-math.Log(lo.Bitrate))))
				p.SSIM = q
				break
			}
		}
		p.CRF, p.OnHull, p.PSNR = 0, false, 0
		out = append(out, p)
	}
	return out
}

// verify encodes each chosen rung as the ladder will (average bitrate
// with a VBV cap) and raises its bitrate until the measured SSIM reaches
// the target (at most 4 steps of 12%), so the reported quality is
// measured, not predicted.
func (r *run) verify(ctx context.Context, chosen []Point, targets []float64) error {
	for i := range chosen {
		c := &chosen[i]
		for step := 0; ; step++ {
			maxr := c.Bitrate * 1.07
			p, err := r.trial(ctx, c.Height, []string{"-b:v", ftoa(c.Bitrate), "-maxrate", ftoa(maxr), "-bufsize", ftoa(maxr * 1.5)})
			if err != nil {
				return err
			}
			c.SSIM, c.PSNR = p.SSIM, p.PSNR
			if p.SSIM >= targets[i]-0.0005 || step == 4 {
				break
			}
			c.Bitrate = math.Round(c.Bitrate * 1.12)
		}
	}
	return nil
}

// rungs turns the chosen points into the adaptive operation's rungs,
// highest bitrate first, named by height (with a suffix when two share
// one), keeping the fixed rungs' audio bitrates.
func rungs(chosen []Point, fixed []vod.Rung) []vod.Rung {
	order := make([]int, len(chosen))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return chosen[order[a]].Bitrate > chosen[order[b]].Bitrate })
	seen := map[string]int{}
	var out []vod.Rung
	for _, i := range order {
		c := chosen[i]
		name := fmt.Sprintf("%dp", c.Height)
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s_%d", name, seen[name])
		}
		r := vod.Rung{Name: name, Width: c.Width, Height: c.Height, VideoBitrate: fmt.Sprintf("%dk", int(math.Ceil(c.Bitrate/1000)))}
		if i < len(fixed) {
			r.AudioBitrate = fixed[i].AudioBitrate
		}
		out = append(out, r)
	}
	return out
}
