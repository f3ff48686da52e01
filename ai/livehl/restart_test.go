package livehl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/tsconv"
)

// logRecords keeps the messages logged through it.
type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, b.String())
	return nil
}

func (l *logRecords) count(sub string) (n int, last string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			n++
			last = m
		}
	}
	return n, last
}

// TestAnalysisRestarts runs the analysis with an "ffmpeg" that exits at
// once (/bin/false) on a live stream: the manager restarts it with a
// growing delay, logging the failure, and stops when the stream ends and
// on Close.
func TestAnalysisRestarts(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	src := filepath.Join(t.TempDir(), "in.ts")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=160x120:r=25:d=2",
		"-c:v", "libx264", "-g", "25", src).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	units, tracks := demux(t, src)
	log := &logRecords{}
	m := New(Config{Dir: t.TempDir(), FFmpeg: "/bin/false", Bus: events.NewBus(), Log: slog.New(log),
		Rule: func(string) Rule {
			return Rule{Enabled: true, Window: time.Minute, Top: 1, MinSeconds: 3, MaxSeconds: 6}
		},
		Recording: noRecording{}})
	defer m.Close()
	s := stream.New("live/r", tracks, stream.Options{})
	m.StreamStarted(s)
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		if n, _ := log.count("restarting"); n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 restarts in 20 s: %v", log.msgs)
		}
		<-tick.C
		if err := s.Write(units[i%len(units)]); err != nil {
			t.Fatal(err)
		}
	}
	_, last := log.count("restarting")
	if !strings.Contains(last, "exit status 1") || !strings.Contains(last, "in=4s") {
		t.Errorf("third restart %q: want the exit status and a 4 s delay (1, 2, 4 s)", last)
	}
	s.Close()
	testutil.WaitFor(t, 10*time.Second, "the analysis to stop with the stream", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.runs) == 0
	})
}

// noRecording has nothing recorded.
type noRecording struct{}

func (noRecording) RecordedUntil(string) time.Time { return time.Time{} }
func (noRecording) Export(context.Context, string, time.Time, time.Duration, string) error {
	return errors.New("nothing recorded")
}

// demux reads every unit of an MPEG-TS file.
func demux(t *testing.T, path string) ([]*stream.Unit, []*stream.Track) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := tsconv.NewDemuxer(f)
	if err != nil {
		t.Fatal(err)
	}
	var units []*stream.Unit
	for {
		u, err := d.ReadUnit()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
	return units, d.Tracks()
}
