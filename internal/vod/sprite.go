package vod

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// SpriteSpec builds thumbnail sheets (Rows x Columns thumbnails each) and a
// WebVTT track whose cues point into them with "#xywh=", the format
// players use for seek-bar previews.
type SpriteSpec struct {
	// Every is the time between thumbnails ("2s" or "1%"); default: enough
	// for one full sheet.
	Every   Offset `json:"every,omitempty" yaml:"every,omitempty"`
	Rows    int    `json:"rows,omitempty" yaml:"rows,omitempty"`
	Columns int    `json:"columns,omitempty" yaml:"columns,omitempty"`
	// Width of one thumbnail (default 160); the height keeps the aspect.
	Width int `json:"width,omitempty" yaml:"width,omitempty"`
	// Format is jpg (default), png or webp.
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
}

func (s *SpriteSpec) validate() error {
	if s.Rows < 0 || s.Columns < 0 || s.Rows > 50 || s.Columns > 50 || s.Width < 0 || s.Width > 1920 {
		return fmt.Errorf("sprite size out of range (rows, columns up to 50, width up to 1920)")
	}
	if err := s.Every.validate("every"); err != nil {
		return err
	}
	return ImageSpec{Format: s.Format}.validate()
}

func (j *job) sprite() (Result, error) {
	s := SpriteSpec{Rows: 5, Columns: 5, Width: 160}
	if j.op.Sprite != nil {
		s = *j.op.Sprite
	}
	if s.Rows == 0 {
		s.Rows = 5
	}
	if s.Columns == 0 {
		s.Columns = 5
	}
	if s.Width == 0 {
		s.Width = 160
	}
	if !j.in.HasVideo() || j.in.Width <= 0 || j.in.Height <= 0 {
		return Result{}, fmt.Errorf("input has no video for a sprite")
	}
	per := s.Rows * s.Columns
	every, err := s.Every.Seconds(j.in.Duration)
	if err != nil {
		return Result{}, err
	}
	if every <= 0 {
		every = math.Max(j.in.Duration/float64(per), 0.04)
	}
	tw := even(s.Width)
	th := max(2, even(int(math.Round(float64(tw)*float64(j.in.Height)/float64(j.in.Width)))))
	n := min(j.buckets(every), 10000)
	sheets := (n + per - 1) / per
	img := ImageSpec{Format: s.Format}
	pattern := fmt.Sprintf("%s_%%03d%s", j.base(), img.ext())
	chain := fmt.Sprintf("%s,scale=%d:%d,setsar=1,tile=%dx%d", bucketSelect(every), tw, th, s.Columns, s.Rows)
	args := []string{"-i", j.input, "-map", "0:v:0", "-vf", chain, "-fps_mode", "vfr", "-frames:v", fmt.Sprint(sheets)}
	args = append(args, img.encoderArgs()...)
	args = append(args, "-f", "image2", patternPath(j.outDir, pattern))
	if err := j.ffmpeg(args, j.in.Duration, j.progress); err != nil {
		return Result{}, err
	}

	var vtt strings.Builder
	vtt.WriteString("WEBVTT\n\n")
	for i := range n {
		a := float64(i) * every
		b := math.Min(float64(i+1)*every, j.in.Duration)
		if i == n-1 {
			b = j.in.Duration
		}
		cell := i % per
		fmt.Fprintf(&vtt, "%s --> %s\n%s#xywh=%d,%d,%d,%d\n\n", vttTime(a), vttTime(b),
			fmt.Sprintf(pattern, i/per+1), (cell%s.Columns)*tw, (cell/s.Columns)*th, tw, th)
	}
	vttName := j.base() + ".vtt"
	if err := os.WriteFile(filepath.Join(j.outDir, vttName), []byte(vtt.String()), 0o644); err != nil {
		return Result{}, fmt.Errorf("write vtt: %w", err)
	}
	files, err := collect(j.ctx, j.outDir, probeAll)
	if err != nil {
		return Result{}, err
	}
	return Result{Files: files, VTT: vttName}, nil
}

// vttTime formats seconds as HH:MM:SS.mmm.
func vttTime(sec float64) string {
	ms := int64(math.Round(sec * 1000))
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// AnimatedSpec makes an animated GIF or WebP preview of a range.
type AnimatedSpec struct {
	// Format is gif (default) or webp.
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
	// Start and End bound the range (default: the first 5 s from Start).
	Start Offset  `json:"start,omitempty" yaml:"start,omitempty"`
	End   Offset  `json:"end,omitempty" yaml:"end,omitempty"`
	FPS   float64 `json:"fps,omitempty" yaml:"fps,omitempty"`
	// Width of the animation (default 320); height keeps the aspect.
	Width int `json:"width,omitempty" yaml:"width,omitempty"`
}

func (s *AnimatedSpec) validate() error {
	switch s.Format {
	case "", "gif", "webp":
	default:
		return fmt.Errorf("unknown animation format %q (want gif or webp)", s.Format)
	}
	if s.FPS < 0 || s.FPS > 60 || s.Width < 0 || s.Width > 1920 {
		return fmt.Errorf("animation fps (up to 60) or width (up to 1920) out of range")
	}
	if err := s.Start.validate("start"); err != nil {
		return err
	}
	return s.End.validate("end")
}

func (j *job) animated() (Result, error) {
	s := AnimatedSpec{}
	if j.op.Animated != nil {
		s = *j.op.Animated
	}
	if !j.in.HasVideo() {
		return Result{}, fmt.Errorf("input has no video to animate")
	}
	start, end, err := window(s.Start, s.End, j.in.Duration)
	if err != nil {
		return Result{}, err
	}
	if s.End == "" {
		end = math.Min(start+5, j.in.Duration)
	}
	fps, width := s.FPS, s.Width
	if fps == 0 {
		fps = 10
	}
	if width == 0 {
		width = 320
	}
	base := fmt.Sprintf("fps=%s,scale=%d:-2:flags=lanczos", ftoa(fps), even(width))
	args := []string{"-ss", ftoa(start), "-t", ftoa(end - start), "-i", j.input, "-map", "0:v:0"}
	var name string
	if s.Format == "webp" {
		name = j.base() + ".webp"
		args = append(args, "-vf", base, "-c:v", "libwebp_anim", "-loop", "0", "-quality", "70", "-f", "webp")
	} else {
		name = j.base() + ".gif"
		args = append(args, "-filter_complex", "[0:v:0]"+base+",split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer[o]",
			"-map", "[o]", "-loop", "0", "-f", "gif")
	}
	// The "-map 0:v:0" above is superseded for gif by the filter's output.
	if s.Format != "webp" {
		args = removeMap(args, "0:v:0")
	}
	args = append(args, filepath.Join(j.outDir, name))
	if err := j.ffmpeg(args, end-start, j.progress); err != nil {
		return Result{}, err
	}
	files, err := collect(j.ctx, j.outDir, probeAll)
	if err != nil {
		return Result{}, err
	}
	return Result{Files: files}, nil
}

// removeMap drops one "-map spec" pair from args.
func removeMap(args []string, spec string) []string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-map" && args[i+1] == spec {
			return append(args[:i:i], args[i+2:]...)
		}
	}
	return args
}
