package stream

import (
	"bytes"
	"testing"
)

func TestWithParams(t *testing.T) {
	sps, pps := []byte{0x67, 1}, []byte{0x68, 2}
	idr, aud := []byte{0x65, 3}, []byte{0x09, 0xf0}
	tr := &Track{Codec: CodecH264, SPS: sps, PPS: pps}
	for _, c := range []struct {
		name   string
		in     [][]byte
		wantNs [][]byte
	}{
		{"bare IDR", [][]byte{idr}, [][]byte{sps, pps, idr}},
		{"AUD stays first", [][]byte{aud, idr}, [][]byte{aud, sps, pps, idr}},
		{"already in band", [][]byte{sps, pps, idr}, [][]byte{sps, pps, idr}},
	} {
		got := tr.WithParams(c.in)
		if len(got) != len(c.wantNs) {
			t.Fatalf("%s: %d NALUs, want %d", c.name, len(got), len(c.wantNs))
		}
		for i := range got {
			if !bytes.Equal(got[i], c.wantNs[i]) {
				t.Fatalf("%s: NALU %d = %x, want %x", c.name, i, got[i], c.wantNs[i])
			}
		}
	}
	hevc := &Track{Codec: CodecH265, VPS: []byte{0x40, 1}, SPS: []byte{0x42, 1}, PPS: []byte{0x44, 1}}
	if got := hevc.WithParams([][]byte{{0x26, 1}}); len(got) != 4 || got[0][0] != 0x40 {
		t.Fatalf("H.265: %x, want VPS SPS PPS IDR", got)
	}
	opus := &Track{Codec: CodecOpus}
	if got := opus.WithParams([][]byte{{1}}); len(got) != 1 {
		t.Fatal("audio changed")
	}
}
