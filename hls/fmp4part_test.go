package hls

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// TestMarshalPartMatchesMediacommon checks that marshalPart writes the
// very bytes mediacommon's fmp4.Part.Marshal writes, for the parts MPS
// makes: video alone (NAL units, given to mediacommon as their AVCC form),
// video and audio, audio alone, with and without non-sync samples and
// composition offsets (B-frames: negative too), and an empty track.
func TestMarshalPartMatchesMediacommon(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bytesN := func(n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		return b
	}
	samples := func(n int, video, bframes bool) []*partSample {
		out := make([]*partSample, n)
		for i := range out {
			s := &partSample{Sample: fmp4.Sample{Duration: uint32(1000 + rng.IntN(3000))}}
			if video {
				for range 1 + rng.IntN(3) {
					s.nalus = append(s.nalus, bytesN(1+rng.IntN(3000)))
				}
				s.IsNonSyncSample = i > 0
				if bframes {
					s.PTSOffset = int32(rng.IntN(9000) - 3000)
				}
			} else {
				s.Payload = bytesN(1 + rng.IntN(600))
			}
			out[i] = s
		}
		return out
	}
	cases := []struct {
		name   string
		tracks []partTrack
	}{
		{"video key part", []partTrack{{ID: 1, BaseTime: 90000, Samples: samples(3, true, false)}}},
		{"video non-key", []partTrack{{ID: 1, BaseTime: 1 << 40, Samples: samples(3, true, false)[1:]}}},
		{"video b-frames and audio", []partTrack{
			{ID: 1, BaseTime: 123456, Samples: samples(6, true, true)},
			{ID: 2, BaseTime: 4800, Samples: samples(5, false, false)},
		}},
		{"audio alone", []partTrack{{ID: 1, BaseTime: 0, Samples: samples(9, false, false)}}},
		{"one sample", []partTrack{{ID: 7, BaseTime: 42, Samples: samples(1, true, false)}}},
		{"empty track", []partTrack{{ID: 1, BaseTime: 42, Samples: samples(2, true, true)}, {ID: 2, BaseTime: 9}}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := mediacommonPart(t, uint32(i*1000), c.tracks)
			if got := marshalPart(uint32(i*1000), c.tracks); !bytes.Equal(got, want) {
				t.Errorf("marshalPart differs from mediacommon:\n got %x\nwant %x", head(got), head(want))
			}
		})
	}
}

// mediacommonPart marshals the same part with mediacommon, video samples
// as their AVCC form.
func mediacommonPart(t testing.TB, seq uint32, tracks []partTrack) []byte {
	p := &fmp4.Part{SequenceNumber: seq}
	for _, tr := range tracks {
		pt := &fmp4.PartTrack{ID: tr.ID, BaseTime: tr.BaseTime}
		for _, s := range tr.Samples {
			smp := s.Sample
			if s.nalus != nil {
				avcc, err := h264.AVCC(s.nalus).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				smp.Payload = avcc
			}
			pt.Samples = append(pt.Samples, &smp)
		}
		p.Tracks = append(p.Tracks, pt)
	}
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func head(b []byte) []byte { return b[:min(len(b), 200)] }

// BenchmarkMarshalPart compares marshalPart with mediacommon's marshaller
// (given the AVCC form it needed before) on a 100 ms part of 30 fps video
// and 48 kHz AAC.
func BenchmarkMarshalPart(b *testing.B) {
	video := make([]*partSample, 3)
	for i := range video {
		video[i] = &partSample{Sample: fmp4.Sample{Duration: 3000, IsNonSyncSample: i > 0}, nalus: [][]byte{make([]byte, 20), make([]byte, 2500)}}
	}
	audio := make([]*partSample, 5)
	for i := range audio {
		audio[i] = &partSample{Sample: fmp4.Sample{Duration: 1024, Payload: make([]byte, 300)}}
	}
	tracks := []partTrack{{ID: 1, BaseTime: 90000, Samples: video}, {ID: 2, BaseTime: 48000, Samples: audio}}
	b.Run("mps", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_ = marshalPart(7, tracks)
		}
	})
	b.Run("mediacommon", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_ = mediacommonPart(b, 7, tracks)
		}
	})
}
