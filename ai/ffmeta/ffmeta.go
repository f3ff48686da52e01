// Package ffmeta runs ffmpeg analysis passes for the media-AI operations and
// reads what ffmpeg's filters print: the per-frame metadata written by
// `metadata=mode=print:file=…` (blackdetect, freezedetect, silencedetect,
// ebur128, astats, signalstats, psnr, ssim…). It exists so the audit,
// quality and live-QC code share one parser instead of each scraping text.
package ffmeta

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Frame is one frame's metadata: its presentation time and the key=value
// pairs the filters attached.
type Frame struct {
	// N is the frame number ffmpeg printed.
	N int
	// Time is pts_time in seconds.
	Time float64
	// Values holds the keys (like "lavfi.black_start") and their values.
	Values map[string]string
}

// Float returns the value of key as a number; ok is false when the frame
// lacks the key or it is not a number ("-inf" and "inf" parse).
func (f Frame) Float(key string) (float64, bool) {
	v, ok := f.Values[key]
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return x, err == nil
}

// Parse reads the output of ffmpeg's metadata/ametadata filter in print
// mode: a "frame:N pts:P pts_time:T" line, then key=value lines.
func Parse(r io.Reader) ([]Frame, error) {
	var out []Frame
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "frame:") {
			f := Frame{Values: map[string]string{}}
			for _, field := range strings.Fields(line) {
				k, v, _ := strings.Cut(field, ":")
				switch k {
				case "frame":
					f.N, _ = strconv.Atoi(v)
				case "pts_time":
					f.Time, _ = strconv.ParseFloat(v, 64)
				}
			}
			out = append(out, f)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || len(out) == 0 {
			continue
		}
		out[len(out)-1].Values[k] = v
	}
	return out, sc.Err()
}

// ParseFile parses a metadata print file; a missing file is no frames
// (the filter saw nothing to print).
func ParseFile(name string) ([]Frame, error) {
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Run runs ffmpeg with args (no shell) in directory dir, so filters can
// name their output files relative to it without filter-graph escaping;
// it reports progress as percent of dur seconds and returns stderr (the
// filters' summaries when the caller asks for -loglevel info). A failure
// carries stderr's last lines.
func Run(ctx context.Context, dir string, args []string, dur float64, progress func(float64)) (string, error) {
	full := append([]string{"-hide_banner", "-nostdin", "-y", "-nostats", "-progress", "pipe:1"}, args...)
	cmd := exec.CommandContext(ctx, "ffmpeg", full...)
	cmd.Dir = dir
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start ffmpeg: %w", err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k != "out_time_us" || dur <= 0 || progress == nil {
			continue
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil && us > 0 {
			progress(min(99.9, float64(us)/1e6/dur*100))
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		return "", fmt.Errorf("ffmpeg: %w", context.Cause(ctx))
	}
	if err != nil {
		return stderr.String(), fmt.Errorf("ffmpeg failed: %s", LastLines(stderr.String(), 3))
	}
	return stderr.String(), nil
}

// LastLines returns the last n lines of s joined with "; ".
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// Span is a time range in seconds from the media start.
type Span struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Spans pairs the start and end keys of a detector (lavfi.black_start /
// lavfi.black_end) into spans; a span still open at the last frame ends
// at end.
func Spans(frames []Frame, startKey, endKey string, end float64) []Span {
	var out []Span
	open := -1.0
	for _, f := range frames {
		if v, ok := f.Float(endKey); ok && open >= 0 {
			out = append(out, Span{open, v})
			open = -1
		}
		if v, ok := f.Float(startKey); ok && open < 0 {
			// silencedetect repeats the start key on the end frame.
			if _, isEnd := f.Values[endKey]; !isEnd {
				open = v
			}
		}
	}
	if open >= 0 {
		out = append(out, Span{open, end})
	}
	return out
}
