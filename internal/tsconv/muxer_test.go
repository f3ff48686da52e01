package tsconv

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"mps/internal/stream"
)

func TestRoundTripH264AAC(t *testing.T) {
	tracks, units := demuxFile(t, toTS(t, "h264_aac_1s_gop.mp4"))
	out := muxFile(t, tracks, units)
	decodeClean(t, out)
	counts := frameCounts(t, out)
	if counts["video"] != 180 {
		t.Errorf("video frames = %d, want 180", counts["video"])
	}
	if counts["audio"] < 280 || counts["audio"] > 286 {
		t.Errorf("audio frames = %d, want about 283", counts["audio"])
	}
	// What went out comes back the same, track by track.
	tracks2, units2 := demuxFile(t, out)
	if len(tracks2) != 2 || len(units2) != len(units) {
		t.Fatalf("second pass: %d tracks %d units, want 2 and %d", len(tracks2), len(units2), len(units))
	}
	for i, tr := range tracks {
		a, b := unitsOf(units, tr), unitsOf(units2, tracks2[i])
		if len(a) != len(b) {
			t.Fatalf("track %v: %d units, then %d", tr, len(a), len(b))
		}
		shift := b[0].PTS - a[0].PTS
		for j := range a {
			if b[j].PTS-a[j].PTS != shift || b[j].DTS-a[j].DTS != shift || b[j].Key != a[j].Key || b[j].Size() != a[j].Size() {
				t.Fatalf("track %v unit %d differs after a round trip: pts %v dts %v key %v size %d, then pts %v dts %v key %v size %d",
					tr, j, a[j].PTS, a[j].DTS, a[j].Key, a[j].Size(), b[j].PTS, b[j].DTS, b[j].Key, b[j].Size())
			}
		}
	}
}

func TestRoundTripKeepsBFrames(t *testing.T) {
	tracks, units := demuxFile(t, toTS(t, "h264_bframes.mp4"))
	out := muxFile(t, tracks, units)
	decodeClean(t, out)
	if n := frameCounts(t, out)["video"]; n != 120 {
		t.Errorf("video frames = %d, want 120", n)
	}
	pts, dts := packetTimes(t, out)
	differ := 0
	for i := range pts {
		if pts[i] != dts[i] {
			differ++
		}
	}
	if len(pts) != 120 || differ < 60 {
		t.Errorf("%d packets, %d with PTS != DTS; want 120 with most reordered", len(pts), differ)
	}
	if len(dts) > 0 && (dts[0] < 0.9 || dts[0] > 1.1) {
		t.Errorf("first DTS %.3f s, want the 1 s start margin", dts[0])
	}
}

func TestMuxerAddsParameterSetsToKeyframes(t *testing.T) {
	tracks, units := demuxFile(t, toTS(t, "video_only.mp4"))
	v := tracks[0]
	// Keep only what comes after the first keyframe with its parameter
	// sets stripped, as an RTMP or RTSP source would deliver it.
	second := 0
	for i, u := range units {
		if i > 0 && u.Key {
			second = i
			break
		}
	}
	if second == 0 {
		t.Fatal("no second keyframe")
	}
	var stripped []*stream.Unit
	for _, u := range units[second:] {
		c := *u
		c.Payload = nil
		for _, n := range u.Payload {
			if typ := n[0] & 0x1f; typ != 7 && typ != 8 {
				c.Payload = append(c.Payload, n)
			}
		}
		stripped = append(stripped, &c)
	}
	out := muxFile(t, []*stream.Track{v}, stripped)
	decodeClean(t, out)
	if n := frameCounts(t, out)["video"]; n != len(stripped) {
		t.Errorf("decoded %d frames from the second GOP on, want %d", n, len(stripped))
	}
}

func TestMuxerSkipsUnsupportedTracks(t *testing.T) {
	vp8 := &stream.Track{Codec: stream.CodecVP8, ClockRate: 90000}
	h264 := &stream.Track{Codec: stream.CodecH264, ClockRate: 90000}
	var buf bytes.Buffer
	m, err := NewMuxer(&buf, []*stream.Track{vp8, h264})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Skipped(); len(s) != 1 || s[0] != vp8 {
		t.Fatalf("Skipped = %v, want [vp8]", s)
	}
	if err := m.WriteUnit(&stream.Unit{Track: vp8, Payload: [][]byte{{1, 2, 3}}}); err != nil || buf.Len() != 0 {
		t.Fatalf("unit of a skipped track: err %v, %d bytes written; want ignored", err, buf.Len())
	}
	if _, err := NewMuxer(&buf, []*stream.Track{vp8}); !errors.Is(err, ErrNoMuxableTracks) {
		t.Fatalf("NewMuxer(vp8) = %v, want ErrNoMuxableTracks", err)
	}
	if _, err := NewMuxer(&buf, []*stream.Track{{Codec: stream.CodecAAC}}); !errors.Is(err, ErrNoMuxableTracks) {
		t.Fatalf("NewMuxer(aac without config) = %v, want ErrNoMuxableTracks", err)
	}
}

func TestMuxerTimestampsStartPositive(t *testing.T) {
	// A reader joining mid-stream sees large timestamps; a source with
	// B-frames may start at a negative DTS. Both come out starting at 1 s,
	// in 188-byte packets, and empty units are dropped rather than failing.
	tracks, units := demuxFile(t, toTS(t, "video_only.mp4"))
	shift := []time.Duration{-700 * time.Millisecond, 36 * time.Hour}
	for _, off := range shift {
		var shifted []*stream.Unit
		for _, u := range units {
			c := *u
			c.PTS += off
			c.DTS += off
			shifted = append(shifted, &c)
		}
		shifted = append(shifted, &stream.Unit{Track: tracks[0], PTS: off, DTS: off, Payload: [][]byte{{}}})
		out := muxFile(t, tracks, shifted)
		_, dts := packetTimes(t, out)
		if len(dts) != 100 || dts[0] < 0.99 || dts[0] > 1.01 {
			t.Errorf("offset %v: %d packets, first DTS %v; want 100 starting at 1 s", off, len(dts), dts)
		}
	}
}

func TestTimestampConversionIsExact(t *testing.T) {
	for _, ticks := range []int64{0, 1, 2, 3, 89999, 90000, 90001, 1<<33 - 1, 1 << 33, 1 << 40, -1, -90001} {
		if got := durationToTicks(ticksToDuration(ticks)); got != ticks {
			t.Errorf("ticks %d -> %v -> %d", ticks, ticksToDuration(ticks), got)
		}
	}
	if got := durationToTicks(30 * 24 * time.Hour); got != 30*24*3600*90000 {
		t.Errorf("30 days = %d ticks", got)
	}
}
