package livesubs

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
	"mps/internal/tsconv"
)

// publish writes the units of the MPEG-TS file into a new live stream at
// real-time pace (by PTS) until the file or ctx ends, then closes it.
func publish(t *testing.T, ctx context.Context, file string) *stream.Stream {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := tsconv.NewDemuxer(f)
	if err != nil {
		t.Fatal(err)
	}
	s := stream.New("live/test", d.Tracks(), stream.Options{})
	go func() {
		defer f.Close()
		defer s.Close()
		start := time.Now()
		var first time.Duration = -1
		for {
			u, err := d.ReadUnit()
			if err != nil {
				return
			}
			if first < 0 {
				first = u.PTS
			}
			select { // pace: a unit is written when its time comes
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(u.PTS - first))):
			}
			if s.Write(u) != nil {
				return
			}
		}
	}()
	return s
}

// childPIDs returns the pids of this process's children named comm.
func childPIDs(comm string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		st := string(b)
		i, j := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(st[j+1:])
		if len(f) > 1 && st[i+1:j] == comm && f[1] == strconv.Itoa(os.Getpid()) {
			out = append(out, pid)
		}
	}
	return out
}

// TestRecogniserRestarts kills the live recogniser's pocketsphinx after
// the first cue and expects cues of later speech from its replacement.
func TestRecogniserRestarts(t *testing.T) {
	for _, c := range []string{"ffmpeg", "pocketsphinx_continuous"} {
		testutil.NeedCommand(t, c)
	}
	pcm, placed := speechtest.Layout(t, speechtest.Set[:4], 0.5, 1.5)
	file := speechtest.Video(t, t.TempDir(), "talk.ts", pcm)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := New(Config{Rule: func(string) (string, bool) { return "en", true }, RestartBackoff: 100 * time.Millisecond}, nil)
	defer m.Close()
	h := m.hub("live/test")
	_, ch := h.subscribe(0)
	s := publish(t, ctx, file)
	m.StreamStarted(s)
	next := func() Cue {
		select {
		case c := <-ch:
			return c
		case <-ctx.Done():
			t.Fatal("no cue")
		}
		return Cue{}
	}
	first := next()
	pids := childPIDs("pocketsphinx_co")
	if len(pids) != 1 {
		t.Fatalf("pocketsphinx children: %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	// The replacement recognises the sentences spoken after the kill
	// (a cold restart may get a word wrong: two right words will do).
	later := map[string]bool{}
	for _, p := range placed[2:] {
		for _, w := range speechtest.Words(p.Text) {
			later[w] = true
		}
	}
	for {
		c := next()
		if !c.Sent.After(killedAt) || c.Start <= first.End {
			continue
		}
		n := 0
		for _, w := range speechtest.Words(c.Text) {
			if later[w] && len(w) > 3 {
				n++
			}
		}
		t.Logf("cue after restart: %q", c.Text)
		if n >= 2 {
			break
		}
	}
	if got := childPIDs("pocketsphinx_co"); len(got) != 1 || got[0] == pids[0] {
		t.Errorf("pocketsphinx children after restart: %v (killed %d)", got, pids[0])
	}
}
