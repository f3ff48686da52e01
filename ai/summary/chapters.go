package summary

import (
	"math"
	"sort"
)

// tileWindow is how many sentences on each side of a boundary are
// compared.
const tileWindow = 3

// chapterStarts returns the indexes of the sentences that start chapters
// (always 0 first). Every boundary between sentences gets a depth: how far
// the term similarity of the sentences before and after it dips below the
// peaks around it (TextTiling), plus a bonus for a long pause and for a
// scene cut near it. The deepest boundaries above the mean less half a
// standard deviation become chapter starts, keeping chapters at least
// minLen seconds long and at most maxChapters of them.
func chapterStarts(sents []sentence, cuts []float64, maxChapters int, minLen float64) []int {
	n := len(sents)
	if n < 2 {
		return []int{0}
	}
	sim := make([]float64, n) // sim[b]: between sentences b-1 and b
	for b := 1; b < n; b++ {
		sim[b] = cosine(terms(sents[max(0, b-tileWindow):b]), terms(sents[b:min(n, b+tileWindow)]))
	}
	depth := make([]float64, n)
	var vals []float64
	for b := 1; b < n; b++ {
		l, r := sim[b], sim[b]
		for i := b - 1; i >= 1 && sim[i] >= l; i-- {
			l = sim[i]
		}
		for i := b + 1; i < n && sim[i] >= r; i++ {
			r = sim[i]
		}
		depth[b] = (l - sim[b]) + (r - sim[b])
		if sents[b].Gap >= longPause {
			depth[b] += 0.3
		}
		for _, c := range cuts {
			if math.Abs(c-sents[b].Start) <= chapterCutWin {
				depth[b] += 0.2
				break
			}
		}
		vals = append(vals, depth[b])
	}
	mean, sd := meanSD(vals)
	cands := []int{}
	for b := 1; b < n; b++ {
		if depth[b] > 0 && depth[b] > mean-sd/2 {
			cands = append(cands, b)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return depth[cands[i]] > depth[cands[j]] })
	starts := []int{0}
	for _, b := range cands {
		if len(starts) >= maxChapters {
			break
		}
		if fits(sents, starts, b, minLen) {
			starts = append(starts, b)
			sort.Ints(starts)
		}
	}
	return starts
}

// fits reports whether a chapter starting at sentence b keeps every
// chapter (and the last one, to the transcript's end) minLen long.
func fits(sents []sentence, starts []int, b int, minLen float64) bool {
	t := sents[b].Start
	end := sents[len(sents)-1].End
	if end-t < minLen || t < minLen {
		return false
	}
	for _, s := range starts {
		if math.Abs(sents[s].Start-t) < minLen {
			return false
		}
	}
	return true
}

func terms(sents []sentence) map[string]float64 {
	m := map[string]float64{}
	for _, s := range sents {
		for _, t := range s.terms {
			m[t]++
		}
	}
	return m
}

func cosine(a, b map[string]float64) float64 {
	var dot, na, nb float64
	for k, x := range a {
		dot += x * b[k]
		na += x * x
	}
	for _, y := range b {
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	var q float64
	for _, x := range v {
		q += (x - m) * (x - m)
	}
	return m, math.Sqrt(q / float64(len(v)))
}
