package recorder

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// Tests run as root, where permissions do not stop writes: the recordings
// directory is made unusable by putting a regular file where it should be.
func TestUnwritableDirStopsRecordingNotStream(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1) // 12 s
	root := filepath.Join(t.TempDir(), "recordings")
	if err := os.WriteFile(root, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus()
	sub := bus.Subscribe(1024)
	defer sub.Close()
	hub := newHub(t, bus)
	rule := Rule{Enabled: true, PartDuration: time.Second}
	m := newManager(t, Config{Dir: root, Rule: ruleFunc(rule), RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}, bus)
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)

	player := s.NewReader(context.Background(), stream.ReaderOptions{Protocol: "player"})
	defer player.Close()
	var played atomic.Int64
	go func() {
		for {
			if _, err := player.Read(); err != nil {
				return
			}
			played.Add(1)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); run(ctx, 3, nil) }()

	e := waitEvent(t, sub, EventError, 10*time.Second)
	t.Logf("error event: %v", e.Data)
	if !m.Stats("live/cam1").Failing {
		t.Error("stats do not show the recording failing")
	}
	before := played.Load()
	// Fix the disk: recording resumes by itself.
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, sub, EventSegmentStarted, 10*time.Second)
	<-done
	waitIdle(t, m, "live/cam1")

	if played.Load() <= before || played.Load() < int64(len(src.units)/2) {
		t.Errorf("the player read %d units (%d before the fix): the stream suffered", played.Load(), before)
	}
	files := segmentFiles(t, root, "live/cam1")
	if len(files) != 1 {
		t.Fatalf("got %d segments, want 1 after the fix", len(files))
	}
	n := decode(t, "-i", files[0])
	if n == 0 || n >= 360 {
		t.Errorf("resumed segment has %d frames, want the part after the fix", n)
	}
	st := m.Stats("live/cam1")
	if st.LostUnits == 0 || st.Errors != 1 || st.Failing {
		t.Errorf("stats %+v: want the loss counted, one error, and recovered", st)
	}
	t.Logf("recorded %d frames after the fix; lost %d units while failing", n, st.LostUnits)
}

// fullDisk fails every write while full is set, like ENOSPC.
type fullDisk struct {
	w    interface{ Write([]byte) (int, error) }
	full *atomic.Bool
}

func (d fullDisk) Write(p []byte) (int, error) {
	if d.full.Load() {
		return 0, errDiskFull
	}
	return d.w.Write(p)
}

var errDiskFull = &os.PathError{Op: "write", Path: "segment", Err: os.ErrInvalid}

func TestDiskFullMidSegmentResumes(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1) // 12 s
	dir := t.TempDir()
	bus := events.NewBus()
	sub := bus.Subscribe(1024)
	defer sub.Close()
	hub := newHub(t, bus)
	var full atomic.Bool
	cfg := Config{
		Dir: dir, Rule: ruleFunc(Rule{Enabled: true, PartDuration: time.Second}),
		RetryMin: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		WrapWriter: func(_ string, w io.Writer) io.Writer { return fullDisk{w: w, full: &full} },
	}
	m := newManager(t, cfg, bus)
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, 3, func(_ int, u *stream.Unit) {
			d := u.DTS - src.units[0].DTS
			full.Store(d >= 3*time.Second && d < 6*time.Second)
		})
	}()
	waitEvent(t, sub, EventError, 10*time.Second)
	waitEvent(t, sub, EventSegmentStarted, 10*time.Second)
	<-done
	waitIdle(t, m, "live/cam1")
	files := segmentFiles(t, dir, "live/cam1")
	if len(files) != 2 {
		t.Fatalf("got %d segments, want the one cut by the full disk and the one after", len(files))
	}
	total := 0
	for _, f := range files {
		total += decode(t, "-i", f)
	}
	if total < 150 || total > 300 {
		t.Errorf("kept %d of 360 frames: want about 3 s lost to the full disk", total)
	}
	if st := m.Stats("live/cam1"); st.Errors != 1 || st.LostUnits == 0 {
		t.Errorf("stats %+v: want one error for the episode and the loss counted", st)
	}
	t.Logf("kept %d of 360 frames across the full-disk episode", total)
}
