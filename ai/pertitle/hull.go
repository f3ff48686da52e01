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

// choose finds for each target the cheapest way to reach it: on each
// resolution's own rate-quality curve (its CRF trials) the bitrate at the
// target is interpolated in log scale between the two trials around it,
// and the resolution needing the least wins. Interpolating only within a
// resolution keeps the estimate honest: a segment of the overall hull
// joins two resolutions, and neither reaches the target at the bitrate
// between them. A target no trial reaches takes the best trial.
func choose(trials []Point, targets []float64) []Point {
	byHeight := map[int][]Point{}
	for _, p := range trials {
		byHeight[p.Height] = append(byHeight[p.Height], p)
	}
	// Heights in order so that a tie in bitrate always goes to the
	// smaller picture (cheaper to decode), not to map order.
	heights := make([]int, 0, len(byHeight))
	for h := range byHeight {
		heights = append(heights, h)
	}
	sort.Ints(heights)
	var out []Point
	for _, q := range targets {
		best := Point{Bitrate: math.Inf(1)}
		for _, h := range heights {
			if p, ok := atQuality(byHeight[h], q); ok && p.Bitrate < best.Bitrate {
				best = p
			}
		}
		if math.IsInf(best.Bitrate, 1) {
			for _, p := range trials {
				if p.SSIM > best.SSIM || math.IsInf(best.Bitrate, 1) {
					best = p
				}
			}
		}
		best.CRF, best.OnHull, best.PSNR = 0, false, 0
		out = append(out, best)
	}
	return out
}

// atQuality interpolates one resolution's curve at SSIM q.
func atQuality(curve []Point, q float64) (Point, bool) {
	sort.Slice(curve, func(i, j int) bool { return curve[i].Bitrate < curve[j].Bitrate })
	for i, hi := range curve {
		if hi.SSIM < q {
			continue
		}
		if i == 0 {
			return hi, true
		}
		lo := curve[i-1]
		if lo.SSIM >= hi.SSIM {
			return hi, true
		}
		f := (q - lo.SSIM) / (hi.SSIM - lo.SSIM)
		p := hi
		p.Bitrate = math.Round(math.Exp(math.Log(lo.Bitrate) + f*(math.Log(hi.Bitrate)-math.Log(lo.Bitrate))))
		p.SSIM = q
		return p, true
	}
	return Point{}, false
}

// verify encodes each chosen rung as the ladder will (average bitrate
// with a VBV cap) and raises its bitrate until the measured SSIM reaches
// the target (at most 6 steps of 6%), so the reported quality is
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
			if p.SSIM >= targets[i]-0.0005 || step == 6 {
				break
			}
			c.Bitrate = math.Round(c.Bitrate * 1.06)
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
