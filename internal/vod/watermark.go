package vod

import (
	"errors"
	"fmt"
	"strings"

	"mps/internal/watermark"
)

// WatermarkSpec burns watermark templates into the video, optionally only
// between Start and End (in input time).
type WatermarkSpec struct {
	// Names are watermark template names, overlaid in order.
	Names []string `json:"names" yaml:"names"`
	Start Offset   `json:"start,omitempty" yaml:"start,omitempty"`
	End   Offset   `json:"end,omitempty" yaml:"end,omitempty"`
	// Output encoding (default mp4, h264 and aac).
	Container string    `json:"container,omitempty" yaml:"container,omitempty"`
	Video     VideoSpec `json:"video,omitzero" yaml:"video,omitempty"`
	Audio     AudioSpec `json:"audio,omitzero" yaml:"audio,omitempty"`
}

// ErrNoResolver is returned when an operation names a template but the
// caller bound no [Env] that can resolve it.
var ErrNoResolver = errors.New("no resolver for template names")

func (s *WatermarkSpec) validate() error {
	if err := s.Start.validate("start"); err != nil {
		return err
	}
	if err := s.End.validate("end"); err != nil {
		return err
	}
	t := TranscodeSpec{Container: s.Container, Video: s.Video, Audio: s.Audio}
	if t.container() == "hls" || containers[t.container()].video == "" {
		if _, ok := containers[t.container()]; ok {
			return fmt.Errorf("watermark output must be a video container, not %s", t.container())
		}
	}
	return t.validate()
}

func (j *job) lookupWatermark(name string) (watermark.Template, error) {
	if j.op.env == nil || j.op.env.Watermark == nil {
		return watermark.Template{}, fmt.Errorf("watermark %q: %w", name, ErrNoResolver)
	}
	t, err := j.op.env.Watermark(name)
	if err != nil {
		return watermark.Template{}, fmt.Errorf("watermark %q: %w", name, err)
	}
	if err := t.Validate(); err != nil {
		return watermark.Template{}, fmt.Errorf("watermark %q: %w", name, err)
	}
	return t, nil
}

// overlay splices one watermark into g after pad in: it returns the new
// pad, the extra ffmpeg input arguments and how many inputs they open.
// enable ("" or a timeline expression) limits when the mark shows.
func overlay(g *graph, t watermark.Template, in string, firstInput, videoWidth int, enable string) (string, []string, int, error) {
	out := g.next("wm")
	filter, inputs, err := watermark.Build(t, watermark.Placement{In: in, Out: out, InputIndex: firstInput, VideoWidth: videoWidth})
	if err != nil {
		return "", nil, 0, err
	}
	if enable != "" {
		// The fragment ends with the filter that draws the mark (overlay or
		// drawtext), then its output pad; both take a timeline option.
		suffix := "[" + out + "]"
		if !strings.HasSuffix(filter, suffix) {
			return "", nil, 0, fmt.Errorf("watermark filter does not end in %s", suffix)
		}
		filter = strings.TrimSuffix(filter, suffix) + ":enable='" + enable + "'" + suffix
	}
	g.raw(filter)
	n := 0
	for _, a := range inputs {
		if a == "-i" {
			n++
		}
	}
	return out, inputs, n, nil
}

func (j *job) watermark() (Result, error) {
	s := j.op.Watermark
	if !j.in.HasVideo() {
		return Result{}, fmt.Errorf("input has no video to watermark")
	}
	plan := encodePlan{spec: TranscodeSpec{Container: s.Container, Video: s.Video, Audio: s.Audio}}
	if s.Start != "" || s.End != "" {
		a, b, err := window(s.Start, s.End, j.in.Duration)
		if err != nil {
			return Result{}, err
		}
		plan.enableExpr = fmt.Sprintf("between(t,%s,%s)", ftoa(a), ftoa(b))
	}
	for _, name := range s.Names {
		o, err := j.lookupWatermark(name)
		if err != nil {
			return Result{}, err
		}
		plan.overlays = append(plan.overlays, o)
	}
	return j.encode(plan)
}
