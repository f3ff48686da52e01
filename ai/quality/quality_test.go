package quality

import (
	"context"
	"encoding/xml"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"mps/ai/ffmeta"
	"mps/internal/aispec"
	"mps/internal/testutil"
)

func ffmpeg(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-nostdin", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// pair makes a lossless reference and a distorted copy of it (x264 at crf).
func pair(t testing.TB, dir, size string, secs int, crf string) (ref, dist string) {
	t.Helper()
	ref, dist = filepath.Join(dir, "ref_"+size+".mkv"), filepath.Join(dir, "dist_"+size+"_"+crf+".mp4")
	if _, err := os.Stat(ref); err != nil {
		d := strconv.Itoa(secs)
		ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s="+size+":r=25:d="+d, "-f", "lavfi", "-i", "sine=f=440:d="+d,
			"-af", "volume=0.3,pan=stereo|c0=c0|c1=c0", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-c:a", "flac", ref)
	}
	ffmpeg(t, "-loglevel", "error", "-i", ref, "-c:v", "libx264", "-preset", "veryfast", "-crf", crf, "-c:a", "aac", dist)
	return ref, dist
}

func evaluator(t testing.TB) *Evaluator {
	caps, err := ffmeta.Detect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &Evaluator{Caps: caps}
}

// TestAgreesWithFFmpegSummary checks the report's PSNR and SSIM means
// against the summary lines ffmpeg's own filters print.
func TestAgreesWithFFmpegSummary(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	for _, crf := range []string{"23", "40"} {
		t.Run("crf"+crf, func(t *testing.T) {
			ref, dist := pair(t, dir, "640x360", 4, crf)
			rep, err := evaluator(t).Run(context.Background(), aispec.QualitySpec{Reference: ref}, dist, filepath.Join(dir, "out"+crf), nil)
			if err != nil {
				t.Fatal(err)
			}
			log := ffmpeg(t, "-i", dist, "-i", ref, "-lavfi", "[0:v]settb=AVTB,setpts=PTS-STARTPTS,split[d1][d2];[1:v]settb=AVTB,setpts=PTS-STARTPTS,split[r1][r2];[d1][r1]psnr;[d2][r2]ssim", "-f", "null", "-")
			psnr := grab(t, log, `PSNR .* average:([0-9.]+)`)
			ssim := grab(t, log, `SSIM .* All:([0-9.]+)`)
			fr := rep.FullReference
			t.Logf("report PSNR %.4f SSIM %.5f; ffmpeg %.4f %.5f", fr.PSNR.Mean, fr.SSIM.Mean, psnr, ssim)
			if math.Abs(fr.PSNR.Mean-psnr) > 0.01 || math.Abs(fr.SSIM.Mean-ssim) > 0.01 || fr.Frames != 100 {
				t.Fatalf("report %+v, ffmpeg PSNR %g SSIM %g", fr, psnr, ssim)
			}
			if len(rep.Series["psnr"].Value) != 100 || len(rep.Series["ssim"].Value) != 100 {
				t.Fatal("per-frame series missing")
			}
			if fr.MSSSIM != nil || fr.VMAF != nil && !evaluator(t).Caps.VMAF || len(fr.Notes) == 0 {
				t.Fatalf("unavailable metrics must be absent and explained: %+v", fr)
			}
		})
	}
}

func grab(t *testing.T, log, expr string) float64 {
	m := regexp.MustCompile(expr).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("%s not in ffmpeg output:\n%s", expr, log)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	return f
}

// TestNoReferenceChecks runs the no-reference measures on a good clip and
// on one with planted faults, and checks the verdict names the faults.
func TestNoReferenceChecks(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	_, good := pair(t, dir, "640x360", 4, "23")
	bad := filepath.Join(dir, "bad.mp4")
	// 1 s black then 3 s of a frozen picture at 12 fps; the right channel
	// 20 dB quieter than the left; loud enough to clip.
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "color=black:s=640x360:r=12:d=1", "-f", "lavfi", "-i", "smptebars=s=640x360:r=12:d=3",
		"-f", "lavfi", "-i", "sine=f=200:d=4", "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v];[2:a]volume=40,pan=stereo|c0=c0|c1=0.1*c0[a]",
		"-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac", bad)
	cases := []struct {
		name     string
		file     string
		failed   []string
		verdict  string
		disabled []string
	}{
		{"good", good, nil, VerdictPass, nil},
		{"bad", bad, []string{"black_frames_max", "frozen_frames_max", "fps_min", "channel_imbalance_max", "true_peak_max", "duplicated_frames_max"}, VerdictFail, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name)
			rep, err := evaluator(t).Run(context.Background(), aispec.QualitySpec{}, c.file, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("failed %v video %+v audio %+v", rep.Failed, *rep.Video, *rep.Audio)
			if rep.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s (failed %v)", rep.Verdict, c.verdict, rep.Failed)
			}
			for _, f := range c.failed {
				if !contains(rep.Failed, f) {
					t.Errorf("%s did not fail (failed: %v)", f, rep.Failed)
				}
			}
			if len(rep.Checks) != len(aispec.QualityChecks) || len(rep.Checks) < 20 {
				t.Errorf("%d checks", len(rep.Checks))
			}
			for _, name := range []string{"si", "ti", "blur", "blockiness", "noise", "brightness", "frame_interval", "loudness_momentary"} {
				if len(rep.Series[name].Value) < 2 {
					t.Errorf("series %s: %d values", name, len(rep.Series[name].Value))
				}
			}
			if len(rep.Plots) < 8 {
				t.Fatalf("plots = %v", rep.Plots)
			}
			data, err := os.ReadFile(filepath.Join(out, rep.Plots[0]))
			if err != nil {
				t.Fatal(err)
			}
			var svg struct {
				XMLName  xml.Name `xml:"svg"`
				Polyline struct {
					Points string `xml:"points,attr"`
				} `xml:"polyline"`
			}
			if err := xml.Unmarshal(data, &svg); err != nil || len(strings.Fields(svg.Polyline.Points)) < 2 {
				t.Fatalf("plot %s: %v", rep.Plots[0], err)
			}
		})
	}
}

// childCPU is the user+system CPU time of every finished child process.
func childCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestBadInput(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	ref, dist := pair(t, dir, "320x180", 4, "30")
	other := filepath.Join(dir, "other.mp4")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2", "-c:v", "libx264", other)
	small := filepath.Join(dir, "small.mp4")
	ffmpeg(t, "-loglevel", "error", "-i", ref, "-vf", "scale=160:90", "-c:v", "libx264", "-an", small)
	audio := filepath.Join(dir, "audio.m4a")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=4", "-c:a", "aac", audio)
	cases := []struct {
		name, input, ref, want string
	}{
		{"other length", dist, other, "reference 2.000 s"},
		{"other size", dist, small, "input is 320x180, reference 160x90"},
		{"reference without video", dist, audio, "the reference has no video"},
		{"input without video", audio, ref, "the input has no video"},
		{"missing reference", dist, filepath.Join(dir, "none.mp4"), "reference: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := evaluator(t).Run(context.Background(), aispec.QualitySpec{Reference: c.ref}, c.input, filepath.Join(dir, "o"), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if c.name != "missing reference" && !errors.Is(err, ErrMismatch) {
				t.Fatalf("err %v is not ErrMismatch", err)
			}
		})
	}
	t.Run("unknown check", func(t *testing.T) {
		_, err := evaluator(t).Run(context.Background(), aispec.QualitySpec{Checks: map[string]float64{"psnr_mn": 3}}, dist, filepath.Join(dir, "o"), nil)
		if err == nil || !strings.Contains(err.Error(), "unknown quality check psnr_mn") {
			t.Fatalf("err = %v", err)
		}
	})
}

// BenchmarkEvaluate720p is the figure of the issue: a 10 s 720p25 pair
// (lossless reference, x264 crf 40), full reference and no reference.
func BenchmarkEvaluate720p(b *testing.B) {
	dir := b.TempDir()
	ref, dist := pair(b, dir, "1280x720", 10, "40")
	ev := evaluator(b)
	for _, c := range []struct {
		name string
		spec aispec.QualitySpec
	}{{"full", aispec.QualitySpec{Reference: ref}}, {"noref", aispec.QualitySpec{}}} {
		b.Run(c.name, func(b *testing.B) {
			before := childCPU()
			for b.Loop() {
				if _, err := ev.Run(context.Background(), c.spec, dist, filepath.Join(dir, "out"), nil); err != nil {
					b.Fatal(err)
				}
			}
			// The machine is shared: CPU seconds of the children (ffmpeg,
			// ffprobe) say more than wall time about "one core".
			b.ReportMetric((childCPU()-before)/float64(b.N), "cpu-s/op")
		})
	}
}
