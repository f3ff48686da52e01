package vod

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// EnhanceSpec is a set of picture and sound improvements, applied as ffmpeg
// filters. Used by the enhance operation and, by template name, by
// transcodes.
type EnhanceSpec struct {
	// Denoise is hqdn3d (fast) or nlmeans (slow, better).
	Denoise string `json:"denoise,omitempty" yaml:"denoise,omitempty"`
	// Sharpen is unsharp or cas.
	Sharpen string `json:"sharpen,omitempty" yaml:"sharpen,omitempty"`
	// Deinterlace runs bwdif.
	Deinterlace bool `json:"deinterlace,omitempty" yaml:"deinterlace,omitempty"`
	// Brightness (-1..1), Contrast, Saturation, Gamma (1 = unchanged) go to eq.
	Brightness *float64 `json:"brightness,omitempty" yaml:"brightness,omitempty"`
	Contrast   *float64 `json:"contrast,omitempty" yaml:"contrast,omitempty"`
	Saturation *float64 `json:"saturation,omitempty" yaml:"saturation,omitempty"`
	Gamma      *float64 `json:"gamma,omitempty" yaml:"gamma,omitempty"`
	// Upscale resizes with a high-quality scaler.
	Upscale *UpscaleSpec `json:"upscale,omitempty" yaml:"upscale,omitempty"`
	// FPS converts the frame rate; Interpolate uses motion interpolation
	// (slow) instead of dropping/duplicating frames.
	FPS         float64 `json:"fps,omitempty" yaml:"fps,omitempty"`
	Interpolate bool    `json:"interpolate,omitempty" yaml:"interpolate,omitempty"`
	// Loudnorm normalises loudness to EBU R128 targets (two passes, linear).
	Loudnorm *LoudnormSpec `json:"loudnorm,omitempty" yaml:"loudnorm,omitempty"`
	// AudioDenoise runs afftdn.
	AudioDenoise bool `json:"audio_denoise,omitempty" yaml:"audio_denoise,omitempty"`

	// Output encoding for the enhance operation (default mp4, h264, aac).
	Container string    `json:"container,omitempty" yaml:"container,omitempty"`
	Video     VideoSpec `json:"video,omitzero" yaml:"video,omitempty"`
	Audio     AudioSpec `json:"audio,omitzero" yaml:"audio,omitempty"`
}

// UpscaleSpec is a resize done for quality.
type UpscaleSpec struct {
	Width  int `json:"width,omitempty" yaml:"width,omitempty"`
	Height int `json:"height,omitempty" yaml:"height,omitempty"`
	// Method is lanczos (default) or zscale (spline36).
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
}

// LoudnormSpec holds EBU R128 targets.
type LoudnormSpec struct {
	// I is the integrated loudness target in LUFS (default -16).
	I float64 `json:"i,omitempty" yaml:"i,omitempty"`
	// TP is the true-peak ceiling in dBTP (default -1.5).
	TP float64 `json:"tp,omitempty" yaml:"tp,omitempty"`
	// LRA is the loudness range target in LU (default 11).
	LRA float64 `json:"lra,omitempty" yaml:"lra,omitempty"`
}

func (l LoudnormSpec) targets() (i, tp, lra float64) {
	i, tp, lra = l.I, l.TP, l.LRA
	if i == 0 {
		i = -16
	}
	if tp == 0 {
		tp = -1.5
	}
	if lra == 0 {
		lra = 11
	}
	return
}

func (e *EnhanceSpec) validate() error {
	switch e.Denoise {
	case "", "hqdn3d", "nlmeans":
	default:
		return fmt.Errorf("unknown denoise %q (want hqdn3d or nlmeans)", e.Denoise)
	}
	switch e.Sharpen {
	case "", "unsharp", "cas":
	default:
		return fmt.Errorf("unknown sharpen %q (want unsharp or cas)", e.Sharpen)
	}
	if e.Upscale != nil {
		switch e.Upscale.Method {
		case "", "lanczos", "zscale":
		default:
			return fmt.Errorf("unknown upscale method %q (want lanczos or zscale)", e.Upscale.Method)
		}
		if e.Upscale.Width <= 0 && e.Upscale.Height <= 0 {
			return fmt.Errorf("upscale needs a width or height")
		}
	}
	if l := e.Loudnorm; l != nil {
		i, tp, lra := l.targets()
		if i < -70 || i > -5 || tp < -9 || tp > 0 || lra < 1 || lra > 50 {
			return fmt.Errorf("loudnorm targets out of range (I -70..-5, TP -9..0, LRA 1..50)")
		}
	}
	t := TranscodeSpec{Container: e.Container, Video: e.Video, Audio: e.Audio}
	return t.validate()
}

// videoFilters is the video chain, in a sensible order: deinterlace,
// denoise, frame rate, resize, colour, sharpen.
func (e *EnhanceSpec) videoFilters() []string {
	var f []string
	if e.Deinterlace {
		f = append(f, "bwdif=mode=send_frame:deint=all")
	}
	switch e.Denoise {
	case "hqdn3d":
		f = append(f, "hqdn3d")
	case "nlmeans":
		f = append(f, "nlmeans=s=3:p=7:r=9")
	}
	if e.FPS > 0 {
		if e.Interpolate {
			f = append(f, "minterpolate=fps="+ftoa(e.FPS)+":mi_mode=mci")
		} else {
			f = append(f, "fps="+ftoa(e.FPS))
		}
	}
	if u := e.Upscale; u != nil {
		w, h := even(u.Width), even(u.Height)
		if w <= 0 {
			w = -2
		}
		if h <= 0 {
			h = -2
		}
		if u.Method == "zscale" {
			f = append(f, fmt.Sprintf("zscale=w=%s:h=%s:filter=spline36", dimExpr(w, h, true), dimExpr(w, h, false)))
		} else {
			f = append(f, fmt.Sprintf("scale=%d:%d:flags=lanczos", w, h))
		}
		f = append(f, "setsar=1")
	}
	var eq []string
	for _, p := range []struct {
		k string
		v *float64
	}{{"brightness", e.Brightness}, {"contrast", e.Contrast}, {"saturation", e.Saturation}, {"gamma", e.Gamma}} {
		if p.v != nil {
			eq = append(eq, p.k+"="+ftoa(*p.v))
		}
	}
	if len(eq) > 0 {
		f = append(f, "eq="+strings.Join(eq, ":"))
	}
	switch e.Sharpen {
	case "unsharp":
		f = append(f, "unsharp=5:5:1.0")
	case "cas":
		f = append(f, "cas=strength=0.6")
	}
	return f
}

// dimExpr is a zscale size expression that keeps the aspect ratio when the
// other side is -2.
func dimExpr(w, h int, width bool) string {
	switch {
	case width && w > 0:
		return strconv.Itoa(w)
	case !width && h > 0:
		return strconv.Itoa(h)
	case width:
		return fmt.Sprintf("trunc(%d*iw/ih/2)*2", h)
	default:
		return fmt.Sprintf("trunc(%d*ih/iw/2)*2", w)
	}
}

// audioFilters is the audio chain; loudnorm first measures the clip.
func (j *job) audioFilters(e EnhanceSpec, start, end float64) ([]string, error) {
	var f []string
	if e.AudioDenoise {
		f = append(f, "afftdn=nf=-25")
	}
	if e.Loudnorm != nil {
		i, tp, lra := e.Loudnorm.targets()
		m, err := measureLoudness(j.ctx, j.input, start, end, f, i, tp, lra)
		if err != nil {
			return nil, err
		}
		sr := j.in.SampleRate
		if sr <= 0 {
			sr = 48000
		}
		// loudnorm works at 192 kHz; when it falls back from linear to
		// dynamic mode (a flat signal, or a peak the gain would push over
		// TP), ffmpeg 5.1 cannot negotiate the channel layout between the
		// resampler and the encoder on its own ("Cannot select channel
		// layout"), so the output format is pinned: the input's rate and
		// layout.
		f = append(f, fmt.Sprintf("loudnorm=I=%s:TP=%s:LRA=%s:measured_I=%s:measured_TP=%s:measured_LRA=%s:measured_thresh=%s:offset=%s:linear=true",
			ftoa(i), ftoa(tp), ftoa(lra), m.InputI, m.InputTP, m.InputLRA, m.InputThresh, m.TargetOffset),
			"aresample="+strconv.Itoa(sr),
			fmt.Sprintf("aformat=sample_rates=%d:channel_layouts=%s", sr, channelLayout(j.in.Channels)))
	}
	return f, nil
}

// channelLayout names ffmpeg's usual layout for a channel count (stereo
// when the count is unknown or unusual).
func channelLayout(n int) string {
	layouts := map[int]string{1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
	if l, ok := layouts[n]; ok {
		return l
	}
	return "stereo"
}

// loudness is loudnorm's first-pass report.
type loudness struct {
	InputI       string `json:"input_i"`
	InputTP      string `json:"input_tp"`
	InputLRA     string `json:"input_lra"`
	InputThresh  string `json:"input_thresh"`
	TargetOffset string `json:"target_offset"`
}

// measureLoudness runs loudnorm's analysis pass over the clip.
func measureLoudness(ctx context.Context, input string, start, end float64, pre []string, i, tp, lra float64) (*loudness, error) {
	var args []string
	args = append(args, "-hide_banner", "-nostdin", "-nostats")
	if start > 0 {
		args = append(args, "-ss", ftoa(start))
	}
	args = append(args, "-i", input, "-vn", "-sn", "-dn")
	if end > start && end > 0 {
		args = append(args, "-t", ftoa(end-start))
	}
	chain := append(append([]string(nil), pre...), fmt.Sprintf("loudnorm=I=%s:TP=%s:LRA=%s:print_format=json", ftoa(i), ftoa(tp), ftoa(lra)))
	args = append(args, "-af", strings.Join(chain, ","), "-f", "null", "-")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", guardInputs(args)...)
	detach(cmd)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{max: 16384, buf: &stderr}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("loudness analysis: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("loudness analysis: %s", lastLines(stderr.String(), 3))
	}
	out := stderr.String()
	a, b := strings.LastIndex(out, "{"), strings.LastIndex(out, "}")
	if a < 0 || b < a {
		return nil, fmt.Errorf("loudness analysis: no report from loudnorm")
	}
	var m loudness
	if err := json.Unmarshal([]byte(out[a:b+1]), &m); err != nil {
		return nil, fmt.Errorf("loudness analysis: %w", err)
	}
	for _, v := range []string{m.InputI, m.InputTP, m.InputLRA, m.InputThresh, m.TargetOffset} {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("loudness analysis: input is silent or unmeasurable (%q)", v)
		}
	}
	return &m, nil
}

func (j *job) lookupEnhancement(name string) (EnhanceSpec, error) {
	if j.op.env == nil || j.op.env.Enhancement == nil {
		return EnhanceSpec{}, fmt.Errorf("enhancement %q: %w", name, ErrNoResolver)
	}
	e, err := j.op.env.Enhancement(name)
	if err != nil {
		return EnhanceSpec{}, fmt.Errorf("enhancement %q: %w", name, err)
	}
	if err := e.validate(); err != nil {
		return EnhanceSpec{}, fmt.Errorf("enhancement %q: %w", name, err)
	}
	return e, nil
}

func (j *job) enhance() (Result, error) {
	e := *j.op.Enhance
	return j.encode(encodePlan{spec: TranscodeSpec{Container: e.Container, Video: e.Video, Audio: e.Audio}, enhance: []EnhanceSpec{e}})
}
