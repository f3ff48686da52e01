package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/ai/livehl"
	"mps/internal/config"
)

// TestLiveHighlights publishes, over RTMP in real time, calm footage with
// a loud, high-motion burst (with scene cuts) at 12-16 s, to a path whose
// rule records it and turns live highlights on. It waits for the
// highlight.created event, checks the clip covers the burst, lists it,
// and downloads it: ffprobe reads it with the event's duration, and it
// is the loud part.
func TestLiveHighlights(t *testing.T) {
	needFFmpeg(t)
	const burstStart, burstEnd, total = 12.0, 16.0, 26.0
	src := filepath.Join(t.TempDir(), "burst.mp4")
	makeBurstClip(t, src, burstStart, burstEnd, total)

	cfg := testConfig(t)
	on := true
	seg, part := config.Duration(2*time.Second), config.Duration(500*time.Millisecond)
	cfg.Paths = []config.PathRule{{Name: "live/hl",
		Record:     &config.RecordOverride{Enabled: &on, SegmentDuration: &seg, PartDuration: &part},
		Highlights: &config.LiveHighlights{Enabled: true, Window: config.Duration(time.Minute), Top: 2, MinSeconds: 3, MaxSeconds: 6},
	}}
	s := startServer(t, cfg)
	sub := s.Bus().Subscribe(64)
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pub := publishRTMP(t, ctx, src, "rtmp://"+s.RTMPAddr()+"/live/hl", false)
	defer func() { cancel(); _ = pub.Wait() }()

	var ev map[string]any
	for ev == nil {
		select {
		case <-ctx.Done():
			t.Fatal("no highlight.created event covering the burst")
		case e := <-sub.C:
			if e.Type != livehl.HighlightCreated || e.Path != "live/hl" {
				continue
			}
			t.Logf("event %v", e.Data)
			if covers(t, s, e.Data, burstStart, burstEnd) {
				ev = e.Data
			}
		}
	}
	reasons := fmt.Sprint(ev["reasons"])
	if !strings.Contains(reasons, "loud") || !strings.Contains(reasons, "motion") {
		t.Errorf("reasons %s, want loud and motion", reasons)
	}
	var list struct{ Items []livehl.Highlight }
	if code := getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/highlights/live/hl", &list); code != 200 || len(list.Items) == 0 {
		t.Fatalf("list: %d %+v", code, list.Items)
	}
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	body := fetch(t, "http://"+s.HTTPAddr()+ev["url"].(string))
	if err := os.WriteFile(clip, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", clip).Output()
	got, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if want := ev["duration"].(float64); err != nil || perr != nil || got < want-0.1 || got > want+0.1 {
		t.Errorf("clip duration %q (%v), want %.2f s", out, err, want)
	}
	if vol := meanVolume(t, clip); vol < -20 {
		t.Errorf("clip mean volume %.1f dB: not the loud burst", vol)
	}
}

// covers says whether a highlight event's range, counted from the
// recording's first segment (the stream's start), holds most of the burst.
func covers(t *testing.T, s *Server, data map[string]any, from, to float64) bool {
	segs := s.rec.Segments("live/hl", time.Time{}, time.Time{})
	if len(segs) == 0 {
		t.Fatal("event before any recording")
	}
	start, err1 := time.Parse(time.RFC3339Nano, data["start"].(string))
	end, err2 := time.Parse(time.RFC3339Nano, data["end"].(string))
	if err1 != nil || err2 != nil {
		t.Fatalf("event times %v: %v %v", data, err1, err2)
	}
	s0, e0 := start.Sub(segs[0].Start).Seconds(), end.Sub(segs[0].Start).Seconds()
	t.Logf("highlight %.2f-%.2f s of the stream", s0, e0)
	return s0 <= from+1 && e0 >= to-1
}

// makeBurstClip writes total seconds of 320x240 25 fps H.264/AAC (1 s
// GOP): a calm test pattern with quiet noise, and from from to to a
// noisy, colour-cycling pattern with a loud tone.
func makeBurstClip(t *testing.T, out string, from, to, total float64) {
	t.Helper()
	size := "s=320x240:r=25"
	calm, burst := "testsrc="+size, "testsrc2="+size+",noise=alls=70:allf=t+u,hue=H=t*3"
	audio := fmt.Sprintf("aevalsrc='0.02*(2*random(0)-1)+between(t,%g,%g)*0.8*sin(2*PI*330*t)':s=48000:d=%g", from, to, total)
	args := []string{"-f", "lavfi", "-t", ftoa(from), "-i", calm, "-f", "lavfi", "-t", ftoa(to - from), "-i", burst,
		"-f", "lavfi", "-t", ftoa(total - to), "-i", calm, "-f", "lavfi", "-i", audio,
		"-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]", "-map", "[v]", "-map", "3:a",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-c:a", "aac", "-t", ftoa(total), "-y", out}
	cmd, stderr := ffmpeg(context.Background(), args...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("make clip: %v: %s", err, stderr)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// meanVolume is ffmpeg volumedetect's mean volume of path, in dB.
func meanVolume(t *testing.T, path string) float64 {
	out, _ := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-i", path, "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	s := string(out)
	i := strings.Index(s, "mean_volume:")
	if i < 0 {
		t.Fatalf("volumedetect: %s", s)
	}
	f := strings.Fields(s[i+len("mean_volume:"):])
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
