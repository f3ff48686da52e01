package srt

import (
	"bytes"
	"testing"
)

type recordWrites struct{ sizes []int }

func (r *recordWrites) Write(p []byte) (int, error) {
	r.sizes = append(r.sizes, len(p))
	return len(p), nil
}

func TestChunkWriterSendsWholeTSPacketsPerSRTPayload(t *testing.T) {
	var rec recordWrites
	c := newChunkWriter(&rec)
	pkt := bytes.Repeat([]byte{0x47}, 188)
	for i := 0; i < 10; i++ {
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write(bytes.Repeat(pkt, 8)); err != nil { // one write spanning chunks
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []int{1316, 1316, 188 * 4}
	if len(rec.sizes) != len(want) {
		t.Fatalf("writes %v, want %v", rec.sizes, want)
	}
	for i := range want {
		if rec.sizes[i] != want[i] {
			t.Fatalf("writes %v, want %v", rec.sizes, want)
		}
	}
}
