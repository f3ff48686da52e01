package vod

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"mps/internal/aispec"
	"mps/internal/watermark"
)

// TranscodeSpec re-encodes (or copies) a file into a container.
type TranscodeSpec struct {
	// Container is mp4, webm, mkv, ts, hls, mp3, m4a or flac (default mp4).
	Container string    `json:"container,omitempty" yaml:"container,omitempty"`
	Video     VideoSpec `json:"video,omitzero" yaml:"video,omitempty"`
	Audio     AudioSpec `json:"audio,omitzero" yaml:"audio,omitempty"`
	// Start and End clip the input (End empty = to the end).
	Start Offset `json:"start,omitempty" yaml:"start,omitempty"`
	End   Offset `json:"end,omitempty" yaml:"end,omitempty"`
	// Watermarks are watermark template names, overlaid in order.
	Watermarks []string `json:"watermarks,omitempty" yaml:"watermarks,omitempty"`
	// Enhancements are enhancement template names, applied in order before
	// scaling.
	Enhancements []string `json:"enhancements,omitempty" yaml:"enhancements,omitempty"`
	// HLS sets segmenting when Container is hls.
	HLS HLSSpec `json:"hls,omitzero" yaml:"hls,omitempty"`
	// ReadRate limits how fast the input is read (1 = real time); 0 reads
	// as fast as possible. It keeps a batch job from hogging a shared box.
	ReadRate float64 `json:"read_rate,omitempty" yaml:"read_rate,omitempty"`
	// ROI finds faces and gives them more bits (h264/h265 only; needs the
	// roi extension on the node).
	ROI *aispec.TranscodeROI `json:"roi,omitempty" yaml:"roi,omitempty"`
}

// VideoSpec is the video half of an encode.
type VideoSpec struct {
	// Codec is h264, h265, av1, vp9, copy or none (default: the
	// container's usual codec).
	Codec string `json:"codec,omitempty" yaml:"codec,omitempty"`
	// Width and Height bound the picture; 0 keeps the aspect ratio.
	Width  int `json:"width,omitempty" yaml:"width,omitempty"`
	Height int `json:"height,omitempty" yaml:"height,omitempty"`
	// Fill is how a picture of another aspect ratio fills Width x Height:
	// stretch, black (default) or blur.
	Fill string  `json:"fill,omitempty" yaml:"fill,omitempty"`
	FPS  float64 `json:"fps,omitempty" yaml:"fps,omitempty"`
	// GOPFrames or GOPSeconds set the keyframe interval.
	GOPFrames  int     `json:"gop_frames,omitempty" yaml:"gop_frames,omitempty"`
	GOPSeconds float64 `json:"gop_seconds,omitempty" yaml:"gop_seconds,omitempty"`
	// BFrames sets the number of B-frames (nil = encoder default).
	BFrames *int `json:"bframes,omitempty" yaml:"bframes,omitempty"`
	// RateControl is crf (default), vbr or cbr.
	RateControl string `json:"rate_control,omitempty" yaml:"rate_control,omitempty"`
	CRF         int    `json:"crf,omitempty" yaml:"crf,omitempty"`
	// Bitrate and MaxRate are ffmpeg rates ("1500k", "2M").
	Bitrate string `json:"bitrate,omitempty" yaml:"bitrate,omitempty"`
	MaxRate string `json:"maxrate,omitempty" yaml:"maxrate,omitempty"`
	// Preset is the encoder speed preset (x264/x265 names; a number for
	// av1 and vp9).
	Preset string `json:"preset,omitempty" yaml:"preset,omitempty"`
}

// AudioSpec is the audio half of an encode.
type AudioSpec struct {
	// Codec is aac, opus, mp3, flac, copy or none.
	Codec      string `json:"codec,omitempty" yaml:"codec,omitempty"`
	Bitrate    string `json:"bitrate,omitempty" yaml:"bitrate,omitempty"`
	SampleRate int    `json:"sample_rate,omitempty" yaml:"sample_rate,omitempty"`
	Channels   int    `json:"channels,omitempty" yaml:"channels,omitempty"`
}

// HLSSpec shapes HLS segments.
type HLSSpec struct {
	// SegmentSeconds is the target segment length (default 4).
	SegmentSeconds float64 `json:"segment_seconds,omitempty" yaml:"segment_seconds,omitempty"`
	// SegmentType is ts (default) or fmp4.
	SegmentType string `json:"segment_type,omitempty" yaml:"segment_type,omitempty"`
}

// containers maps a container to its ffmpeg muxer, file extension and
// default codecs ("" video = audio-only container).
var containers = map[string]struct{ muxer, ext, video, audio string }{
	"mp4":  {"mp4", ".mp4", "h264", "aac"},
	"webm": {"webm", ".webm", "vp9", "opus"},
	"mkv":  {"matroska", ".mkv", "h264", "aac"},
	"ts":   {"mpegts", ".ts", "h264", "aac"},
	"hls":  {"hls", ".m3u8", "h264", "aac"},
	"mp3":  {"mp3", ".mp3", "", "mp3"},
	"m4a":  {"ipod", ".m4a", "", "aac"},
	"flac": {"flac", ".flac", "", "flac"},
}

var videoEncoders = map[string]string{"h264": "libx264", "h265": "libx265", "av1": "libsvtav1", "vp9": "libvpx-vp9"}
var audioEncoders = map[string]string{"aac": "aac", "opus": "libopus", "mp3": "libmp3lame", "flac": "flac"}
var defaultCRF = map[string]int{"h264": 23, "h265": 28, "av1": 35, "vp9": 33}

func (s *TranscodeSpec) container() string {
	if s.Container == "" {
		return "mp4"
	}
	return strings.ToLower(s.Container)
}

func (s *TranscodeSpec) validate() error {
	c, ok := containers[s.container()]
	if !ok {
		return fmt.Errorf("unknown container %q", s.Container)
	}
	vc, ac := strings.ToLower(s.Video.Codec), strings.ToLower(s.Audio.Codec)
	if vc != "" && vc != "copy" && vc != "none" && videoEncoders[vc] == "" {
		return fmt.Errorf("unknown video codec %q (want h264, h265, av1, vp9, copy or none)", s.Video.Codec)
	}
	if ac != "" && ac != "copy" && ac != "none" && audioEncoders[ac] == "" {
		return fmt.Errorf("unknown audio codec %q (want aac, opus, mp3, flac, copy or none)", s.Audio.Codec)
	}
	if c.video == "" && vc != "" && vc != "none" {
		return fmt.Errorf("container %s holds no video", s.container())
	}
	if s.container() == "webm" {
		if vc == "h264" || vc == "h265" {
			return fmt.Errorf("webm holds vp9 or av1 video, not %s", vc)
		}
		if ac == "aac" || ac == "mp3" || ac == "flac" {
			return fmt.Errorf("webm holds opus audio, not %s", ac)
		}
	}
	switch s.Video.RateControl {
	case "", "crf":
	case "vbr", "cbr":
		if s.Video.Bitrate == "" {
			return fmt.Errorf("rate control %s needs a bitrate", s.Video.RateControl)
		}
	default:
		return fmt.Errorf("unknown rate control %q (want crf, vbr or cbr)", s.Video.RateControl)
	}
	switch s.Video.Fill {
	case "", "stretch", "black", "blur":
	default:
		return fmt.Errorf("unknown fill mode %q", s.Video.Fill)
	}
	if s.Video.Width < 0 || s.Video.Height < 0 || s.Video.FPS < 0 || s.Video.GOPFrames < 0 || s.Video.GOPSeconds < 0 {
		return fmt.Errorf("negative video setting")
	}
	if t := s.HLS.SegmentType; t != "" && t != "ts" && t != "fmp4" {
		return fmt.Errorf("unknown HLS segment type %q (want ts or fmp4)", t)
	}
	if err := s.validateROI(vc, c.video); err != nil {
		return err
	}
	if err := s.Start.validate("start"); err != nil {
		return err
	}
	return s.End.validate("end")
}

// encodePlan is everything the transcode-like operations (transcode,
// watermark, enhance) share: the spec, extra enhancement chains and
// overlays with their time window.
type encodePlan struct {
	spec       TranscodeSpec
	enhance    []EnhanceSpec
	overlays   []watermark.Template
	enableExpr string
}

func (j *job) transcode() (Result, error) {
	spec := *j.op.Transcode
	plan := encodePlan{spec: spec}
	for _, name := range spec.Enhancements {
		e, err := j.lookupEnhancement(name)
		if err != nil {
			return Result{}, err
		}
		plan.enhance = append(plan.enhance, e)
	}
	for _, name := range spec.Watermarks {
		o, err := j.lookupWatermark(name)
		if err != nil {
			return Result{}, err
		}
		plan.overlays = append(plan.overlays, o)
	}
	return j.encode(plan)
}

// encode builds and runs one ffmpeg encode for plan.
func (j *job) encode(plan encodePlan) (Result, error) {
	spec := plan.spec
	cname := spec.container()
	c := containers[cname]
	start, end, err := window(spec.Start, spec.End, j.in.Duration)
	if err != nil {
		return Result{}, err
	}

	vc := strings.ToLower(spec.Video.Codec)
	if vc == "" {
		vc = c.video
	}
	if c.video == "" || !j.in.HasVideo() {
		vc = "none"
	}
	ac := strings.ToLower(spec.Audio.Codec)
	if ac == "" {
		ac = c.audio
	}
	if !j.in.HasAudio() {
		ac = "none"
	}
	if vc == "none" && ac == "none" {
		return Result{}, fmt.Errorf("nothing to encode: the input has no stream the %s output can hold", cname)
	}

	var args []string
	if spec.ReadRate > 0 {
		args = append(args, "-readrate", ftoa(spec.ReadRate))
	}
	if start > 0 {
		args = append(args, "-ss", ftoa(start))
	}
	args = append(args, "-i", j.input)
	nextInput := 1

	g := &graph{}
	vOut, aOut := "", ""
	if vc != "none" && vc != "copy" {
		in := "0:v:0"
		cur := in
		for _, e := range plan.enhance {
			cur = g.add(strings.Join(e.videoFilters(), ","), cur)
		}
		if spec.Video.FPS > 0 {
			cur = g.add("fps="+ftoa(spec.Video.FPS), cur)
		}
		cur, err = scaleFilter(g, cur, spec.Video.Width, spec.Video.Height, spec.Video.Fill)
		if err != nil {
			return Result{}, err
		}
		width := j.widthAfter(plan)
		for _, t := range plan.overlays {
			out, inputs, n, err := overlay(g, t, cur, nextInput, width, plan.enableExpr)
			if err != nil {
				return Result{}, err
			}
			args = append(args, inputs...)
			nextInput += n
			cur = out
		}
		if cur, err = j.roiStage(g, cur, plan, start, end); err != nil {
			return Result{}, err
		}
		cur = g.add("format=yuv420p", cur)
		vOut = cur
	}
	if ac != "none" && ac != "copy" {
		var af []string
		for _, e := range plan.enhance {
			f, err := j.audioFilters(e, start, end)
			if err != nil {
				return Result{}, err
			}
			af = append(af, f...)
		}
		if len(af) > 0 {
			aOut = g.add(strings.Join(af, ","), "0:a:0")
		}
	}
	if g.String() != "" {
		args = append(args, "-filter_complex", g.String())
	}
	switch {
	case vc == "none":
		args = append(args, "-vn")
	case vOut != "":
		args = append(args, "-map", "["+vOut+"]")
	default:
		args = append(args, "-map", "0:v:0")
	}
	switch {
	case ac == "none":
		args = append(args, "-an")
	case aOut != "":
		args = append(args, "-map", "["+aOut+"]")
	default:
		args = append(args, "-map", "0:a:0")
	}
	args = append(args, "-sn", "-dn", "-map_metadata", "-1")
	if vc != "none" {
		va, err := videoArgs(vc, spec.Video, j.outFPS(spec.Video))
		if err != nil {
			return Result{}, err
		}
		args = append(args, va...)
		if vc == "h265" && (cname == "mp4" || cname == "hls") {
			args = append(args, "-tag:v", "hvc1")
		}
	}
	if ac != "none" {
		args = append(args, audioArgs(ac, spec.Audio)...)
	}
	if end > 0 && (start > 0 || end < j.in.Duration) {
		args = append(args, "-t", ftoa(end-start))
	}
	dur := j.in.Duration
	if end > 0 {
		dur = end - start
	}
	name := j.base() + c.ext
	args = append(args, muxArgs(cname, j.outDir, j.base(), spec.HLS)...)
	args = append(args, filepath.Join(j.outDir, name))
	if err := j.ffmpeg(args, dur, j.progress); err != nil {
		return Result{}, err
	}
	files, err := collect(j.ctx, j.outDir, func(n string) bool { return n == name })
	if err != nil {
		return Result{}, err
	}
	res := Result{Files: files}
	if cname == "hls" {
		res.Playlist = name
	}
	return res, nil
}

// outFPS is the output frame rate, for GOPs given in seconds.
func (j *job) outFPS(v VideoSpec) float64 {
	if v.FPS > 0 {
		return v.FPS
	}
	if j.in.FPS > 0 && j.in.FPS < 500 {
		return j.in.FPS
	}
	return 25
}

// videoArgs are the encoder options for one video codec.
func videoArgs(codec string, v VideoSpec, fps float64) ([]string, error) {
	if codec == "copy" {
		return []string{"-c:v", "copy"}, nil
	}
	enc := videoEncoders[codec]
	args := []string{"-c:v", enc}
	switch codec {
	case "h264", "h265":
		preset := v.Preset
		if preset == "" {
			preset = "veryfast"
		}
		args = append(args, "-preset", preset)
		if codec == "h265" {
			args = append(args, "-x265-params", "log-level=error")
		}
	case "av1":
		preset := v.Preset
		if preset == "" {
			preset = "10"
		}
		if _, err := strconv.Atoi(preset); err != nil {
			return nil, fmt.Errorf("av1 preset must be a number 0-13, got %q", preset)
		}
		args = append(args, "-preset", preset)
	case "vp9":
		cpu := v.Preset
		if cpu == "" {
			cpu = "5"
		}
		if _, err := strconv.Atoi(cpu); err != nil {
			return nil, fmt.Errorf("vp9 preset (cpu-used) must be a number, got %q", cpu)
		}
		args = append(args, "-deadline", "good", "-cpu-used", cpu, "-row-mt", "1")
	}
	switch v.RateControl {
	case "", "crf":
		crf := v.CRF
		if crf == 0 {
			crf = defaultCRF[codec]
		}
		args = append(args, "-crf", strconv.Itoa(crf))
		if codec == "vp9" {
			args = append(args, "-b:v", "0")
		}
		if v.MaxRate != "" {
			args = append(args, "-maxrate", v.MaxRate, "-bufsize", v.MaxRate)
		}
	case "vbr":
		args = append(args, "-b:v", v.Bitrate)
		if v.MaxRate != "" {
			args = append(args, "-maxrate", v.MaxRate, "-bufsize", v.MaxRate)
		}
	case "cbr":
		args = append(args, "-b:v", v.Bitrate, "-minrate", v.Bitrate, "-maxrate", v.Bitrate, "-bufsize", v.Bitrate)
	}
	gop := v.GOPFrames
	if gop == 0 && v.GOPSeconds > 0 {
		gop = int(math.Round(v.GOPSeconds * fps))
	}
	if gop > 0 {
		args = append(args, "-g", strconv.Itoa(gop))
		if codec == "h264" || codec == "h265" {
			args = append(args, "-keyint_min", strconv.Itoa(gop), "-sc_threshold", "0")
		}
	}
	if v.BFrames != nil && (codec == "h264" || codec == "h265") {
		args = append(args, "-bf", strconv.Itoa(*v.BFrames))
	}
	return args, nil
}

// audioArgs are the encoder options for one audio codec.
func audioArgs(codec string, a AudioSpec) []string {
	if codec == "copy" {
		return []string{"-c:a", "copy"}
	}
	args := []string{"-c:a", audioEncoders[codec]}
	if a.Bitrate != "" && codec != "flac" {
		args = append(args, "-b:a", a.Bitrate)
	}
	sr := a.SampleRate
	if codec == "opus" && sr != 0 && sr != 48000 && sr != 24000 && sr != 16000 && sr != 12000 && sr != 8000 {
		sr = 48000
	}
	if sr > 0 {
		args = append(args, "-ar", strconv.Itoa(sr))
	} else if codec == "opus" {
		args = append(args, "-ar", "48000")
	}
	if a.Channels > 0 {
		args = append(args, "-ac", strconv.Itoa(a.Channels))
	}
	return args
}

// muxArgs are the muxer options for a container.
func muxArgs(container, dir, base string, h HLSSpec) []string {
	c := containers[container]
	args := []string{"-f", c.muxer}
	switch container {
	case "mp4", "m4a":
		args = append(args, "-movflags", "+faststart")
	case "hls":
		seg := h.SegmentSeconds
		if seg <= 0 {
			seg = 4
		}
		args = append(args, "-hls_time", ftoa(seg), "-hls_playlist_type", "vod", "-hls_list_size", "0")
		if h.SegmentType == "fmp4" {
			args = append(args, "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", base+"_init.mp4",
				"-hls_segment_filename", patternPath(dir, base+"_%04d.m4s"))
		} else {
			args = append(args, "-hls_segment_filename", patternPath(dir, base+"_%04d.ts"))
		}
	}
	return args
}

// widthAfter is the picture width after the plan's resizing, which
// percent-sized watermarks are measured against.
func (j *job) widthAfter(plan encodePlan) int {
	w, h := j.in.Width, j.in.Height
	resize := func(nw, nh int) {
		switch {
		case nw > 0 && nh > 0:
			w, h = nw, nh
		case nw > 0 && w > 0:
			w, h = nw, nw*h/w
		case nh > 0 && h > 0:
			w, h = nh*w/h, nh
		}
	}
	for _, e := range plan.enhance {
		if e.Upscale != nil {
			resize(e.Upscale.Width, e.Upscale.Height)
		}
	}
	resize(plan.spec.Video.Width, plan.spec.Video.Height)
	return even(w)
}
