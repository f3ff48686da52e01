package recorder

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
)

// recordSource records src on path with rule and returns the segment files
// once the stream has ended and the recording finished.
func recordSource(t *testing.T, src *source, rule Rule, speed float64) (dir string, m *Manager, files []string) {
	t.Helper()
	dir = t.TempDir()
	bus := events.NewBus()
	hub := newHub(t, bus)
	m = newManager(t, Config{Dir: dir, Rule: ruleFunc(rule)}, bus)
	sub := bus.Subscribe(1024)
	defer sub.Close()
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run(ctx, speed, nil)
	waitIdle(t, m, "live/cam1")
	return dir, m, segmentFiles(t, dir, "live/cam1")
}

// waitIdle waits until path has no recording session.
func waitIdle(t testing.TB, m *Manager, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for m.Stats(path).Recording {
		if time.Now().After(deadline) {
			t.Fatalf("recording of %s did not finish", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// concatInput writes an ffmpeg concat list of files and returns the input
// arguments that read it.
func concatInput(t *testing.T, files []string) []string {
	t.Helper()
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "file '%s'\n", f)
	}
	list := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"-f", "concat", "-safe", "0", "-i", list}
}

func TestRecordSegments(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 0)
	if src.video != 180 {
		t.Fatalf("source has %d video frames, want 180", src.video)
	}
	for _, format := range []string{FormatFMP4, FormatMPEGTS} {
		t.Run(format, func(t *testing.T) {
			rule := Rule{Enabled: true, Format: format, SegmentDuration: 4 * time.Second, PartDuration: time.Second}
			_, m, files := recordSource(t, src, rule, 8)
			if len(files) != 2 {
				t.Fatalf("got %d segments %v, want 2 (4 s + 2 s)", len(files), files)
			}
			totalVideo := 0
			for i, f := range files {
				p := ffprobe(t, f)
				if p.packets("video") == 0 || p.packets("audio") == 0 {
					t.Fatalf("%s: want both tracks, got %+v", f, p.Streams)
				}
				for _, s := range p.Streams {
					if s.CodecType == "video" && (s.CodecName != "h264" || s.Width != 320) {
						t.Errorf("%s: video %s %dpx, want h264 320px", f, s.CodecName, s.Width)
					}
				}
				pts, key := videoPackets(t, f)
				if len(key) == 0 || !key[0] {
					t.Fatalf("%s: does not start with a keyframe", f)
				}
				want := []time.Duration{4 * time.Second, 2 * time.Second}[i]
				d := time.Duration((pts[len(pts)-1] - pts[0] + 1.0/30) * float64(time.Second))
				if math.Abs(float64(d-want)) > float64(time.Second) {
					t.Errorf("%s: duration %s, want %s within one GOP", f, d, want)
				}
				totalVideo += p.packets("video")
				t.Logf("%s: video %s from %.3f s, %d video + %d audio packets", filepath.Base(f), d, pts[0], p.packets("video"), p.packets("audio"))
			}
			if totalVideo != 180 {
				t.Errorf("segments hold %d video frames, want 180", totalVideo)
			}
			// Played back to back, the segments are the whole input.
			if n := decode(t, concatInput(t, files)...); n != 180 {
				t.Errorf("concatenated segments decode to %d frames, want 180", n)
			}
			// The index agrees with the files.
			segs := m.Segments("live/cam1", time.Time{}, time.Time{})
			if len(segs) != 2 {
				t.Fatalf("index lists %d segments, want 2", len(segs))
			}
			if gap := segs[1].Start.Sub(segs[0].End()); gap < -50*time.Millisecond || gap > 50*time.Millisecond {
				t.Errorf("segment 2 starts %s after segment 1 ends, want back to back", gap)
			}
			// A restarted server rebuilds the same index from the files.
			m2 := newManager(t, Config{Dir: filepath.Dir(filepath.Dir(filepath.Dir(files[0])))}, nil)
			re := m2.Segments("live/cam1", time.Time{}, time.Time{})
			if len(re) != len(segs) {
				t.Fatalf("rebuilt index has %d segments, want %d", len(re), len(segs))
			}
			for i := range re {
				if !re[i].Start.Equal(segs[i].Start) || re[i].Size != segs[i].Size || re[i].Format != format ||
					(re[i].Duration-segs[i].Duration).Abs() > 50*time.Millisecond {
					t.Errorf("rebuilt %+v, recorded %+v", re[i], segs[i])
				}
			}
			st := m.Stats("live/cam1")
			if st.LostUnits != 0 || st.SegmentsCompleted != 2 {
				t.Errorf("stats %+v: want no loss and 2 segments", st)
			}
		})
	}
}
