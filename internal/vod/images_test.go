package vod

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rampVideo is a 10 s clip whose brightness grows with time (luma = 25*t),
// so an image's brightness tells which moment it shows.
func rampVideo(t *testing.T) string {
	return generate(t, "ramp.mp4", "-f", "lavfi", "-i", "color=c=black:s=64x48:r=10:d=10",
		"-vf", "geq=lum='clip(25*T,0,255)':cb=128:cr=128", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p")
}

// rampRGB is the mean RGB value a ramp frame at sec decodes to (limited
// range luma expanded to full range).
func rampRGB(sec float64) float64 { return math.Min(255, math.Max(0, (25*sec-16)*255/219)) }

func TestSnapshotTimes(t *testing.T) {
	in := rampVideo(t)
	times := []Offset{"1.5s", "4", "50%", "00:00:08.2", "100%"}
	want := []float64{1.5, 4, 5, 8.2, 9.85}
	res, dir := runOp(t, Operation{Type: TypeSnapshot, Snapshot: &SnapshotSpec{Times: times, ImageSpec: ImageSpec{Width: 32}}}, in)
	if len(res.Snapshots) != len(times) {
		t.Fatalf("%d snapshots, want %d", len(res.Snapshots), len(times))
	}
	for i, s := range res.Snapshots {
		if !near(s.Time, want[i], 0.06) {
			t.Errorf("snapshot %d reports %.3fs, want %.3fs", i, s.Time, want[i])
		}
		p := filepath.Join(dir, s.Name)
		f := ffprobe(t, p)
		if f.width != 32 || f.height != 24 || f.video != "mjpeg" {
			t.Errorf("snapshot %d: %+v", i, f)
		}
		if got := meanLuma(rgbAt(t, p, 0, 32, 24)); !near(got, rampRGB(want[i]), 6) {
			t.Errorf("snapshot %d at %.2fs has brightness %.1f, want %.1f (wrong moment)", i, want[i], got, rampRGB(want[i]))
		}
	}
}

func TestSample(t *testing.T) {
	in := rampVideo(t)
	for _, tc := range []struct {
		every  Offset
		format string
		n      int
		step   float64
	}{{"2s", "jpg", 5, 2}, {"25%", "png", 4, 2.5}, {"3s", "webp", 4, 3}} {
		t.Run(string(tc.every), func(t *testing.T) {
			res, dir := runOp(t, Operation{Type: TypeSample, Sample: &SampleSpec{Every: tc.every, ImageSpec: ImageSpec{Format: tc.format}}}, in)
			if len(res.Snapshots) != tc.n || len(res.Files) != tc.n {
				t.Fatalf("%d snapshots / %d files, want %d", len(res.Snapshots), len(res.Files), tc.n)
			}
			for i, s := range res.Snapshots {
				if !near(s.Time, float64(i)*tc.step, 1e-6) || !strings.HasSuffix(s.Name, "."+tc.format) {
					t.Errorf("snapshot %d = %+v", i, s)
				}
				got := meanLuma(rgbAt(t, filepath.Join(dir, s.Name), 0, 64, 48))
				if !near(got, rampRGB(s.Time), 6) {
					t.Errorf("sample %d (%.1fs) brightness %.1f, want %.1f", i, s.Time, got, rampRGB(s.Time))
				}
			}
		})
	}
}

var cueRe = regexp.MustCompile(`^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$`)
var xywhRe = regexp.MustCompile(`^(sprite_\d{3}\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)$`)

func vttSeconds(m []string) float64 {
	h, _ := strconv.Atoi(m[0])
	mi, _ := strconv.Atoi(m[1])
	s, _ := strconv.Atoi(m[2])
	ms, _ := strconv.Atoi(m[3])
	return float64(h*3600+mi*60+s) + float64(ms)/1000
}

func TestSpriteSheetsAndVTT(t *testing.T) {
	res, dir := runOp(t, Operation{Type: TypeSprite, Sprite: &SpriteSpec{Every: "1s", Rows: 2, Columns: 2, Width: 80}}, testFile("h264_aac_1s_gop.mp4"))
	var sheets []File
	for _, f := range res.Files {
		if strings.HasSuffix(f.Name, ".jpg") {
			sheets = append(sheets, f)
		}
	}
	// 6 thumbnails of 80x60, 4 per 2x2 sheet: 2 sheets of 160x120.
	if len(sheets) != 2 {
		t.Fatalf("sheets = %+v, want 2", sheets)
	}
	for _, s := range sheets {
		if f := ffprobe(t, s.Path); f.width != 160 || f.height != 120 {
			t.Errorf("%s is %dx%d, want 160x120", s.Name, f.width, f.height)
		}
	}
	if res.VTT != "sprite.vtt" {
		t.Fatalf("vtt = %q", res.VTT)
	}
	fh, err := os.Open(filepath.Join(dir, res.VTT))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	if !sc.Scan() || sc.Text() != "WEBVTT" {
		t.Fatal("missing WEBVTT header")
	}
	prevEnd, cues := 0.0, 0
	for sc.Scan() {
		line := sc.Text()
		m := cueRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		a, b := vttSeconds(m[1:5]), vttSeconds(m[5:9])
		if !near(a, prevEnd, 1e-6) || b <= a {
			t.Errorf("cue %d %s leaves a gap or overlaps (previous end %.3f)", cues, line, prevEnd)
		}
		prevEnd = b
		if !sc.Scan() {
			t.Fatal("cue without payload")
		}
		x := xywhRe.FindStringSubmatch(sc.Text())
		if x == nil {
			t.Fatalf("bad cue payload %q", sc.Text())
		}
		cell := cues % 4
		wantSheet := []string{"sprite_001.jpg", "sprite_002.jpg"}[cues/4]
		if x[1] != wantSheet || x[2] != strconv.Itoa(cell%2*80) || x[3] != strconv.Itoa(cell/2*60) || x[4] != "80" || x[5] != "60" {
			t.Errorf("cue %d points at %s", cues, sc.Text())
		}
		cues++
	}
	if cues != 6 || !near(prevEnd, 6, 1e-6) {
		t.Errorf("%d cues ending at %.3f, want 6 covering 0-6 s", cues, prevEnd)
	}
	// The second thumbnail of the first sheet (t=1s) differs from the first
	// (t=0): the cells really hold different moments.
	sheet := rgbAt(t, sheets[0].Path, 0, 160, 120)
	if cellDiff(sheet, 160, 0, 0, 80, 0, 80, 60) < 2 {
		t.Error("first two thumbnails are identical")
	}
}

// cellDiff is the mean absolute difference between two w x h cells of an
// RGB24 image stride pixels wide.
func cellDiff(rgb []byte, stride, x1, y1, x2, y2, w, h int) float64 {
	var sum float64
	for y := range h {
		for x := range w {
			for c := range 3 {
				a := rgb[((y1+y)*stride+x1+x)*3+c]
				b := rgb[((y2+y)*stride+x2+x)*3+c]
				sum += math.Abs(float64(a) - float64(b))
			}
		}
	}
	return sum / float64(w*h*3)
}

func TestAnimated(t *testing.T) {
	in := testFile("h264_aac_1s_gop.mp4")
	for _, tc := range []struct {
		spec  AnimatedSpec
		codec string
		w, h  int
	}{
		{AnimatedSpec{Start: "1s", End: "3s", FPS: 5, Width: 160}, "gif", 160, 120},
		{AnimatedSpec{Format: "webp", End: "1s", FPS: 10}, "webp", 320, 240},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			res, _ := runOp(t, Operation{Type: TypeAnimated, Animated: &tc.spec}, in)
			f := res.Files[0]
			if tc.codec == "gif" {
				// ffprobe reads GIF frames; webp animations are not decodable
				// by ffmpeg 5.1, so only the container header is checked.
				p := ffprobe(t, f.Path)
				if p.video != "gif" || p.width != tc.w || p.height != tc.h || p.frames != 10 {
					t.Errorf("gif: %+v, want %dx%d with 10 frames", p, tc.w, tc.h)
				}
				return
			}
			b, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 30 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" || !strings.Contains(string(b[:64]), "ANIM") {
				t.Errorf("not an animated WebP: % x", b[:min(len(b), 32)])
			}
			if n := strings.Count(string(b), "ANMF"); n != 10 {
				t.Errorf("%d WebP frames, want 10", n)
			}
		})
	}
}
