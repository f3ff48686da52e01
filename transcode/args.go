package transcode

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"mps/internal/stream"
	"mps/internal/watermark"
)

// ladderSource is what the argument builder needs to know of a source and
// of the run.
type ladderSource struct {
	// Width and Height of the source video (0 if unknown).
	Width, Height int
	// HasAudio tells whether an audio track is fed to ffmpeg.
	HasAudio bool
	// Control is the unix socket the graph's zmq filter binds when a rung
	// has ROI (see roiGrid).
	Control string
}

// ladderPlan is an ffmpeg invocation for a ladder: its arguments, the
// encoded rungs in output order (rung i is written to pipe:3+i), the
// pipe that carries -progress and, with ROI rungs, the sampled frames.
type ladderPlan struct {
	Args       []string
	Rungs      []Rung
	ProgressFD int
	// ROI holds the grids of the ROI rungs; Tap describes the grey frames
	// written to pipe TapFD for face detection (nil without ROI rungs).
	ROI []rungGrid
	Tap *frameTap
	// Control is the zmq filter's socket (ladderSource.Control).
	Control string
}

// rungGrid is the ROI grid of one encoded rung.
type rungGrid struct {
	Rung Rung
	Grid roiGrid
}

// frameTap is the ladder's extra output of small grey frames sampled every
// Interval from the source picture: decoded once by the ladder's ffmpeg,
// so detection costs a scale of one frame per sample and no second decoder.
type frameTap struct {
	FD            int
	Width, Height int
	Interval      time.Duration
}

// maxTapWidth bounds the width faces are searched at: a 4K source costs no
// more than a 640-pixel one, and faces of a tenth of the height stay
// findable.
const maxTapWidth = 640

// firstOutputFD is the descriptor number of cmd.ExtraFiles[0] in ffmpeg.
const firstOutputFD = 3

// buildLadderArgs returns the ffmpeg arguments that decode the source
// (MPEG-TS on stdin) once and encode every non-"source" rung through one
// filter_complex: [optional ladder watermark] → split → per rung fps,
// scale and watermark. Keyframes are forced at the same instants in every
// rung (expr:gte(t,n_forced*GOP), scene-cut off, no B-frames) so players
// can switch at any segment boundary.
func buildLadderArgs(l Ladder, src ladderSource, marks func(string) (watermark.Template, bool)) (ladderPlan, error) {
	var plan ladderPlan
	for _, r := range l.Rungs {
		if r.codec() != CodecSource {
			plan.Rungs = append(plan.Rungs, r)
		}
	}
	if len(plan.Rungs) == 0 {
		return plan, fmt.Errorf("ladder %q has no encoded rung", l.Name)
	}
	gop := l.GOP
	if gop <= 0 {
		gop = DefaultGOP
	}
	plan.ProgressFD = firstOutputFD + len(plan.Rungs)
	tap, err := planTap(plan.Rungs, src, plan.ProgressFD+1)
	if err != nil {
		return plan, err
	}
	plan.Tap = tap
	if tap != nil {
		plan.Control = src.Control
	}

	g := &ladderGraph{marks: marks, nextInput: 1, args: []string{"-hide_banner", "-nostats", "-loglevel", "warning",
		"-progress", "pipe:" + strconv.Itoa(plan.ProgressFD), "-stats_period", "1",
		"-fflags", "+genpts+discardcorrupt", "-probesize", "5000000", "-analyzeduration", "2000000",
		"-f", "mpegts", "-i", "pipe:0"}}
	base := "0:v:0"
	if l.Watermark != "" {
		f, err := g.mark(l.Watermark, base, "wm", src.Width)
		if err != nil {
			return plan, err
		}
		g.chains = append(g.chains, f)
		base = "wm"
	}
	n := len(plan.Rungs)
	labels := make([]string, n)
	if tap != nil {
		labels = append(labels, "")
	}
	if len(labels) == 1 {
		labels[0] = base
	} else {
		var b strings.Builder
		fmt.Fprintf(&b, "[%s]split=%d", base, len(labels))
		for i := range labels {
			labels[i] = fmt.Sprintf("s%d", i)
			fmt.Fprintf(&b, "[%s]", labels[i])
		}
		g.chains = append(g.chains, b.String())
	}
	if tap != nil {
		g.chains = append(g.chains, fmt.Sprintf("[%s]fps=%s,scale=%d:%d,format=gray[tap]", labels[n], fmtFloat(1/tap.Interval.Seconds()), tap.Width, tap.Height))
	}
	outs := make([]string, n)
	for i, r := range plan.Rungs {
		out, err := g.rung(&plan, i, r, labels[i], src)
		if err != nil {
			return plan, fmt.Errorf("rung %q: %w", r.Name, err)
		}
		outs[i] = out
	}
	args := g.args
	chains := g.chains
	args = append(args, "-filter_complex", strings.Join(chains, ";"))

	gopS := fmtFloat(gop.Seconds())
	for i, r := range plan.Rungs {
		args = append(args, "-map", "["+outs[i]+"]")
		args = append(args, videoArgs(r, gop.Seconds())...)
		args = append(args, "-force_key_frames", "expr:gte(t,n_forced*"+gopS+")")
		args = append(args, audioArgs(r, src.HasAudio)...)
		args = append(args, "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1",
			"pipe:"+strconv.Itoa(firstOutputFD+i))
	}
	if tap != nil {
		args = append(args, "-map", "[tap]", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:"+strconv.Itoa(tap.FD))
	}
	plan.Args = args
	return plan, nil
}

// ladderGraph collects a ladder's ffmpeg inputs and filter chains.
type ladderGraph struct {
	args      []string
	chains    []string
	nextInput int
	marks     func(string) (watermark.Template, bool)
}

// mark returns the filters that burn watermark name from label in to out,
// adding its image as an input when it has one.
func (g *ladderGraph) mark(name, in, out string, width int) (string, error) {
	t, ok := lookupMark(g.marks, name)
	if !ok {
		return "", fmt.Errorf("watermark %q not found", name)
	}
	f, extra, err := watermark.Build(t, watermark.Placement{In: in, Out: out, InputIndex: g.nextInput, VideoWidth: width})
	if err != nil {
		return "", fmt.Errorf("watermark %q: %w", name, err)
	}
	if len(extra) > 0 {
		g.args = append(g.args, extra...)
		g.nextInput++
	}
	return f, nil
}

// rung adds encoded rung i's chain from label: fps and scale, its
// watermark, its ROI grid; it returns the label of the rung's picture.
func (g *ladderGraph) rung(plan *ladderPlan, i int, r Rung, label string, src ladderSource) (string, error) {
	out := fmt.Sprintf("v%d", i)
	marked := out
	if r.ROI != nil {
		marked = fmt.Sprintf("m%d", i)
	}
	scaled := marked
	if r.Watermark != "" {
		scaled = fmt.Sprintf("r%d", i)
	}
	g.chains = append(g.chains, fmt.Sprintf("[%s]%s[%s]", label, scaleFilters(r), scaled))
	if r.Watermark != "" {
		w, _ := r.size(src.Width, src.Height)
		f, err := g.mark(r.Watermark, scaled, marked, w)
		if err != nil {
			return "", err
		}
		g.chains = append(g.chains, f)
	}
	if r.ROI != nil {
		f, grid, err := roiChain(r, i, src, marked, out, len(plan.ROI) == 0)
		if err != nil {
			return "", err
		}
		g.chains = append(g.chains, f)
		plan.ROI = append(plan.ROI, rungGrid{Rung: r, Grid: grid})
	}
	return out, nil
}

// scaleFilters is a rung's frame rate and size filters ("null" for none).
func scaleFilters(r Rung) string {
	var fl []string
	if r.FPS > 0 {
		fl = append(fl, "fps="+fmtFloat(r.FPS))
	}
	switch {
	case r.Width == 0 && r.Height == 0:
	case r.Width == 0:
		fl = append(fl, fmt.Sprintf("scale=-2:%d", r.Height&^1))
	case r.Height == 0:
		fl = append(fl, fmt.Sprintf("scale=%d:-2", r.Width&^1))
	default:
		fl = append(fl, fmt.Sprintf("scale=%d:%d", r.Width&^1, r.Height&^1))
	}
	if len(fl) == 0 {
		return "null"
	}
	return strings.Join(fl, ",")
}

func lookupMark(marks func(string) (watermark.Template, bool), name string) (watermark.Template, bool) {
	if marks == nil {
		return watermark.Template{}, false
	}
	return marks(name)
}

func videoArgs(r Rung, gop float64) []string {
	preset := r.Preset
	if preset == "" {
		preset = "veryfast"
	}
	// A keyint well above the GOP: the forced keyframes are the only ones.
	keyint := strconv.Itoa(int(gop*120) + 1)
	var a []string
	if r.codec() == CodecH265 {
		a = []string{"-c:v", "libx265", "-preset", preset, "-x265-params", "log-level=error:scenecut=0:bframes=0:keyint=" + keyint}
	} else {
		a = []string{"-c:v", "libx264", "-preset", preset, "-g", keyint, "-sc_threshold", "0", "-bf", "0"}
	}
	if r.Profile != "" {
		a = append(a, "-profile:v", r.Profile)
	}
	if r.VideoBitrate > 0 {
		max := r.MaxBitrate
		if max == 0 {
			max = r.VideoBitrate
		}
		a = append(a, "-b:v", strconv.Itoa(r.VideoBitrate), "-maxrate", strconv.Itoa(max), "-bufsize", strconv.Itoa(2*max))
	} else {
		a = append(a, "-crf", "23")
	}
	return append(a, "-forced-idr", "1", "-pix_fmt", "yuv420p")
}

func audioArgs(r Rung, hasAudio bool) []string {
	if !hasAudio || r.AudioCodec == "none" {
		return []string{"-an"}
	}
	a := []string{"-map", "0:a:0"}
	switch r.AudioCodec {
	case "aac":
		a = append(a, "-c:a", "aac")
	case "opus":
		a = append(a, "-c:a", "libopus", "-ar", "48000")
	default:
		return append(a, "-c:a", "copy")
	}
	if r.AudioBitrate > 0 {
		a = append(a, "-b:a", strconv.Itoa(r.AudioBitrate))
	}
	return a
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// feedTracks picks what a ladder feeds ffmpeg: the first H.264/H.265 video
// track and the first audio track MPEG-TS can carry.
func feedTracks(tracks []*stream.Track) (video, audio *stream.Track) {
	for _, t := range tracks {
		switch t.Codec {
		case stream.CodecH264, stream.CodecH265:
			if video == nil {
				video = t
			}
		case stream.CodecAAC, stream.CodecOpus, stream.CodecMP3:
			if audio == nil && (t.Codec != stream.CodecAAC || len(t.AudioConfig) > 0) {
				audio = t
			}
		}
	}
	return video, audio
}
