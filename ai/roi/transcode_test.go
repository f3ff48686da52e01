package roi

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// TestTranscodeROIOption checks the roi option of a transcode template:
// with the picture halved to 320x180 (so boxes must be mapped to the
// output) the face gains at least 2 dB PSNR over the same transcode
// without the option, at a size within 5%.
func TestTranscodeROIOption(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	ref := makeFaceClip(t, dir)
	env := &vod.Env{Extensions: map[string]vod.Extension{vod.TypeROI: Extension{}}}
	spec := vod.TranscodeSpec{Video: vod.VideoSpec{Codec: "h264", Width: 320, Height: 180, RateControl: "vbr", Bitrate: "150k"}}
	withROI := spec
	withROI.ROI = &aispec.TranscodeROI{QOffset: -0.5, SampleFPS: 4}
	sizes, psnr := map[string]int64{}, map[string]float64{}
	for name, s := range map[string]vod.TranscodeSpec{"plain": spec, "roi": withROI} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		op := vod.Operation{Type: vod.TypeTranscode, Name: name, Transcode: &s}
		res, err := op.Bind(env).Run(ctx, ref, filepath.Join(dir, name), nil)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := res.Files[0]
		if f.Width != 320 || f.Height != 180 {
			t.Fatalf("%s: %dx%d", name, f.Width, f.Height)
		}
		sizes[name] = f.Size
		psnr[name] = facePSNR(t, f.Path, ref, 2)
	}
	t.Logf("plain %d bytes, face PSNR %.2f dB; roi %d bytes (%+.1f%%), face PSNR %.2f dB (%+.2f dB)", sizes["plain"], psnr["plain"],
		sizes["roi"], 100*float64(sizes["roi"]-sizes["plain"])/float64(sizes["plain"]), psnr["roi"], psnr["roi"]-psnr["plain"])
	if d := float64(sizes["roi"]-sizes["plain"]) / float64(sizes["plain"]); d < -0.05 || d > 0.05 {
		t.Errorf("sizes %v more than 5%% apart", sizes)
	}
	if psnr["roi"]-psnr["plain"] < 2 {
		t.Errorf("face PSNR %v: roi less than 2 dB better", psnr)
	}
}

// TestTranscodeROIRefused checks that the roi option is refused for a
// codec without regions of interest and without the extension.
func TestTranscodeROIRefused(t *testing.T) {
	op := vod.Operation{Type: vod.TypeTranscode, Transcode: &vod.TranscodeSpec{Container: "webm", ROI: &aispec.TranscodeROI{}}}
	if err := op.Validate(); err == nil {
		t.Error("roi with vp9 accepted")
	}
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := filepath.Join(dir, "v.mp4")
	ffmpeg(t, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:d=1", "-c:v", "libx264", in)
	op = vod.Operation{Type: vod.TypeTranscode, Transcode: &vod.TranscodeSpec{ROI: &aispec.TranscodeROI{}}}
	_, err := op.Bind(&vod.Env{}).Run(context.Background(), in, filepath.Join(dir, "out"), nil)
	if err == nil {
		t.Error("roi without the extension ran")
	}
}
