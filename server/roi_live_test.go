package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/tsconv"
)

// The live ROI clip: the test portrait (ai/roi/testdata), scaled to
// 150x176, moves right by roiSpeed px/s from roiX0 over testsrc2 with
// temporal noise; its face is roiSide pixels square at roiDX, roiDY
// inside it (as in ai/roi's tests).
const (
	roiX0, roiY, roiSpeed = 40, 90, 20
	roiDX, roiDY, roiSide = 44, 29, 68
)

// makeFaceSource writes the live ROI clip: 640x360 25 fps, near lossless
// so the published source is the reference, 1 s GOP, no B-frames (the
// stream's timestamps are the clip's), with a tone.
func makeFaceSource(t *testing.T, ctx context.Context, seconds int) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	img := filepath.Join(filepath.Dir(file), "..", "ai", "roi", "testdata", "grace_hopper.jpg")
	out := filepath.Join(t.TempDir(), "faces.mp4")
	d := strconv.Itoa(seconds)
	cmd, stderr := ffmpeg(ctx, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d="+d+",noise=alls=20:allf=t",
		"-loop", "1", "-i", img, "-f", "lavfi", "-i", "sine=d="+d,
		"-filter_complex", fmt.Sprintf("[1:v]scale=150:176[f];[0:v][f]overlay=x='%d+t*%d':y=%d:shortest=1,format=yuv420p[v]", roiX0, roiSpeed, roiY),
		"-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "14", "-g", "25", "-bf", "0",
		"-c:a", "aac", "-t", d, out)
	if err := cmd.Run(); err != nil {
		t.Fatalf("make face source: %v %s", err, stderr)
	}
	return out
}

// roiRecording is a stream's video read from the hub and written as
// MPEG-TS (tsconv moves the first unit to 1 s).
type roiRecording struct {
	file        string
	first, last float64 // stream time of the first and last unit, s
}

// recordStream reads s's video for d and writes it to dir.
func recordStream(t *testing.T, s *stream.Stream, d time.Duration, dir, name string) (roiRecording, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var video *stream.Track
	for _, tr := range s.Tracks() {
		if tr.IsVideo() {
			video = tr
		}
	}
	if video == nil {
		return roiRecording{}, errors.New("no video")
	}
	var b bytes.Buffer
	mux, err := tsconv.NewMuxer(&b, []*stream.Track{video})
	if err != nil {
		return roiRecording{}, err
	}
	rd := s.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer rd.Close()
	rec := roiRecording{file: filepath.Join(dir, name+".ts"), first: -1}
	for {
		u, err := rd.Read()
		if err != nil {
			break
		}
		if u.Track != video {
			continue
		}
		if rec.first < 0 {
			rec.first = u.DTS.Seconds()
		}
		rec.last = u.DTS.Seconds()
		if err := mux.WriteUnit(u); err != nil {
			return rec, err
		}
	}
	if rec.first < 0 {
		return rec, errors.New("no video unit")
	}
	return rec, os.WriteFile(rec.file, b.Bytes(), 0o644)
}

var facePSNRRE = regexp.MustCompile(`PSNR .* average:([0-9.]+|inf)`)

// facePSNR is the PSNR of dist against ref inside the moving face (inset
// by 4 px) over [from, to) seconds of stream time, which is clip time.
func facePSNR(t *testing.T, ctx context.Context, dist, ref roiRecording, from, to float64) float64 {
	t.Helper()
	side := roiSide - 8
	sel := func(r roiRecording) string {
		at := func(s float64) float64 { return s - r.first + 1 }
		return fmt.Sprintf("trim=start=%.3f:end=%.3f,setpts=PTS-STARTPTS,crop=w=%d:h=%d:x='%d+(t+%.3f)*%d':y=%d",
			at(from), at(to), side, side, roiX0+roiDX+4, from, roiSpeed, roiY+roiDY+4)
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-copyts", "-i", dist.file, "-copyts", "-i", ref.file,
		"-lavfi", "[0:v]"+sel(dist)+"[d];[1:v]"+sel(ref)+"[r];[d][r]psnr", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psnr: %v %s", err, out)
	}
	m := facePSNRRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no PSNR in %s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestLiveROIRung publishes the moving portrait over RTMP to a path whose
// ladder has a plain rung and an ROI rung of the same size and bitrate.
// Both rungs come out of the server; the face is found in most samples;
// and inside the moving face the ROI rung is at least 1.5 dB better than
// the plain one (about the same bytes), which it is not without ROI.
func TestLiveROIRung(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Transcode.Ladders = map[string]config.Ladder{"faces": {GOP: config.Duration(2 * time.Second), Rungs: []config.Rung{
		{Name: "plain", VideoBitrate: 300_000, Preset: "superfast", Codec: "h264", AudioCodec: "none"},
		{Name: "roi", VideoBitrate: 300_000, Preset: "superfast", Codec: "h264", AudioCodec: "none",
			ROI: &config.RungROI{Faces: true, SampleInterval: config.Duration(500 * time.Millisecond)}},
	}}}
	cfg.Paths = []config.PathRule{{Name: "live/faces", Transcode: "faces"}}
	s := startServer(t, cfg)
	publishRTMP(t, ctx, makeFaceSource(t, ctx, 14), "rtmp://"+s.RTMPAddr()+"/live/faces", false)

	streams := map[string]*stream.Stream{}
	for _, p := range []string{"live/faces", "live/faces/plain", "live/faces/roi"} {
		testutil.WaitFor(t, 30*time.Second, p, func() bool { return s.Paths().Get(p) != nil })
		streams[p] = s.Paths().Get(p)
	}
	dir := t.TempDir()
	recs := map[string]roiRecording{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for p, st := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := recordStream(t, st, time.Minute, dir, filepath.Base(p)) // to the end
			if err != nil {
				t.Errorf("%s: %v", p, err)
			}
			mu.Lock()
			recs[p] = rec
			mu.Unlock()
		}()
	}
	var tcs struct {
		Transcoders []struct {
			Path  string
			Speed float64
			ROI   *struct {
				Samples          int    `json:"samples"`
				SamplesWithFaces int    `json:"samples_with_faces"`
				Error            string `json:"error"`
			}
		}
	}
	var speed float64
	var roi struct{ Samples, SamplesWithFaces int }
	var roiErr string
	testutil.WaitFor(t, time.Minute, "12 samples searched", func() bool {
		getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/transcoders", &tcs)
		if len(tcs.Transcoders) == 1 && tcs.Transcoders[0].ROI != nil {
			r := tcs.Transcoders[0].ROI
			speed, roi.Samples, roi.SamplesWithFaces, roiErr = tcs.Transcoders[0].Speed, r.Samples, r.SamplesWithFaces, r.Error
		}
		return roi.Samples >= 12 || roiErr != ""
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("ladder speed %.2fx; face in %d of %d samples", speed, roi.SamplesWithFaces, roi.Samples)
	if roiErr != "" || float64(roi.SamplesWithFaces) < 0.9*float64(roi.Samples) {
		t.Errorf("roi status %+v %q: want the face in 90%% of the samples", roi, roiErr)
	}
	src, plain, withROI := recs["live/faces"], recs["live/faces/plain"], recs["live/faces/roi"]
	from, to := max(src.first, plain.first, withROI.first)+1, min(src.last, plain.last, withROI.last)-0.5
	if to-from < 4 {
		t.Fatalf("rungs recorded over %.1f-%.1f s only", from, to)
	}
	pp, pr := facePSNR(t, ctx, plain, src, from, to), facePSNR(t, ctx, withROI, src, from, to)
	sp, sr := fileSize(t, plain.file), fileSize(t, withROI.file)
	t.Logf("face PSNR over %.1f-%.1f s: plain %.2f dB, roi %.2f dB (%+.2f dB); bytes plain %d, roi %d (%+.1f%%)",
		from, to, pp, pr, pr-pp, sp, sr, 100*float64(sr-sp)/float64(sp))
	if pr-pp < 1.5 {
		t.Errorf("face PSNR roi %.2f dB vs plain %.2f dB: want at least 1.5 dB better", pr, pp)
	}
	if d := float64(sr-sp) / float64(sp); d < -0.1 || d > 0.1 {
		t.Errorf("roi rung %d bytes vs plain %d: more than 10%% apart", sr, sp)
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
