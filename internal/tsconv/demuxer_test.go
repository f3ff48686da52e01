package tsconv

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/stream"
)

func TestDemuxerH264AAC(t *testing.T) {
	tracks, units := demuxFile(t, toTS(t, "h264_aac_1s_gop.mp4"))
	if len(tracks) != 2 {
		t.Fatalf("tracks = %v, want h264 and aac", tracks)
	}
	v := trackOf(tracks, stream.CodecH264)
	a := trackOf(tracks, stream.CodecAAC)
	if v == nil || a == nil {
		t.Fatalf("tracks = %v, want h264 and aac", tracks)
	}
	if v.Width != 320 || v.Height != 240 || len(v.SPS) == 0 || len(v.PPS) == 0 {
		t.Errorf("video track = %v SPS %d B PPS %d B, want 320x240 with SPS and PPS", v, len(v.SPS), len(v.PPS))
	}
	if a.SampleRate != 48000 || a.Channels != 2 || a.ClockRate != 48000 || len(a.AudioConfig) == 0 {
		t.Errorf("audio track = %v clock %d, want aac 48000Hz 2ch with a config", a, a.ClockRate)
	}

	vu := unitsOf(units, v)
	if len(vu) != 180 {
		t.Fatalf("video units = %d, want 180", len(vu))
	}
	for i, u := range vu {
		if want := i%30 == 0; u.Key != want {
			t.Errorf("video unit %d key = %v, want %v", i, u.Key, want)
		}
		if i > 0 {
			if d := u.DTS - vu[i-1].DTS; d < 33*time.Millisecond || d > 34*time.Millisecond {
				t.Errorf("video unit %d DTS step %v, want 1/30 s", i, d)
			}
		}
		for _, n := range u.Payload {
			if len(n) == 0 || n[0]&0x1f == 9 {
				t.Fatalf("video unit %d carries an empty NAL unit or an AUD", i)
			}
		}
	}

	au := unitsOf(units, a)
	if len(au) < 280 || len(au) > 286 {
		t.Errorf("audio units = %d, want about 283 (one per AAC frame)", len(au))
	}
	frame := time.Second * 1024 / 48000
	for i, u := range au {
		if len(u.Payload) != 1 || !u.Key || u.PTS != u.DTS {
			t.Fatalf("audio unit %d: %d frames key=%v pts=%v dts=%v, want one key frame with PTS=DTS", i, len(u.Payload), u.Key, u.PTS, u.DTS)
		}
		if i > 0 {
			if d := u.PTS - au[i-1].PTS; d < frame-time.Millisecond/10 || d > frame+time.Millisecond/10 {
				t.Errorf("audio unit %d PTS step %v, want %v", i, d, frame)
			}
		}
	}
	// Both tracks share one clock: they start within a frame of each other.
	if d := au[0].PTS - vu[0].PTS; d < -100*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("audio starts %v after video, want the same origin", d)
	}
}

func TestDemuxerBFramesKeepPTSAndDTS(t *testing.T) {
	tracks, units := demuxFile(t, toTS(t, "h264_bframes.mp4"))
	v := trackOf(tracks, stream.CodecH264)
	if v == nil || v.Width == 0 {
		t.Fatalf("tracks = %v, want h264 with a size", tracks)
	}
	vu := unitsOf(units, v)
	if len(vu) != 120 {
		t.Fatalf("video units = %d, want 120", len(vu))
	}
	reordered := 0
	for i, u := range vu {
		if u.PTS < u.DTS {
			t.Errorf("unit %d PTS %v < DTS %v", i, u.PTS, u.DTS)
		}
		if u.PTS != u.DTS {
			reordered++
		}
		if i > 0 && u.DTS <= vu[i-1].DTS {
			t.Errorf("unit %d DTS %v not after %v", i, u.DTS, vu[i-1].DTS)
		}
	}
	if reordered < 60 {
		t.Errorf("%d units with PTS != DTS, want most of them (B-frames)", reordered)
	}
	a := trackOf(tracks, stream.CodecAAC)
	if a == nil || a.SampleRate != 44100 {
		t.Errorf("audio track = %v, want aac 44100 Hz", a)
	}
}

func TestDemuxerH265(t *testing.T) {
	src := filepath.Join(t.TempDir(), "h265.ts")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1",
		"-c:v", "libx265", "-x265-params", "log-level=error:keyint=10", "-pix_fmt", "yuv420p", "-f", "mpegts", src)
	tracks, units := demuxFile(t, src)
	v := trackOf(tracks, stream.CodecH265)
	if v == nil || v.Width != 320 || v.Height != 240 || v.VPS == nil || v.SPS == nil || v.PPS == nil {
		t.Fatalf("tracks = %v, want h265 320x240 with VPS/SPS/PPS", tracks)
	}
	vu := unitsOf(units, v)
	keys := 0
	for _, u := range vu {
		if u.Key {
			keys++
		}
	}
	if len(vu) != 25 || keys < 2 || !vu[0].Key {
		t.Fatalf("%d units with %d keys, first key %v; want 25 units starting with a key and a key every 10", len(vu), keys, vu[0].Key)
	}
	out := muxFile(t, tracks, units)
	decodeClean(t, out)
	if n := frameCounts(t, out)["video"]; n != 25 {
		t.Errorf("round trip has %d video frames, want 25", n)
	}
}

func TestDemuxerOpusAndMP3(t *testing.T) {
	for _, tc := range []struct {
		codec   stream.Codec
		encoder string
		rate    int
		frame   time.Duration
		min     int
	}{
		{stream.CodecOpus, "libopus", 48000, 20 * time.Millisecond, 49},
		{stream.CodecMP3, "libmp3lame", 44100, time.Second * 1152 / 44100, 37},
	} {
		t.Run(string(tc.codec), func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "a.ts")
			ffmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=48000",
				"-ar", itoa(tc.rate), "-ac", "2", "-c:a", tc.encoder, "-f", "mpegts", src)
			tracks, units := demuxFile(t, src)
			a := trackOf(tracks, tc.codec)
			if a == nil || a.SampleRate != tc.rate || a.Channels != 2 {
				t.Fatalf("tracks = %v, want %s %d Hz 2ch", tracks, tc.codec, tc.rate)
			}
			if len(units) < tc.min {
				t.Fatalf("%d units, want at least %d (one per frame)", len(units), tc.min)
			}
			for i := 1; i < len(units); i++ {
				d := units[i].PTS - units[i-1].PTS
				if d < tc.frame-time.Millisecond/10 || d > tc.frame+time.Millisecond/10 {
					t.Fatalf("unit %d PTS step %v, want %v", i, d, tc.frame)
				}
			}
			out := muxFile(t, tracks, units)
			decodeClean(t, out)
			if n := frameCounts(t, out)["audio"]; n < tc.min {
				t.Errorf("round trip decodes %d audio frames, want at least %d", n, tc.min)
			}
		})
	}
}

func TestDemuxerTimestampWrap(t *testing.T) {
	// 95443 s is 0.7 s before the 33-bit 90 kHz clock wraps.
	src := toTS(t, "video_only.mp4", "-output_ts_offset", "95443")
	tracks, units := demuxFile(t, src)
	v := trackOf(tracks, stream.CodecH264)
	vu := unitsOf(units, v)
	if len(vu) != 100 {
		t.Fatalf("units = %d, want 100", len(vu))
	}
	for i := 1; i < len(vu); i++ {
		if d := vu[i].DTS - vu[i-1].DTS; d != 40*time.Millisecond {
			t.Fatalf("unit %d DTS step %v across the wrap, want 40ms", i, d)
		}
	}
}

func TestDemuxerRejectsGarbage(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	junk := make([]byte, 2<<20)
	rng.Read(junk)
	start := time.Now()
	if _, err := NewDemuxer(bytes.NewReader(junk)); err == nil {
		t.Fatal("NewDemuxer accepted random bytes")
	}
	if _, err := NewDemuxer(bytes.NewReader(nil)); err == nil {
		t.Fatal("NewDemuxer accepted empty input")
	}
	t.Logf("rejected in %v", time.Since(start))
}

func TestDemuxerEndsOnGarbageAfterMedia(t *testing.T) {
	ts, err := os.ReadFile(toTS(t, "video_only.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, maxBytesWithoutUnit+(1<<20))
	rand.New(rand.NewSource(2)).Read(junk)
	for i := range junk {
		if junk[i] == 0x47 { // no sync bytes: nothing to resynchronise on
			junk[i] = 0
		}
	}
	d, err := NewDemuxer(io.MultiReader(bytes.NewReader(ts), bytes.NewReader(junk)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := d.ReadUnit()
		if err != nil {
			if !errors.Is(err, ErrNoMedia) {
				t.Fatalf("ReadUnit: %v, want ErrNoMedia", err)
			}
			break
		}
		n++
	}
	if n < 99 {
		t.Errorf("read %d units before the garbage, want the 100 frames", n)
	}
}

func itoa(n int) string {
	return fmtInt(n)
}
