package highlights

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"mps/ai/internal/ffexec"
)

// span is a time range in seconds.
type span struct{ Start, End float64 }

// analysis is what the one ffmpeg pass found, per second of the file.
type analysis struct {
	duration float64
	audio    bool
	motion   []float64 // mean absolute frame difference per second
	loudness []float64 // highest momentary loudness per second, LUFS
	cuts     []float64 // scene-cut times
	black    []span
	silence  []span
}

// analyze runs scdet (cuts and frame difference), blackdetect, ebur128
// (momentary loudness) and silencedetect over input in one ffmpeg pass.
// The picture is scaled down first: the measures do not need detail and
// the pass stays several times faster than real time.
func analyze(ctx context.Context, input string, dur float64, audio bool, progress func(float64)) (*analysis, error) {
	dir, err := ffexec.TempDir("mps-highlights-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	vfile, afile := filepath.Join(dir, "v.txt"), filepath.Join(dir, "a.txt")
	graph := "[0:v:0]scale=w=320:h=-2:flags=fast_bilinear,scdet=threshold=10," +
		"blackdetect=d=0.5:pix_th=0.10,metadata=mode=print:file=" + vfile + "[v]"
	args := []string{"-i", input}
	outs := []string{"-map", "[v]", "-f", "null", "-"}
	if audio {
		graph += ";[0:a:0]ebur128=metadata=1,silencedetect=n=-50dB:d=0.5,ametadata=mode=print:file=" + afile + "[a]"
		outs = append(outs, "-map", "[a]", "-f", "null", "-")
	}
	args = append(args, "-filter_complex", graph)
	args = append(args, outs...)
	if err := ffexec.FFmpeg(ctx, args, dur, progress); err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	n := int(math.Ceil(dur))
	if n < 1 {
		n = 1
	}
	a := &analysis{duration: dur, audio: audio, motion: make([]float64, n), loudness: make([]float64, n)}
	if err := a.readVideo(vfile, n); err != nil {
		return nil, err
	}
	if audio {
		if err := a.readAudio(afile, n); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// frameMeta is one frame's block of a metadata=mode=print file.
type frameMeta struct {
	t    float64
	keys map[string]string
}

// readMeta calls fn for every frame block of a metadata print file.
func readMeta(path string, fn func(frameMeta)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("analysis: %w", err)
	}
	defer f.Close()
	return scanMeta(f, fn)
}

func num(m map[string]string, k string) (float64, bool) {
	v, ok := m[k]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func (a *analysis) second(t float64) int {
	return min(max(int(t), 0), len(a.motion)-1)
}

func (a *analysis) readVideo(path string, n int) error {
	count := make([]int, n)
	var blackStart = -1.0
	err := readMeta(path, func(f frameMeta) {
		s := a.second(f.t)
		if v, ok := num(f.keys, "lavfi.scd.mafd"); ok {
			a.motion[s] += v
			count[s]++
		}
		if v, ok := num(f.keys, "lavfi.scd.time"); ok {
			a.cuts = append(a.cuts, v)
		}
		if v, ok := num(f.keys, "lavfi.black_start"); ok {
			blackStart = v
		}
		if v, ok := num(f.keys, "lavfi.black_end"); ok && blackStart >= 0 {
			a.black = append(a.black, span{blackStart, v})
			blackStart = -1
		}
	})
	if blackStart >= 0 {
		a.black = append(a.black, span{blackStart, a.duration})
	}
	for i := range a.motion {
		if count[i] > 0 {
			a.motion[i] /= float64(count[i])
		}
	}
	return err
}

func (a *analysis) readAudio(path string, n int) error {
	for i := range a.loudness {
		a.loudness[i] = -120
	}
	silenceStart := -1.0
	err := readMeta(path, func(f frameMeta) {
		s := a.second(f.t)
		if v, ok := num(f.keys, "lavfi.r128.M"); ok && v > a.loudness[s] {
			a.loudness[s] = v
		}
		if v, ok := num(f.keys, "lavfi.silence_start"); ok {
			silenceStart = max(v, 0)
		}
		if v, ok := num(f.keys, "lavfi.silence_end"); ok && silenceStart >= 0 {
			a.silence = append(a.silence, span{silenceStart, v})
			silenceStart = -1
		}
	})
	if silenceStart >= 0 {
		a.silence = append(a.silence, span{silenceStart, a.duration})
	}
	return err
}
