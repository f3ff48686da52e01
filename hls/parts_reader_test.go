package hls

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPartsReaderRanges serves a segment held as three parts through
// http.ServeContent and checks whole and ranged answers against the
// concatenated bytes, as a player's range requests would see them.
func TestPartsReaderRanges(t *testing.T) {
	parts := [][]byte{[]byte("moof0mdat0-aaaa"), []byte("m1"), []byte("moof2mdat2-ccccccccc")}
	whole := bytes.Join(parts, nil)
	for _, tc := range []struct {
		name, rng string
		want      []byte
		code      int
	}{
		{"whole", "", whole, http.StatusOK},
		{"inside one part", "bytes=2-6", whole[2:7], http.StatusPartialContent},
		{"across parts", "bytes=10-20", whole[10:21], http.StatusPartialContent},
		{"suffix", "bytes=-5", whole[len(whole)-5:], http.StatusPartialContent},
		{"from the middle", "bytes=16-", whole[16:], http.StatusPartialContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/seg", nil)
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "", time.Time{}, newPartsReader(parts))
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.code || !bytes.Equal(got, tc.want) {
				t.Fatalf("%s: %d %q, want %d %q", tc.rng, rec.Code, got, tc.code, tc.want)
			}
		})
	}
}
