// Package speechtest makes test media with known speech: sentences spoken
// by ffmpeg's flite voices, laid out on a timeline with known starts and
// muxed over a test picture. The ai tests and benchmarks share it so the
// figures they report come from the same fixed set.
package speechtest

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Sentence is one line of the test set and the flite voice that says it.
type Sentence struct {
	Text  string
	Voice string
}

// Set is the fixed test set: 21 sentences, 7 per voice (slt, awb, rms),
// words a general English language model knows.
var Set = []Sentence{
	{"the weather is nice today", "slt"},
	{"please open the door for me", "awb"},
	{"we will meet again next week", "rms"},
	{"the train leaves at seven in the morning", "slt"},
	{"i would like a cup of coffee", "awb"},
	{"she reads a book every night", "rms"},
	{"the children are playing in the park", "slt"},
	{"turn left at the next corner", "awb"},
	{"this is the best day of the year", "rms"},
	{"he bought a new car last month", "slt"},
	{"the meeting starts in ten minutes", "awb"},
	{"my brother lives in a small town", "rms"},
	{"the dog ran across the street", "slt"},
	{"we need more time to finish the work", "awb"},
	{"the water in the lake is very cold", "rms"},
	{"can you help me find my keys", "slt"},
	{"the store closes at nine tonight", "awb"},
	{"they are going to the city on friday", "rms"},
	{"the music was too loud last night", "slt"},
	{"our house has a red roof", "awb"},
	{"the sun will rise early tomorrow", "rms"},
}

// Rate is the sample rate of the generated speech.
const Rate = 16000

// Placed is a sentence and where it starts and ends in the media, in
// seconds.
type Placed struct {
	Sentence
	Start, End float64
}

// Speak returns flite's speech of s as 16 kHz mono s16le samples.
func Speak(t testing.TB, s Sentence) []int16 {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "flite=text='"+s.Text+"':voice="+s.Voice,
		"-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("flite %q: %v: %s", s.Text, err, errb.String())
	}
	pcm := make([]int16, out.Len()/2)
	_ = binary.Read(&out, binary.LittleEndian, pcm)
	return pcm
}

// Layout speaks the sentences one after another: lead seconds of
// silence, then each sentence followed by gap seconds of silence. It
// returns the samples and where each sentence sits.
func Layout(t testing.TB, set []Sentence, lead, gap float64) ([]int16, []Placed) {
	t.Helper()
	pcm := make([]int16, int(lead*Rate))
	var placed []Placed
	for _, s := range set {
		sp := Speak(t, s)
		start := float64(len(pcm)) / Rate
		pcm = append(pcm, sp...)
		placed = append(placed, Placed{Sentence: s, Start: start, End: float64(len(pcm)) / Rate})
		pcm = append(pcm, make([]int16, int(gap*Rate))...)
	}
	return pcm, placed
}

// Video writes the samples muxed under a 320x240 test picture into an
// H.264/AAC file name (.mp4, .ts, .mkv...) in dir, and returns its path.
func Video(t testing.TB, dir, name string, pcm []int16) string {
	t.Helper()
	raw := filepath.Join(dir, name+".pcm")
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, pcm)
	if err := os.WriteFile(raw, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "s16le", "-ar", "16000", "-ac", "1", "-i", raw,
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-map", "1:v", "-map", "0:a", "-shortest",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-ar", "48000"}
	if strings.HasSuffix(name, ".mp4") {
		args = append(args, "-movflags", "+faststart")
	}
	cmd := exec.Command("ffmpeg", append(args, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	_ = os.Remove(raw)
	return out
}

// Words splits text into lower-case words without punctuation, for WER.
func Words(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	})
	return f
}

// WER is the word error rate of hyp against ref: (substitutions +
// deletions + insertions) / len(ref), by edit distance.
func WER(ref, hyp []string) float64 {
	if len(ref) == 0 {
		return 0
	}
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			c := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(hyp)]) / float64(len(ref))
}
