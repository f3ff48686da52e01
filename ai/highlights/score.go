package highlights

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"mps/ai/summary"
)

// Weights of the parts of a second's interest score. A loud or busy
// stretch alone scores up to 0.4, a scene cut adds 0.2 to its second and a
// keyword 0.6, so a spoken keyword outranks a lone cut and a burst with a
// cut outranks either half.
const (
	weightLoud    = 0.4
	weightMotion  = 0.4
	weightCut     = 0.2
	weightKeyword = 0.6
)

// Second is the interest score of one second of the file.
type Second struct {
	T       int      `json:"t"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons,omitempty"`
	// Excluded marks a second that is black or silent; no clip holds it.
	Excluded bool `json:"excluded,omitempty"`
}

// scoreSeconds turns the analysis and the transcript's keyword hits into a
// score per second. Loudness and motion count relative to the file's own
// typical (median) level, so a loud film and a quiet lecture are judged on
// their own terms; a minimum range keeps noise in a flat file from
// scoring.
func scoreSeconds(a *analysis, words []summary.Word, keywords []string) []Second {
	n := len(a.motion)
	out := make([]Second, n)
	excluded := make([]bool, n)
	for _, sp := range append(append([]span(nil), a.black...), a.silence...) {
		for s := max(int(sp.Start), 0); s < n && float64(s) < sp.End; s++ {
			if overlap(sp, span{float64(s), float64(s + 1)}) > 0.25 {
				excluded[s] = true
			}
		}
	}
	motion := normalise(a.motion, excluded, 2)
	var loud []float64
	if a.audio {
		loud = normalise(a.loudness, excluded, 6)
	}
	hits := keywordHits(words, keywords, n)
	for s := range out {
		sec := Second{T: s, Excluded: excluded[s]}
		if motion[s] > 0 {
			sec.Score += weightMotion * motion[s]
			if motion[s] >= 0.5 {
				sec.Reasons = append(sec.Reasons, "motion")
			}
		}
		if loud != nil && loud[s] > 0 {
			sec.Score += weightLoud * loud[s]
			if loud[s] >= 0.5 {
				sec.Reasons = append(sec.Reasons, "loud")
			}
		}
		for _, c := range a.cuts {
			if int(c) == s {
				sec.Score += weightCut
				sec.Reasons = append(sec.Reasons, "scene_cut")
				break
			}
		}
		for _, k := range hits[s] {
			sec.Score += weightKeyword
			sec.Reasons = append(sec.Reasons, "keyword:"+k)
		}
		if sec.Excluded {
			sec.Score = 0
		}
		sec.Score = math.Round(sec.Score*1000) / 1000
		out[s] = sec
	}
	return out
}

// normalise maps values to 0-1: the median of the usable seconds is 0,
// the highest is 1, and a range under minRange is stretched to minRange.
func normalise(v []float64, excluded []bool, minRange float64) []float64 {
	var use []float64
	for i, x := range v {
		if !excluded[i] {
			use = append(use, x)
		}
	}
	out := make([]float64, len(v))
	if len(use) == 0 {
		return out
	}
	slices.Sort(use)
	med, top := use[len(use)/2], use[len(use)-1]
	rng := max(top-med, minRange)
	for i, x := range v {
		out[i] = min(max((x-med)/rng, 0), 1)
	}
	return out
}

// keywordHits lists, per second, the keywords spoken in it.
func keywordHits(words []summary.Word, keywords []string, n int) [][]string {
	hits := make([][]string, n)
	if len(keywords) == 0 {
		return hits
	}
	want := map[string]string{}
	for _, k := range keywords {
		want[normWord(k)] = strings.TrimSpace(k)
	}
	for _, w := range words {
		k, ok := want[normWord(w.Word)]
		if !ok {
			continue
		}
		for s := max(int(w.Start), 0); s < n && float64(s) <= w.End; s++ {
			if !slices.Contains(hits[s], k) {
				hits[s] = append(hits[s], k)
			}
		}
	}
	return hits
}

// normWord lower-cases a word and drops the punctuation around it.
func normWord(w string) string {
	return strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
}

func overlap(a, b span) float64 {
	return max(0, min(a.End, b.End)-max(a.Start, b.Start))
}
