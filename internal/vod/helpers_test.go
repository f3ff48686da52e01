package vod

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// testFile is a file from the repository's testdata.
func testFile(name string) string { return filepath.Join("..", "..", "testdata", name) }

// runOp runs op on input into a fresh directory with a bounded context.
func runOp(t *testing.T, op Operation, input string) (Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	var last float64
	res, err := op.Run(ctx, input, dir, func(p float64) {
		if p < last {
			t.Errorf("progress went back from %.1f to %.1f", last, p)
		}
		last = p
	})
	if err != nil {
		t.Fatalf("%s: %v", op.Type, err)
	}
	if last != 100 {
		t.Errorf("final progress %.1f, want 100", last)
	}
	return res, dir
}

// streamFacts is what an independent ffprobe run says about a file.
type streamFacts struct {
	video, audio  string
	width, height int
	duration      float64
	frames        int
	sampleRate    int
	channels      int
}

func ffprobe(t *testing.T, path string) streamFacts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_packets", "-show_entries",
		"stream=codec_type,codec_name,width,height,nb_read_packets,sample_rate,channels:format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p struct {
		Streams []struct {
			CodecType  string `json:"codec_type"`
			CodecName  string `json:"codec_name"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			Packets    string `json:"nb_read_packets"`
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var f streamFacts
	f.duration, _ = strconv.ParseFloat(p.Format.Duration, 64)
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			f.video, f.width, f.height = s.CodecName, s.Width, s.Height
			f.frames, _ = strconv.Atoi(s.Packets)
		case "audio":
			f.audio, f.channels = s.CodecName, s.Channels
			f.sampleRate, _ = strconv.Atoi(s.SampleRate)
		}
	}
	return f
}

// rgbAt decodes the frame of path at time sec (0 for an image) to RGB24
// and returns it with its width.
func rgbAt(t *testing.T, path string, sec float64, w, h int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"-v", "error"}
	if sec > 0 {
		args = append(args, "-ss", strconv.FormatFloat(sec, 'f', 3, 64))
	}
	args = append(args, "-i", path, "-frames:v", "1", "-vf", "scale="+strconv.Itoa(w)+":"+strconv.Itoa(h), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("decode %s: %v %s", path, err, stderr.String())
	}
	if stdout.Len() != w*h*3 {
		t.Fatalf("decoded %d bytes, want %d", stdout.Len(), w*h*3)
	}
	return stdout.Bytes()
}

// meanLuma is the average of (R+G+B)/3 over a frame.
func meanLuma(rgb []byte) float64 {
	var sum float64
	for _, b := range rgb {
		sum += float64(b)
	}
	return sum / float64(len(rgb))
}

// generate makes a test input with lavfi sources.
func generate(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), name)
	full := append([]string{"-v", "error", "-y"}, args...)
	full = append(full, out)
	if b, err := exec.CommandContext(ctx, "ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("generate %s: %v %s", name, err, b)
	}
	return out
}

func near(a, b, tol float64) bool { return a >= b-tol && a <= b+tol }

func intp(n int) *int { return &n }

func f64(f float64) *float64 { return &f }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
