package transcode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
	"mps/internal/tsconv"
)

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// env is a real path manager with a transcode manager hooked on publish.
type env struct {
	hub *pathmgr.Manager
	bus *events.Bus
	m   *Manager
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	log := testLogger(t)
	bus := events.NewBus()
	hub := pathmgr.New(log, bus, nil)
	cfg.Events = bus
	if cfg.RestartBackoff == 0 {
		cfg.RestartBackoff = 200 * time.Millisecond
	}
	m := New(cfg, hub, log)
	hub.OnPublish(m.StreamStarted)
	t.Cleanup(func() {
		m.Close()
		hub.Close()
	})
	return &env{hub: hub, bus: bus, m: m}
}

func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

var (
	src720Once sync.Once
	src720Path string
	src720Err  error
	src720Dir  string
)

// source720 returns a 720p30 H.264+AAC MP4 with a 1 s GOP, made once per
// test binary.
func source720(t *testing.T) string {
	t.Helper()
	src720Once.Do(func() {
		src720Dir, src720Err = os.MkdirTemp("", "transcode-src")
		if src720Err != nil {
			return
		}
		src720Path = filepath.Join(src720Dir, "src720.mp4")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0",
			"-b:v", "3M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-ac", "2", src720Path).CombinedOutput()
		if err != nil {
			src720Err = errors.New(err.Error() + ": " + string(out))
		}
	})
	if src720Err != nil {
		t.Fatal(src720Err)
	}
	return src720Path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if src720Dir != "" {
		os.RemoveAll(src720Dir)
	}
	os.Exit(code)
}

// publisher is a test source: ffmpeg -re reading a file, demuxed and
// published on the hub like a real ingest adapter would.
type publisher struct {
	s    *stream.Stream
	pid  int
	done chan struct{} // closed when the source has ended
	err  error
	stop context.CancelFunc
}

func publishFile(t *testing.T, hub stream.Hub, path, file string, extra ...string) *publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	args := append([]string{"-nostdin", "-loglevel", "error", "-re"}, extra...)
	args = append(args, "-i", file, "-c", "copy", "-f", "mpegts", "pipe:1")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d, err := tsconv.NewDemuxer(out)
	if err != nil {
		cancel()
		_ = cmd.Wait()
		t.Fatal(err)
	}
	s, err := hub.Publish(ctx, stream.Request{Path: path, Protocol: "test"}, d.Tracks(), stream.Options{})
	if err != nil {
		cancel()
		_ = cmd.Wait()
		t.Fatal(err)
	}
	p := &publisher{s: s, pid: cmd.Process.Pid, done: make(chan struct{}), stop: cancel}
	go func() {
		var err error
		for {
			var u *stream.Unit
			if u, err = d.ReadUnit(); err != nil {
				break
			}
			u.Time = time.Now()
			if err = s.Write(u); err != nil {
				break
			}
		}
		s.Close()
		cancel()
		_ = cmd.Wait()
		p.err = err
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// ffmpegChildren lists the PIDs of this process's ffmpeg children.
func ffmpegChildren(t *testing.T) []int {
	t.Helper()
	me := strconv.Itoa(os.Getpid())
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "(ffmpeg") {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == me {
			pids = append(pids, pid)
		}
	}
	return pids
}

// recordTS writes the units of a reader to an MPEG-TS file for ffprobe.
func recordTS(t *testing.T, units []*stream.Unit, tracks []*stream.Track) string {
	t.Helper()
	var b bytes.Buffer
	mux, err := tsconv.NewMuxer(&b, tracks)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := mux.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "rec.ts")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// collect reads s for d (or until EOF) and returns the units.
func collect(s *stream.Stream, d time.Duration) ([]*stream.Unit, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	rd := s.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer rd.Close()
	var units []*stream.Unit
	for {
		u, err := rd.Read()
		if err != nil {
			if errors.Is(err, stream.ErrReaderClosed) {
				err = nil
			}
			return units, err
		}
		units = append(units, u)
	}
}

func videoTrack(s *stream.Stream) *stream.Track {
	for _, t := range s.Tracks() {
		if t.IsVideo() {
			return t
		}
	}
	return nil
}

// waitEvent waits for an event of type typ on sub.
func waitEvent(t *testing.T, sub *events.Subscription, typ string, within time.Duration) events.Event {
	t.Helper()
	tm := time.After(within)
	for {
		select {
		case e := <-sub.C:
			if e.Type == typ {
				return e
			}
		case <-tm:
			t.Fatalf("no %s event within %v", typ, within)
		}
	}
}
