package transcode

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
)

func abrLadder() Ladder {
	return Ladder{Name: "abr", Rungs: []Rung{
		{Name: "720p", Height: 720, VideoBitrate: 1500000, Preset: "ultrafast", AudioCodec: "aac", AudioBitrate: 64000},
		{Name: "480p", Height: 480, VideoBitrate: 800000, Preset: "ultrafast"},
		{Name: "360p", Height: 360, VideoBitrate: 400000, Preset: "ultrafast"},
	}}
}

// TestLadder runs a 720p30 source through a 720/480/360 ladder: the rungs
// appear with their sizes and bitrates and identical keyframe times, one
// ffmpeg does all three, and after that ffmpeg is killed it comes back
// while the source's own readers never notice.
func TestLadder(t *testing.T) {
	src := source720(t)
	e := newEnv(t, Config{Ladder: func(p string) (Ladder, bool) { return abrLadder(), strings.HasPrefix(p, "live/") }})
	sub := e.bus.Subscribe(64)
	defer sub.Close()
	pub := publishFile(t, e.hub, "live/cam1", src)

	// A reader of the source that must never stop.
	var srcUnits atomic.Int64
	srcErr := make(chan error, 1)
	srcCtx, srcStop := context.WithCancel(context.Background())
	defer srcStop()
	go func() {
		rd := pub.s.NewReader(srcCtx, stream.ReaderOptions{Protocol: "test"})
		defer rd.Close()
		for {
			if _, err := rd.Read(); err != nil {
				srcErr <- err
				return
			}
			srcUnits.Add(1)
		}
	}()

	want := map[string][2]int{"720p": {1280, 720}, "480p": {854, 480}, "360p": {640, 360}}
	rungs := map[string]*stream.Stream{}
	for name, size := range want {
		s := testutil.WaitStream(t, e.hub, "live/cam1/"+name, nil, 20*time.Second)
		if v := videoTrack(s); v == nil || v.Width != size[0] || v.Height != size[1] {
			t.Errorf("rung %s video %v, want %dx%d", name, v, size[0], size[1])
		}
		rungs[name] = s
	}
	waitEvent(t, sub, EventStarted, time.Second)

	// Read every rung for a while, concurrently.
	type result struct {
		units []*stream.Unit
		err   error
	}
	results := map[string]result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, s := range rungs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := collect(s, 7*time.Second)
			mu.Lock()
			results[name] = result{u, err}
			mu.Unlock()
		}()
	}
	time.Sleep(2 * time.Second)
	var pids []int
	for _, p := range ffmpegChildren(t) {
		if p != pub.pid {
			pids = append(pids, p)
		}
	}
	if len(pids) != 1 {
		t.Errorf("ffmpeg children besides the source: %v, want exactly one for the ladder", pids)
	}
	wg.Wait()

	var keys [][]time.Duration
	for name, r := range results {
		if r.err != nil {
			t.Fatalf("rung %s: %v", name, r.err)
		}
		var v *stream.Track
		var bytes int
		var first, last time.Duration
		var k []time.Duration
		n := 0
		for _, u := range r.units {
			if !u.Track.IsVideo() {
				continue
			}
			v = u.Track
			if n == 0 {
				first = u.DTS
			}
			last = u.DTS
			n++
			bytes += u.Size()
			if u.Key {
				k = append(k, u.PTS)
			}
		}
		if n < 60 {
			t.Fatalf("rung %s: %d video units in 7 s", name, n)
		}
		rate := float64(bytes*8) / (last - first).Seconds()
		target := map[string]float64{"720p": 1500000, "480p": 800000, "360p": 400000}[name]
		t.Logf("rung %s: %d frames, %.0f kb/s video (target %.0f), keys at %v", name, n, rate/1000, target/1000, k)
		if rate < 0.8*target || rate > 1.2*target {
			t.Errorf("rung %s video bitrate %.0f b/s, want %.0f ±20%%", name, rate, target)
		}
		// The recorded rung is a valid stream of the right size.
		rec := recordTS(t, r.units, []*stream.Track{v})
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", rec).Output()
		if err != nil || strings.Fields(string(out))[0] != strconv.Itoa(want[name][0])+","+strconv.Itoa(want[name][1]) {
			t.Errorf("rung %s recording probes as %q (%v)", name, out, err)
		}
		for i := 1; i < len(k); i++ {
			if d := k[i] - k[i-1]; d < 1900*time.Millisecond || d > 2100*time.Millisecond {
				t.Errorf("rung %s: keyframes %v apart, want the 2 s GOP", name, d)
			}
		}
		keys = append(keys, k)
	}
	// Keyframes fall at the same instants in every rung, over the span
	// all readers saw.
	lo, hi := time.Duration(0), time.Duration(1<<62)
	for _, k := range keys {
		if len(k) < 3 {
			t.Fatalf("keyframes %v, want at least 3", k)
		}
		lo, hi = max(lo, k[0]), min(hi, k[len(k)-1])
	}
	var common [][]time.Duration
	for _, k := range keys {
		common = append(common, slices.DeleteFunc(slices.Clone(k), func(d time.Duration) bool { return d < lo || d > hi }))
	}
	for i := 1; i < len(common); i++ {
		if !slices.Equal(common[i], common[0]) || len(common[0]) < 2 {
			t.Errorf("keyframe times differ between rungs: %v vs %v", common[0], common[i])
		}
	}
	st := e.m.List()
	if len(st) != 1 || st[0].Path != "live/cam1" || st[0].State != "running" || st[0].Speed <= 0 || st[0].PID == 0 {
		t.Fatalf("List = %+v, want live/cam1 running with a speed and a PID", st)
	}

	// Kill the ladder's ffmpeg: it comes back, the source never stops.
	rung := rungs["480p"]
	rungRd := rung.NewReader(context.Background(), stream.ReaderOptions{Protocol: "test"})
	defer rungRd.Close()
	before := srcUnits.Load()
	if err := syscall.Kill(st[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var rungErr error
	for rungErr == nil {
		_, rungErr = rungRd.Read()
	}
	if !errors.Is(rungErr, io.EOF) {
		t.Errorf("rung reader after the kill: %v, want io.EOF", rungErr)
	}
	ev := waitEvent(t, sub, EventFailed, 5*time.Second)
	if ev.Path != "live/cam1" {
		t.Errorf("failed event %+v", ev)
	}
	again := testutil.WaitStream(t, e.hub, "live/cam1/480p", rung, 15*time.Second)
	u, err := collect(again, 1500*time.Millisecond)
	if err != nil || len(u) == 0 || !u[0].Key {
		t.Errorf("republished rung: %d units (%v), want units starting at a keyframe", len(u), err)
	}
	st = e.m.List()
	if len(st) != 1 || st[0].Restarts != 1 || st[0].State != "running" || st[0].PID == 0 || !strings.Contains(st[0].LastError, "killed") {
		t.Errorf("List after the kill = %+v, want 1 restart and running again", st)
	}
	select {
	case err := <-srcErr:
		t.Fatalf("source reader stopped: %v", err)
	default:
	}
	if srcUnits.Load() <= before+30 {
		t.Errorf("source reader got %d units across the restart, want them to keep flowing", srcUnits.Load()-before)
	}

	// The source ends: the ladder stops and its rungs end.
	pub.stop()
	<-pub.done
	waitEvent(t, sub, EventStopped, 10*time.Second)
	if l := e.m.List(); len(l) != 0 {
		t.Errorf("List after the source ended = %+v", l)
	}
	select {
	case <-again.Done():
	case <-time.After(5 * time.Second):
		t.Error("rung still published after the source ended")
	}
}

// TestLadderCapAndNoRecursion checks that a ladder whose pattern also
// matches its own rung paths does not transcode them, and that the cap
// refuses a second source with an event.
func TestLadderCapAndNoRecursion(t *testing.T) {
	ladder := Ladder{Name: "tiny", Rungs: []Rung{{Name: "low", Width: 160, Preset: "ultrafast", VideoBitrate: 100000}, {Name: "orig", Codec: CodecSource}}}
	e := newEnv(t, Config{MaxTranscoders: 1, Ladder: func(string) (Ladder, bool) { return ladder, true }})
	sub := e.bus.Subscribe(64)
	defer sub.Close()
	publishFile(t, e.hub, "a", "../testdata/video_only.mp4", "-stream_loop", "3")
	low := testutil.WaitStream(t, e.hub, "a/low", nil, 15*time.Second)
	orig := testutil.WaitStream(t, e.hub, "a/orig", nil, 5*time.Second)
	if v := videoTrack(low); v == nil || v.Width != 160 || v.Height != 120 {
		t.Errorf("a/low video %v, want 160x120", v)
	}
	// the source rung shares the source's payloads
	if v := videoTrack(orig); v == nil || v.Width != 320 {
		t.Errorf("a/orig video %v, want the source's 320x240", v)
	}
	publishFile(t, e.hub, "b", "../testdata/video_only.mp4")
	ev := waitEvent(t, sub, EventRefused, 5*time.Second)
	if ev.Path != "b" {
		t.Errorf("refused event for %q, want b", ev.Path)
	}
	time.Sleep(time.Second)
	if l := e.m.List(); len(l) != 1 || l[0].Path != "a" {
		t.Errorf("List = %+v, want only a (no ladder on a/low, a/orig or b)", l)
	}
	if st := e.m.Stats(); st.Refused != 1 || st.Ladders != 1 {
		t.Errorf("Stats = %+v, want 1 refused, 1 running", st)
	}
	if _, err := e.hub.Read(context.Background(), stream.Request{Path: "a/low/low"}); err == nil {
		t.Error("a rung was itself transcoded")
	}
}
