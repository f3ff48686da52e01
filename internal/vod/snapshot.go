package vod

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// SnapshotSpec takes still images at given times.
type SnapshotSpec struct {
	// Times are offsets ("3.5s", "00:00:03.5", "10%").
	Times     []Offset `json:"times" yaml:"times"`
	ImageSpec `yaml:",inline"`
}

// SampleSpec takes a still image every Every ("10s" or "10%").
type SampleSpec struct {
	Every Offset `json:"every" yaml:"every"`
	// Max caps the number of images (default 1000).
	Max       int `json:"max,omitempty" yaml:"max,omitempty"`
	ImageSpec `yaml:",inline"`
}

// ImageSpec shapes still images.
type ImageSpec struct {
	// Format is jpg (default), png or webp.
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
	// Width and Height scale the image (0 keeps the aspect ratio).
	Width  int `json:"width,omitempty" yaml:"width,omitempty"`
	Height int `json:"height,omitempty" yaml:"height,omitempty"`
}

func (s ImageSpec) ext() string {
	switch s.Format {
	case "png":
		return ".png"
	case "webp":
		return ".webp"
	default:
		return ".jpg"
	}
}

func (s ImageSpec) validate() error {
	switch s.Format {
	case "", "jpg", "jpeg", "png", "webp":
	default:
		return fmt.Errorf("unknown image format %q (want jpg, png or webp)", s.Format)
	}
	if s.Width < 0 || s.Height < 0 {
		return fmt.Errorf("negative image size")
	}
	return nil
}

// encoderArgs are the image encoder options.
func (s ImageSpec) encoderArgs() []string {
	switch s.ext() {
	case ".png":
		return []string{"-c:v", "png"}
	case ".webp":
		return []string{"-c:v", "libwebp", "-quality", "80"}
	default:
		return []string{"-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"}
	}
}

// scale returns the scale filter for the image size, or "".
func (s ImageSpec) scale() string {
	w, h := s.Width, s.Height
	switch {
	case w <= 0 && h <= 0:
		return ""
	case w <= 0:
		w = -2
	case h <= 0:
		h = -2
	}
	return fmt.Sprintf("scale=%d:%d", w, h)
}

func (s *SnapshotSpec) validate() error {
	if len(s.Times) > 500 {
		return fmt.Errorf("too many snapshot times (%d > 500)", len(s.Times))
	}
	for i, t := range s.Times {
		if err := t.validate(fmt.Sprintf("time %d", i)); err != nil {
			return err
		}
	}
	return s.ImageSpec.validate()
}

func (s *SampleSpec) validate() error {
	if err := s.Every.validate("every"); err != nil {
		return err
	}
	if v, _ := s.Every.Seconds(100); v <= 0 {
		return fmt.Errorf("every must be more than zero")
	}
	if s.Max < 0 {
		return fmt.Errorf("negative max")
	}
	return s.ImageSpec.validate()
}

// lastFrameTime is the latest time a seek still finds a frame at.
func (j *job) lastFrameTime() float64 {
	fps := j.outFPS(VideoSpec{})
	return math.Max(0, j.in.Duration-1.5/fps)
}

// snapshot seeks once per time, all in one ffmpeg (one input per time),
// in batches so the command line stays bounded.
func (j *job) snapshot() (Result, error) {
	s := j.op.Snapshot
	if !j.in.HasVideo() {
		return Result{}, fmt.Errorf("input has no video to snapshot")
	}
	times := make([]float64, len(s.Times))
	for i, o := range s.Times {
		t, err := o.Seconds(j.in.Duration)
		if err != nil {
			return Result{}, fmt.Errorf("time %d: %w", i, err)
		}
		times[i] = math.Min(t, j.lastFrameTime())
	}
	var res Result
	const batch = 16
	for from := 0; from < len(times); from += batch {
		to := min(from+batch, len(times))
		var args []string
		for _, t := range times[from:to] {
			args = append(args, "-ss", ftoa(t), "-i", j.input)
		}
		for k := from; k < to; k++ {
			name := fmt.Sprintf("%s_%04d%s", j.base(), k+1, s.ext())
			args = append(args, "-map", fmt.Sprintf("%d:v:0", k-from), "-frames:v", "1")
			if f := s.scale(); f != "" {
				args = append(args, "-vf", f)
			}
			args = append(args, s.encoderArgs()...)
			args = append(args, "-f", "image2", "-update", "1", filepath.Join(j.outDir, name))
			res.Snapshots = append(res.Snapshots, Snapshot{Name: name, Time: times[k]})
		}
		if err := j.ffmpeg(args, 0, nil); err != nil {
			return Result{}, err
		}
		j.progress(float64(to) / float64(len(times)) * 99)
	}
	files, err := collect(j.ctx, j.outDir, probeAll)
	if err != nil {
		return Result{}, err
	}
	res.Files = files
	return res, nil
}

// bucketSelect picks the first frame of every interval-long bucket, so the
// n-th selected frame is the one at (or just after) n*interval.
func bucketSelect(interval float64) string {
	i := ftoa(interval)
	return fmt.Sprintf("select='isnan(prev_selected_t)+gt(floor(t/%s),floor(prev_selected_t/%s))'", i, i)
}

// buckets is how many frames bucketSelect yields over the input.
func (j *job) buckets(interval float64) int {
	return max(1, int(math.Ceil(j.lastFrameTime()/interval-1e-9)))
}

func (j *job) sample() (Result, error) {
	s := j.op.Sample
	if !j.in.HasVideo() {
		return Result{}, fmt.Errorf("input has no video to sample")
	}
	every, err := s.Every.Seconds(j.in.Duration)
	if err != nil {
		return Result{}, err
	}
	if every <= 0 {
		return Result{}, fmt.Errorf("sample interval resolves to zero")
	}
	limit := s.Max
	if limit == 0 {
		limit = 1000
	}
	n := min(j.buckets(every), limit)
	chain := []string{bucketSelect(every)}
	if f := s.scale(); f != "" {
		chain = append(chain, f)
	}
	pattern := fmt.Sprintf("%s_%%04d%s", j.base(), s.ext())
	args := []string{"-i", j.input, "-map", "0:v:0", "-vf", strings.Join(chain, ","), "-fps_mode", "vfr", "-frames:v", strconv.Itoa(n)}
	args = append(args, s.encoderArgs()...)
	args = append(args, "-f", "image2", patternPath(j.outDir, pattern))
	if err := j.ffmpeg(args, j.in.Duration, j.progress); err != nil {
		return Result{}, err
	}
	files, err := collect(j.ctx, j.outDir, probeAll)
	if err != nil {
		return Result{}, err
	}
	res := Result{Files: files}
	for k := range len(files) {
		res.Snapshots = append(res.Snapshots, Snapshot{Name: fmt.Sprintf(pattern, k+1), Time: float64(k) * every})
	}
	return res, nil
}
