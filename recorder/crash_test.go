package recorder

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// TestHelperRecorder is not a test: TestCrashLosesAtMostOnePart runs the
// test binary with MPS_RECORDER_HELPER_DIR set to make it a recording
// process it can kill.
func TestHelperRecorder(t *testing.T) {
	dir := os.Getenv("MPS_RECORDER_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1)
	bus := events.NewBus()
	hub := newHub(t, bus)
	rule := Rule{Enabled: true, SegmentDuration: 4 * time.Second, PartDuration: time.Second}
	m := newManager(t, Config{Dir: dir, Rule: ruleFunc(rule)}, bus)
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)
	first := src.units[0].DTS
	out := bufio.NewWriter(os.Stdout)
	run(context.Background(), 2, func(i int, u *stream.Unit) {
		if i%5 == 0 {
			fmt.Fprintf(out, "fed %.3f\n", (u.DTS - first).Seconds())
			out.Flush()
		}
	})
	time.Sleep(time.Hour) // the parent kills us before the stream ends
}

func TestCrashLosesAtMostOnePart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperRecorder$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MPS_RECORDER_HELPER_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAt = 7.0 // seconds of media: 3 s into the second segment
	fed := 0.0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "fed "); ok {
			fed, _ = strconv.ParseFloat(v, 64)
			if fed >= killAt {
				break
			}
		}
	}
	if fed < killAt {
		t.Fatalf("helper stopped feeding at %.2f s", fed)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	_ = cmd.Wait()

	files := segmentFiles(t, dir, "live/cam1")
	if len(files) != 2 {
		t.Fatalf("got %d segments %v, want a finished one and a partial one", len(files), files)
	}
	full, partial := files[0], files[1]
	if n := decode(t, "-i", full); n != 120 {
		t.Errorf("finished segment decodes to %d frames, want 120", n)
	}
	n := decode(t, "-i", partial)
	got := time.Duration(float64(n) / 30 * float64(time.Second))
	want := time.Duration((fed - 4) * float64(time.Second))
	t.Logf("killed at %.2f s of media; the partial segment holds %s of video (%d frames)", fed, got, n)
	if got < want-1300*time.Millisecond {
		t.Errorf("partial segment holds %s of the %s recorded before the kill: lost more than one part", got, want)
	}
	if _, key := videoPackets(t, partial); len(key) == 0 || !key[0] {
		t.Error("partial segment does not start with a keyframe")
	}

	// A restarted server indexes the crashed file with what it really holds.
	m := newManager(t, Config{Dir: dir}, nil)
	segs := m.Segments("live/cam1", time.Time{}, time.Time{})
	if len(segs) != 2 {
		t.Fatalf("index after restart lists %d segments, want 2", len(segs))
	}
	if d := segs[1].Duration - got; d < -100*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("index says the partial segment lasts %s, ffmpeg decodes %s", segs[1].Duration, got)
	}
}
