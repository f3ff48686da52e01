package quality

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// plotSize is the SVG drawing size and the margins around its plot area.
const (
	plotW, plotH           = 800, 240
	marginL, marginR       = 60, 20
	marginT, marginB       = 30, 40
	maxPlotPoints          = 2000
	plotFilePrefix         = "quality_"
	plotStroke             = "#1f77b4"
	plotGrid               = "#dddddd"
	plotFont               = "font-family='sans-serif' font-size='12'"
	plotAxisTicks          = 5
	plotTitleSize          = 14
	plotTitleFontAttribute = "font-family='sans-serif' font-weight='bold'"
)

// writePlots draws each non-empty series as an SVG line chart
// (quality_<name>.svg) and returns the file names.
func writePlots(dir string, series map[string]Series) ([]string, error) {
	var names []string
	for n, s := range series {
		if len(s.Value) > 1 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var files []string
	for _, n := range names {
		f := plotFilePrefix + n + ".svg"
		if err := os.WriteFile(filepath.Join(dir, f), []byte(svgPlot(n, series[n])), 0o644); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// svgPlot draws one series: a polyline over a grid with value and time
// ticks. Long series are thinned to maxPlotPoints.
func svgPlot(title string, s Series) string {
	step := max(1, len(s.Value)/maxPlotPoints)
	t0, t1 := s.Time[0], s.Time[len(s.Time)-1]
	lo, hi := minOf(s.Value), maxOf(s.Value)
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	if t1-t0 < 1e-9 {
		t1 = t0 + 1
	}
	pw, ph := float64(plotW-marginL-marginR), float64(plotH-marginT-marginB)
	x := func(t float64) float64 { return marginL + (t-t0)/(t1-t0)*pw }
	y := func(v float64) float64 { return marginT + (hi-v)/(hi-lo)*ph }
	var b strings.Builder
	fmt.Fprintf(&b, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(&b, "<rect width='100%%' height='100%%' fill='white'/>\n")
	fmt.Fprintf(&b, "<text x='%d' y='20' font-size='%d' %s>%s</text>\n", marginL, plotTitleSize, plotTitleFontAttribute, title)
	for i := 0; i <= plotAxisTicks; i++ {
		v := lo + (hi-lo)*float64(i)/plotAxisTicks
		t := t0 + (t1-t0)*float64(i)/plotAxisTicks
		fmt.Fprintf(&b, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='%s'/>\n", marginL, plotW-marginR, y(v), y(v), plotGrid)
		fmt.Fprintf(&b, "<text x='%d' y='%.1f' text-anchor='end' %s>%s</text>\n", marginL-6, y(v)+4, plotFont, tick(v))
		fmt.Fprintf(&b, "<text x='%.1f' y='%d' text-anchor='middle' %s>%ss</text>\n", x(t), plotH-marginB+18, plotFont, tick(t))
	}
	b.WriteString("<polyline fill='none' stroke='" + plotStroke + "' stroke-width='1.5' points='")
	for i := 0; i < len(s.Value); i += step {
		fmt.Fprintf(&b, "%.1f,%.1f ", x(s.Time[i]), y(s.Value[i]))
	}
	b.WriteString("'/>\n</svg>\n")
	return b.String()
}

// tick formats an axis label with as few digits as its size needs.
func tick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
