package highlights

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// LiveGraph is the analysis filter graph of a live input (MPEG-TS on
// stdin): the same measures as the file pass, printed as metadata to the
// descriptors vfd (picture) and afd (sound) as frames go by, so a
// Timeline can follow a stream while it plays.
func LiveGraph(audio bool, vfd, afd int) (graph string, maps []string) {
	graph = "[0:v:0]scale=w=320:h=-2:flags=fast_bilinear,scdet=threshold=10," +
		"blackdetect=d=0.5:pix_th=0.10,metadata=mode=print:file=pipe\\\\:" + strconv.Itoa(vfd) + "[v]"
	maps = []string{"-map", "[v]", "-f", "null", "-"}
	if audio {
		graph += ";[0:a:0]ebur128=metadata=1,silencedetect=n=-50dB:d=0.5,ametadata=mode=print:file=pipe\\\\:" +
			strconv.Itoa(afd) + "[a]"
		maps = append(maps, "-map", "[a]", "-f", "null", "-")
	}
	return graph, maps
}

// Timeline gathers the measures of a live stream second by second, from
// the metadata LiveGraph prints, and picks the best clips of any stretch
// of it with the same scoring as the file operation. Times are seconds of
// the stream from its first frame. It is safe for concurrent use: one
// goroutine per descriptor feeds it while another picks.
type Timeline struct {
	mu       sync.Mutex
	audio    bool
	motion   []float64
	mcount   []int
	loudness []float64
	cuts     []float64
	black    []span
	silence  []span
	blackAt  float64
	quietAt  float64
	videoT   float64 // latest picture time seen
	audioT   float64 // latest sound time seen
}

// NewTimeline starts an empty timeline; audio says whether sound is
// measured (no sound: loudness and silence do not count).
func NewTimeline(audio bool) *Timeline {
	return &Timeline{audio: audio, blackAt: -1, quietAt: -1}
}

// grow makes room for second s.
func (tl *Timeline) grow(s int) {
	for len(tl.motion) <= s {
		tl.motion = append(tl.motion, 0)
		tl.mcount = append(tl.mcount, 0)
		tl.loudness = append(tl.loudness, -120)
	}
}

// FeedVideo reads the picture metadata until r ends.
func (tl *Timeline) FeedVideo(r io.Reader) error {
	return scanMeta(r, func(f frameMeta) {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		s := max(int(f.t), 0)
		tl.grow(s)
		tl.videoT = max(tl.videoT, f.t)
		if v, ok := num(f.keys, "lavfi.scd.mafd"); ok {
			tl.motion[s] += v
			tl.mcount[s]++
		}
		if v, ok := num(f.keys, "lavfi.scd.time"); ok {
			tl.cuts = append(tl.cuts, v)
		}
		if v, ok := num(f.keys, "lavfi.black_start"); ok {
			tl.blackAt = v
		}
		if v, ok := num(f.keys, "lavfi.black_end"); ok && tl.blackAt >= 0 {
			tl.black = append(tl.black, span{tl.blackAt, v})
			tl.blackAt = -1
		}
	})
}

// FeedAudio reads the sound metadata until r ends.
func (tl *Timeline) FeedAudio(r io.Reader) error {
	return scanMeta(r, func(f frameMeta) {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		s := max(int(f.t), 0)
		tl.grow(s)
		tl.audioT = max(tl.audioT, f.t)
		if v, ok := num(f.keys, "lavfi.r128.M"); ok && v > tl.loudness[s] {
			tl.loudness[s] = v
		}
		if v, ok := num(f.keys, "lavfi.silence_start"); ok {
			tl.quietAt = max(v, 0)
		}
		if v, ok := num(f.keys, "lavfi.silence_end"); ok && tl.quietAt >= 0 {
			tl.silence = append(tl.silence, span{tl.quietAt, v})
			tl.quietAt = -1
		}
	})
}

// Measured returns the stream time up to which every measure has
// arrived: the picture's latest time, or the lesser of picture and sound.
func (tl *Timeline) Measured() float64 {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.audio {
		return min(tl.videoT, tl.audioT)
	}
	return tl.videoT
}

// Pick scores the whole seconds of [from, to) and returns up to top clips
// of minLen-maxLen seconds, best first, in stream time. A black or silent
// span still open at to counts as running to to.
func (tl *Timeline) Pick(from, to float64, top int, minLen, maxLen float64) []Clip {
	tl.mu.Lock()
	a, off := tl.window(from, to)
	tl.mu.Unlock()
	if a == nil {
		return nil
	}
	clips := pickClips(scoreSeconds(a, nil, nil), a, top, minLen, maxLen)
	for i := range clips {
		clips[i].Start += off
		clips[i].End += off
		clips[i].Peak += off
	}
	return clips
}

// window copies [from, to) into an analysis counted from its first
// second; it returns that second. The caller holds mu.
func (tl *Timeline) window(from, to float64) (*analysis, float64) {
	s0 := max(int(math.Ceil(from)), 0)
	s1 := min(int(to), len(tl.motion))
	if s1-s0 < 1 {
		return nil, 0
	}
	off := float64(s0)
	a := &analysis{duration: float64(s1 - s0), audio: tl.audio,
		motion: make([]float64, s1-s0), loudness: append([]float64(nil), tl.loudness[s0:s1]...)}
	for i := range a.motion {
		if c := tl.mcount[s0+i]; c > 0 {
			a.motion[i] = tl.motion[s0+i] / float64(c)
		}
	}
	for _, c := range tl.cuts {
		if c >= off && c < float64(s1) {
			a.cuts = append(a.cuts, c-off)
		}
	}
	shift := func(spans []span, open float64) []span {
		if open >= 0 {
			spans = append(spans, span{open, float64(s1)})
		}
		var out []span
		for _, sp := range spans {
			if sp.End > off && sp.Start < float64(s1) {
				out = append(out, span{max(sp.Start, off) - off, min(sp.End, float64(s1)) - off})
			}
		}
		return out
	}
	a.black = shift(append([]span(nil), tl.black...), tl.blackAt)
	a.silence = shift(append([]span(nil), tl.silence...), tl.quietAt)
	return a, off
}

// Forget drops the cuts and spans that ended before second before, so
// the lists a pick walks stay short on a stream that runs for days (the
// per-second measures cost 24 bytes a second); times stay counted from
// the stream's first frame.
func (tl *Timeline) Forget(before float64) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	keepCuts := tl.cuts[:0]
	for _, c := range tl.cuts {
		if c >= before {
			keepCuts = append(keepCuts, c)
		}
	}
	tl.cuts = keepCuts
	drop := func(spans []span) []span {
		out := spans[:0]
		for _, sp := range spans {
			if sp.End >= before {
				out = append(out, sp)
			}
		}
		return out
	}
	tl.black, tl.silence = drop(tl.black), drop(tl.silence)
}

// scanMeta is readMeta over a stream: fn gets each frame's block as soon
// as the next one starts.
func scanMeta(r io.Reader, fn func(frameMeta)) error {
	sc := bufio.NewScanner(r)
	cur := frameMeta{t: -1}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "frame:") {
			if cur.t >= 0 {
				fn(cur)
			}
			cur = frameMeta{t: -1, keys: map[string]string{}}
			if i := strings.Index(line, "pts_time:"); i >= 0 {
				if t, err := strconv.ParseFloat(strings.TrimSpace(line[i+9:]), 64); err == nil {
					cur.t = t
				}
			}
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && cur.keys != nil {
			cur.keys[k] = v
		}
	}
	if cur.t >= 0 {
		fn(cur)
	}
	return sc.Err()
}
