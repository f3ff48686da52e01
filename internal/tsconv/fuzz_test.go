package tsconv

import (
	"bytes"
	"testing"
)

// FuzzDemuxer feeds arbitrary bytes to the demuxer: it must return an
// error or units, never panic or loop. Seeds in testdata/fuzz/FuzzDemuxer
// are small real streams made by ffmpeg (H.264+AAC, H.265, Opus, MP3).
func FuzzDemuxer(f *testing.F) {
	f.Add([]byte{0x47, 0x40, 0x00, 0x10, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDemuxer(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(d.Tracks()) == 0 {
			t.Fatal("demuxer without tracks")
		}
		for i := 0; i < 100000; i++ {
			u, err := d.ReadUnit()
			if err != nil {
				return
			}
			if u.Track == nil || len(u.Payload) == 0 {
				t.Fatalf("unit %d without track or payload", i)
			}
			// Whatever comes out must be writable again.
			var buf bytes.Buffer
			m, err := NewMuxer(&buf, d.Tracks())
			if err != nil {
				t.Fatalf("NewMuxer on demuxed tracks: %v", err)
			}
			_ = m.WriteUnit(u)
		}
		t.Fatal("demuxer did not end")
	})
}
