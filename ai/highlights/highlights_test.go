package highlights

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
	"mps/internal/vod"
)

func run(t testing.TB, spec *aispec.Highlights, input, outDir string) (vod.Result, Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	op := vod.Operation{Type: vod.TypeHighlights, Highlights: spec}
	env := &vod.Env{Extensions: map[string]vod.Extension{vod.TypeHighlights: Extension{}}}
	res, err := op.Bind(env).Run(ctx, input, outDir, nil)
	var rep Report
	if err == nil {
		if err := json.Unmarshal(res.Report, &rep); err != nil {
			t.Fatalf("report: %v", err)
		}
	}
	return res, rep, err
}

// TestHighlightsFindEvents checks that the top 3 clips of a clip with a
// loud burst, a motion burst after a cut and a spoken keyword hold the
// three events, never overlap, never hold the black or silent span, and
// that the reel is their joined length and decodes cleanly.
func TestHighlightsFindEvents(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	clip := makeEventClip(t, dir, 60, 480, 270)
	out := filepath.Join(dir, "highlights") // the transcript is its sibling
	spec := &aispec.Highlights{Top: 3, MinSeconds: 3, MaxSeconds: 8, Keywords: []string{"Goal"},
		Transcript: "transcript.json"}
	res, rep, err := run(t, spec, clip.path, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Clips) != 3 {
		t.Fatalf("got %d clips, want 3: %+v", len(rep.Clips), rep.Clips)
	}
	for _, ev := range clip.events {
		t.Run(ev.name, func(t *testing.T) {
			for _, c := range rep.Clips {
				if overlap(span{c.Start, c.End}, span{ev.start, ev.end}) >= min(1, ev.end-ev.start) {
					return
				}
			}
			t.Errorf("no clip holds the %s event at %g-%g: %+v", ev.name, ev.start, ev.end, rep.Clips)
		})
	}
	var sum float64
	for i, c := range rep.Clips {
		sum += c.End - c.Start
		if c.End-c.Start < 3-1e-6 || c.End-c.Start > 8+1e-6 {
			t.Errorf("clip %d lasts %g s, outside 3-8", i+1, c.End-c.Start)
		}
		for _, bad := range []span{clip.black, clip.silence} {
			if overlap(span{c.Start, c.End}, bad) > 0 {
				t.Errorf("clip %d (%g-%g) holds a black or silent span %v", i+1, c.Start, c.End, bad)
			}
		}
		for j, d := range rep.Clips[i+1:] {
			if overlap(span{c.Start, c.End}, span{d.Start, d.End}) > 0 {
				t.Errorf("clips %d and %d overlap", i+1, i+j+2)
			}
		}
		if len(c.Reasons) == 0 {
			t.Errorf("clip %d has no reasons", i+1)
		}
		checkJPEG(t, filepath.Join(out, c.Thumbnail))
	}
	if !hasReason(rep.Clips, "keyword:Goal") {
		t.Errorf("no clip gives the keyword as a reason: %+v", rep.Clips)
	}
	if len(rep.Black) == 0 || len(rep.Silence) == 0 {
		t.Errorf("black %v / silence %v spans not found", rep.Black, rep.Silence)
	}
	reel := filepath.Join(out, rep.Reel)
	if v, a := probeStreams(t, reel); float64(v) < (sum-0.1)*25 || float64(v) > (sum+0.1)*25 || a < sum-0.1 || a > sum+0.1 {
		t.Errorf("reel has %d frames and %.2f s of audio, want the clips' %.2f s", v, a, sum)
	}
	if msg := decodeErrors(t, reel); msg != "" {
		t.Errorf("reel does not decode cleanly: %s", msg)
	}
	if len(res.Files) != 5 {
		t.Errorf("files %+v, want 3 thumbnails, reel and json", res.Files)
	}
}

func hasReason(clips []Clip, r string) bool {
	for _, c := range clips {
		for _, x := range c.Reasons {
			if x == r {
				return true
			}
		}
	}
	return false
}

// TestHighlightsBadInput checks the clear errors.
func TestHighlightsBadInput(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	audioOnly := filepath.Join(dir, "a.m4a")
	ffmpeg(t, "-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", audioOnly)
	video := filepath.Join(dir, "v.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=s=160x90:d=6", "-c:v", "libx264", video)
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"not": "words"`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, input string
		spec        *aispec.Highlights
		want        string
	}{
		{"no video", audioOnly, nil, "no video track"},
		{"bad transcript", video, &aispec.Highlights{Transcript: filepath.Base(bad)}, "want a JSON array"},
		{"missing transcript", video, &aispec.Highlights{Transcript: "none.json"}, "no such file"},
		{"bad spec", video, &aispec.Highlights{MinSeconds: 10, MaxSeconds: 5}, "max_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.spec, tc.input, filepath.Join(dir, tc.name))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestHighlightsVideoOnly checks that a file without audio still gets
// clips (by motion and cuts) and a reel without audio.
func TestHighlightsVideoOnly(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "v.mp4")
	ffmpeg(t, "-f", "lavfi", "-t", "8", "-i", "smptebars=s=320x180", "-f", "lavfi", "-t", "4", "-i",
		"testsrc2=s=320x180,noise=alls=70:allf=t", "-f", "lavfi", "-t", "8", "-i", "smptebars=s=320x180",
		"-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1,format=yuv420p", "-c:v", "libx264", in)
	_, rep, err := run(t, &aispec.Highlights{Top: 1, MinSeconds: 3, MaxSeconds: 5}, in, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Audio || len(rep.Clips) != 1 || rep.Clips[0].Start > 9 || rep.Clips[0].End < 9 {
		t.Fatalf("audio %v clips %+v, want one clip over the burst at 8-12", rep.Audio, rep.Clips)
	}
}

func checkJPEG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 100 || b[0] != 0xFF || b[1] != 0xD8 {
		t.Errorf("thumbnail %s is not a JPEG: %v", path, err)
	}
}

// probeStreams counts the video frames of path and measures its audio.
func probeStreams(t testing.TB, path string) (frames int, audio float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,nb_read_frames,duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		switch f[0] {
		case "video":
			frames, _ = strconv.Atoi(f[2])
		case "audio":
			audio, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	return frames, audio
}

func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	out, _ := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	return strings.TrimSpace(string(out))
}
