package watermark

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Template types.
const (
	TypeImage = "image"
	TypeText  = "text"
)

// Corner is the corner of the picture a watermark is placed against; X and
// Y are offsets from that corner towards the centre.
type Corner string

// Corners. The zero value means TopLeft; "TopRight" and "top_right" are
// accepted for TopRight, and so on.
const (
	TopLeft     Corner = "top-left"
	TopRight    Corner = "top-right"
	BottomLeft  Corner = "bottom-left"
	BottomRight Corner = "bottom-right"
)

// DefaultFont is used by text watermarks that name no font: Debian's
// fonts-dejavu-core ships it.
const DefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// Template describes one watermark. It is plain data so the config and the
// API can hold it; Validate says what is wrong with it before an ffmpeg
// process would.
type Template struct {
	// Type is "image" (a PNG whose alpha channel is kept) or "text".
	Type string `json:"type" yaml:"type"`
	// Image is the PNG file of an image watermark.
	Image string `json:"image,omitempty" yaml:"image"`
	// Corner is where the mark sits; X and Y are its offsets from that
	// corner, in pixels ("10") or percent of the picture's width/height
	// ("5%"). Empty means 0.
	Corner Corner `json:"corner,omitempty" yaml:"corner"`
	X      string `json:"x,omitempty" yaml:"x"`
	Y      string `json:"y,omitempty" yaml:"y"`
	// Width scales an image watermark to this width in pixels ("120") or
	// percent of the picture's width ("10%", which needs
	// Placement.VideoWidth), keeping its aspect. Empty keeps the image's
	// own size.
	Width string `json:"width,omitempty" yaml:"width"`
	// Opacity is 0 < Opacity <= 1; 0 means fully opaque (1).
	Opacity float64 `json:"opacity,omitempty" yaml:"opacity"`

	// Text is the text of a text watermark, drawn literally except for
	// these expansions: %{localtime}, %{localtime:FORMAT} (strftime),
	// %{gmtime}, %{gmtime:FORMAT}, %{pts}, %{pts:hms}, %{frame_num}, and
	// %{timecode} (the stream time as HH:MM:SS.mmm).
	Text string `json:"text,omitempty" yaml:"text"`
	// FontSize is the text height in pixels (default 24).
	FontSize int `json:"font_size,omitempty" yaml:"font_size"`
	// FontColor and BoxColor are ffmpeg colours: a name ("white"), #RRGGBB
	// or 0xRRGGBB, optionally with @ALPHA. Defaults: white, black@0.5.
	FontColor string `json:"font_color,omitempty" yaml:"font_color"`
	// Box draws a filled box behind the text.
	Box      bool   `json:"box,omitempty" yaml:"box"`
	BoxColor string `json:"box_color,omitempty" yaml:"box_color"`
	// Font is a TrueType file (default DefaultFont).
	Font string `json:"font,omitempty" yaml:"font"`
}

var (
	offsetRE = regexp.MustCompile(`^\s*(\d{1,5}(?:\.\d+)?)\s*(%?)\s*$`)
	colorRE  = regexp.MustCompile(`^(?:[A-Za-z]{1,32}|#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?|0x[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?)(?:@(?:0(?:\.\d+)?|1(?:\.0*)?))?$`)
)

// ErrInvalid wraps every template error, so callers can answer 400.
var ErrInvalid = errors.New("invalid watermark template")

// length is a parsed X, Y or Width: pixels, or percent of a dimension.
type length struct {
	v       float64
	percent bool
}

func parseLength(field, s string) (length, error) {
	if s == "" {
		return length{}, nil
	}
	m := offsetRE.FindStringSubmatch(s)
	if m == nil {
		return length{}, fmt.Errorf("%w: %s %q: want pixels (\"10\") or percent (\"5%%\")", ErrInvalid, field, s)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	l := length{v: v, percent: m[2] == "%"}
	if l.percent && v > 100 {
		return length{}, fmt.Errorf("%w: %s %q: over 100%%", ErrInvalid, field, s)
	}
	return l, nil
}

// expr writes l as an ffmpeg expression in terms of the dimension dim.
func (l length) expr(dim string) string {
	if l.percent {
		return fmt.Sprintf("%s*%s/100", dim, fmtNum(l.v))
	}
	return fmtNum(l.v)
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Validate checks the template's syntax and that its files exist, so that
// a bad template is refused when it is saved rather than when ffmpeg runs.
func (t Template) Validate() error {
	if err := t.check(); err != nil {
		return err
	}
	for _, f := range []string{t.file(), t.fontFile()} {
		if f == "" {
			continue
		}
		if st, err := os.Stat(f); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		} else if st.IsDir() {
			return fmt.Errorf("%w: %s is a directory", ErrInvalid, f)
		}
	}
	return nil
}

func (t Template) file() string {
	if t.Type == TypeImage {
		return t.Image
	}
	return ""
}

func (t Template) fontFile() string {
	if t.Type != TypeText {
		return ""
	}
	if t.Font == "" {
		return DefaultFont
	}
	return t.Font
}

// check validates everything but the file system.
func (t Template) check() error {
	switch t.Type {
	case TypeImage:
		if t.Image == "" {
			return fmt.Errorf("%w: image watermark without an image file", ErrInvalid)
		}
	case TypeText:
		if t.Text == "" {
			return fmt.Errorf("%w: text watermark without text", ErrInvalid)
		}
		if len(t.Text) > 1024 || strings.ContainsAny(t.Text, "\x00\n\r") || !utf8.ValidString(t.Text) {
			return fmt.Errorf("%w: text must be one line of UTF-8, at most 1024 bytes", ErrInvalid)
		}
		if _, err := drawtextText(t.Text); err != nil {
			return err
		}
		if t.FontSize < 0 || t.FontSize > 1000 {
			return fmt.Errorf("%w: font_size %d", ErrInvalid, t.FontSize)
		}
		for _, c := range []string{t.FontColor, t.BoxColor} {
			if c != "" && !colorRE.MatchString(c) {
				return fmt.Errorf("%w: colour %q: want a name, #RRGGBB or 0xRRGGBB, optionally @alpha", ErrInvalid, c)
			}
		}
	default:
		return fmt.Errorf("%w: type %q: want %q or %q", ErrInvalid, t.Type, TypeImage, TypeText)
	}
	if !validCorner(t.Corner) {
		return fmt.Errorf("%w: corner %q: want top-left, top-right, bottom-left or bottom-right", ErrInvalid, t.Corner)
	}
	if t.Opacity < 0 || t.Opacity > 1 {
		return fmt.Errorf("%w: opacity %v: want 0..1", ErrInvalid, t.Opacity)
	}
	for _, f := range [][2]string{{"x", t.X}, {"y", t.Y}, {"width", t.Width}} {
		if _, err := parseLength(f[0], f[1]); err != nil {
			return err
		}
	}
	return nil
}
