package speech

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"mps/internal/testutil/speechtest"
)

// TestRecognizeKeepsTimeAcrossAudioGaps: a stream whose audio stops for
// 4 s (a publisher's dropout; here two MPEG-TS pieces with a timestamp
// jump between them) gets its later words at their real time, not 4 s
// early — the recogniser counts samples, so the gap must be filled.
func TestRecognizeKeepsTimeAcrossAudioGaps(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	piece := func(name string, s speechtest.Sentence, offset float64) (string, float64) {
		pcm, _ := speechtest.Layout(t, []speechtest.Sentence{s}, 0.5, 0.5)
		raw := filepath.Join(dir, name+".pcm")
		var b bytes.Buffer
		_ = binary.Write(&b, binary.LittleEndian, pcm)
		if err := os.WriteFile(raw, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name+".ts")
		cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
			"-f", "s16le", "-ar", "16000", "-ac", "1", "-i", raw, "-c:a", "aac", "-ar", "48000",
			"-output_ts_offset", strconv.FormatFloat(offset, 'f', 3, 64), "-f", "mpegts", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, b)
		}
		return out, float64(len(pcm)) / speechtest.Rate
	}
	a, durA := piece("a", speechtest.Set[0], 0)
	const gap = 4.0
	b, _ := piece("b", speechtest.Set[1], durA+gap)
	joined := filepath.Join(dir, "gap.ts")
	var all []byte
	for _, f := range []string{a, b} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	if err := os.WriteFile(joined, all, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := (&Local{}).Model("en")
	if err != nil {
		t.Fatal(err)
	}
	var segs []Segment
	if err := Recognize(context.Background(), m, Input{Args: []string{"-i", joined}}, func(s Segment) { segs = append(segs, s) }); err != nil {
		t.Fatal(err)
	}
	if len(segs) < 2 {
		t.Fatalf("segments %+v, want one per sentence", segs)
	}
	last := segs[len(segs)-1]
	want := durA + gap + 0.5 // the second sentence's lead-in
	if last.Start < want-0.8 || last.Start > want+0.8 {
		t.Fatalf("second sentence at %.2f s, want %.2f (±0.8): the %.0f s gap was lost", last.Start, want, gap)
	}
}
