package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkFanOut measures one writer feeding N readers that keep up: ns and
// allocations per unit written (each delivered to all N readers). Units are
// allocated before the timer, as a publisher allocates them anyway; what is
// measured is the ring's own cost, which should allocate nothing.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("readers=%d", n), func(b *testing.B) {
			v := &Track{Codec: CodecH264}
			s := New("bench", []*Track{v}, Options{RingSize: 1 << 16, Mode: Lossless})
			units := make([]*Unit, b.N)
			payload := [][]byte{make([]byte, 1000)}
			for i := range units {
				units[i] = &Unit{Track: v, Key: i%60 == 0, Payload: payload}
			}
			var wg sync.WaitGroup
			for range n {
				r := s.NewReader(context.Background(), ReaderOptions{Protocol: "bench"})
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						if _, err := r.Read(); err != nil {
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, u := range units {
				if err := s.Write(u); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			wg.Wait()
		})
	}
}
