package subtitles

import (
	"fmt"
	"strings"
)

// WebVTT renders cues as a WebVTT file.
func WebVTT(cues []Cue) []byte {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	for i, c := range cues {
		fmt.Fprintf(&b, "\n%d\n%s --> %s\n%s\n", i+1, stamp(c.Start, '.'), stamp(c.End, '.'), cueText(c.Lines))
	}
	return []byte(b.String())
}

// SRT renders cues as a SubRip file.
func SRT(cues []Cue) []byte {
	var b strings.Builder
	for i, c := range cues {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d\n%s --> %s\n%s\n", i+1, stamp(c.Start, ','), stamp(c.End, ','), cueText(c.Lines))
	}
	return []byte(b.String())
}

// cueText joins lines, keeping the text from breaking the file format: no
// blank lines inside a cue and no "-->" (which would start a new timing).
func cueText(lines []string) string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.ReplaceAll(strings.TrimSpace(l), "-->", "->")
		l = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(l)
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// stamp formats seconds as HH:MM:SS.mmm (sep '.' for WebVTT, ',' for SRT).
func stamp(sec float64, sep byte) string {
	if sec < 0 {
		sec = 0
	}
	ms := int64(sec*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d%c%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
}
