package rtmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// encode runs ffmpeg on a test pattern and returns the output file.
func encode(t *testing.T, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "30"}, args...)
	if b, err := exec.CommandContext(ctx, "ffmpeg", append(full, out)...).CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make %s: %v: %s", name, err, b)
	}
	return out
}

func h265Source(t *testing.T) (*stream.Track, []*stream.Unit) {
	file := encode(t, "v.ts", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=10:min-keyint=10:bframes=2:log-level=error", "-f", "mpegts")
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &mpegts.Reader{R: f}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	var units []*stream.Unit
	var track *stream.Track
	r.OnDataH265(r.Tracks()[0], func(pts, dts int64, au [][]byte) error {
		var clean [][]byte
		for _, n := range au {
			typ := (n[0] >> 1) & 0x3f
			switch typ {
			case 35: // AUD: RTMP drops it
				continue
			case h265VPS, h265SPS, h265PPS:
				if track == nil {
					track = &stream.Track{}
				}
				switch typ {
				case h265VPS:
					track.VPS = n
				case h265SPS:
					track.SPS = n
				case h265PPS:
					track.PPS = n
				}
			}
			clean = append(clean, n)
		}
		units = append(units, &stream.Unit{PTS: time.Duration(pts) * time.Second / 90000, DTS: time.Duration(dts) * time.Second / 90000,
			Key: h265.IsRandomAccess(clean), Payload: clean})
		return nil
	})
	for {
		if err := r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
	}
	tr, err := stream.NewH265Track(track.VPS, track.SPS, track.PPS)
	if err != nil {
		t.Fatal(err)
	}
	return tr, units
}

func av1Source(t *testing.T) (*stream.Track, []*stream.Unit) {
	file := encode(t, "v.obu", "-c:v", "libaom-av1", "-cpu-used", "8", "-g", "10", "-f", "obu")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var bs av1.Bitstream
	if err := bs.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	var units []*stream.Unit
	var tr *stream.Track
	for _, obu := range bs {
		switch av1.OBUType((obu[0] >> 3) & 0x0f) {
		case av1.OBUTypeTemporalDelimiter:
			units = append(units, &stream.Unit{})
			continue
		case av1.OBUTypeSequenceHeader:
			if tr == nil {
				if tr, err = newAV1Track(obu); err != nil {
					t.Fatal(err)
				}
			}
		}
		u := units[len(units)-1]
		u.Payload = append(u.Payload, obu)
	}
	for i, u := range units {
		u.Key = av1.IsRandomAccess2(u.Payload)
		u.DTS = time.Duration(i) * 40 * time.Millisecond
		u.PTS = u.DTS
	}
	return tr, units
}

func vp9Source(t *testing.T) (*stream.Track, []*stream.Unit) {
	file := encode(t, "v.ivf", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "10", "-f", "ivf")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = b[binary.LittleEndian.Uint16(b[6:]):]
	var units []*stream.Unit
	for len(b) >= 12 {
		n := int(binary.LittleEndian.Uint32(b))
		pts := binary.LittleEndian.Uint64(b[4:])
		frame := b[12 : 12+n]
		b = b[12+n:]
		d := time.Duration(pts) * 40 * time.Millisecond
		units = append(units, &stream.Unit{DTS: d, PTS: d, Key: frame[0]&0x04 == 0, Payload: [][]byte{frame}})
	}
	return &stream.Track{Codec: stream.CodecVP9, ClockRate: 90000, Width: 320, Height: 240}, units
}

// Enhanced RTMP end to end: units of an ffmpeg-made H.265/AV1/VP9 stream go
// from hub A through Push (Enhanced RTMP tags) to server B, out of B to
// Pull, and into hub C, arriving unchanged.
func TestEnhancedRTMPRelay(t *testing.T) {
	for name, source := range map[string]func(*testing.T) (*stream.Track, []*stream.Unit){
		"h265": h265Source, "av1": av1Source, "vp9": vp9Source,
	} {
		t.Run(name, func(t *testing.T) {
			track, units := source(t)
			if len(units) < 20 || !units[0].Key {
				t.Fatalf("source: %d units, first key %v", len(units), len(units) > 0 && units[0].Key)
			}
			got := relay(t, track, units)
			if len(got) != len(units) {
				t.Fatalf("received %d units, sent %d", len(got), len(units))
			}
			ct := 0
			for i, u := range got {
				want := units[i]
				if u.Track.Codec != track.Codec {
					t.Fatalf("codec %s, want %s", u.Track.Codec, track.Codec)
				}
				if u.Key != want.Key {
					t.Errorf("unit %d: key %v, want %v", i, u.Key, want.Key)
				}
				if !bytes.Equal(bytes.Join(u.Payload, []byte{0}), bytes.Join(want.Payload, []byte{0})) {
					t.Errorf("unit %d: payload differs (%d vs %d parts)", i, len(u.Payload), len(want.Payload))
				}
				d := (u.DTS - got[0].DTS) - (want.DTS - units[0].DTS)
				c := (u.PTS - u.DTS) - (want.PTS - want.DTS)
				if d < -2*time.Millisecond || d > 2*time.Millisecond || c < -2*time.Millisecond || c > 2*time.Millisecond {
					t.Errorf("unit %d: DTS off by %v, PTS-DTS off by %v", i, d, c)
				}
				if u.PTS != u.DTS {
					ct++
				}
			}
			if name == "h265" && ct == 0 {
				t.Error("no unit kept a composition time")
			}
			if w := got[0].Track.Width; w != 320 {
				t.Errorf("width %d, want 320", w)
			}
		})
	}
}

// relay sends units through hub A -> Push -> server B -> Pull -> hub C and
// returns what a reader of C gets.
func relay(t *testing.T, track *stream.Track, units []*stream.Unit) []*stream.Unit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := testLog(t)
	hubA := pathmgr.New(log, events.NewBus(), nil)
	hubC := pathmgr.New(log, events.NewBus(), nil)
	defer hubA.Close()
	defer hubC.Close()
	b, hubB := startServer(t, nil, Config{})

	src, err := hubA.Publish(ctx, stream.Request{Path: "a/src", Protocol: "test"}, []*stream.Track{track}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pushErr := make(chan error, 1)
	go func() { pushErr <- Push(ctx, rtmpURLOf(b, "live/x"), src, log) }()
	for src.Stats().Readers["rtmp"] == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	now := time.Now()
	write := func(u *stream.Unit) {
		u.Track, u.Time = track, now
		if err := src.Write(u); err != nil {
			t.Fatal(err)
		}
	}
	second := 1
	for second < len(units) && !units[second].Key {
		second++
	}
	for _, u := range units[:second] {
		write(u)
	}
	waitPath(t, hubB, "live/x")
	pullErr := make(chan error, 1)
	go func() { pullErr <- Pull(ctx, rtmpURLOf(b, "live/x"), hubC, "c/dst", log) }()
	dst := waitPath(t, hubC, "c/dst")
	r := dst.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer r.Close()
	for _, u := range units[second:] {
		write(u)
	}
	src.Close()
	var got []*stream.Unit
	for {
		u, err := r.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reader of C: %v", err)
			}
			break
		}
		got = append(got, u)
	}
	for name, ch := range map[string]chan error{"push": pushErr, "pull": pullErr} {
		if err := <-ch; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	return got
}
