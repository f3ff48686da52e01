package vod

import (
	"math"
	"testing"
)

// FuzzOffset: parsing never panics and yields a finite, non-negative time.
func FuzzOffset(f *testing.F) {
	for _, s := range []string{"3.5", "3.5s", "1m30s", "00:01:02.5", "10%", "", "-1", "1e309", "NaN", "::", "100%", "1:2:3:4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Offset(s).Seconds(60)
		if err != nil {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("Offset(%q) = %v", s, v)
		}
	})
}
