package dash

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkMarshalLive measures writing a live ladder manifest as the HLS
// server does on every reload: 3 rungs, with a 7-segment window and with a
// one-hour DVR window of 1 s segments, with even durations (a fixed GOP:
// the timeline is one run) and uneven ones (every segment its own S).
func BenchmarkMarshalLive(b *testing.B) {
	for _, c := range []struct {
		n      int
		uneven uint64
	}{{7, 0}, {3600, 0}, {3600, 3000}} {
		n := c.n
		name := strconv.Itoa(n) + "segments"
		if c.uneven > 0 {
			name += "-uneven"
		}
		b.Run(name, func(b *testing.B) {
			p := &Presentation{Dynamic: true, AvailabilityStart: time.Now(), Now: time.Now(), UpdatePeriod: time.Second,
				TimeShift: time.Duration(n) * time.Second, Video: true}
			for r := range 3 {
				rend := Rendition{ID: "live/cam/" + strconv.Itoa(r), Bandwidth: 1e6, Codecs: []string{"avc1.64001f", "mp4a.40.2"},
					Width: 1280, Height: 720, Timescale: 90000, Init: "r/init_x.mp4", Media: "r/seg_x_$Number$.mp4"}
				var at uint64
				for i := range n {
					d := 90000 + c.uneven*uint64(i%3)
					rend.Segments = append(rend.Segments, Segment{Start: at, Duration: d})
					at += d
				}
				p.Renditions = append(p.Renditions, rend)
			}
			b.ReportAllocs()
			var size int
			for b.Loop() {
				out, err := p.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.ReportMetric(float64(size), "bytes/op-manifest")
		})
	}
}
