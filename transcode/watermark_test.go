package transcode

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/watermark"
)

// TestLadderBurnsWatermarks runs a blue source through a ladder whose
// rungs carry an image and a text watermark, and checks decoded pixels.
func TestLadderBurnsWatermarks(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "blue.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "color=c=blue:size=320x240:rate=25", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", src)
	logo := filepath.Join(dir, "logo.png")
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for i := range img.Pix {
		img.Pix[i] = []byte{255, 0, 0, 255}[i%4]
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logo, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	marks := map[string]watermark.Template{
		"logo":  {Type: watermark.TypeImage, Image: logo, Corner: watermark.TopRight, X: "10", Y: "10"},
		"label": {Type: watermark.TypeText, Text: "MPS 50% [live]", Corner: watermark.BottomLeft, X: "10", Y: "10", FontSize: 24, Box: true, BoxColor: "black"},
	}
	ladder := Ladder{Name: "wm", Rungs: []Rung{
		{Name: "logo", Preset: "ultrafast", Watermark: "logo"},
		{Name: "text", Preset: "ultrafast", Watermark: "label"},
	}}
	e := newEnv(t, Config{
		Ladder:     func(p string) (Ladder, bool) { return ladder, p == "wm" },
		Watermarks: func(n string) (watermark.Template, bool) { m, ok := marks[n]; return m, ok },
	})
	publishFile(t, e.hub, "wm", src)

	frame := func(name string) []byte {
		s := testutil.WaitStream(t, e.hub, "wm/"+name, nil, 15*time.Second)
		units, err := collect(s, 1500*time.Millisecond)
		if (err != nil && !errors.Is(err, io.EOF)) || len(units) < 10 {
			t.Fatalf("rung %s: %d units (%v)", name, len(units), err)
		}
		rec := recordTS(t, units, []*stream.Track{videoTrack(s)})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", rec, "-vf", "select=eq(n\\,5)", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1").Output()
		if err != nil || len(out) != 320*240*3 {
			t.Fatalf("rung %s: decoded %d bytes (%v)", name, len(out), err)
		}
		return out
	}
	at := func(f []byte, x, y int) color.RGBA {
		i := (y*320 + x) * 3
		return color.RGBA{f[i], f[i+1], f[i+2], 255}
	}
	isRed := func(c color.RGBA) bool { return c.R > 200 && c.G < 60 && c.B < 60 }
	isBlue := func(c color.RGBA) bool { return c.B > 200 && c.R < 60 && c.G < 60 }

	f := frame("logo")
	// The mark spans x 270..309, y 10..29.
	for _, p := range [][2]int{{273, 13}, {290, 20}, {306, 26}} {
		if c := at(f, p[0], p[1]); !isRed(c) {
			t.Errorf("logo rung pixel %v = %v, want red", p, c)
		}
	}
	for _, p := range [][2]int{{265, 20}, {314, 20}, {290, 5}, {290, 34}, {20, 20}, {160, 120}} {
		if c := at(f, p[0], p[1]); !isBlue(c) {
			t.Errorf("logo rung pixel %v = %v, want blue background", p, c)
		}
	}

	f = frame("text")
	drawn := 0
	for y := 240 - 50; y < 240; y++ {
		for x := 0; x < 200; x++ {
			if !isBlue(at(f, x, y)) {
				drawn++
			}
		}
	}
	if drawn < 1500 {
		t.Errorf("%d non-background pixels in the bottom-left text box, want the boxed text", drawn)
	}
	if c := at(f, 300, 20); !isBlue(c) {
		t.Errorf("text rung pixel (300,20) = %v, want blue", c)
	}
}
