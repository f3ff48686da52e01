package srt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
	"mps/internal/tsconv"
)

// writeLog records every write an SRT reader's egress makes.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, bytes.Clone(p))
	w.mu.Unlock()
	return len(p), nil
}

func (w *writeLog) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes)
}

// testUnits demuxes a test file into tracks and units.
func testUnits(t *testing.T, name string) ([]*stream.Track, []*stream.Unit) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", filepath.Join(testdataDir, name),
		"-c", "copy", "-f", "mpegts", "-").Output()
	if err != nil {
		t.Skipf("ffmpeg: %v", err)
	}
	d, err := tsconv.NewDemuxer(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var units []*stream.Unit
	for {
		u, err := d.ReadUnit()
		if errors.Is(err, io.EOF) {
			return d.Tracks(), units
		}
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
}

// Two SRT readers of one stream, the second joining in the middle, share
// one muxing of the stream, yet each gets a stream of its own: it opens
// with the PAT, each unit comes in one write of whole TS packets, and the
// continuity counters of every PID run without a gap from its first
// packet on.
func TestReadersShareMuxingEachUnitInOneWrite(t *testing.T) {
	tracks, units := testUnits(t, "h264_aac_1s_gop.mp4")
	st := stream.New("live/share", tracks, stream.Options{})
	var shares tsShares
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	run := func(w *writeLog, done chan<- error) {
		share, err := shares.acquire(st)
		if err != nil {
			done <- err
			return
		}
		err = egress(ctx, w, st, share, log)
		shares.release(st)
		done <- err
	}
	var first, second writeLog
	done1, done2 := make(chan error, 1), make(chan error, 1)
	go run(&first, done1)
	testutil.WaitFor(t, 5*time.Second, "the first reader", func() bool { return st.Stats().Readers["srt"] == 1 })
	half := len(units) / 2
	for _, u := range units[:half] {
		if err := st.Write(u); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 5*time.Second, "the first half sent", func() bool { return first.count() > 0 })
	go run(&second, done2)
	testutil.WaitFor(t, 5*time.Second, "the second reader", func() bool { return st.Stats().Readers["srt"] == 2 })
	for _, u := range units[half:] {
		if err := st.Write(u); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	for _, d := range []chan error{done1, done2} {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
	shares.mu.Lock()
	if len(shares.m) != 0 {
		t.Errorf("%d shares left after the readers", len(shares.m))
	}
	shares.mu.Unlock()
	for name, w := range map[string]*writeLog{"first": &first, "second": &second} {
		checkReaderTS(t, name, w.writes)
	}
	if len(first.writes) > len(units) {
		t.Errorf("first reader: %d writes for %d units", len(first.writes), len(units))
	}
	if len(second.writes) >= len(first.writes) {
		t.Errorf("second reader joined mid-stream but got %d writes, the first %d", len(second.writes), len(first.writes))
	}
}

// checkReaderTS checks one reader's writes: whole TS packets, a PAT
// first, continuity counters without gaps.
func checkReaderTS(t *testing.T, name string, writes [][]byte) {
	t.Helper()
	if len(writes) == 0 {
		t.Fatalf("%s reader: nothing written", name)
	}
	if !startsWithPAT(writes[0]) {
		t.Errorf("%s reader: first write does not open with a PAT", name)
	}
	last := map[uint16]byte{}
	for i, w := range writes {
		if len(w)%188 != 0 {
			t.Fatalf("%s reader: write %d is %d bytes, not whole TS packets", name, i, len(w))
		}
		for p := w; len(p) >= 188; p = p[188:] {
			pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
			cc := p[3] & 0x0f
			prev, seen := last[pid]
			want := (prev + 1) & 0x0f
			if p[3]&0x10 == 0 {
				want = prev
			}
			if seen && cc != want {
				t.Fatalf("%s reader: PID %d continuity counter %d after %d (write %d)", name, pid, cc, prev, i)
			}
			last[pid] = cc
		}
	}
	t.Logf("%s reader: %d writes, PIDs %v", name, len(writes), len(last))
}
