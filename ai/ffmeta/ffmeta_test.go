package ffmeta

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseAndSpans(t *testing.T) {
	text := "frame:100  pts:51200   pts_time:4\nlavfi.black_start=4\nframe:150  pts:76800   pts_time:6\nlavfi.black_end=6\n" +
		"frame:170 pts:1 pts_time:6.8\nlavfi.silence_start=6.5\nframe:180 pts:1 pts_time:9\nlavfi.silence_end=8.9\nlavfi.silence_start=6.5\n" +
		"frame:200 pts:1 pts_time:10\nlavfi.black_start=10\nlavfi.x=-inf\n"
	frames, err := Parse(strings.NewReader(text))
	if err != nil || len(frames) != 5 {
		t.Fatalf("frames = %d, %v", len(frames), err)
	}
	if x, ok := frames[4].Float("lavfi.x"); !ok || x > -1e300 {
		t.Fatalf("-inf = %v %v", x, ok)
	}
	cases := []struct {
		name       string
		start, end string
		want       []Span
	}{
		{"black", "lavfi.black_start", "lavfi.black_end", []Span{{4, 6}, {10, 12}}},
		{"silence repeats its start on the end frame", "lavfi.silence_start", "lavfi.silence_end", []Span{{6.5, 8.9}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Spans(frames, c.start, c.end, 12)
			if len(got) != len(c.want) {
				t.Fatalf("spans = %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("spans = %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("no ffmpeg")
	}
	c, err := Detect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Version == "" || !slices.Contains(c.Encoders, "libx264") || !slices.Contains(c.Encoders, "aac") || !c.Filters["psnr"] || !c.Filters["ssim"] {
		t.Fatalf("capabilities = %+v", c)
	}
	// Debian's ffmpeg has no libvmaf; the flag must say what the binary has.
	out, _ := exec.Command("ffmpeg", "-hide_banner", "-filters").Output()
	if c.VMAF != strings.Contains(string(out), " libvmaf ") {
		t.Fatalf("VMAF = %v disagrees with ffmpeg -filters", c.VMAF)
	}
	t.Logf("ffmpeg %s, %d encoders, vmaf %v, ms-ssim %v", c.Version, len(c.Encoders), c.VMAF, c.MSSSIM)
}
