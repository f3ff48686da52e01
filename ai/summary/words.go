package summary

import (
	_ "embed"
	"strings"
	"unicode"
)

//go:embed background.txt
var backgroundText string

// background weighs words as keywords: function words weigh 0, common
// content words more the rarer they are, any word not in the list 1. It
// plays the document-frequency part of TF-IDF for one transcript.
type background struct {
	weight map[string]float64
}

func newBackground() background {
	b := background{weight: map[string]float64{}}
	var content []string
	stop := true
	for _, line := range strings.Split(backgroundText, "\n") {
		w := strings.TrimSpace(line)
		switch {
		case w == "" || strings.HasPrefix(w, "#"):
		case w == "--":
			stop = false
		case stop:
			b.weight[w] = 0
		default:
			if _, seen := b.weight[w]; !seen {
				content = append(content, w)
			}
		}
	}
	for i, w := range content {
		b.weight[w] = 0.2 + 0.5*float64(i)/float64(len(content))
	}
	return b
}

// of is the weight of a normalised word.
func (b background) of(w string) float64 {
	if len([]rune(w)) < 3 {
		return 0
	}
	if x, ok := b.weight[w]; ok {
		return x
	}
	if x, ok := b.weight[stem(w)]; ok {
		return x
	}
	return 1
}

// norm lower-cases a word and drops the punctuation around it.
func norm(w string) string {
	return strings.ToLower(strings.TrimFunc(w, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}))
}

// stem folds the common plural endings so "volcanoes" and "volcano"
// count as one term.
func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "oes"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}
