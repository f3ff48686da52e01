package vod

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mps/internal/watermark"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestArgsGolden holds the ffmpeg arguments each VOD operation builds
// against golden files, like the live transcoder's: a change to an
// argument builder shows up in review as a diff of ffmpeg flags. The
// operations run with ffmpeg replaced by a recorder of its arguments, on a
// fixed description of the input (720p25 H.264 + stereo AAC, 10 s), so
// nothing is probed or encoded; go test -update rewrites the files.
func TestArgsGolden(t *testing.T) {
	in := &MediaInfo{Format: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 10, Size: 2 << 20, VideoCodec: "h264", AudioCodec: "aac",
		Width: 1280, Height: 720, FPS: 25, SampleRate: 48000, Channels: 2}
	env := &Env{
		Watermark: func(name string) (watermark.Template, error) {
			return watermark.Template{Type: watermark.TypeText, Text: "MPS", Corner: watermark.TopRight, X: "10", Y: "10"}, nil
		},
		Enhancement: func(string) (EnhanceSpec, error) { return EnhanceSpec{Denoise: "hqdn3d"}, nil },
	}
	for _, tc := range []struct{ name, op string }{
		{"transcode_mp4", `{"type":"transcode","transcode":{"container":"mp4","video":{"codec":"h264","height":480,"rate_control":"crf","crf":23,"preset":"veryfast"},"audio":{"codec":"aac","bitrate":"128k"}}}`},
		{"transcode_webm_clip", `{"type":"transcode","transcode":{"container":"webm","video":{"codec":"vp9","width":640},"audio":{"codec":"opus"},"start":"2s","end":"6s"}}`},
		{"adaptive", `{"type":"adaptive","adaptive":{"rungs":[{"height":720,"video_bitrate":"2800k"},{"height":360,"video_bitrate":"800k"}],"segment_seconds":4}}`},
		{"snapshot", `{"type":"snapshot","snapshot":{"times":["1s","50%"],"format":"jpg","width":320}}`},
		{"sample", `{"type":"sample","sample":{"every":"2s","width":160}}`},
		{"sprite", `{"type":"sprite","sprite":{"every":"10%","rows":3,"columns":3}}`},
		{"animated", `{"type":"animated","animated":{"format":"gif","start":"1s","end":"3s","fps":10}}`},
		{"watermark", `{"type":"watermark","watermark":{"names":["brand"],"start":"1s","end":"5s"}}`},
		{"remux", `{"type":"remux","remux":{"container":"mkv"}}`},
		{"enhance_video", `{"type":"enhance","enhance":{"denoise":"nlmeans","sharpen":"cas","deinterlace":true}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var op Operation
			if err := json.Unmarshal([]byte(tc.op), &op); err != nil {
				t.Fatal(err)
			}
			if err := op.Validate(); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			var calls []string
			j := &job{ctx: context.Background(), op: op.Bind(env), input: "/in/source.mp4", outDir: out, in: in,
				progress: func(float64) {},
				exec: func(_ context.Context, args []string, _ float64, _ func(float64)) error {
					calls = append(calls, strings.ReplaceAll(strings.Join(args, "\n"), out, "OUT"))
					return nil
				}}
			_, _ = j.dispatch() // outputs that ffmpeg did not write make the rest fail; the arguments are built by then
			if len(calls) == 0 {
				t.Fatal("the operation ran no ffmpeg")
			}
			golden(t, tc.name+".txt", strings.Join(calls, "\n--\n")+"\n")
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run TestArgsGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("arguments differ from %s:\n%s", p, got)
	}
}
