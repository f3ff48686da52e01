package summary

import (
	"strings"
)

// sentence is a run of transcript words between pauses or sentence ends.
type sentence struct {
	Start, End float64
	Text       string
	// Gap is the pause before the sentence, in seconds.
	Gap   float64
	terms []string
}

// Sentence breaks: a pause this long, a word ending a sentence, or this
// many words.
const (
	breakPause    = 0.6
	maxSentWords  = 40
	longPause     = 2.0
	chapterCutWin = 2.0
)

// splitSentences groups words into sentences and keeps each sentence's
// content terms (stemmed, with function words dropped).
func splitSentences(words []Word, bg background) []sentence {
	var out []sentence
	var cur []Word
	prevEnd := 0.0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		s := sentence{Start: cur[0].Start, End: cur[len(cur)-1].End, Gap: cur[0].Start - prevEnd}
		texts := make([]string, len(cur))
		for i, w := range cur {
			texts[i] = w.Word
			if n := norm(w.Word); bg.of(n) > 0 {
				s.terms = append(s.terms, stem(n))
			}
		}
		s.Text = strings.Join(texts, " ")
		prevEnd = s.End
		out = append(out, s)
		cur = nil
	}
	for i, w := range words {
		if len(cur) > 0 && (w.Start-words[i-1].End >= breakPause || len(cur) >= maxSentWords) {
			flush()
		}
		cur = append(cur, w)
		if strings.ContainsAny(w.Word[len(w.Word)-1:], ".?!") {
			flush()
		}
	}
	flush()
	return out
}
