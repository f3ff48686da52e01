package subtitles

import (
	"strings"
	"unicode/utf8"

	"mps/ai/speech"
)

// Cue is one subtitle: when it shows and its lines.
type Cue struct {
	Start float64  `json:"start"`
	End   float64  `json:"end"`
	Lines []string `json:"lines"`
}

// Text is the cue's lines joined by spaces.
func (c Cue) Text() string { return strings.Join(c.Lines, " ") }

// Layout bounds how cues are cut.
type Layout struct {
	MaxLineChars int     // longest line (42)
	MaxLines     int     // lines per cue (2)
	MinDuration  float64 // shortest time on screen, seconds (1)
	MaxDuration  float64 // longest time on screen, seconds (7)
	// Pause is the silence between two words that ends a cue (0.6 s).
	Pause float64
	// Linger keeps a cue up after its last word, so it can be read (0.5 s).
	Linger float64
}

// DefaultLayout is the common broadcast and streaming style guide.
var DefaultLayout = Layout{MaxLineChars: 42, MaxLines: 2, MinDuration: 1, MaxDuration: 7, Pause: 0.6, Linger: 0.5}

// gap is the least time between two cues, so players never show both.
const gap = 0.04

// Build cuts the transcript's words into cues. A cue ends at an utterance
// end, a sentence end (., ?, !), a pause, when the next word would not fit
// the lines, or when it would stay up longer than MaxDuration. Times are
// then stretched to MinDuration and Linger where the next cue leaves room,
// and clipped so cues never overlap.
func Build(t *speech.Transcript, l Layout) []Cue {
	if l.MaxLineChars <= 0 {
		l = DefaultLayout
	}
	type span struct {
		words []speech.Word
	}
	var spans []span
	for _, seg := range t.Segments {
		var cur []speech.Word
		for i, w := range seg.Words {
			if len(cur) > 0 {
				prev := cur[len(cur)-1]
				text := joinWords(append(cur[:len(cur):len(cur)], w))
				if w.Start-prev.End >= l.Pause || sentenceEnd(prev.Text) ||
					w.End-cur[0].Start > l.MaxDuration || wrap(text, l.MaxLineChars, l.MaxLines) == nil {
					spans = append(spans, span{cur})
					cur = nil
				}
			}
			cur = append(cur, w)
			if i == len(seg.Words)-1 {
				spans = append(spans, span{cur})
			}
		}
	}
	cues := make([]Cue, 0, len(spans))
	for _, s := range spans {
		text := joinWords(s.words)
		lines := wrap(text, l.MaxLineChars, l.MaxLines)
		if lines == nil { // one word longer than the lines: show it anyway
			lines = []string{text}
		}
		cues = append(cues, Cue{Start: s.words[0].Start, End: s.words[len(s.words)-1].End, Lines: lines})
	}
	return timeCues(cues, l)
}

// timeCues stretches each cue to be readable and keeps cues apart.
func timeCues(cues []Cue, l Layout) []Cue {
	for i := range cues {
		c := &cues[i]
		end := max(c.End+l.Linger, c.Start+l.MinDuration)
		end = min(end, c.Start+l.MaxDuration)
		if i+1 < len(cues) {
			end = min(end, cues[i+1].Start-gap)
		}
		c.End = max(end, c.End)
		if i+1 < len(cues) && c.End > cues[i+1].Start-gap {
			// Words overlap the next cue's first word (engine times): move
			// the next start instead of overlapping.
			cues[i+1].Start = c.End + gap
			if cues[i+1].End < cues[i+1].Start {
				cues[i+1].End = cues[i+1].Start
			}
		}
	}
	return cues
}

func joinWords(ws []speech.Word) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.Text
	}
	return strings.Join(parts, " ")
}

func sentenceEnd(word string) bool {
	return strings.HasSuffix(word, ".") || strings.HasSuffix(word, "?") || strings.HasSuffix(word, "!")
}

// wrap splits text into at most maxLines lines of at most maxChars
// characters, balancing the lines (a two-line cue breaks where the longer
// line is shortest). It returns nil when the text does not fit.
func wrap(text string, maxChars, maxLines int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil
	}
	if utf8.RuneCountInString(text) <= maxChars {
		return []string{text}
	}
	if maxLines < 2 {
		return nil
	}
	best, bestLen := -1, 1<<30
	for i := 1; i < len(words); i++ {
		a := utf8.RuneCountInString(strings.Join(words[:i], " "))
		b := utf8.RuneCountInString(strings.Join(words[i:], " "))
		if a <= maxChars && b <= maxChars && max(a, b) < bestLen {
			best, bestLen = i, max(a, b)
		}
	}
	if best < 0 {
		if maxLines > 2 { // greedy fill for 3-4 line styles
			return greedy(words, maxChars, maxLines)
		}
		return nil
	}
	return []string{strings.Join(words[:best], " "), strings.Join(words[best:], " ")}
}

func greedy(words []string, maxChars, maxLines int) []string {
	var lines []string
	cur := ""
	for _, w := range words {
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= maxChars:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	lines = append(lines, cur)
	for _, l := range lines {
		if utf8.RuneCountInString(l) > maxChars {
			return nil
		}
	}
	if len(lines) > maxLines {
		return nil
	}
	return lines
}

// Rewrap lays translated text out on the same number of lines rules; a
// translation too long for the lines keeps two balanced lines rather than
// losing words.
func Rewrap(text string, l Layout) []string {
	if lines := wrap(text, l.MaxLineChars, l.MaxLines); lines != nil {
		return lines
	}
	words := strings.Fields(text)
	if len(words) < 2 {
		return []string{text}
	}
	return wrap(text, 1<<20, 2)
}
