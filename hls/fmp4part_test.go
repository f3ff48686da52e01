package hls

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// TestMarshalPartMatchesMediacommon checks that marshalPart writes the
// very bytes mediacommon's fmp4.Part.Marshal writes, for the parts MPS
// makes: video alone, video and audio, audio alone, with and without
// non-sync samples and composition offsets (B-frames: negative too), and
// an empty track.
func TestMarshalPartMatchesMediacommon(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := func(n int, video, bframes bool) []*fmp4.Sample {
		out := make([]*fmp4.Sample, n)
		for i := range out {
			payload := make([]byte, 1+rng.IntN(3000))
			for j := range payload {
				payload[j] = byte(rng.Uint32())
			}
			s := &fmp4.Sample{Duration: uint32(1000 + rng.IntN(3000)), Payload: payload}
			if video {
				s.IsNonSyncSample = i > 0
				if bframes {
					s.PTSOffset = int32(rng.IntN(9000) - 3000)
				}
			}
			out[i] = s
		}
		return out
	}
	cases := []struct {
		name   string
		tracks []*fmp4.PartTrack
	}{
		{"video key part", []*fmp4.PartTrack{{ID: 1, BaseTime: 90000, Samples: samples(3, true, false)}}},
		{"video non-key", []*fmp4.PartTrack{{ID: 1, BaseTime: 1 << 40, Samples: samples(3, true, false)[1:]}}},
		{"video b-frames and audio", []*fmp4.PartTrack{
			{ID: 1, BaseTime: 123456, Samples: samples(6, true, true)},
			{ID: 2, BaseTime: 4800, Samples: samples(5, false, false)},
		}},
		{"audio alone", []*fmp4.PartTrack{{ID: 1, BaseTime: 0, Samples: samples(9, false, false)}}},
		{"one sample", []*fmp4.PartTrack{{ID: 7, BaseTime: 42, Samples: samples(1, true, false)}}},
		{"empty track", []*fmp4.PartTrack{{ID: 1, BaseTime: 42, Samples: samples(2, true, true)}, {ID: 2, BaseTime: 9}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &fmp4.Part{SequenceNumber: uint32(i * 1000), Tracks: c.tracks}
			var want seekablebuffer.Buffer
			if err := p.Marshal(&want); err != nil {
				t.Fatal(err)
			}
			if got := marshalPart(p); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("marshalPart differs from mediacommon:\n got %x\nwant %x", head(got), head(want.Bytes()))
			}
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 200)] }

// BenchmarkMarshalPart compares marshalPart with mediacommon's marshaller
// on a 100 ms part of 30 fps video and 48 kHz AAC.
func BenchmarkMarshalPart(b *testing.B) {
	mk := func(n, size int, video bool) []*fmp4.Sample {
		out := make([]*fmp4.Sample, n)
		for i := range out {
			out[i] = &fmp4.Sample{Duration: 3000, Payload: make([]byte, size), IsNonSyncSample: video && i > 0, PTSOffset: 0}
		}
		return out
	}
	p := &fmp4.Part{SequenceNumber: 7, Tracks: []*fmp4.PartTrack{
		{ID: 1, BaseTime: 90000, Samples: mk(3, 2500, true)},
		{ID: 2, BaseTime: 48000, Samples: mk(5, 300, false)},
	}}
	b.Run("mps", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_ = marshalPart(p)
		}
	})
	b.Run("mediacommon", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var buf seekablebuffer.Buffer
			_ = p.Marshal(&buf)
		}
	})
}
