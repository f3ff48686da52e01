package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// BenchmarkLiveQC10Streams measures what live QC costs: ten 720p30
// streams (x264 veryfast, GOP 2 s, AAC) published over RTMP for 20 s,
// once without QC, once with each decode mode. The cost per stream is the
// server's own CPU above the run without QC plus the QC decoders' CPU
// (read from /proc before they exit), in percent of one core. Run with
// -benchtime 1x.
func BenchmarkLiveQC10Streams(b *testing.B) {
	needFFmpeg(b)
	const streams, secs = 10, 20
	src := filepath.Join(b.TempDir(), "720p30.mp4")
	cmd, stderr := ffmpeg(context.Background(), "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=10", "-f", "lavfi", "-i", "sine=d=10",
		"-c:v", "libx264", "-preset", "veryfast", "-b:v", "2800k", "-g", "60", "-c:a", "aac", src)
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v %s", err, stderr)
	}
	for b.Loop() {
		base, _ := qcPhase(b, src, "", streams, secs)
		for _, mode := range []string{config.QCDecodeKeyframes, config.QCDecodeAll} {
			self, dec := qcPhase(b, src, mode, streams, secs)
			per := ((self - base) + dec) / streams / secs * 100
			b.Logf("%s: server CPU %.2f s (without QC %.2f s), decoders %.2f s over %d s: %.2f%% of a core per stream",
				mode, self, base, dec, secs, per)
			b.ReportMetric(per, "%core/stream-"+mode)
			b.ReportMetric(dec, "decoder-cpu-s-"+mode)
			b.ReportMetric(self-base, "server-extra-cpu-s-"+mode)
		}
	}
}

// qcPhase runs one measurement and returns the server process's CPU
// seconds and the QC decoders' CPU seconds.
func qcPhase(b *testing.B, src, mode string, streams, secs int) (float64, float64) {
	cfg := testConfig(b)
	if mode != "" {
		cfg.Paths = []config.PathRule{{Pattern: "live/*", QC: &config.QC{Enabled: true, Decode: mode}}}
	}
	s := startServer(b, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range streams {
		publishRTMP(b, ctx, src, fmt.Sprintf("rtmp://%s/live/s%d", s.RTMPAddr(), i), true)
	}
	for i := range streams {
		testutil.WaitStream(b, s.Paths(), fmt.Sprintf("live/s%d", i), nil, 20*time.Second)
	}
	before := selfCPU()
	time.Sleep(time.Duration(secs) * time.Second) // a benchmark measures over a fixed span
	self := selfCPU() - before
	dec := decoderCPU()
	cancel()
	s.Close()
	return self, dec
}

func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// decoderCPU sums the CPU of this process's live ffmpeg children that
// read MPEG-TS from a pipe (the QC decoders), from /proc.
func decoderCPU() float64 {
	me := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	tick := 100.0 // USER_HZ on Linux
	total := 0.0
	for _, d := range dirs {
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		if len(f) < 13 || f[1] != me {
			continue
		}
		cmdline, _ := os.ReadFile(d + "/cmdline")
		if !strings.Contains(string(cmdline), "mpegts\x00-i\x00pipe:0") {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		total += (ut + st) / tick
	}
	return total
}
