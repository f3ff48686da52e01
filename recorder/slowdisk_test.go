package recorder

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
)

// slowWriter lets bytesPerSec through, like a disk that cannot keep up.
type slowWriter struct {
	w           io.Writer
	bytesPerSec float64
}

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(float64(len(p)) / s.bytesPerSec * float64(time.Second)))
	return s.w.Write(p)
}

func throttle(rate float64) func(string, io.Writer) io.Writer {
	return func(_ string, w io.Writer) io.Writer { return slowWriter{w: w, bytesPerSec: rate} }
}

func TestSlowDiskKeepsEveryFrame(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 0) // ~46 KB/s of media
	dir := t.TempDir()
	bus := events.NewBus()
	hub := newHub(t, bus)
	rule := Rule{Enabled: true, SegmentDuration: 4 * time.Second, PartDuration: time.Second}
	m := newManager(t, Config{Dir: dir, Rule: ruleFunc(rule), WrapWriter: throttle(80 << 10)}, bus)
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)

	// A player reading the same stream at its own pace.
	player := s.NewReader(context.Background(), stream.ReaderOptions{Protocol: "player"})
	var played atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer player.Close()
		for {
			if _, err := player.Read(); err != nil {
				return
			}
			played.Add(1)
		}
	}()

	var maxQueued atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	written := 0
	run(ctx, 6, func(int, *stream.Unit) { // about 280 KB/s in, 80 KB/s out
		written++
		if q := m.Stats("live/cam1").QueuedBytes; q > maxQueued.Load() {
			maxQueued.Store(q)
		}
	})
	stillWriting := m.Stats("live/cam1").Recording
	wg.Wait()
	waitIdle(t, m, "live/cam1")

	if maxQueued.Load() < 50<<10 || !stillWriting {
		t.Fatalf("the disk never fell behind (max queue %d B, still writing at stream end: %v): test is not testing", maxQueued.Load(), stillWriting)
	}
	if player.Overruns() != 0 || played.Load() < int64(written-10) {
		t.Errorf("player got %d of %d units with %d overruns: the slow disk affected it", played.Load(), written, player.Overruns())
	}
	st := m.Stats("live/cam1")
	if st.LostUnits != 0 || st.Errors != 0 {
		t.Errorf("stats %+v: want nothing lost", st)
	}
	video := 0
	for _, f := range segmentFiles(t, dir, "live/cam1") {
		video += ffprobe(t, f).packets("video")
	}
	if video != 180 {
		t.Errorf("recorded %d video frames through the slow disk, want 180", video)
	}
	t.Logf("max queue %d KiB; player read %d units", maxQueued.Load()>>10, played.Load())
}

func TestQueueOverflowIsReportedAndRecovers(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 2) // 18 s, 540 frames
	dir := t.TempDir()
	bus := events.NewBus()
	sub := bus.Subscribe(1024)
	defer sub.Close()
	hub := newHub(t, bus)
	rule := Rule{Enabled: true, PartDuration: time.Second, QueueBytes: 40 << 10}
	m := newManager(t, Config{Dir: dir, Rule: ruleFunc(rule), WrapWriter: throttle(40 << 10)}, bus)
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run(ctx, 3, nil)
	waitIdle(t, m, "live/cam1")

	// The overflow is announced, and the recording went on after it.
	var sawError, resumed bool
	for len(sub.C) > 0 {
		e := <-sub.C
		switch {
		case e.Type == EventError:
			sawError = true
		case e.Type == EventSegmentStarted && sawError:
			resumed = true
		}
	}
	if !sawError || !resumed {
		t.Fatalf("record.error seen %v, a segment started after it %v", sawError, resumed)
	}
	st := m.Stats("live/cam1")
	if st.LostUnits == 0 || st.LostBytes == 0 || st.Errors == 0 {
		t.Errorf("stats %+v: want the loss counted", st)
	}
	files := segmentFiles(t, dir, "live/cam1")
	if len(files) < 2 {
		t.Fatalf("got %d segments, want the one cut by the overflow and the one after", len(files))
	}
	video := 0
	for _, f := range files {
		if _, key := videoPackets(t, f); len(key) == 0 || !key[0] {
			t.Errorf("%s does not start with a keyframe", f)
		}
		n := decode(t, "-i", f)
		video += n
	}
	if video >= 540 || video == 0 {
		t.Errorf("recorded %d frames: want some, not all", video)
	}
	t.Logf("lost %d units (%d B); kept %d of 540 frames in %d segments", st.LostUnits, st.LostBytes, video, len(files))
}
