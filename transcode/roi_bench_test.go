package transcode

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkROICost measures the CPU an ROI rung adds to a ladder, as CPU
// seconds per second of 640x360 25 fps video (a busy clip, 20 s): a
// ladder of two plain 300k rungs; the same with the second rung ROI (the
// frame tap at 2 samples a second and the mask grid); and, for
// comparison, the frame sampling done by a second ffmpeg decoding the
// source, in full or keyframes only. ffmpeg reads the file as fast as it
// can with one thread per encoder.
//
//	go test -run '^$' -bench ROICost -benchtime 1x ./transcode/
func BenchmarkROICost(b *testing.B) {
	src := busySource(b, 20, [2]image.Point{{64, 64}, {416, 128}})
	rung := Rung{VideoBitrate: 300000, Preset: "veryfast", AudioCodec: "none"}
	plain, roi := rung, rung
	plain.Name, roi.Name = "a", "b"
	roi.ROI = &RungROI{SampleInterval: 500 * time.Millisecond}
	b2 := rung
	b2.Name = "b"
	cases := map[string]func() []string{
		"ladder-plain": func() []string { return ladderArgs(b, Ladder{Name: "x", Rungs: []Rung{plain, b2}}, src) },
		"ladder-roi":   func() []string { return ladderArgs(b, Ladder{Name: "x", Rungs: []Rung{plain, roi}}, src) },
		"sampler-full-decode": func() []string {
			return []string{"-i", src, "-map", "0:v", "-vf", "fps=2,scale=640:360,format=gray", "-f", "rawvideo", "-y", os.DevNull}
		},
		"sampler-keyframes": func() []string {
			return []string{"-skip_frame", "nokey", "-i", src, "-map", "0:v", "-vf", "scale=640:360,format=gray", "-fps_mode", "passthrough", "-f", "rawvideo", "-y", os.DevNull}
		},
	}
	for _, name := range []string{"ladder-plain", "ladder-roi", "sampler-full-decode", "sampler-keyframes"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.CommandContext(context.Background(), "ffmpeg", append([]string{"-nostdin", "-loglevel", "error"}, cases[name]()...)...)
				null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				cmd.ExtraFiles = []*os.File{null, null, null, null}
				start := time.Now()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v %s", err, out)
				}
				null.Close()
				cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				b.ReportMetric(cpu.Seconds()/20, "cpu_s/s")
				b.ReportMetric(20/time.Since(start).Seconds(), "x_realtime")
			}
		})
	}
}

// ladderArgs builds a ladder's ffmpeg arguments reading file, with the
// control socket in a temp dir (no one connects: the grid stays off,
// which costs the same as a box).
func ladderArgs(b *testing.B, l Ladder, file string) []string {
	plan, err := buildLadderArgs(l, ladderSource{Width: 640, Height: 360, Control: fmt.Sprintf("/tmp/mps-bench-%d", os.Getpid())}, nil)
	if err != nil {
		b.Fatal(err)
	}
	args := plan.Args
	for i, a := range args {
		if a == "pipe:0" {
			args[i-2], args[i] = "mov", file
		}
	}
	return args
}
