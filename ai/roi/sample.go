package roi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"time"
)

// maxDetectWidth bounds the width frames are searched at: faces the
// template asks for stay findable and a 4K frame costs no more than a
// 640-pixel one.
const maxDetectWidth = 640

// sampled is the faces of one sampled frame, in detection pixels.
type sampled struct {
	t     float64
	faces []box
}

// sampleFaces decodes sampleFPS frames per second of input as grayscale
// at dw x dh and runs the detector on each as it arrives.
func sampleFaces(ctx context.Context, input string, dw, dh int, sampleFPS float64, d *detector, dur float64, progress func(float64)) ([]sampled, error) {
	vf := fmt.Sprintf("fps=%s,scale=%d:%d,format=gray", strconv.FormatFloat(sampleFPS, 'f', -1, 64), dw, dh)
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-i", input, "-map", "0:v:0", "-vf", vf, "-f", "rawvideo", "pipe:1")
	cmd.WaitDelay = 2 * time.Second
	var stderr limited
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	var samples []sampled
	frame := make([]byte, dw*dh)
	for i := 0; ; i++ {
		if _, err := io.ReadFull(out, frame); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				_ = cmd.Process.Kill()
			}
			break
		}
		t := float64(i) / sampleFPS
		samples = append(samples, sampled{t: t, faces: d.detect(frame, dw, dh)})
		if dur > 0 {
			progress(min(t/dur, 1))
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ffmpeg: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("decode frames: %s", stderr.String())
	}
	return samples, nil
}

// limited keeps the first 2 KiB of ffmpeg's complaints.
type limited struct{ b []byte }

func (l *limited) Write(p []byte) (int, error) {
	if room := 2048 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limited) String() string { return string(l.b) }
