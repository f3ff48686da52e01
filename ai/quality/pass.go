package quality

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mps/ai/ffmeta"
)

// pass is the one ffmpeg run over the input (and the reference).
type pass struct {
	e   *Evaluator
	in  probed
	ref *probed
	tmp string
	rep *Report
}

// Files the filters write, relative to the scratch directory ffmpeg runs in.
const (
	psnrLog   = "psnr.log"
	ssimLog   = "ssim.log"
	vmafLog   = "vmaf.json"
	statsMeta = "stats.txt"
	sitiMeta  = "siti.txt"
	blurMeta  = "blur.txt"
	noiseMeta = "noise.txt"
	audioMeta = "audio.txt"
)

// graph builds the filter graph. One decode of each input feeds every
// measure: full-reference metrics on every frame; signal statistics on a
// 160x90 copy of every frame (cheap, and enough for brightness, black and
// duplicated frames); SI/TI on pairs of consecutive frames once a second
// (siti at full size on every frame costs more than the rest together);
// blur, blockiness and noise on two frames a second.
func (p *pass) graph() string {
	var g []string
	if p.in.info.HasVideo() {
		fr := 0
		if p.ref != nil {
			fr = 2
			if p.e.Caps.VMAF {
				fr = 3
			}
		}
		outs := []string{"[st]", "[si]", "[bl]"}
		for i := range fr {
			outs = append(outs, fmt.Sprintf("[d%d]", i))
		}
		g = append(g, fmt.Sprintf("[0:v:0]split=%d%s", len(outs), strings.Join(outs, "")),
			"[st]scale=160:90:flags=fast_bilinear,signalstats=stat=tout,metadata=mode=print:file="+statsMeta+"[out]",
			"[si]select='lt(mod(n\\,25)\\,2)',siti,metadata=mode=print:file="+sitiMeta+",nullsink",
			"[bl]fps=2,split[b1][b2]",
			"[b1]blurdetect,blockdetect,metadata=mode=print:file="+blurMeta+",nullsink",
			"[b2]scale=640:-2,format=gray,split[n1][n2];[n2]median[nm];[n1][nm]blend=all_mode=difference,signalstats,metadata=mode=print:file="+noiseMeta+",nullsink")
		if p.ref != nil {
			var rs []string
			for i := range fr {
				rs = append(rs, fmt.Sprintf("[r%d]", i))
				g = append(g, fmt.Sprintf("[d%d]settb=AVTB,setpts=PTS-STARTPTS[e%d]", i, i))
			}
			g = append(g, fmt.Sprintf("[1:v:0]settb=AVTB,setpts=PTS-STARTPTS,split=%d%s", fr, strings.Join(rs, "")),
				"[e0][r0]psnr=stats_file="+psnrLog+",nullsink",
				"[e1][r1]ssim=stats_file="+ssimLog+",nullsink")
			if fr == 3 {
				g = append(g, "[e2][r2]libvmaf=log_fmt=json:log_path="+vmafLog+",nullsink")
			}
		}
	}
	if p.in.info.HasAudio() {
		end := ",anullsink"
		if !p.in.info.HasVideo() {
			end = "[out]"
		}
		g = append(g, "[0:a:0]ebur128=metadata=1:peak=true,silencedetect=n=-50dB:d=1,"+
			"astats=metadata=1:reset=1:measure_overall=Peak_level+Flat_factor:measure_perchannel=RMS_level,"+
			"ametadata=mode=print:file="+audioMeta+end)
	}
	return strings.Join(g, ";")
}

// run runs ffmpeg and reads every file it wrote.
func (p *pass) run(ctx context.Context, progress func(float64)) error {
	args := []string{"-loglevel", "error", "-i", p.in.path}
	if p.ref != nil {
		args = append(args, "-i", p.ref.path)
	}
	args = append(args, "-filter_complex", p.graph(), "-map", "[out]", "-f", "null", "-")
	if _, err := ffmeta.Run(ctx, p.tmp, args, p.in.info.Duration, progress); err != nil {
		return err
	}
	if p.in.info.HasVideo() {
		if err := p.video(); err != nil {
			return err
		}
	}
	if p.ref != nil {
		if err := p.fullReference(); err != nil {
			return err
		}
	}
	if p.in.info.HasAudio() {
		return p.audio()
	}
	return nil
}

// series collects values of key from frames, rounded to 4 decimals.
func series(frames []ffmeta.Frame, key string, keep func(i int) bool) Series {
	var s Series
	for i, f := range frames {
		if v, ok := f.Float(key); ok && !math.IsInf(v, 0) && !math.IsNaN(v) && (keep == nil || keep(i)) {
			s.Time = append(s.Time, round4(f.Time))
			s.Value = append(s.Value, round4(v))
		}
	}
	return s
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// fullReference reads the psnr and ssim stats files (and VMAF's log).
func (p *pass) fullReference() error {
	fr := &FullReference{}
	psnr, mse, err := readStats(filepath.Join(p.tmp, psnrLog), "psnr_avg", "mse_avg")
	if err != nil {
		return err
	}
	ssim, _, err := readStats(filepath.Join(p.tmp, ssimLog), "All", "")
	if err != nil {
		return err
	}
	if len(psnr) == 0 || len(ssim) == 0 {
		return fmt.Errorf("psnr/ssim compared no frames")
	}
	fr.Frames = len(psnr)
	fr.PSNR = summarize(finite(psnr))
	// ffmpeg's "average" is the PSNR of the mean MSE, not the mean PSNR.
	fr.PSNR.Mean = psnrOf(mean(mse))
	if len(finite(psnr)) < len(psnr) {
		fr.PSNR.Max = math.Inf(1)
	}
	fr.SSIM = summarize(ssim)
	fps := p.in.info.FPS
	if fps <= 0 {
		fps = 25
	}
	p.rep.Series["psnr"] = frameSeries(psnr, fps)
	p.rep.Series["ssim"] = frameSeries(ssim, fps)
	if !p.e.Caps.MSSSIM {
		fr.Notes = append(fr.Notes, "ms_ssim: ffmpeg "+p.e.Caps.Version+" has no MS-SSIM filter")
	}
	if !p.e.Caps.VMAF {
		fr.Notes = append(fr.Notes, "vmaf: ffmpeg "+p.e.Caps.Version+" is built without libvmaf")
	} else if v, s, err := readVMAF(filepath.Join(p.tmp, vmafLog), fps); err == nil {
		fr.VMAF = &v
		p.rep.Series["vmaf"] = s
	} else {
		fr.Notes = append(fr.Notes, "vmaf: "+err.Error())
	}
	if math.IsInf(fr.PSNR.Max, 1) {
		fr.PSNR.Max = 100 // JSON has no infinity: identical frames
	}
	p.rep.FullReference = fr
	return nil
}

// readStats reads the per-frame key (and key2) of a psnr/ssim stats file:
// "n:1 mse_avg:20.47 … psnr_avg:35.02 …" or "n:1 Y:… All:0.9682 (14.97)".
func readStats(name, key, key2 string) ([]float64, []float64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("stats: %w", err)
	}
	defer f.Close()
	var a, b []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		for _, field := range strings.Fields(sc.Text()) {
			k, v, ok := strings.Cut(field, ":")
			if !ok {
				continue
			}
			x, err := strconv.ParseFloat(v, 64) // "inf" parses
			if err != nil {
				continue
			}
			switch k {
			case key:
				a = append(a, x)
			case key2:
				b = append(b, x)
			}
		}
	}
	return a, b, sc.Err()
}

func frameSeries(v []float64, fps float64) Series {
	s := Series{}
	for i, x := range v {
		if math.IsInf(x, 0) {
			x = 100
		}
		s.Time = append(s.Time, round4(float64(i)/fps))
		s.Value = append(s.Value, round4(x))
	}
	return s
}

func finite(v []float64) []float64 {
	var out []float64
	for _, x := range v {
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// psnrOf is the PSNR of an 8-bit mean squared error; 100 for none.
func psnrOf(mse float64) float64 {
	if mse <= 0 {
		return 100
	}
	return 10 * math.Log10(255*255/mse)
}

// readVMAF reads libvmaf's JSON log (pooled mean/min/max and per frame).
func readVMAF(name string, fps float64) (Summary, Series, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return Summary{}, Series{}, err
	}
	var log struct {
		Frames []struct {
			Metrics map[string]float64 `json:"metrics"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		return Summary{}, Series{}, fmt.Errorf("libvmaf log: %w", err)
	}
	var v []float64
	for _, f := range log.Frames {
		v = append(v, f.Metrics["vmaf"])
	}
	return summarize(v), frameSeries(v, fps), nil
}
