package speech

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// psParser reads the output of `pocketsphinx_continuous -time yes`: per
// utterance, a line with the hypothesis, then one line per token
// "word start end posterior" (seconds from the start of the input),
// framed by <s> and </s>. It calls emit with each finished utterance.
type psParser struct {
	emit func(Segment)
	cur  *Segment
}

// parse reads r to its end.
func (p *psParser) parse(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.line(sc.Text())
	}
	p.flush()
}

func (p *psParser) line(l string) {
	f := strings.Fields(l)
	if len(f) == 4 {
		start, err1 := strconv.ParseFloat(f[1], 64)
		end, err2 := strconv.ParseFloat(f[2], 64)
		post, err3 := strconv.ParseFloat(f[3], 64)
		if err1 == nil && err2 == nil && err3 == nil {
			p.token(f[0], start, end, post)
			return
		}
	}
	// A hypothesis line opens a new utterance.
	p.flush()
}

func (p *psParser) token(tok string, start, end, post float64) {
	switch {
	case tok == "</s>":
		p.flush()
		return
	case filler(tok):
		return
	}
	if i := strings.IndexByte(tok, '('); i > 0 && strings.HasSuffix(tok, ")") {
		tok = tok[:i] // alternative pronunciations: to(2)
	}
	if p.cur == nil {
		p.cur = &Segment{Start: start}
	}
	p.cur.Words = append(p.cur.Words, Word{Text: tok, Start: start, End: end, Confidence: post})
	p.cur.End = end
}

func (p *psParser) flush() {
	if p.cur == nil {
		return
	}
	s := *p.cur
	p.cur = nil
	if len(s.Words) == 0 {
		return
	}
	s.Start = s.Words[0].Start
	ws := make([]string, len(s.Words))
	for i, w := range s.Words {
		ws[i] = w.Text
	}
	s.Text = strings.Join(ws, " ")
	p.emit(s)
}

// filler reports whether tok is a non-word: silence, sentence marks,
// noise and filler models ([SPEECH], ++NOISE++, <sil>).
func filler(tok string) bool {
	return strings.HasPrefix(tok, "<") || strings.HasPrefix(tok, "[") || strings.HasPrefix(tok, "++")
}
