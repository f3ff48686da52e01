package stream

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

func testTracks() (v, a *Track) {
	return &Track{Codec: CodecH264, ClockRate: 90000}, &Track{Codec: CodecAAC, ClockRate: 48000}
}

// writeGOPs writes n units where every gop-th video unit is a keyframe and
// every other unit is audio. It returns the units written.
func writeUnits(t testing.TB, s *Stream, v, a *Track, n, gop int) []*Unit {
	t.Helper()
	var out []*Unit
	for i := 0; i < n; i++ {
		u := &Unit{Track: v, PTS: time.Duration(i) * time.Millisecond, Key: i%gop == 0, Payload: [][]byte{{byte(i)}}}
		if i%2 == 1 {
			u = &Unit{Track: a, PTS: time.Duration(i) * time.Millisecond, Key: true, Payload: [][]byte{{byte(i)}}}
		}
		if err := s.Write(u); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		out = append(out, u)
	}
	return out
}

func TestReaderGetsEveryUnitInOrder(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{RingSize: 64})
	r := s.NewReader(context.Background(), ReaderOptions{Protocol: "test"})
	defer r.Close()
	done := make(chan []*Unit)
	go func() {
		var got []*Unit
		for {
			u, err := r.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("read: %v", err)
				}
				done <- got
				return
			}
			got = append(got, u)
		}
	}()
	var want []*Unit
	for i := 0; i < 500; i++ {
		// pace the writer so the reader never falls a ring behind
		want = append(want, writeUnits(t, s, v, a, 1, 1)...)
		if i%32 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	// give the reader time to drain before closing; close must still let it drain
	s.Close()
	got := <-done
	// the first unit is a keyframe, so the reader starts at it; every unit
	// after that arrives once and in order
	if len(got) != len(want) {
		t.Fatalf("got %d units, want %d (overruns %d)", len(got), len(want), r.Overruns())
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("unit %d differs", i)
		}
	}
}

func TestNewReaderStartsAtLastKeyframe(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{RingSize: 256})
	units := writeUnits(t, s, v, a, 100, 30) // video keyframes at 0, 30, 60, 90
	r := s.NewReader(context.Background(), ReaderOptions{})
	defer r.Close()
	u, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if u != units[90] || !u.Key || u.Track != v {
		t.Fatalf("first unit is #%d key=%v, want the keyframe #90", u.Payload[0][0], u.Key)
	}
}

func TestNewReaderWithoutKeyframeWaitsForOne(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{RingSize: 16})
	writeUnits(t, s, v, a, 40, 1000) // only unit 0 is key, long overwritten
	r := s.NewReader(context.Background(), ReaderOptions{})
	defer r.Close()
	// non-key video and audio are skipped; the next video keyframe is first
	_ = s.Write(&Unit{Track: a, Key: true, Payload: [][]byte{{1}}})
	_ = s.Write(&Unit{Track: v, Payload: [][]byte{{2}}})
	key := &Unit{Track: v, Key: true, Payload: [][]byte{{3}}}
	_ = s.Write(key)
	u, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if u != key {
		t.Fatalf("first unit %v, want the new keyframe", u.Payload)
	}
}

func TestSlowReaderOverrunsAndResumesAtKeyframe(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{RingSize: 32})
	var skipped uint64
	r := s.NewReader(context.Background(), ReaderOptions{OnOverrun: func(n uint64) { skipped += n }})
	defer r.Close()
	// a fast reader that keeps up must not be affected by the slow one
	fast := s.NewReader(context.Background(), ReaderOptions{})
	defer fast.Close()
	fastDone := make(chan int, 1)
	ack := make(chan struct{}, 1)
	go func() {
		n := 0
		for {
			if _, err := fast.Read(); err != nil {
				fastDone <- n
				return
			}
			n++
			ack <- struct{}{}
		}
	}()
	for i := 0; i < 200; i++ { // the slow reader reads nothing meanwhile
		if err := s.Write(&Unit{Track: v, Key: i%10 == 0, Payload: [][]byte{{byte(i)}}}); err != nil {
			t.Fatal(err)
		}
		<-ack // the fast reader keeps up by construction
	}
	u, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if r.Overruns() != 1 || skipped == 0 {
		t.Fatalf("overruns %d skipped %d, want 1 and >0", r.Overruns(), skipped)
	}
	if !u.Key || u.Track != v {
		t.Fatalf("resumed on a non-keyframe unit")
	}
	s.Close()
	if n := <-fastDone; n != 200 || fast.Overruns() != 0 {
		t.Fatalf("fast reader got %d units with %d overruns, want 200 and 0", n, fast.Overruns())
	}
	per := s.Stats().PerReader
	if len(per) != 2 || per[0].Overruns+per[1].Overruns != 1 || per[0].Lag+per[1].Lag != 9 {
		t.Fatalf("per-reader stats %+v, want the slow one with 1 overrun and 9 units lag, the fast one none", per)
	}
	if s.Stats().Overruns != 1 {
		t.Fatalf("stream overruns %d, want 1", s.Stats().Overruns)
	}
}

func TestDropOnOverrunPolicy(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{RingSize: 8})
	r := s.NewReader(context.Background(), ReaderOptions{DropOnOverrun: true})
	defer r.Close()
	writeUnits(t, s, v, a, 1, 1)
	writeUnits(t, s, v, a, 20, 2)
	if _, err := r.Read(); !errors.Is(err, ErrOverrun) {
		t.Fatalf("err %v, want ErrOverrun", err)
	}
}

func TestLosslessWriterWaitsForSlowestReader(t *testing.T) {
	v, a := testTracks()
	s := New("file", []*Track{v, a}, Options{RingSize: 8, Mode: Lossless})
	readers := []*Reader{
		s.NewReader(context.Background(), ReaderOptions{}),
		s.NewReader(context.Background(), ReaderOptions{}),
	}
	var wg sync.WaitGroup
	counts := make([]int, len(readers))
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				u, err := r.Read()
				if err != nil {
					return
				}
				if int(u.PTS/time.Millisecond) != counts[i] {
					t.Errorf("reader %d: got unit %d, want %d", i, u.PTS/time.Millisecond, counts[i])
				}
				counts[i]++
				if i == 1 {
					time.Sleep(20 * time.Microsecond) // the slow one
				}
			}
		}()
	}
	writeUnits(t, s, v, a, 1000, 1)
	s.Close()
	wg.Wait()
	for i, n := range counts {
		if n != 1000 {
			t.Errorf("reader %d got %d units, want all 1000", i, n)
		}
	}
}

func TestCloseUnblocksReaders(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	r1 := s.NewReader(ctx, ReaderOptions{})
	r2 := s.NewReader(context.Background(), ReaderOptions{})
	errs := make(chan error, 2)
	go func() { _, err := r1.Read(); errs <- err }()
	go func() { _, err := r2.Read(); errs <- err }()
	cancel()
	if err := <-errs; !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("cancelled reader: %v, want ErrReaderClosed", err)
	}
	s.CloseWithError(ErrKicked)
	select {
	case err := <-errs:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("reader of closed stream: %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader not woken by Close")
	}
	if !errors.Is(s.Err(), ErrKicked) {
		t.Fatalf("Err %v", s.Err())
	}
	if err := s.Write(&Unit{Track: v}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if n := len(s.Stats().Readers); n != 1 { // r2 still attached until Close
		t.Fatalf("readers %d", n)
	}
	r2.Close()
	if n := len(s.Stats().Readers); n != 0 {
		t.Fatalf("readers %d after close", n)
	}
}

func TestKeyframeRequester(t *testing.T) {
	v, _ := testTracks()
	s := New("live/a", []*Track{v}, Options{})
	s.RequestKeyframe() // no requester: no-op
	n := 0
	s.SetKeyframeRequester(func() { n++ })
	s.RequestKeyframe()
	if n != 1 {
		t.Fatal("requester not called")
	}
}

func TestReaderWithDoneContext(t *testing.T) {
	v, _ := testTracks()
	s := New("live/a", []*Track{v}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := s.NewReader(ctx, ReaderOptions{})
	if _, err := r.Read(); !errors.Is(err, ErrReaderClosed) {
		t.Fatalf("read on reader with done ctx: %v", err)
	}
}

// TestUnitSharedByTwoStreams writes the same units into two streams (as a
// derived stream shares its source's video) and checks that both streams'
// readers get every unit: a unit carries no per-stream state.
func TestUnitSharedByTwoStreams(t *testing.T) {
	v, _ := testTracks()
	a := New("src", []*Track{v}, Options{RingSize: 16, Mode: Lossless})
	b := New("derived", []*Track{v}, Options{RingSize: 16, Mode: Lossless})
	ra := a.NewReader(context.Background(), ReaderOptions{})
	rb := b.NewReader(context.Background(), ReaderOptions{})
	counts := make(chan int, 2)
	for _, r := range []*Reader{ra, rb} {
		go func() {
			n := 0
			for {
				if _, err := r.Read(); err != nil {
					counts <- n
					return
				}
				n++
			}
		}()
	}
	for i := 0; i < 100; i++ {
		u := &Unit{Track: v, Key: true, Payload: [][]byte{{byte(i)}}}
		_ = a.Write(u)
		if i >= 10 { // b lags a: the same unit sits at other positions
			_ = b.Write(u)
		}
	}
	a.Close()
	b.Close()
	if x, y := <-counts, <-counts; x+y != 190 {
		t.Fatalf("readers got %d and %d units, want 100 and 90", x, y)
	}
}

// heldUnits counts the ring slots that still reference a unit.
func heldUnits(s *Stream) int {
	n := 0
	for i := range s.ring.slots {
		if s.ring.slots[i].u.Load() != nil {
			n++
		}
	}
	return n
}

// TestRingReleasesReadUnits checks that a live stream lets go of units
// every reader has passed and that are older than the newest keyframe,
// while a slow reader keeps what it has not read and a new reader still
// starts at the keyframe; a lossless stream keeps its whole ring.
func TestRingReleasesReadUnits(t *testing.T) {
	v, a := testTracks()
	s := New("live/a", []*Track{v, a}, Options{RingSize: 1024})
	fast := s.NewReader(context.Background(), ReaderOptions{})
	defer fast.Close()
	slow := s.NewReader(context.Background(), ReaderOptions{})
	writeUnits(t, s, v, a, 300, 60)
	for range 300 {
		if _, err := fast.Read(); err != nil {
			t.Fatal(err)
		}
	}
	writeUnits(t, s, v, a, 1, 60) // a keyframe: release what nobody needs
	if got := heldUnits(s); got != 301 {
		t.Fatalf("with a reader at the start, %d units held, want all 301", got)
	}
	slow.Close()
	key := writeUnits(t, s, v, a, 1, 60)[0]
	if got := heldUnits(s); got != 2 {
		t.Fatalf("with the reader caught up, %d units held, want 2 (its next unit and the keyframe)", got)
	}
	late := s.NewReader(context.Background(), ReaderOptions{})
	defer late.Close()
	if u, err := late.Read(); err != nil || u != key {
		t.Fatalf("a new reader got %v, %v; want the newest keyframe", u, err)
	}

	ls := New("file/a", []*Track{v, a}, Options{RingSize: 1024, Mode: Lossless})
	lr := ls.NewReader(context.Background(), ReaderOptions{})
	defer lr.Close()
	writeUnits(t, ls, v, a, 300, 60)
	for range 300 {
		if _, err := lr.Read(); err != nil {
			t.Fatal(err)
		}
	}
	writeUnits(t, ls, v, a, 1, 60)
	if got := heldUnits(ls); got != 301 {
		t.Fatalf("lossless stream holds %d units, want all 301", got)
	}
}
