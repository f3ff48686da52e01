// Package ffexec runs ffmpeg and ffprobe for the media-AI operations:
// arguments go straight to exec (never a shell), cancelling the context
// kills the child, errors carry ffmpeg's last stderr lines and progress
// comes from ffmpeg's -progress output.
package ffexec

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

// prelude goes before every ffmpeg run: no prompts, no banner, errors only,
// progress as key=value lines on stdout.
var prelude = []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"}

// FFmpeg runs ffmpeg with args. progress, when not nil, gets the share
// (0-1) of dur seconds done; dur 0 reports nothing.
func FFmpeg(ctx context.Context, args []string, dur float64, progress func(float64)) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", append(append([]string(nil), prelude...), args...)...)
	cmd.WaitDelay = 2 * time.Second
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	readProgress(out, dur, progress)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("ffmpeg: %w", context.Cause(ctx))
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("ffmpeg failed: %s", lastLines(msg, 3))
	}
	return nil
}

// Probe runs ffprobe with args and returns its standard output.
func Probe(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ffprobe", append([]string{"-v", "error"}, args...)...)
	cmd.WaitDelay = 2 * time.Second
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ffprobe: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("ffprobe failed: %s", lastLines(strings.TrimSpace(stderr.String())+" "+err.Error(), 3))
	}
	return out, nil
}

// TempDir makes a scratch folder whose path can stand unescaped inside an
// ffmpeg filter graph (as a metadata file=, say).
func TempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(dir, "'\\:,;[]= ") {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("temporary folder %q has characters an ffmpeg filter cannot take; set TMPDIR", dir)
	}
	return dir, nil
}

// readProgress reads "-progress" blocks until EOF.
func readProgress(r io.Reader, dur float64, progress func(float64)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k != "out_time_us" || dur <= 0 || progress == nil {
			continue
		}
		us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil && us >= 0 {
			progress(min(float64(us)/1e6/dur, 1))
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	n, _ := t.Buffer.Write(p)
	if over := t.Len() - 8192; over > 0 {
		t.Next(over)
	}
	return n, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
