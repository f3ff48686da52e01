package rtsp

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"mps/internal/stream"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Parameter sets and the start of the first IDR of testdata/h264_aac_1s_gop.mp4.
var (
	testSPS    = mustHex("6742c00dda0507ec0440000003004000000f03c50aa8")
	testPPS    = mustHex("68ce3c80")
	testIDRHdr = mustHex("658884087c4222b0604712f0e00011ee83e880069b9271b23bec9462ebf97fff01046970ee3bed0c")
)

// bigNALU returns hdr followed by n pseudo-random bytes, large enough to
// be fragmented over several RTP packets.
func bigNALU(hdr []byte, n int) []byte {
	b := append([]byte(nil), hdr...)
	x := uint32(1)
	for i := 0; i < n; i++ {
		x = x*1664525 + 1013904223
		b = append(b, byte(x>>24)|1)
	}
	return b
}

// roundTrip packetizes units of tr with the egress code and depacketizes
// the packets with the ingest code built from the egress description, as
// a player of MPS and MPS behind it would.
func roundTrip(t *testing.T, tr *stream.Track, units []*stream.Unit) []*stream.Unit {
	t.Helper()
	pk, err := newPacketizer([]*stream.Track{tr})
	if err != nil {
		t.Fatalf("packetizer: %v", err)
	}
	in, err := newIngest(pk.desc)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	et := pk.tracks[tr]
	it := in.tracks[0]
	if it.track.Codec != tr.Codec {
		t.Fatalf("codec %s came back as %s", tr.Codec, it.track.Codec)
	}
	var out []*stream.Unit
	for _, u := range units {
		u.Track = tr
		_, pkts, _, err := pk.packets(u)
		if err != nil {
			t.Fatalf("packetize: %v", err)
		}
		for _, pkt := range pkts {
			// Through the wire format, as a receiver would see it.
			raw, err := pkt.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var cp = *pkt
			if err := cp.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			got, err := it.decode(&cp, int64(cp.Timestamp-et.base), time.Now())
			if err != nil && !isBenignDecodeError(err) {
				t.Fatalf("decode: %v", err)
			}
			out = append(out, got...)
		}
	}
	return out
}

func samePayload(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestRoundTripH264AddsParamsAndKeepsPictures(t *testing.T) {
	tr, err := stream.NewH264Track(testSPS, testPPS)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Width != 320 || tr.Height != 240 {
		t.Fatalf("size %dx%d, want 320x240", tr.Width, tr.Height)
	}
	idr := bigNALU(testIDRHdr, 4000) // fragmented (FU-A)
	units := []*stream.Unit{
		// An IDR without in-band SPS/PPS: the egress must add them.
		{PTS: 0, DTS: 0, Key: true, Payload: [][]byte{idr}},
		{PTS: 100 * time.Millisecond, DTS: 100 * time.Millisecond, Key: true, Payload: [][]byte{testSPS, testPPS, idr}},
	}
	got := roundTrip(t, tr, units)
	if len(got) != 2 {
		t.Fatalf("got %d units, want 2", len(got))
	}
	for i, u := range got {
		if !u.Key {
			t.Errorf("unit %d not key", i)
		}
		if !samePayload(u.Payload, [][]byte{testSPS, testPPS, idr}) {
			t.Errorf("unit %d payload: %d NALUs, want SPS, PPS, IDR", i, len(u.Payload))
		}
	}
	if d := got[1].PTS - got[0].PTS; d != 100*time.Millisecond {
		t.Errorf("PTS step %v, want 100ms", d)
	}
}

func TestRoundTripAACOneUnitPerFrame(t *testing.T) {
	asc := mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2, ChannelCount: 2}
	b, err := asc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := stream.NewAACTrack(b)
	if err != nil {
		t.Fatal(err)
	}
	frame := time.Second * 1024 / 48000
	var units []*stream.Unit
	for i := 0; i < 5; i++ {
		units = append(units, &stream.Unit{PTS: time.Duration(i) * frame, DTS: time.Duration(i) * frame, Key: true,
			Payload: [][]byte{bytes.Repeat([]byte{byte(i + 1)}, 200+i)}})
	}
	// A unit carrying two frames must come back as two units a frame apart.
	units = append(units, &stream.Unit{PTS: 5 * frame, DTS: 5 * frame, Key: true,
		Payload: [][]byte{bytes.Repeat([]byte{6}, 100), bytes.Repeat([]byte{7}, 100)}})
	got := roundTrip(t, tr, units)
	if len(got) != 7 {
		t.Fatalf("got %d units, want 7", len(got))
	}
	for i, u := range got {
		want := time.Duration(i) * frame
		if d := u.PTS - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("unit %d PTS %v, want %v", i, u.PTS, want)
		}
		if len(u.Payload) != 1 || u.Payload[0][0] != byte(i+1) {
			t.Errorf("unit %d payload wrong", i)
		}
	}
}

func TestRoundTripOtherCodecs(t *testing.T) {
	// VP8 key frame: bit 0 of the first byte clear.
	vp8Key := append([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}, bytes.Repeat([]byte{0xaa}, 3000)...)
	// VP9 key frame header (profile 0, show_frame, key frame).
	vp9Key := append([]byte{0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0b, 0x38}, bytes.Repeat([]byte{0x55}, 100)...)
	// AV1 temporal unit: sequence header OBU then a frame OBU (no size fields).
	av1TU := [][]byte{{0x08, 0x00, 0x00, 0x00, 0x42, 0xa7, 0xbf, 0xe4, 0x60, 0x0d}, append([]byte{0x30}, bytes.Repeat([]byte{0x11}, 50)...)}
	// MPEG-1 layer 3, 44.1 kHz, 128 kb/s frame: 417 bytes.
	mp3 := append([]byte{0xff, 0xfb, 0x90, 0x64}, make([]byte, 413)...)

	cases := []struct {
		name  string
		track *stream.Track
		unit  *stream.Unit
	}{
		{"opus", &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: 2},
			&stream.Unit{Key: true, Payload: [][]byte{{0xfc, 1, 2, 3, 4}}}},
		{"pcmu", &stream.Track{Codec: stream.CodecPCMU, ClockRate: 8000, SampleRate: 8000, Channels: 1},
			&stream.Unit{Key: true, Payload: [][]byte{bytes.Repeat([]byte{0x7f}, 160)}}},
		{"pcma", &stream.Track{Codec: stream.CodecPCMA, ClockRate: 8000, SampleRate: 8000, Channels: 1},
			&stream.Unit{Key: true, Payload: [][]byte{bytes.Repeat([]byte{0xd5}, 160)}}},
		{"vp8", &stream.Track{Codec: stream.CodecVP8, ClockRate: 90000},
			&stream.Unit{Key: true, Payload: [][]byte{vp8Key}}},
		{"vp9", &stream.Track{Codec: stream.CodecVP9, ClockRate: 90000},
			&stream.Unit{Key: true, Payload: [][]byte{vp9Key}}},
		{"av1", &stream.Track{Codec: stream.CodecAV1, ClockRate: 90000},
			&stream.Unit{Key: true, Payload: av1TU}},
		{"mp3", &stream.Track{Codec: stream.CodecMP3, ClockRate: 90000},
			&stream.Unit{Key: true, Payload: [][]byte{mp3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.unit.PTS = 40 * time.Millisecond
			c.unit.DTS = c.unit.PTS
			got := roundTrip(t, c.track, []*stream.Unit{c.unit})
			if len(got) != 1 {
				t.Fatalf("got %d units, want 1", len(got))
			}
			if !samePayload(got[0].Payload, c.unit.Payload) {
				t.Errorf("payload changed: %d parts of %d bytes, want %d parts", len(got[0].Payload), len(got[0].Payload[0]), len(c.unit.Payload))
			}
			if !got[0].Key {
				t.Errorf("not a key unit")
			}
		})
	}
}

func TestPacketizerSkipsUnknownCodecs(t *testing.T) {
	flac := &stream.Track{Codec: "flac", ClockRate: 44100}
	if _, err := newPacketizer([]*stream.Track{flac}); err == nil {
		t.Fatal("a stream with no RTSP-capable track must be refused")
	}
	pk, err := newPacketizer([]*stream.Track{flac, {Codec: stream.CodecOpus, ClockRate: 48000, Channels: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pk.desc.Medias) != 1 || len(pk.skipped) != 1 {
		t.Fatalf("medias %d skipped %v, want 1 and the flac track", len(pk.desc.Medias), pk.skipped)
	}
	// Units of the skipped track are ignored, not an error.
	m, pkts, _, err := pk.packets(&stream.Unit{Track: flac, Payload: [][]byte{{1}}})
	if m != nil || pkts != nil || err != nil {
		t.Fatalf("skipped track unit gave %v %v %v", m, pkts, err)
	}
}

func TestTimestampConversion(t *testing.T) {
	for _, rate := range []int{8000, 44100, 48000, 90000} {
		for _, d := range []time.Duration{0, time.Millisecond, 33366666, 10 * time.Hour, -40 * time.Millisecond} {
			ticks := durationToTicks(d, rate)
			back := ticksToDuration(ticks, rate)
			tick := time.Second / time.Duration(rate)
			if diff := d - back; diff < -tick || diff > tick {
				t.Errorf("rate %d: %v -> %d -> %v", rate, d, ticks, back)
			}
		}
	}
	// 24 h at 90 kHz does not overflow.
	if got := ticksToDuration(90000*86400, 90000); got != 24*time.Hour {
		t.Errorf("24h: %v", got)
	}
}
