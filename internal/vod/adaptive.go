package vod

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// AdaptiveSpec packages a file as an HLS bitrate ladder: one multivariant
// playlist (master.m3u8) and one media playlist per rung, written by a
// single ffmpeg that decodes once and encodes every rung.
type AdaptiveSpec struct {
	// Rungs are the renditions, highest first by convention.
	Rungs []Rung `json:"rungs" yaml:"rungs"`
	// VideoCodec is h264 (default) or h265.
	VideoCodec string `json:"video_codec,omitempty" yaml:"video_codec,omitempty"`
	Preset     string `json:"preset,omitempty" yaml:"preset,omitempty"`
	// SegmentSeconds is the segment length; keyframes are aligned to it
	// (default 4).
	SegmentSeconds float64 `json:"segment_seconds,omitempty" yaml:"segment_seconds,omitempty"`
	// SegmentType is fmp4 (default) or ts.
	SegmentType string `json:"segment_type,omitempty" yaml:"segment_type,omitempty"`
	// Ladder "auto" picks the rungs per title: trial encodes of sampled
	// scenes, measured, and the convex hull's cheapest point for each of
	// QualityTargets (run by the extension registered as ExtLadder).
	// Rungs, if given, are the fixed ladder the report compares against.
	Ladder string `json:"ladder,omitempty" yaml:"ladder,omitempty"`
	// QualityTargets are the SSIM values the auto ladder's rungs must
	// reach, one rung each (default 0.99, 0.98, 0.96, 0.93).
	QualityTargets []float64 `json:"quality_targets,omitempty" yaml:"quality_targets,omitempty"`
	// Dash also writes an MPEG-DASH manifest (manifest.mpd) describing the
	// same fMP4 segments, for DASH players; fmp4 segments only.
	Dash bool `json:"dash,omitempty" yaml:"dash,omitempty"`
}

// LadderAuto is the AdaptiveSpec.Ladder value that asks for a per-title
// ladder.
const LadderAuto = "auto"

// ExtLadder is the Env.Extensions key of the per-title ladder search. Its
// Run gets the adaptive operation and answers a Result whose Report holds
// {"rungs": [Rung...]} and the measurements behind them.
const ExtLadder = "adaptive.ladder"

// Rung is one rendition of a ladder.
type Rung struct {
	// Name becomes the rung's directory ("720p"); default "<height>p".
	Name   string `json:"name,omitempty" yaml:"name,omitempty"`
	Width  int    `json:"width,omitempty" yaml:"width,omitempty"`
	Height int    `json:"height,omitempty" yaml:"height,omitempty"`
	// VideoBitrate is required ("2800k"); MaxRate defaults to 1.07x it.
	VideoBitrate string `json:"video_bitrate" yaml:"video_bitrate"`
	MaxRate      string `json:"maxrate,omitempty" yaml:"maxrate,omitempty"`
	AudioBitrate string `json:"audio_bitrate,omitempty" yaml:"audio_bitrate,omitempty"`
}

var rungName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
var rateRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([kKmM]?)$`)

// parseRate parses "2800k" to bits per second.
func parseBitrate(s string) (float64, error) {
	m := rateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad bitrate %q (want e.g. 2800k or 2.8M)", s)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	switch strings.ToLower(m[2]) {
	case "k":
		f *= 1e3
	case "m":
		f *= 1e6
	}
	return f, nil
}

func (r Rung) name() string {
	if r.Name != "" {
		return r.Name
	}
	if r.Height > 0 {
		return fmt.Sprintf("%dp", r.Height)
	}
	return fmt.Sprintf("w%d", r.Width)
}

func (s *AdaptiveSpec) validate() error {
	switch s.Ladder {
	case "", LadderAuto:
	default:
		return fmt.Errorf("ladder must be auto or empty, not %q", s.Ladder)
	}
	for _, q := range s.QualityTargets {
		if q <= 0 || q >= 1 {
			return fmt.Errorf("quality target %g must be an SSIM between 0 and 1", q)
		}
	}
	if len(s.Rungs) == 0 && s.Ladder != LadderAuto {
		return fmt.Errorf("no rungs")
	}
	if len(s.Rungs) > 10 {
		return fmt.Errorf("too many rungs (%d > 10)", len(s.Rungs))
	}
	seen := map[string]bool{}
	for i, r := range s.Rungs {
		if !rungName.MatchString(r.name()) {
			return fmt.Errorf("rung %d: bad name %q (letters, digits, - and _)", i, r.name())
		}
		if seen[r.name()] {
			return fmt.Errorf("rung %d: duplicate name %q", i, r.name())
		}
		seen[r.name()] = true
		if r.Width < 0 || r.Height < 0 || (r.Width == 0 && r.Height == 0) {
			return fmt.Errorf("rung %s: needs a width or height", r.name())
		}
		if _, err := parseBitrate(r.VideoBitrate); err != nil {
			return fmt.Errorf("rung %s: %w", r.name(), err)
		}
		if r.MaxRate != "" {
			if _, err := parseBitrate(r.MaxRate); err != nil {
				return fmt.Errorf("rung %s: maxrate: %w", r.name(), err)
			}
		}
		if r.AudioBitrate != "" {
			if _, err := parseBitrate(r.AudioBitrate); err != nil {
				return fmt.Errorf("rung %s: audio: %w", r.name(), err)
			}
		}
	}
	switch s.VideoCodec {
	case "", "h264", "h265":
	default:
		return fmt.Errorf("adaptive video codec must be h264 or h265, not %q", s.VideoCodec)
	}
	switch s.SegmentType {
	case "", "fmp4", "ts":
	default:
		return fmt.Errorf("unknown segment type %q (want fmp4 or ts)", s.SegmentType)
	}
	if s.SegmentSeconds < 0 {
		return fmt.Errorf("negative segment length")
	}
	return validateDASH(s)
}

// MasterPlaylist is the multivariant playlist's name in an adaptive output.
const MasterPlaylist = "master.m3u8"

func (j *job) adaptive() (Result, error) {
	s := j.op.Adaptive
	if !j.in.HasVideo() {
		return Result{}, fmt.Errorf("input has no video for a ladder")
	}
	if strings.Contains(j.outDir, "%") {
		// The hls muxer expands %v in the path but cannot escape a '%'.
		return Result{}, fmt.Errorf("output directory %q must not contain '%%'", j.outDir)
	}
	var report []byte
	if s.Ladder == LadderAuto {
		auto, rep, err := j.autoLadder()
		if err != nil {
			return Result{}, err
		}
		cp := *s
		cp.Rungs, report, s = auto, rep, &cp
	}
	seg := s.SegmentSeconds
	if seg <= 0 {
		seg = 4
	}
	codec := s.VideoCodec
	if codec == "" {
		codec = "h264"
	}
	fps := j.outFPS(VideoSpec{})
	gop := int(math.Max(1, math.Round(seg*fps)))
	n := len(s.Rungs)

	g := &graph{}
	var splits []string
	for i := range n {
		splits = append(splits, fmt.Sprintf("s%d", i))
	}
	g.raw(fmt.Sprintf("[0:v:0]split=%d[%s]", n, strings.Join(splits, "][")))
	args := []string{"-i", j.input}
	var outs []string
	for i, r := range s.Rungs {
		out, err := scaleFilter(g, splits[i], r.Width, r.Height, "black")
		if err != nil {
			return Result{}, err
		}
		outs = append(outs, g.add("format=yuv420p", out))
	}
	args = append(args, "-filter_complex", g.String())
	audio := j.in.HasAudio()
	var vsm []string
	for i, r := range s.Rungs {
		args = append(args, "-map", "["+outs[i]+"]")
		m := fmt.Sprintf("v:%d", i)
		if audio {
			args = append(args, "-map", "0:a:0")
			m += fmt.Sprintf(",a:%d", i)
		}
		vsm = append(vsm, m+",name:"+r.name())
	}
	preset := s.Preset
	if preset == "" {
		preset = "veryfast"
	}
	args = append(args, "-c:v", videoEncoders[codec], "-preset", preset,
		"-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop), "-sc_threshold", "0")
	if codec == "h265" {
		args = append(args, "-tag:v", "hvc1", "-x265-params", "log-level=error")
	}
	for i, r := range s.Rungs {
		br, _ := parseBitrate(r.VideoBitrate)
		maxr := br * 1.07
		if r.MaxRate != "" {
			maxr, _ = parseBitrate(r.MaxRate)
		}
		args = append(args, fmt.Sprintf("-b:v:%d", i), ftoa(math.Round(br)),
			fmt.Sprintf("-maxrate:v:%d", i), ftoa(math.Round(maxr)),
			fmt.Sprintf("-bufsize:v:%d", i), ftoa(math.Round(maxr*1.5)))
	}
	if audio {
		args = append(args, "-c:a", "aac", "-ac", "2")
		for i, r := range s.Rungs {
			ab := r.AudioBitrate
			if ab == "" {
				ab = "128k"
			}
			args = append(args, fmt.Sprintf("-b:a:%d", i), ab)
		}
	}
	args = append(args, "-sn", "-dn", "-map_metadata", "-1",
		"-f", "hls", "-hls_time", ftoa(seg), "-hls_playlist_type", "vod", "-hls_list_size", "0",
		"-hls_flags", "independent_segments", "-master_pl_name", MasterPlaylist,
		"-var_stream_map", strings.Join(vsm, " "))
	ext := ".ts"
	if s.SegmentType != "ts" {
		ext = ".m4s"
		args = append(args, "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4")
	}
	args = append(args, "-hls_segment_filename", filepath.Join(j.outDir, "%v", "seg_%04d"+ext),
		filepath.Join(j.outDir, "%v", "index.m3u8"))
	if err := j.ffmpeg(args, j.in.Duration, j.progress); err != nil {
		return Result{}, err
	}
	if s.Dash {
		if err := writeAdaptiveDASH(j.outDir); err != nil {
			return Result{}, err
		}
	}
	files, err := collect(j.ctx, j.outDir, func(name string) bool { return strings.HasSuffix(name, ".m3u8") })
	if err != nil {
		return Result{}, err
	}
	return Result{Files: files, Playlist: MasterPlaylist, Report: report}, nil
}

// autoLadder asks the per-title extension for the rungs of this input.
func (j *job) autoLadder() ([]Rung, []byte, error) {
	var ext Extension
	if j.op.env != nil {
		ext = j.op.env.Extensions[ExtLadder]
	}
	if ext == nil {
		return nil, nil, fmt.Errorf("ladder auto: per-title search not available on this node")
	}
	res, err := ext.Run(j.ctx, j.op, j.input, filepath.Join(j.outDir, "pertitle"), func(p float64) { j.progress(p / 2) })
	if err != nil {
		return nil, nil, fmt.Errorf("ladder auto: %w", err)
	}
	var rep struct {
		Rungs []Rung `json:"rungs"`
	}
	if err := json.Unmarshal(res.Report, &rep); err != nil || len(rep.Rungs) == 0 {
		return nil, nil, fmt.Errorf("ladder auto: no rungs chosen")
	}
	return rep.Rungs, res.Report, nil
}
