package transcode

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
)

// busySource writes a hard-to-encode 640x360 25 fps clip, testsrc2 with
// temporal noise, with two clean moving 160x160 patches (testsrc) at
// patches[0] and patches[1] where more bits show, a 1 s GOP and a tone.
func busySource(t testing.TB, seconds int, patches [2]image.Point) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "busy.mp4")
	d := strconv.Itoa(seconds)
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d="+d+",noise=alls=20:allf=t",
		"-f", "lavfi", "-i", "testsrc=s=160x160:r=25:d="+d, "-f", "lavfi", "-i", "sine=d="+d,
		"-filter_complex", fmt.Sprintf("[1:v]split[p][q];[0:v][p]overlay=%d:%d[a];[a][q]overlay=%d:%d,format=yuv420p[v]",
			patches[0].X, patches[0].Y, patches[1].X, patches[1].Y),
		"-map", "[v]", "-map", "2:a", "-c:a", "aac",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "25", "-bf", "0", p)
	return p
}

// scriptedFaces is a FaceTracker that returns box A for the first n
// samples and box B after: the test knows where "faces" are.
type scriptedFaces struct {
	a, b    image.Rectangle
	n       int
	samples atomic.Int64
}

func (f *scriptedFaces) Track(pix []byte, w, h int) []image.Rectangle {
	if len(pix) != w*h {
		panic("frame size")
	}
	if f.samples.Add(1) <= int64(f.n) {
		return []image.Rectangle{f.a}
	}
	return []image.Rectangle{f.b}
}

var psnrRE = regexp.MustCompile(`PSNR .* average:([0-9.]+|inf)`)

// recording is a stream's video recorded by recordTS, which moves its
// first unit (at first seconds of the source's timeline) to 1 s.
type recording struct {
	file        string
	first, last float64
}

// at is where source time s lands in the file.
func (r recording) at(s float64) float64 { return s - r.first + 1 }

// regionPSNR is the PSNR of dist against ref inside r over [from, to)
// seconds of the source's timeline.
func regionPSNR(t *testing.T, dist, ref recording, r image.Rectangle, from, to float64) float64 {
	t.Helper()
	sel := func(rec recording) string {
		return fmt.Sprintf("trim=start=%.3f:end=%.3f,setpts=PTS-STARTPTS,crop=%d:%d:%d:%d", rec.at(from), rec.at(to), r.Dx(), r.Dy(), r.Min.X, r.Min.Y)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-copyts", "-i", dist.file, "-copyts", "-i", ref.file, "-lavfi",
		"[0:v]"+sel(dist)+"[d];[1:v]"+sel(ref)+"[r];[d][r]psnr", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("psnr: %v\n%s", err, out)
	}
	m := psnrRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no PSNR in %s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestLadderROIMovesBox runs one ladder with a plain and an ROI rung of
// the same size and bitrate over a busy source. The tracker says the
// "face" is in box A for the first samples, then in box B: the ROI rung
// beats the plain one inside A early and inside B late (the box moved in
// the running ffmpeg), by a margin that fails without ROI, at about the
// same size.
func TestLadderROIMovesBox(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	a, b := image.Rect(64, 64, 224, 224), image.Rect(416, 128, 576, 288)
	src := busySource(t, 14, [2]image.Point{a.Min, b.Min})
	faces := &scriptedFaces{a: a, b: b, n: 24}
	ladder := Ladder{Name: "roi", Rungs: []Rung{
		{Name: "plain", VideoBitrate: 400000, Preset: "veryfast", AudioCodec: "none"},
		{Name: "roi", VideoBitrate: 400000, Preset: "veryfast", AudioCodec: "none",
			ROI: &RungROI{QOffset: -0.5, SampleInterval: 250 * time.Millisecond}},
	}}
	e := newEnv(t, Config{
		Ladder: func(p string) (Ladder, bool) { return ladder, p == "live/faces" },
		Faces:  func() (FaceTracker, error) { return faces, nil },
	})
	pub := publishFile(t, e.hub, "live/faces", src)
	streams := map[string]*stream.Stream{"src": pub.s}
	for _, name := range []string{"plain", "roi"} {
		streams[name] = testutil.WaitStream(t, e.hub, "live/faces/"+name, nil, 20*time.Second)
	}
	recs := map[string]recording{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			units, err := collect(s, 40*time.Second) // to the end, however slow the ladder
			if (err != nil && !errors.Is(err, io.EOF)) || len(units) == 0 {
				t.Errorf("%s: %d units, %v", name, len(units), err)
				return
			}
			var vid []*stream.Unit
			for _, u := range units {
				if u.Track.IsVideo() {
					vid = append(vid, u)
				}
			}
			f := recordTS(t, vid, []*stream.Track{videoTrack(s)})
			mu.Lock()
			recs[name] = recording{file: f, first: vid[0].DTS.Seconds(), last: vid[len(vid)-1].DTS.Seconds()}
			mu.Unlock()
		}()
	}
	var roi ROIStatus
	testutil.WaitFor(t, 30*time.Second, "30 samples searched", func() bool {
		st := e.m.List()
		if len(st) == 1 && st[0].ROI != nil {
			roi = *st[0].ROI
		}
		return roi.Samples >= 30
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	if roi.Error != "" || roi.SamplesWithFaces != roi.Samples {
		t.Fatalf("roi status %+v", roi)
	}
	from, to := max(recs["plain"].first, recs["roi"].first, recs["src"].first)+0.5, min(recs["plain"].last, recs["roi"].last, recs["src"].last)-0.5
	// Samples 1-24 (6 s of source at 4 a second) favour A, B the later
	// ones. The rungs are read from their start (or from a source
	// keyframe): A is compared over the first 2 s read, B over the last
	// 3 s.
	tsA, tsB := [2]float64{from, from + 2}, [2]float64{to - 3, to}
	if tsA[1] > tsB[0] {
		t.Fatalf("rungs read over %.1f-%.1f s only", from, to)
	}
	for _, c := range []struct {
		name string
		r    image.Rectangle
		span [2]float64
	}{{"A early", a, tsA}, {"B late", b, tsB}} {
		pp := regionPSNR(t, recs["plain"], recs["src"], c.r, c.span[0], c.span[1])
		pr := regionPSNR(t, recs["roi"], recs["src"], c.r, c.span[0], c.span[1])
		t.Logf("%s (%.1f-%.1f s): plain %.2f dB, roi %.2f dB (%+.2f)", c.name, c.span[0], c.span[1], pp, pr, pr-pp)
		if pr-pp < 1.5 {
			t.Errorf("%s: roi rung %.2f dB vs plain %.2f dB inside the box: want at least 1.5 dB better", c.name, pr, pp)
		}
	}
	sp, sr := size(t, recs["plain"].file), size(t, recs["roi"].file)
	t.Logf("sizes: plain %d, roi %d (%+.1f%%)", sp, sr, 100*float64(sr-sp)/float64(sp))
	if d := float64(sr-sp) / float64(sp); d < -0.1 || d > 0.1 {
		t.Errorf("roi rung %d bytes vs plain %d: more than 10%% apart", sr, sp)
	}
}

func size(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestLadderROIFailures checks what goes wrong clearly without taking
// anything else down: a source without video gets a transcode.failed
// event saying so while its publisher goes on; a face detector that
// cannot start leaves the ROI rung encoded without regions, with an event
// and the reason in the ladder's status.
func TestLadderROIFailures(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	audio, video := filepath.Join(dir, "a.ts"), filepath.Join(dir, "v.mp4")
	ffmpeg(t, "-f", "lavfi", "-i", "sine=d=6", "-c:a", "aac", audio)
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", video)
	ladder := Ladder{Name: "faces", Rungs: []Rung{{Name: "roi", Width: 320, VideoBitrate: 200000, AudioCodec: "none",
		ROI: &RungROI{SampleInterval: 200 * time.Millisecond}}}}
	e := newEnv(t, Config{
		Ladder: func(string) (Ladder, bool) { return ladder, true },
		Faces:  func() (FaceTracker, error) { return nil, errors.New("cascade unreadable") },
	})
	sub := e.bus.Subscribe(64)
	defer sub.Close()

	pub := publishFile(t, e.hub, "live/radio", audio)
	ev := waitEvent(t, sub, EventFailed, 10*time.Second)
	if ev.Path != "live/radio" || !strings.Contains(fmt.Sprint(ev.Data["error"]), "no H.264/H.265 video track") {
		t.Errorf("event %+v", ev)
	}
	if isDone(pub.s.Done()) {
		t.Error("the audio-only source ended with its ladder")
	}

	publishFile(t, e.hub, "live/cam", video)
	ev = waitEvent(t, sub, EventFailed, 10*time.Second)
	if ev.Path != "live/cam" || !strings.Contains(fmt.Sprint(ev.Data["error"]), "roi off: cascade unreadable") {
		t.Errorf("event %+v", ev)
	}
	rung := testutil.WaitStream(t, e.hub, "live/cam/roi", nil, 20*time.Second)
	units, _ := collect(rung, 2*time.Second)
	if len(units) < 10 || videoTrack(rung).Width != 320 {
		t.Errorf("rung gave %d units, video %v", len(units), videoTrack(rung))
	}
	var st *ROIStatus
	for _, s := range e.m.List() {
		if s.Path == "live/cam" {
			st = s.ROI
		}
	}
	if st == nil || !strings.Contains(st.Error, "cascade unreadable") || st.Samples != 0 {
		t.Errorf("roi status %+v", st)
	}
}
