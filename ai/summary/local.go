package summary

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// localSummary is the extractive summariser used without a chat
// provider: TextRank picks the sentences of the paragraph, keywords are
// the terms most frequent against the background list, chapters start
// where the vocabulary shifts (TextTiling over sentence windows), helped
// by long pauses and scene cuts, and titles come from the top keywords.
func localSummary(words []Word, cuts []float64, maxChapters int, minChapter float64) Report {
	bg := newBackground()
	sents := splitSentences(words, bg)
	rep := Report{Engine: "local", Keywords: []string{}, Chapters: []Chapter{}}
	if len(sents) == 0 {
		return rep
	}
	display := surfaceForms(words, bg)
	rep.Keywords = topTerms(sents, bg, display, 8)
	starts := chapterStarts(sents, cuts, maxChapters, minChapter)
	for i, s := range starts {
		end := len(sents)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		kw := topTerms(sents[s:end], bg, display, 2)
		rep.Chapters = append(rep.Chapters, Chapter{Start: round1(sents[s].Start), Title: titleOf(kw)})
	}
	rep.Chapters[0].Start = 0
	rep.Title = titleOf(rep.Keywords[:min(3, len(rep.Keywords))])
	rep.Summary = paragraph(sents, textRank(sents), min(max(len(starts), 2), 5))
	return rep
}

// surfaceForms maps a stemmed term to its most frequent spelling.
func surfaceForms(words []Word, bg background) map[string]string {
	count := map[string]map[string]int{}
	for _, w := range words {
		n := norm(w.Word)
		if bg.of(n) == 0 {
			continue
		}
		s := stem(n)
		if count[s] == nil {
			count[s] = map[string]int{}
		}
		count[s][n]++
	}
	out := map[string]string{}
	for s, forms := range count {
		best := ""
		for f, c := range forms {
			if best == "" || c > forms[best] || (c == forms[best] && f < best) {
				best = f
			}
		}
		out[s] = best
	}
	return out
}

// topTerms ranks terms by frequency times background weight.
func topTerms(sents []sentence, bg background, display map[string]string, n int) []string {
	score := map[string]float64{}
	for _, s := range sents {
		for _, t := range s.terms {
			score[t] += bg.of(t)
		}
	}
	terms := make([]string, 0, len(score))
	for t, sc := range score {
		if sc > 0 {
			terms = append(terms, t)
		}
	}
	sort.Slice(terms, func(i, j int) bool {
		if score[terms[i]] != score[terms[j]] {
			return score[terms[i]] > score[terms[j]]
		}
		return terms[i] < terms[j]
	})
	out := []string{}
	for _, t := range terms[:min(n, len(terms))] {
		if d := display[t]; d != "" {
			t = d
		}
		out = append(out, t)
	}
	return out
}

// textRank scores sentences by PageRank over their term-overlap graph.
func textRank(sents []sentence) []float64 {
	n := len(sents)
	sim := make([][]float64, n)
	for i := range sim {
		sim[i] = make([]float64, n)
		for j := range n {
			if i != j {
				sim[i][j] = overlapSim(sents[i].terms, sents[j].terms)
			}
		}
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
	}
	for range 40 {
		next := make([]float64, n)
		for i := range n {
			var sum float64
			for j := range n {
				if sim[j][i] == 0 {
					continue
				}
				var total float64
				for _, x := range sim[j] {
					total += x
				}
				sum += sim[j][i] / total * out[j]
			}
			next[i] = 0.15 + 0.85*sum
		}
		out = next
	}
	return out
}

// overlapSim is the terms two sentences share, normalised by their
// lengths' logarithms.
func overlapSim(a, b []string) float64 {
	if len(a) < 2 || len(b) < 2 {
		return 0
	}
	in := map[string]bool{}
	for _, t := range a {
		in[t] = true
	}
	common := 0
	seen := map[string]bool{}
	for _, t := range b {
		if in[t] && !seen[t] {
			common++
			seen[t] = true
		}
	}
	return float64(common) / (math.Log(float64(len(a))) + math.Log(float64(len(b))))
}

// paragraph joins the n best-ranked sentences in time order.
func paragraph(sents []sentence, rank []float64, n int) string {
	idx := make([]int, len(sents))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return rank[idx[i]] > rank[idx[j]] })
	idx = idx[:min(n, len(idx))]
	sort.Ints(idx)
	var parts []string
	for _, i := range idx {
		parts = append(parts, asSentence(sents[i].Text))
	}
	return strings.Join(parts, " ")
}

// asSentence capitalises a sentence and ends it with a full stop (the
// local recogniser writes neither).
func asSentence(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) == 0 {
		return ""
	}
	r[0] = unicode.ToUpper(r[0])
	if !strings.ContainsRune(".?!", r[len(r)-1]) {
		r = append(r, '.')
	}
	return string(r)
}

// titleOf makes a title from keywords: "Volcano, Guitar and Satellite".
func titleOf(kw []string) string {
	t := make([]string, len(kw))
	for i, k := range kw {
		r := []rune(k)
		r[0] = unicode.ToUpper(r[0])
		t[i] = string(r)
	}
	switch len(t) {
	case 0:
		return "Untitled"
	case 1:
		return t[0]
	}
	return strings.Join(t[:len(t)-1], ", ") + " and " + t[len(t)-1]
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
