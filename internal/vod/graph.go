package vod

import (
	"fmt"
	"strings"
)

// graph assembles an ffmpeg -filter_complex string from labelled chains.
type graph struct {
	chains []string
	n      int
}

// next returns a fresh pad label.
func (g *graph) next(prefix string) string {
	g.n++
	return fmt.Sprintf("%s%d", prefix, g.n)
}

// add appends "[in...]filters[out]" and returns out. Empty filters pass
// in through unchanged.
func (g *graph) add(filters string, ins ...string) string {
	if filters == "" && len(ins) == 1 {
		return ins[0]
	}
	out := g.next("p")
	var b strings.Builder
	for _, in := range ins {
		b.WriteString("[" + in + "]")
	}
	b.WriteString(filters)
	b.WriteString("[" + out + "]")
	g.chains = append(g.chains, b.String())
	return out
}

// raw appends a prebuilt chain (from a watermark builder, say).
func (g *graph) raw(chain string) { g.chains = append(g.chains, chain) }

func (g *graph) String() string { return strings.Join(g.chains, ";") }

// even rounds a dimension down to an even number (4:2:0 needs it).
func even(n int) int { return n &^ 1 }

// scaleFilter fits the video into width x height following fill: "stretch"
// scales exactly, "black" (the default) letterboxes, "blur" puts the picture
// over a blurred, zoomed copy of itself. A zero dimension keeps the aspect
// ratio.
func scaleFilter(g *graph, in string, width, height int, fill string) (string, error) {
	w, h := even(width), even(height)
	switch {
	case w <= 0 && h <= 0:
		return in, nil
	case w <= 0:
		return g.add(fmt.Sprintf("scale=-2:%d,setsar=1", h), in), nil
	case h <= 0:
		return g.add(fmt.Sprintf("scale=%d:-2,setsar=1", w), in), nil
	}
	switch fill {
	case "stretch":
		return g.add(fmt.Sprintf("scale=%d:%d,setsar=1", w, h), in), nil
	case "", "black":
		return g.add(fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black,setsar=1", w, h, w, h), in), nil
	case "blur":
		bg, fg := g.next("bg"), g.next("fg")
		g.raw(fmt.Sprintf("[%s]split=2[%s][%s]", in, bg, fg))
		bgb := g.add(fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,boxblur=20:2,setsar=1", w, h, w, h), bg)
		fgs := g.add(fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1", w, h), fg)
		return g.add("overlay=(W-w)/2:(H-h)/2", bgb, fgs), nil
	default:
		return "", fmt.Errorf("unknown fill mode %q (want stretch, black or blur)", fill)
	}
}
