package quality

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"mps/ai/ffmeta"
)

// video reads the no-reference picture measures.
func (p *pass) video() error {
	read := func(name string) ([]ffmeta.Frame, error) { return ffmeta.ParseFile(filepath.Join(p.tmp, name)) }
	st, err := read(statsMeta)
	if err != nil {
		return err
	}
	si, err := read(sitiMeta)
	if err != nil {
		return err
	}
	bl, err := read(blurMeta)
	if err != nil {
		return err
	}
	nz, err := read(noiseMeta)
	if err != nil {
		return err
	}
	v := &VideoStats{Frames: len(st), Width: p.in.info.Width, Height: p.in.info.Height,
		Resolution: fmt.Sprintf("%dx%d", p.in.info.Width, p.in.info.Height)}
	s := p.rep.Series
	s["brightness"] = series(st, "lavfi.signalstats.YAVG", nil)
	s["saturation"] = series(st, "lavfi.signalstats.SATAVG", nil)
	s["out_of_range"] = series(st, "lavfi.signalstats.TOUT", nil)
	s["si"] = series(si, "lavfi.siti.si", nil)
	// siti's TI is the difference to the previous frame it saw: valid on
	// the second frame of each selected pair only.
	s["ti"] = series(si, "lavfi.siti.ti", func(i int) bool { return i%2 == 1 })
	s["blur"] = series(bl, "lavfi.blur", nil)
	s["blockiness"] = series(bl, "lavfi.block", nil)
	s["noise"] = series(nz, "lavfi.signalstats.YAVG", nil)
	v.Brightness, v.Saturation, v.OutOfRange = summarize(s["brightness"].Value), summarize(s["saturation"].Value), summarize(s["out_of_range"].Value)
	v.SI, v.TI = summarize(s["si"].Value), summarize(s["ti"].Value)
	v.Blur, v.Blockiness, v.Noise = summarize(s["blur"].Value), summarize(s["blockiness"].Value), summarize(s["noise"].Value)
	fps := p.in.info.FPS
	if fps <= 0 {
		fps = 25
	}
	var black, dup, frozen int
	run := 0
	for i, f := range st {
		if ymax, ok := f.Float("lavfi.signalstats.YMAX"); ok && ymax < 40 {
			black++
		}
		d, _ := f.Float("lavfi.signalstats.YDIF")
		if i > 0 && d < 0.01 {
			dup++
			run++
			if run == int(fps) {
				frozen += run
			} else if run > int(fps) {
				frozen++
			}
		} else {
			run = 0
		}
	}
	if n := float64(len(st)); n > 0 {
		v.BlackShare, v.DuplicatedShare, v.FrozenShare = round4(float64(black)/n), round4(float64(dup)/n), round4(float64(frozen)/n)
	}
	p.rep.Video = v
	return nil
}

// timing reads the video packets' timestamps (no decode) for the frame
// rate, PTS jitter and dropped frames, and the keyframes' sizes (decoding
// keyframes only) for resolution changes.
func (p *pass) timing(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time", "-of", "csv=p=0", p.in.path).Output()
	if err != nil {
		return fmt.Errorf("ffprobe packets: %w", err)
	}
	var pts []float64
	for _, l := range strings.Fields(string(out)) {
		if x, err := strconv.ParseFloat(strings.Trim(l, ","), 64); err == nil {
			pts = append(pts, x)
		}
	}
	sort.Float64s(pts)
	v := p.rep.Video
	if len(pts) >= 2 {
		var iv []float64
		for i := 1; i < len(pts); i++ {
			iv = append(iv, pts[i]-pts[i-1])
		}
		sorted := append([]float64(nil), iv...)
		sort.Float64s(sorted)
		nominal := sorted[len(sorted)/2]
		v.FPS = round4(float64(len(iv)) / (pts[len(pts)-1] - pts[0]))
		if nominal > 0 {
			v.NominalFPS = round4(1 / nominal)
		}
		m, sq := mean(iv), 0.0
		for _, x := range iv {
			sq += (x - m) * (x - m)
			if nominal > 0 && x > 1.5*nominal {
				v.DroppedFrames += int(math.Round(x/nominal)) - 1
			}
		}
		v.PTSJitter = round4(math.Sqrt(sq / float64(len(iv))))
		s := Series{}
		for i, x := range iv {
			s.Time, s.Value = append(s.Time, round4(pts[i+1])), append(s.Value, round4(x))
		}
		p.rep.Series["frame_interval"] = s
	}
	keys, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
		"-show_entries", "frame=width,height", "-of", "csv=p=0", p.in.path).Output()
	if err != nil {
		return fmt.Errorf("ffprobe keyframes: %w", err)
	}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(keys))
	for sc.Scan() {
		size := strings.Trim(strings.TrimSpace(sc.Text()), ",")
		if size == "" {
			continue
		}
		if last != "" && size != last {
			v.ResolutionChanges++
		}
		last = size
	}
	return nil
}

// audio reads the sound measures.
func (p *pass) audio() error {
	frames, err := ffmeta.ParseFile(filepath.Join(p.tmp, audioMeta))
	if err != nil {
		return err
	}
	a := &AudioStats{Channels: p.in.info.Channels, TruePeak: math.Inf(-1)}
	var clipped, windows int
	sums := map[string][]float64{}
	for _, f := range frames {
		if v, ok := f.Float("lavfi.r128.I"); ok {
			a.Loudness = v
		}
		if v, ok := f.Float("lavfi.r128.LRA"); ok {
			a.LRA = v
		}
		if v, ok := f.Float("lavfi.r128.true_peak"); ok && v > 0 {
			a.TruePeak = max(a.TruePeak, 20*math.Log10(v))
		}
		if peak, ok := f.Float("lavfi.astats.Overall.Peak_level"); ok {
			windows++
			if flat, _ := f.Float("lavfi.astats.Overall.Flat_factor"); peak > -0.1 && flat > 0 {
				clipped++
			}
		}
		var rms []float64
		for c := 1; c <= 8; c++ {
			if v, ok := f.Float(fmt.Sprintf("lavfi.astats.%d.RMS_level", c)); ok {
				rms = append(rms, v)
			}
		}
		if len(rms) > 1 && minOf(rms) > -60 {
			for c, v := range rms {
				k := strconv.Itoa(c)
				sums[k] = append(sums[k], v)
			}
		}
	}
	if math.IsInf(a.TruePeak, -1) {
		a.TruePeak = -100
	}
	a.TruePeak = round4(a.TruePeak)
	if windows > 0 {
		a.Clipping = round4(float64(clipped) / float64(windows))
	}
	silent := 0.0
	for _, s := range ffmeta.Spans(frames, "lavfi.silence_start", "lavfi.silence_end", p.in.info.Duration) {
		silent += s.End - s.Start
	}
	if p.in.info.Duration > 0 {
		a.Silence = round4(min(1, silent/p.in.info.Duration))
	}
	var means []float64
	for _, v := range sums {
		means = append(means, mean(v))
	}
	if len(means) > 1 {
		a.Imbalance = round4(maxOf(means) - minOf(means))
	}
	p.rep.Series["loudness_momentary"] = series(frames, "lavfi.r128.M", func(i int) bool { return i%5 == 0 })
	p.rep.Audio = a
	return nil
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
