package watermark

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const frameW, frameH = 320, 240

// rgbFrame is one decoded frame as packed RGB24.
type rgbFrame []byte

func (f rgbFrame) at(x, y int) color.RGBA {
	i := (y*frameW + x) * 3
	return color.RGBA{f[i], f[i+1], f[i+2], 255}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

// render draws the fragment over a black 320x240 picture with the real
// ffmpeg and returns the first frame.
func render(t *testing.T, filter string, extra []string) rgbFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"-v", "error", "-f", "lavfi", "-i", "color=black:s=320x240:r=5:d=1"}
	args = append(args, extra...)
	args = append(args, "-filter_complex", filter, "-map", "[v1]", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", filter, err, errb.String())
	}
	if out.Len() != frameW*frameH*3 {
		t.Fatalf("frame of %d bytes, want %d", out.Len(), frameW*frameH*3)
	}
	return rgbFrame(out.Bytes())
}

func solidPNG(t *testing.T, w, h int, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	p := filepath.Join(t.TempDir(), "logo.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	red   = color.RGBA{255, 0, 0, 255}
	black = color.RGBA{0, 0, 0, 255}
)

func TestImageWatermarkLandsInItsCorner(t *testing.T) {
	logo := solidPNG(t, 40, 20, red)
	for _, tc := range []struct {
		name       string
		tpl        Template
		x0, y0     int // expected top-left of the mark
		w, h       int
		want       color.RGBA
		wantTolAbs int
	}{
		{"top-right px", Template{Type: TypeImage, Image: logo, Corner: TopRight, X: "10", Y: "20"}, frameW - 10 - 40, 20, 40, 20, red, 40},
		{"bottom-left percent, 25% wide", Template{Type: TypeImage, Image: logo, Corner: BottomLeft, X: "10%", Y: "10%", Width: "25%"}, 32, frameH - 24 - 40, 80, 40, red, 40},
		{"half opacity", Template{Type: TypeImage, Image: logo, Corner: TopLeft, X: "100", Y: "100", Opacity: 0.5}, 100, 100, 40, 20, color.RGBA{128, 0, 0, 255}, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.tpl.Validate(); err != nil {
				t.Fatal(err)
			}
			f, in, err := Build(tc.tpl, Placement{In: "0:v", Out: "v1", InputIndex: 1, VideoWidth: frameW})
			if err != nil {
				t.Fatal(err)
			}
			fr := render(t, f, in)
			// inside, away from the edges where chroma subsampling blurs
			for _, p := range [][2]int{{tc.x0 + 3, tc.y0 + 3}, {tc.x0 + tc.w/2, tc.y0 + tc.h/2}, {tc.x0 + tc.w - 4, tc.y0 + tc.h - 4}} {
				if c := fr.at(p[0], p[1]); !near(c, tc.want, tc.wantTolAbs) {
					t.Errorf("pixel %v inside the mark = %v, want %v", p, c, tc.want)
				}
			}
			for _, p := range [][2]int{{tc.x0 - 4, tc.y0 + 3}, {tc.x0 + tc.w + 3, tc.y0 + 3}, {tc.x0 + 3, tc.y0 - 4}, {tc.x0 + 3, tc.y0 + tc.h + 3}, {frameW / 2, frameH / 2}} {
				if p[0] < 0 || p[1] < 0 || p[0] >= frameW || p[1] >= frameH {
					continue
				}
				if c := fr.at(p[0], p[1]); !near(c, black, 20) {
					t.Errorf("pixel %v outside the mark = %v, want black", p, c)
				}
			}
		})
	}
}

func TestTextWatermarkRendersLiterally(t *testing.T) {
	// Text full of filtergraph and drawtext specials must print exactly as
	// the same text read from a file with expansion off.
	text := `It's 50% off: a\b, [x]; y=z`
	tpl := Template{Type: TypeText, Text: text, Corner: BottomRight, X: "8", Y: "8", FontSize: 20, Box: true, BoxColor: "blue"}
	f, in, err := Build(tpl, Placement{In: "0:v", Out: "v1", InputIndex: 1})
	if err != nil || len(in) != 0 {
		t.Fatalf("Build = %v, inputs %v", err, in)
	}
	got := render(t, f, nil)

	tf := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(tf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := render(t, "[0:v]drawtext=fontfile="+DefaultFont+":textfile="+tf+":expansion=none:fontsize=20:fontcolor=white:box=1:boxcolor=blue:boxborderw=5:x=w-text_w-8:y=h-text_h-8[v1]", nil)
	if !bytes.Equal(got, ref) {
		t.Errorf("escaped text renders differently from the literal text")
	}

	// Something was drawn in the bottom-right corner, nothing elsewhere.
	drawn := 0
	for y := frameH - 40; y < frameH; y++ {
		for x := frameW / 2; x < frameW; x++ {
			if !near(got.at(x, y), black, 30) {
				drawn++
			}
		}
	}
	if drawn < 500 {
		t.Errorf("%d non-black pixels in the bottom-right corner, want the boxed text", drawn)
	}
	if c := got.at(20, 20); !near(c, black, 20) {
		t.Errorf("pixel (20,20) = %v, want black", c)
	}
}

func TestTextWatermarkExpansionsRun(t *testing.T) {
	tpl := Template{Type: TypeText, Text: "%{localtime:%Y-%m-%d %H:%M:%S} | %{timecode} | 100%", FontColor: "#FFFF00", Opacity: 0.9}
	f, _, err := Build(tpl, Placement{In: "0:v", Out: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	fr := render(t, f, nil)
	drawn := 0
	for y := 0; y < 30; y++ {
		for x := 0; x < frameW; x++ {
			if c := fr.at(x, y); c.R > 100 && c.G > 100 && c.B < 80 {
				drawn++
			}
		}
	}
	if drawn < 200 {
		t.Errorf("%d yellow pixels in the top band, want the expanded text", drawn)
	}
}
