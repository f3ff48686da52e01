package recorder

import (
	"bytes"
	"os"
	"testing"
)

// FuzzProbeFMP4 feeds arbitrary bytes to the index's file prober: a
// damaged or hostile file in the recordings directory must not crash the
// server at start.
func FuzzProbeFMP4(f *testing.F) {
	if data, err := os.ReadFile(testdata("h264_aac_1s_gop.mp4")); err == nil {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Add([]byte{0, 0, 0, 8, 'f', 't', 'y', 'p'})
	f.Add([]byte{0, 0, 0, 16, 'm', 'o', 'o', 'f', 0, 0, 0, 8, 't', 'r', 'u', 'n'})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = probeFMP4(bytes.NewReader(data), int64(len(data)))
		_, _ = probeTS(bytes.NewReader(data), int64(len(data)))
	})
}
