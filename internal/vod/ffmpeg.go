package vod

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ffmpegPrelude goes before every ffmpeg invocation: no prompts, no banner,
// errors only on stderr, machine-readable progress on stdout.
var ffmpegPrelude = []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"}

// FFmpegArgs returns the full argument list ffmpeg is run with for args, so
// that a caller (a benchmark, a debug log) can run the same command. Every
// input is limited to local files and pipes (see ErrReferenceFile).
func FFmpegArgs(args []string) []string {
	return append(append([]string(nil), ffmpegPrelude...), guardInputs(args)...)
}

// runFFmpeg runs ffmpeg with args and maps its out_time to percent of dur
// seconds (no progress when dur is 0). The error carries ffmpeg's last
// stderr lines.
func runFFmpeg(ctx context.Context, args []string, dur float64, progress func(float64)) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", FFmpegArgs(args)...)
	detach(cmd)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{max: 8192, buf: &stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		parseProgress(stdout, dur, progress)
	}()
	wg.Wait()
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
	// ffmpeg carries on past a truncated input and exits 0 with a short
	// output; the demuxer's "partial file" complaint is the tell.
	if strings.Contains(stderr.String(), "partial file") {
		return fmt.Errorf("%w: the input ends early (partial file)", ErrCorrupt)
	}
	return nil
}

// ErrCorrupt is returned (wrapped) when the input turns out to be truncated
// or damaged while it is processed.
var ErrCorrupt = errors.New("corrupt or truncated input")

// parseProgress reads "-progress" key=value blocks until EOF.
func parseProgress(r io.Reader, dur float64, progress func(float64)) {
	sc := bufio.NewScanner(r)
	last := -1.0
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k != "out_time_us" || dur <= 0 || progress == nil {
			continue
		}
		us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || us < 0 {
			continue
		}
		pct := float64(us) / 1e6 / dur * 100
		if pct > 99.9 {
			pct = 99.9
		}
		if pct > last {
			last = pct
			progress(pct)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// limitedBuffer keeps the last max bytes written, so a chatty ffmpeg cannot
// grow memory without bound.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	l.buf.Write(p)
	if over := l.buf.Len() - l.max; over > 0 {
		rest := append([]byte(nil), l.buf.Bytes()[over:]...)
		l.buf.Reset()
		l.buf.Write(rest)
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

func lastLine(s string) string { return lastLines(s, 1) }

// ftoa formats seconds and other numbers for ffmpeg arguments.
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// patternPath joins dir and an ffmpeg file-name pattern ("%04d", "%v"),
// escaping any '%' in dir so it is taken literally.
func patternPath(dir, pattern string) string {
	return filepath.Join(strings.ReplaceAll(dir, "%", "%%"), pattern)
}
