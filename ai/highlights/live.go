package highlights

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Names of the live graph's print filters: ffmpeg prefixes each line
// they log with "[NAME @ 0x...] ".
const (
	liveVideoTag = "[metadata@hlv @ "
	liveAudioTag = "[ametadata@hla @ "
)

// LiveGraph is the analysis filter graph of a live input (MPEG-TS on
// stdin) and its null outputs: the same measures as the file pass,
// printed to ffmpeg's log (run it with -loglevel info -nostats) as frames
// go by, so Timeline.Feed can follow a stream while it plays. The log is
// used rather than a metadata file because a file is written through a
// 32 KB buffer, which holds back a quarter of a minute of measures.
func LiveGraph(audio bool) (graph string, maps []string) {
	graph = "[0:v:0]scale=w=320:h=-2:flags=fast_bilinear,scdet=threshold=10," +
		"blackdetect=d=0.5:pix_th=0.10,metadata@hlv=mode=print[v]"
	maps = []string{"-map", "[v]", "-f", "null", "-"}
	if audio {
		graph += ";[0:a:0]ebur128=metadata=1,silencedetect=n=-50dB:d=0.5,ametadata@hla=mode=print[a]"
		maps = append(maps, "-map", "[a]", "-f", "null", "-")
	}
	return graph, maps
}

// Timeline gathers the measures of a live stream second by second, from
// the metadata LiveGraph prints, and picks the best clips of any stretch
// of it with the same scoring as the file operation. Times are seconds of
// the stream from its first frame. It is safe for concurrent use: one
// goroutine feeds it while another picks.
type Timeline struct {
	mu       sync.Mutex
	hasAudio bool
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
	return &Timeline{hasAudio: audio, blackAt: -1, quietAt: -1}
}

// grow makes room for second s.
func (tl *Timeline) grow(s int) {
	for len(tl.motion) <= s {
		tl.motion = append(tl.motion, 0)
		tl.mcount = append(tl.mcount, 0)
		tl.loudness = append(tl.loudness, -120)
	}
}

// Feed reads ffmpeg's log until r ends, taking the print filters' lines
// into the timeline; every other line goes to other (may be nil), for
// error messages.
func (tl *Timeline) Feed(r io.Reader, other func(string)) error {
	var video, audio lineFeed
	video.fn, audio.fn = tl.video, tl.audio
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, liveVideoTag):
			video.line(afterTag(line))
		case strings.HasPrefix(line, liveAudioTag):
			audio.line(afterTag(line))
		case other != nil:
			other(line)
		}
	}
	video.flush()
	audio.flush()
	return sc.Err()
}

func afterTag(line string) string {
	if i := strings.Index(line, "] "); i >= 0 {
		return line[i+2:]
	}
	return line
}

// lineFeed gathers one print filter's lines into frame blocks.
type lineFeed struct {
	cur frameMeta
	fn  func(frameMeta)
}

func (f *lineFeed) line(line string) {
	if strings.HasPrefix(line, "frame:") {
		f.flush()
		f.cur = frameMeta{t: -1, keys: map[string]string{}}
		if i := strings.Index(line, "pts_time:"); i >= 0 {
			if t, err := strconv.ParseFloat(strings.TrimSpace(line[i+9:]), 64); err == nil {
				f.cur.t = t
			}
		}
		return
	}
	if k, v, ok := strings.Cut(line, "="); ok && f.cur.keys != nil {
		f.cur.keys[k] = v
	}
}

func (f *lineFeed) flush() {
	if f.cur.keys != nil && f.cur.t >= 0 {
		f.fn(f.cur)
	}
	f.cur = frameMeta{}
}

// video takes one picture frame's measures.
func (tl *Timeline) video(f frameMeta) {
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
}

// audio takes one sound frame's measures.
func (tl *Timeline) audio(f frameMeta) {
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
}

// Measured returns the stream time up to which every measure has
// arrived: the picture's latest time, or the lesser of picture and sound.
func (tl *Timeline) Measured() float64 {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.hasAudio {
		return min(tl.videoT, tl.audioT)
	}
	return tl.videoT
}

// Pick scores the whole seconds of [from, to) and returns up to top clips
// of minLen-maxLen seconds, best first, in stream time. No clip holds a
// second that touches one of the taken spans (clips picked before), and a
// black or silent span still open at to counts as running to to.
func (tl *Timeline) Pick(from, to float64, top int, minLen, maxLen float64, taken [][2]float64) []Clip {
	tl.mu.Lock()
	a, off := tl.window(from, to)
	tl.mu.Unlock()
	if a == nil {
		return nil
	}
	secs := scoreSeconds(a, nil, nil)
	for i := range secs {
		t0, t1 := off+float64(i), off+float64(i+1)
		for _, sp := range taken {
			if sp[0] < t1-0.25 && t0+0.25 < sp[1] {
				secs[i].Excluded, secs[i].Score = true, 0
			}
		}
	}
	clips := pickClips(secs, a, top, minLen, maxLen)
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
	a := &analysis{duration: float64(s1 - s0), audio: tl.hasAudio,
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
