package subtitles

import (
	"strings"
	"testing"
	"unicode/utf8"

	"mps/ai/speech"
)

// words lays out text as words of 0.3 s with 0.05 s gaps from start.
func words(start float64, text string) []speech.Word {
	var out []speech.Word
	t := start
	for _, w := range strings.Fields(text) {
		out = append(out, speech.Word{Text: w, Start: t, End: t + 0.3})
		t += 0.35
	}
	return out
}

func checkCueRules(t *testing.T, cues []Cue) {
	t.Helper()
	for i, c := range cues {
		if len(c.Lines) == 0 || len(c.Lines) > 2 {
			t.Errorf("cue %d has %d lines", i, len(c.Lines))
		}
		for _, l := range c.Lines {
			if utf8.RuneCountInString(l) > 42 {
				t.Errorf("cue %d line %q longer than 42", i, l)
			}
		}
		if d := c.End - c.Start; d > 7.0001 || d < 0.9999 && (i+1 == len(cues) || cues[i+1].Start-c.End > 0.05) {
			t.Errorf("cue %d lasts %.2f s", i, d)
		}
		if i > 0 && c.Start < cues[i-1].End {
			t.Errorf("cue %d starts %.2f before cue %d ends %.2f", i, c.Start, i-1, cues[i-1].End)
		}
	}
}

func TestBuildCues(t *testing.T) {
	long := "the quick brown fox jumps over the lazy dog and then runs far away into the deep dark forest where nobody can find it again"
	for _, tc := range []struct {
		name  string
		segs  []speech.Segment
		texts []string
	}{
		{"one short sentence", []speech.Segment{{Words: words(1, "hello world")}},
			[]string{"hello world"}},
		{"utterances are separate cues", []speech.Segment{{Words: words(0, "good morning")}, {Words: words(3, "how are you")}},
			[]string{"good morning", "how are you"}},
		{"sentence end breaks", []speech.Segment{{Words: words(0, "It works. Does it?")}},
			[]string{"It works.", "Does it?"}},
		{"pause breaks", []speech.Segment{{Words: append(words(0, "first part"), words(2, "second part")...)}},
			[]string{"first part", "second part"}},
		{"long speech fills two lines at most", []speech.Segment{{Words: words(0, long)}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cues := Build(&speech.Transcript{Segments: tc.segs}, DefaultLayout)
			checkCueRules(t, cues)
			var got []string
			for _, c := range cues {
				got = append(got, c.Text())
			}
			if tc.texts != nil && strings.Join(got, "|") != strings.Join(tc.texts, "|") {
				t.Errorf("cues %q, want %q", got, tc.texts)
			}
			if tc.texts == nil && strings.Join(got, " ") != long {
				t.Errorf("words lost or reordered: %q", got)
			}
		})
	}
}

func TestBuildCuesOverlappingWords(t *testing.T) {
	// Engines sometimes give a word that starts before the previous ends.
	segs := []speech.Segment{
		{Words: []speech.Word{{Text: "a.", Start: 0, End: 0.5}}},
		{Words: []speech.Word{{Text: "b", Start: 0.45, End: 0.9}}},
	}
	checkCueRules(t, Build(&speech.Transcript{Segments: segs}, DefaultLayout))
}

func TestFormats(t *testing.T) {
	cues := []Cue{{Start: 1.5, End: 3.25, Lines: []string{"Hello <world>", "a --> b"}}, {Start: 3661.001, End: 3662, Lines: []string{"two"}}}
	vtt := string(WebVTT(cues))
	wantVTT := "WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.250\nHello &lt;world&gt;\na -&gt; b\n\n2\n01:01:01.001 --> 01:01:02.000\ntwo\n"
	if vtt != wantVTT {
		t.Errorf("WebVTT:\n%s\nwant:\n%s", vtt, wantVTT)
	}
	srt := string(SRT(cues))
	wantSRT := "1\n00:00:01,500 --> 00:00:03,250\nHello &lt;world&gt;\na -&gt; b\n\n2\n01:01:01,001 --> 01:01:02,000\ntwo\n"
	if srt != wantSRT {
		t.Errorf("SRT:\n%s\nwant:\n%s", srt, wantSRT)
	}
}
