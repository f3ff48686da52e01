package highlights

import (
	"math"
	"slices"
	"sort"
)

// Clip is one picked highlight.
type Clip struct {
	Rank    int      `json:"rank"`
	Start   float64  `json:"start"`
	End     float64  `json:"end"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	// Peak is the time of the clip's best second; the thumbnail shows it.
	Peak      float64 `json:"peak"`
	Thumbnail string  `json:"thumbnail,omitempty"`
}

// minScore is the least peak score a clip starts from: a file without
// anything standing out yields fewer clips rather than random ones.
const minScore = 0.1

// pickClips chooses up to top clips of minLen-maxLen seconds: it seeds a
// clip at the best second not yet used, grows it over the neighbours that
// keep at least 40% of the peak's score (and to minLen regardless), snaps
// its edges to scene cuts close by, and never lets clips overlap or hold
// a black or silent second.
func pickClips(secs []Second, a *analysis, top int, minLen, maxLen float64) []Clip {
	order := make([]int, len(secs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return secs[order[i]].Score > secs[order[j]].Score })
	used := make([]bool, len(secs))
	var clips []Clip
	for _, c := range order {
		if len(clips) >= top || secs[c].Score < minScore {
			break
		}
		if used[c] || secs[c].Excluded {
			continue
		}
		s, e, ok := grow(secs, used, c, int(math.Ceil(minLen)), int(math.Floor(maxLen)))
		if !ok {
			continue
		}
		start, end := snap(a, secs, used, float64(s), float64(e), float64(c), minLen, maxLen)
		for i := int(start); float64(i) < end && i < len(used); i++ {
			used[i] = true
		}
		clips = append(clips, describe(secs, start, end, c))
	}
	sort.SliceStable(clips, func(i, j int) bool { return clips[i].Score > clips[j].Score })
	for i := range clips {
		clips[i].Rank = i + 1
	}
	return clips
}

// grow widens [c, c+1) second by second, preferring the better
// neighbour, until maxLen or until the neighbours fall under 40% of the
// peak once minLen is reached.
func grow(secs []Second, used []bool, c, minLen, maxLen int) (int, int, bool) {
	free := func(i int) bool { return i >= 0 && i < len(secs) && !used[i] && !secs[i].Excluded }
	s, e := c, c+1
	peak := secs[c].Score
	for e-s < maxLen {
		left, right := -1.0, -1.0
		if free(s - 1) {
			left = secs[s-1].Score
		}
		if free(e) {
			right = secs[e].Score
		}
		best := max(left, right)
		if best < 0 || (e-s >= minLen && best < 0.4*peak) {
			break
		}
		if right >= left {
			e++
		} else {
			s--
		}
	}
	return s, e, e-s >= minLen
}

// snap moves a clip edge onto a scene cut less than 1.5 s away when the
// clip keeps its length bounds and its peak and stays clear of other
// clips and of black or silent seconds.
func snap(a *analysis, secs []Second, used []bool, start, end, peak, minLen, maxLen float64) (float64, float64) {
	ok := func(s, e float64) bool {
		if e-s < minLen-1e-6 || e-s > maxLen+1e-6 || s > peak || e < peak+1 || s < 0 || e > a.duration+1e-6 {
			return false
		}
		for i := int(s); float64(i) < e && i < len(secs); i++ {
			if used[i] || secs[i].Excluded {
				return false
			}
		}
		for _, sp := range append(append([]span(nil), a.black...), a.silence...) {
			if overlap(sp, span{s, e}) > 0 {
				return false
			}
		}
		return true
	}
	if c, found := nearest(a.cuts, start, 1.5); found && ok(c, end) {
		start = c
	}
	if c, found := nearest(a.cuts, end, 1.5); found && ok(start, c) {
		end = c
	}
	end = min(end, a.duration)
	return start, end
}

// nearest is the value of cuts closest to t within d.
func nearest(cuts []float64, t, d float64) (float64, bool) {
	best, found := 0.0, false
	for _, c := range cuts {
		if math.Abs(c-t) < d && (!found || math.Abs(c-t) < math.Abs(best-t)) {
			best, found = c, true
		}
	}
	return best, found
}

// describe scores a clip by the mean score of its seconds and gathers the
// reasons its seconds carry.
func describe(secs []Second, start, end float64, peak int) Clip {
	var sum float64
	var n int
	var reasons []string
	for i := int(start); float64(i) < end && i < len(secs); i++ {
		sum += secs[i].Score
		n++
		for _, r := range secs[i].Reasons {
			if !slices.Contains(reasons, r) {
				reasons = append(reasons, r)
			}
		}
	}
	score := 0.0
	if n > 0 {
		score = math.Round(sum/float64(n)*1000) / 1000
	}
	return Clip{
		Start: round3(start), End: round3(end), Score: score,
		Reasons: reasons, Peak: float64(peak) + 0.5,
	}
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
