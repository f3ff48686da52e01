package highlights

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mps/ai/internal/ffexec"
)

// keyframes lists the video keyframe times of input from its packets
// (no decoding), counted from the file's start time as ffmpeg's -ss and
// filters count (an MPEG-TS file starts at 1.4 s, say).
func keyframes(ctx context.Context, input string) ([]float64, error) {
	st, err := ffexec.Probe(ctx, "-show_entries", "format=start_time", "-of", "csv=p=0", input)
	if err != nil {
		return nil, fmt.Errorf("keyframes: %w", err)
	}
	start, _ := strconv.ParseFloat(strings.TrimSpace(string(st)), 64)
	out, err := ffexec.Probe(ctx, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", input)
	if err != nil {
		return nil, fmt.Errorf("keyframes: %w", err)
	}
	var keys []float64
	for _, line := range strings.Split(string(out), "\n") {
		ts, flags, ok := strings.Cut(strings.TrimSpace(line), ",")
		if !ok || !strings.HasPrefix(flags, "K") {
			continue
		}
		if t, err := strconv.ParseFloat(ts, 64); err == nil {
			keys = append(keys, t-start)
		}
	}
	return keys, nil
}

// cutPlan is how one clip is cut: Head (re-encoded, from the clip start
// to the first keyframe inside the clip) and Copy (stream copy from that
// keyframe to the end). A clip starting on a keyframe has no head; a clip
// without a keyframe inside is all head.
type cutPlan struct {
	start, key, end float64
}

// planCut finds the first keyframe at or after start. A keyframe less
// than a frame after start moves the start onto it (no head to encode for
// one frame); one a hair before start counts as on it.
func planCut(keys []float64, start, end, frame float64) cutPlan {
	for _, k := range keys {
		if k >= start-frame/2 {
			if k >= end {
				break
			}
			if k < start+frame {
				return cutPlan{k, k, end}
			}
			return cutPlan{start, k, end}
		}
	}
	return cutPlan{start, end, end}
}

// reelWriter cuts the video of clips of one input into MPEG-TS parts
// (which carry their parameter sets in-band, so a re-encoded head and a
// copied tail join) and joins them into one MP4 with the clips' audio,
// trimmed from the input in one encode so it stays continuous.
type reelWriter struct {
	video    string // the input, or a seekable copy of its video
	input    string
	copyable bool // the video is H.264, so parts may be stream copies
	audio    bool
	fps      float64
	dir      string
	parts    []string
	clips    [][2]float64
}

// add cuts one clip into parts.
func (r *reelWriter) add(ctx context.Context, p cutPlan) error {
	r.clips = append(r.clips, [2]float64{p.start, p.end})
	if !r.copyable {
		return r.part(ctx, p.start, p.end, false)
	}
	if p.key > p.start {
		if err := r.part(ctx, p.start, p.key, false); err != nil {
			return err
		}
	}
	if p.end > p.key {
		return r.part(ctx, p.key, p.end, true)
	}
	return nil
}

// part writes the video of [from, to) of the input as one TS part,
// copying or encoding it.
func (r *reelWriter) part(ctx context.Context, from, to float64, copyVideo bool) error {
	name := filepath.Join(r.dir, fmt.Sprintf("part%03d.ts", len(r.parts)))
	// The frame count, not -t alone, ends a copied video part exactly:
	// with B-frames a copy cut by time keeps a few frames more.
	frames := max(int(math.Round((to-from)*r.fps)), 1)
	seek := from
	if copyVideo {
		// A copy starts at the keyframe at or before the seek point:
		// half a frame past the keyframe lands on it whatever the
		// rounding of its time.
		seek += 0.5 / r.fps
	}
	args := []string{"-ss", ftoa(seek), "-i", r.video, "-map", "0:v:0", "-frames:v", strconv.Itoa(frames)}
	if copyVideo {
		args = append(args, "-c:v", "copy")
	} else {
		args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p")
	}
	args = append(args, "-an", "-sn", "-dn", "-f", "mpegts", name)
	if err := ffexec.FFmpeg(ctx, args, 0, nil); err != nil {
		return fmt.Errorf("cut %s-%s: %w", ftoa(from), ftoa(to), err)
	}
	r.parts = append(r.parts, name)
	return nil
}

// join concatenates the parts into out (MP4).
func (r *reelWriter) join(ctx context.Context, out string) error {
	var list strings.Builder
	for _, p := range r.parts {
		fmt.Fprintf(&list, "file '%s'\n", strings.ReplaceAll(p, "'", `'\''`))
	}
	listFile := filepath.Join(r.dir, "parts.txt")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		return err
	}
	args := []string{"-f", "concat", "-safe", "0", "-i", listFile}
	if r.audio {
		var g strings.Builder
		for i, c := range r.clips {
			fmt.Fprintf(&g, "[1:a:0]atrim=%s:%s,asetpts=PTS-STARTPTS[a%d];", ftoa(c[0]), ftoa(c[1]), i)
		}
		for i := range r.clips {
			fmt.Fprintf(&g, "[a%d]", i)
		}
		fmt.Fprintf(&g, "concat=n=%d:v=0:a=1[a]", len(r.clips))
		args = append(args, "-i", r.input, "-filter_complex", g.String(), "-map", "0:v", "-map", "[a]",
			"-c:a", "aac", "-b:a", "160k")
	}
	args = append(args, "-c:v", "copy", "-movflags", "+faststart", out)
	if err := ffexec.FFmpeg(ctx, args, 0, nil); err != nil {
		return fmt.Errorf("join reel: %w", err)
	}
	return nil
}

// thumbnail writes the frame at t as a 320 px wide JPEG.
func thumbnail(ctx context.Context, input string, t float64, out string) error {
	args := []string{"-ss", ftoa(t), "-i", input, "-frames:v", "1", "-vf", "scale=320:-2", "-q:v", "4", out}
	if err := ffexec.FFmpeg(ctx, args, 0, nil); err != nil {
		return fmt.Errorf("thumbnail at %ss: %w", ftoa(t), err)
	}
	return nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
