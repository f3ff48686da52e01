package rtsp

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// ringWatch follows the video units of a stream from a Reader of its own,
// as the newest unit and the newest key frame written.
type ringWatch struct {
	mu             sync.Mutex
	newest, newKey time.Duration
	seen           bool
}

func (w *ringWatch) run(r *stream.Reader) {
	for {
		u, err := r.Read()
		if err != nil {
			return
		}
		if !u.Track.IsVideo() {
			continue
		}
		w.mu.Lock()
		w.newest, w.seen = u.PTS, true
		if u.Key {
			w.newKey = u.PTS
		}
		w.mu.Unlock()
	}
}

func (w *ringWatch) get() (newest, newKey time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.newest, w.newKey, w.seen
}

// A player joining a path that another RTSP player already plays, in the
// middle of a GOP, starts at once from the GOP cache: its first H.264
// access unit is an IDR already in the ring when it sent PLAY, not the
// next key frame of the source.
func TestLatePlayerStartsAtGOPCache(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, true)
	url := rtspURL(s, "live/gop")

	// The 1 s-GOP file, looped so the source outlasts the test.
	pub := startProc(ctx, t, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-re",
		"-stream_loop", "-1", "-i", testdata(t, mainFile), "-c", "copy",
		"-f", "rtsp", "-rtsp_transport", "tcp", url)
	st := waitStream(t, hub, "live/gop", pub)
	vt := st.Tracks()[0]
	if vt.Codec != stream.CodecH264 {
		t.Fatalf("first track %s, want h264", vt.Codec)
	}
	watch := &ringWatch{}
	wr := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer wr.Close()
	go watch.run(wr)

	// The first player plays.
	first := readFFmpeg(ctx, t, url, "tcp")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(first.stdoutString(), "\n0,") {
		if time.Now().After(deadline) {
			t.Fatalf("first player decoded nothing: %s", first.stderrString())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The second player, a Go client over UDP, sets up.
	var outputsBefore = map[*output]bool{}
	s.mu.Lock()
	for o := range s.outputs {
		outputsBefore[o] = true
	}
	s.mu.Unlock()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	udp := gortsplib.TransportUDP
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &udp}
	if err := c.Start2(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	var h264f *format.H264
	medi := desc.FindFormat(&h264f)
	if medi == nil {
		t.Fatal("no H.264 media described")
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		t.Fatalf("setup: %v", err)
	}
	// Its own output: the one that appeared with its SETUP.
	var mine *output
	s.mu.Lock()
	for o := range s.outputs {
		if !outputsBefore[o] {
			mine = o
		}
	}
	s.mu.Unlock()
	if mine == nil {
		t.Fatal("SETUP created no output")
	}
	base := mine.share.pk.tracks[vt].base // RTP timestamps are the stream's, made once for all players

	dec, err := h264f.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	type firstAU struct {
		ts   uint32
		key  bool
		when time.Time
	}
	got := make(chan firstAU, 1)
	var once sync.Once
	c.OnPacketRTP(medi, h264f, func(pkt *rtp.Packet) {
		au, err := dec.Decode(pkt)
		if err != nil || len(au) == 0 {
			return
		}
		once.Do(func() { got <- firstAU{ts: pkt.Timestamp, key: h264.IsRandomAccess(au), when: time.Now()} })
	})

	// Join in the middle of a GOP (1 s long): at least 200 ms after its key
	// frame, and at most 500 ms, so that the next key frame is far off.
	var newestAtPlay time.Duration
	for {
		newest, key, ok := watch.get()
		if ok && newest-key >= 200*time.Millisecond && newest-key <= 500*time.Millisecond {
			newestAtPlay = newest
			break
		}
		if ctx.Err() != nil {
			t.Fatal("never saw the middle of a GOP")
		}
		time.Sleep(5 * time.Millisecond)
	}
	playAt := time.Now()
	if _, err := c.Play(nil); err != nil {
		t.Fatalf("play: %v", err)
	}

	var f firstAU
	select {
	case f = <-got:
	case <-ctx.Done():
		t.Fatal("second player got no H.264 access unit")
	}
	pts := ticksToDuration(int64(f.ts-base), 90000)
	t.Logf("second player: first AU PTS %v (key %v), newest unit at PLAY %v, %v after PLAY",
		pts, f.key, newestAtPlay, f.when.Sub(playAt))
	if !f.key {
		t.Fatal("second player's first access unit is not an IDR")
	}
	if pts > newestAtPlay {
		t.Fatalf("second player's first IDR has PTS %v, after the newest unit at PLAY (%v): it waited for the next key frame",
			pts, newestAtPlay)
	}
	if n := st.Stats().Readers["rtsp"]; n != 2 {
		t.Errorf("%d rtsp readers for 2 players, want 2", n)
	}
	c.Close()
	select {
	case <-first.done:
		t.Fatalf("first player ended: %v\n%s", first.err, first.stderrString())
	default:
	}
}
