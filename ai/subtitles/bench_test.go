package subtitles

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"mps/ai/speech"
	"mps/internal/testutil/speechtest"
)

// BenchmarkLocalSpeechSet transcribes the fixed test set (21 flite
// sentences in voices slt, awb and rms over a test picture) with the local
// engine and reports the word error rate, the share of sentences with a cue
// starting within 0.5 s of the sentence start, and the speed against real
// time. Run it under `taskset -c 0` for the one-core figure: ffmpeg and
// pocketsphinx inherit the affinity.
func BenchmarkLocalSpeechSet(b *testing.B) {
	needTools(b)
	pcm, placed := speechtest.Layout(b, speechtest.Set, 1.0, 1.5)
	in := speechtest.Video(b, b.TempDir(), "set.mp4", pcm)
	audio := float64(len(pcm)) / speechtest.Rate
	var (
		wer, onTime float64
		took        time.Duration
	)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tr, err := (&speech.Local{}).Transcribe(context.Background(), in, "en", nil)
		if err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		var ref []string
		for _, p := range placed {
			ref = append(ref, speechtest.Words(p.Text)...)
		}
		wer = speechtest.WER(ref, speechtest.Words(tr.Text))
		cues := Build(tr, DefaultLayout)
		hit := 0
		for _, p := range placed {
			for _, c := range cues {
				if math.Abs(c.Start-p.Start) <= 0.5 {
					hit++
					break
				}
			}
		}
		onTime = float64(hit) / float64(len(placed))
		if i == 0 {
			b.Logf("heard: %s", strings.Join(speechtest.Words(tr.Text), " "))
		}
	}
	b.ReportMetric(wer*100, "WER-%")
	b.ReportMetric(onTime*100, "cue-starts-within-0.5s-%")
	b.ReportMetric(audio/(took.Seconds()/float64(b.N)), "x-realtime")
	b.ReportMetric(audio, "audio-s")
}
