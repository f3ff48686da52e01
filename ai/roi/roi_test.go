package roi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// The portrait moves right by faceSpeed px/s from faceX0 at faceY over a
// busy background; its face (found by hand in the 150x176 scaled
// portrait) is faceSide pixels square at faceDX, faceDY inside it.
const (
	faceX0, faceY, faceSpeed = 40, 90, 40
	faceDX, faceDY, faceSide = 44, 29, 68
)

func ffmpeg(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// makeFaceClip writes a lossless 8 s 640x360 clip of the test portrait
// moving over testsrc2 with temporal noise, with a tone as audio.
func makeFaceClip(t testing.TB, dir string) string {
	out := filepath.Join(dir, "face.mp4")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=8,noise=alls=25:allf=t",
		"-loop", "1", "-i", filepath.Join("testdata", "grace_hopper.jpg"), "-f", "lavfi", "-i", "sine=d=8",
		"-filter_complex", fmt.Sprintf("[1:v]scale=150:176[f];[0:v][f]overlay=x='%d+t*%d':y=%d:shortest=1,format=yuv420p", faceX0, faceSpeed, faceY),
		"-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-c:a", "aac", "-t", "8", out)
	return out
}

func runROI(t testing.TB, spec *aispec.ROI, input, out string) (vod.Result, aispec.ROIReport, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	op := vod.Operation{Type: vod.TypeROI, ROI: spec}
	env := &vod.Env{Extensions: map[string]vod.Extension{vod.TypeROI: Extension{}}}
	res, err := op.Bind(env).Run(ctx, input, out, nil)
	var rep aispec.ROIReport
	if err == nil {
		if err := json.Unmarshal(res.Report, &rep); err != nil {
			t.Fatal(err)
		}
	}
	return res, rep, err
}

// faceCrop is a crop filter following the face of makeFaceClip in a
// picture scaled down by div, inset by 4 px so only face pixels are
// compared.
func faceCrop(div int) string {
	return fmt.Sprintf("crop=w=%d:h=%d:x='(%d+t*%d)/%d':y=%d", (faceSide-8)/div, (faceSide-8)/div,
		faceX0+faceDX+4, faceSpeed, div, (faceY+faceDY+4)/div)
}

var psnrAvg = regexp.MustCompile(`PSNR .* average:([0-9.]+|inf)`)

// facePSNR is the PSNR of dist against ref inside the moving face; with
// div > 1 dist is that many times smaller and ref is scaled down to it.
func facePSNR(t testing.TB, dist, ref string, div int) float64 {
	scale := ""
	if div > 1 {
		scale = fmt.Sprintf("scale=iw/%d:ih/%d:flags=area,", div, div)
	}
	out := ffmpeg(t, "-i", dist, "-i", ref, "-lavfi",
		"[0:v]settb=AVTB,setpts=PTS-STARTPTS,"+faceCrop(div)+"[d];[1:v]settb=AVTB,setpts=PTS-STARTPTS,"+scale+faceCrop(div)+"[r];[d][r]psnr",
		"-f", "null", "-")
	m := psnrAvg.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no PSNR in %s", out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestROIFaceEncode is the ROI figure: the face is found in at least 95%
// of the sampled frames with boxes holding its centre, and the ROI encode
// beats a plain encode of the same settings inside the face by at least
// 2 dB PSNR at a size within 5%.
func TestROIFaceEncode(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	ref := makeFaceClip(t, dir)
	enc := aispec.ROIEncode{Bitrate: "300k", QOffset: -0.5}
	res, rep, err := runROI(t, &aispec.ROI{SampleFPS: 4, Encode: &enc}, ref, filepath.Join(dir, "roi"))
	if err != nil {
		t.Fatal(err)
	}
	share := float64(rep.SamplesWithFaces) / float64(rep.Samples)
	t.Logf("face found in %d of %d samples (%.0f%%), %d ranges", rep.SamplesWithFaces, rep.Samples, share*100, len(rep.Ranges))
	if rep.Samples < 30 || share < 0.95 {
		t.Errorf("face in %d of %d samples, want >= 95%%", rep.SamplesWithFaces, rep.Samples)
	}
	for _, r := range rep.Ranges {
		mid := (r.Start + r.End) / 2
		cx, cy := faceX0+faceSpeed*mid+faceDX+faceSide/2, float64(faceY+faceDY+faceSide/2)
		hit := false
		for _, b := range r.Boxes {
			hit = hit || (cx >= float64(b.X) && cx <= float64(b.X+b.W) && cy >= float64(b.Y) && cy <= float64(b.Y+b.H))
		}
		if !hit {
			t.Errorf("range %g-%g: no box %+v holds the face centre %.0f,%.0f", r.Start, r.End, r.Boxes, cx, cy)
		}
	}
	full := enc
	full.Preset, full.CRF = "veryfast", 23
	plain := filepath.Join(dir, "plain.mp4")
	ffmpeg(t, append([]string{"-loglevel", "error", "-i", ref}, EncodeArgs(nil, full, 640, 360, true, plain)...)...)
	roiFile := filepath.Join(dir, "roi", rep.Encoded)
	sp, sr := size(t, plain), size(t, roiFile)
	pp, pr := facePSNR(t, plain, ref, 1), facePSNR(t, roiFile, ref, 1)
	t.Logf("plain %d bytes, face PSNR %.2f dB; roi %d bytes (%+.1f%%), face PSNR %.2f dB (%+.2f dB)",
		sp, pp, sr, 100*float64(sr-sp)/float64(sp), pr, pr-pp)
	if d := float64(sr-sp) / float64(sp); d < -0.05 || d > 0.05 {
		t.Errorf("roi encode %d bytes vs plain %d: more than 5%% apart", sr, sp)
	}
	if pr-pp < 2 {
		t.Errorf("face PSNR %.2f (roi) vs %.2f (plain): less than 2 dB better", pr, pp)
	}
	if len(res.Files) != 2 || res.Files[1].VideoCodec != "h264" || res.Files[1].AudioCodec != "aac" {
		t.Errorf("files %+v", res.Files)
	}
}

// TestROINoFaces checks that testsrc2 frames give no box at all.
func TestROINoFaces(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "t.mp4")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=10", "-c:v", "libx264", "-preset", "ultrafast", in)
	_, rep, err := runROI(t, &aispec.ROI{SampleFPS: 4}, in, filepath.Join(dir, "roi"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Samples < 38 || rep.SamplesWithFaces != 0 {
		t.Errorf("faces in %d of %d testsrc2 samples, want none: %+v", rep.SamplesWithFaces, rep.Samples, rep.Ranges)
	}
	for _, r := range rep.Ranges {
		if len(r.Boxes) > 0 {
			t.Errorf("range %+v has boxes", r)
		}
	}
}

// TestROIBadInput checks that a file without video is refused clearly.
func TestROIBadInput(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "a.m4a")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", in)
	_, _, err := runROI(t, nil, in, filepath.Join(dir, "roi"))
	if err == nil || !strings.Contains(err.Error(), "no video track") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "roi", "roi.json")); err == nil {
		t.Error("roi.json written for a failed run")
	}
}

func size(t testing.TB, p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
