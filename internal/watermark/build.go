package watermark

import (
	"fmt"
	"strings"
)

// Placement says where in a filtergraph a watermark goes.
type Placement struct {
	// In labels the video the mark is drawn on and Out the result, both
	// without brackets ("0:v", "v1"). Internal labels are derived from Out,
	// so several fragments can share one graph if their Outs differ.
	In, Out string
	// InputIndex is the ffmpeg input number that the returned input
	// arguments will take: an image watermark reads "[InputIndex:v]".
	InputIndex int
	// VideoWidth is the width of the picture at In. It is needed only for
	// a Width in percent, which is turned into pixels here (ffmpeg 5.1's
	// scale2ref swaps its main_w and iw variables, so a relative size
	// cannot be left to ffmpeg portably).
	VideoWidth int
}

// Build returns the filter_complex fragment that draws t over the video
// labelled p.In, labelling the result p.Out, plus the ffmpeg input
// arguments the fragment needs (an image watermark's PNG; none for text),
// which the caller places so that they become input p.InputIndex. The
// fragment is one or more ';'-separated chains: join it to the rest of
// the graph with ';'.
func Build(t Template, p Placement) (filter string, inputArgs []string, err error) {
	if err := t.check(); err != nil {
		return "", nil, err
	}
	if p.In == "" || p.Out == "" || strings.ContainsAny(p.In+p.Out, "[];, '\\=") {
		return "", nil, fmt.Errorf("%w: labels %q/%q must be non-empty without brackets or separators", ErrInvalid, p.In, p.Out)
	}
	x, _ := parseLength("x", t.X)
	y, _ := parseLength("y", t.Y)
	if t.Type == TypeText {
		f, err := buildText(t, x, y)
		if err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("[%s]%s[%s]", p.In, f, p.Out), nil, nil
	}
	if p.InputIndex < 0 {
		return "", nil, fmt.Errorf("%w: input index %d", ErrInvalid, p.InputIndex)
	}
	width, _ := parseLength("width", t.Width)
	if width.percent {
		if p.VideoWidth <= 0 {
			return "", nil, fmt.Errorf("%w: width %q in percent needs the video width", ErrInvalid, t.Width)
		}
		width = length{v: float64(max(1, int(width.v*float64(p.VideoWidth)/100+0.5)))}
	}
	return buildImage(t, p, width, x, y), []string{"-i", fileURL(t.Image)}, nil
}

// fileURL forces ffmpeg's file protocol so that a file named like a URL
// ("pipe:0", "http://…") is still read as a file.
func fileURL(p string) string { return "file:" + p }

func opacity(t Template) float64 {
	if t.Opacity <= 0 || t.Opacity > 1 {
		return 1
	}
	return t.Opacity
}

// position returns the x and y expressions of a w×h mark in a picW×picH picture
// for the template's corner.
func position(c Corner, x, y length, picW, picH, w, h string) (string, string) {
	xe, ye := x.expr(picW), y.expr(picH)
	switch normalizeCorner(c) {
	case TopRight:
		xe = picW + "-" + w + "-" + xe
	case BottomLeft:
		ye = picH + "-" + h + "-" + ye
	case BottomRight:
		xe = picW + "-" + w + "-" + xe
		ye = picH + "-" + h + "-" + ye
	}
	return xe, ye
}

// cornerKey folds the spellings a config may use ("top-right",
// "TopRight", "top_right") to one key.
func cornerKey(c Corner) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(string(c)))
}

func validCorner(c Corner) bool {
	switch cornerKey(c) {
	case "", "topleft", "topright", "bottomleft", "bottomright":
		return true
	}
	return false
}

func normalizeCorner(c Corner) Corner {
	switch cornerKey(c) {
	case "topright":
		return TopRight
	case "bottomleft":
		return BottomLeft
	case "bottomright":
		return BottomRight
	}
	return TopLeft
}

func buildImage(t Template, p Placement, width, x, y length) string {
	wm := p.Out + "_wm"
	var b strings.Builder
	fmt.Fprintf(&b, "[%d:v]format=rgba", p.InputIndex)
	if op := opacity(t); op < 1 {
		fmt.Fprintf(&b, ",colorchannelmixer=aa=%s", fmtNum(op))
	}
	if t.Width != "" {
		fmt.Fprintf(&b, ",scale=%s:-1", fmtNum(width.v))
	}
	xe, ye := position(t.Corner, x, y, "main_w", "main_h", "overlay_w", "overlay_h")
	fmt.Fprintf(&b, "[%s];[%s][%s]overlay=x=%s:y=%s[%s]", wm, p.In, wm, xe, ye, p.Out)
	return b.String()
}

func buildText(t Template, x, y length) (string, error) {
	text, err := drawtextText(t.Text)
	if err != nil {
		return "", err
	}
	size := t.FontSize
	if size == 0 {
		size = 24
	}
	color := t.FontColor
	if color == "" {
		color = "white"
	}
	xe, ye := position(t.Corner, x, y, "w", "h", "text_w", "text_h")
	opts := []string{
		"fontfile=" + escapeValue(t.fontFile()),
		"text=" + escapeValue(text),
		fmt.Sprintf("fontsize=%d", size),
		"fontcolor=" + color,
	}
	if op := opacity(t); op < 1 {
		opts = append(opts, "alpha="+fmtNum(op))
	}
	if t.Box {
		bc := t.BoxColor
		if bc == "" {
			bc = "black@0.5"
		}
		opts = append(opts, "box=1", "boxcolor="+bc, fmt.Sprintf("boxborderw=%d", max(size/4, 1)))
	}
	opts = append(opts, "x="+xe, "y="+ye)
	return "drawtext=" + strings.Join(opts, ":"), nil
}
