package pertitle

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"mps/ai/ffmeta"
)

var (
	ssimRe = regexp.MustCompile(`SSIM .* All:([0-9.]+)`)
	psnrRe = regexp.MustCompile(`PSNR .* average:([0-9.]+|inf)`)
)

// trial encodes the sample at height h with the rate arguments, then
// measures it against the sample after scaling back to the source size.
func (r *run) trial(ctx context.Context, h int, rate []string) (Point, error) {
	w := evenInt(float64(h) * float64(r.info.Width) / float64(r.info.Height))
	out := filepath.Join(r.tmp, "trial.mp4")
	args := []string{"-loglevel", "error", "-i", r.sample, "-vf", fmt.Sprintf("scale=%d:%d", w, h),
		"-c:v", "libx264", "-preset", r.preset}
	args = append(append(args, rate...), "-an", out)
	if _, err := ffmeta.Run(ctx, r.tmp, args, 0, nil); err != nil {
		return Point{}, fmt.Errorf("trial %dp: %w", h, err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return Point{}, err
	}
	graph := fmt.Sprintf("[0:v]scale=%d:%d:flags=bicubic,settb=AVTB,setpts=PTS-STARTPTS,split[d1][d2];"+
		"[1:v]settb=AVTB,setpts=PTS-STARTPTS,split[r1][r2];[d1][r1]ssim;[d2][r2]psnr", r.info.Width, r.info.Height)
	log, err := ffmeta.Run(ctx, r.tmp, []string{"-loglevel", "info", "-i", out, "-i", r.sample, "-lavfi", graph, "-f", "null", "-"}, 0, nil)
	if err != nil {
		return Point{}, fmt.Errorf("measure %dp: %w", h, err)
	}
	m := ssimRe.FindStringSubmatch(log)
	if m == nil {
		return Point{}, fmt.Errorf("measure %dp: no SSIM in ffmpeg's output", h)
	}
	p := Point{Width: w, Height: h, Bitrate: math.Round(float64(fi.Size()) * 8 / r.dur)}
	p.SSIM, _ = strconv.ParseFloat(m[1], 64)
	if m := psnrRe.FindStringSubmatch(log); m != nil {
		p.PSNR, _ = strconv.ParseFloat(m[1], 64)
		if math.IsInf(p.PSNR, 0) {
			p.PSNR = 100
		}
	}
	p.SSIM, p.PSNR = math.Round(p.SSIM*1e5)/1e5, math.Round(p.PSNR*100)/100
	return p, nil
}

// bitrateOf parses "2800k" or "2.8M" to bits per second.
func bitrateOf(s string) (float64, error) {
	s = strings.TrimSpace(s)
	mul := 1.0
	switch {
	case strings.HasSuffix(strings.ToLower(s), "k"):
		mul, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(strings.ToLower(s), "m"):
		mul, s = 1e6, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	return f * mul, err
}
