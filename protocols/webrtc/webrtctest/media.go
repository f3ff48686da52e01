package webrtctest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// Media names the input files a Publisher sends. WebRTC carries Opus, not
// AAC, and a pion sender wants elementary streams (Annex-B, IVF, Ogg)
// rather than MP4, so the repository's test files cannot be used directly.
type Media struct {
	// H264 is an Annex-B H.264 baseline stream (320x240, 30 fps, 1 s GOP,
	// no B-frames).
	H264 string
	// Opus is an Ogg/Opus file with one 20 ms packet per page, so pages
	// can be paced as packets.
	Opus string
	// VP8 and VP9 are IVF files (320x240, 30 fps, 1 s GOP).
	VP8, VP9 string
}

// Frame rate and keyframe interval of the media MakeMedia produces, for
// tests that count frames or GOPs.
const (
	FrameRate = 30
	GOPFrames = 30
)

// MakeMedia encodes 3 s of H.264 and Opus and 2 s of VP8 and VP9 test
// pattern into dir with /usr/bin/ffmpeg. It takes a few seconds, so call
// it once per test binary (TestMain) and share the result.
func MakeMedia(ctx context.Context, dir string) (Media, error) {
	m := Media{
		H264: filepath.Join(dir, "webrtctest.h264"),
		Opus: filepath.Join(dir, "webrtctest.ogg"),
		VP8:  filepath.Join(dir, "webrtctest.vp8.ivf"),
		VP9:  filepath.Join(dir, "webrtctest.vp9.ivf"),
	}
	src := fmt.Sprintf("testsrc2=size=320x240:rate=%d", FrameRate)
	gop := fmt.Sprint(GOPFrames)
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", src, "-t", "3", "-c:v", "libx264", "-profile:v", "baseline",
			"-bf", "0", "-g", gop, "-pix_fmt", "yuv420p", "-f", "h264", m.H264},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:a", "libopus",
			"-page_duration", "20000", "-f", "ogg", m.Opus},
		{"-f", "lavfi", "-i", src, "-t", "2", "-c:v", "libvpx", "-deadline", "realtime",
			"-cpu-used", "8", "-g", gop, "-b:v", "500k", "-f", "ivf", m.VP8},
		{"-f", "lavfi", "-i", src, "-t", "2", "-c:v", "libvpx-vp9", "-deadline", "realtime",
			"-cpu-used", "8", "-g", gop, "-b:v", "500k", "-f", "ivf", m.VP9},
	} {
		cmd := exec.CommandContext(ctx, "/usr/bin/ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return Media{}, fmt.Errorf("ffmpeg %v: %w\n%s", args, err, out)
		}
	}
	return m, nil
}
