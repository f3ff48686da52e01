package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"mps/ai/ffmeta"
	"mps/internal/aispec"
)

// frameShot is one frame extracted for OCR: its time and file.
type frameShot struct {
	Time float64
	File string // in the scratch directory until it becomes evidence
}

// passResult is what the one ffmpeg pass found.
type passResult struct {
	shots    []frameShot
	loudness *float64
}

// pass runs one ffmpeg over the input: the video detectors (black, freeze,
// solid colour), the frame sampler for OCR (every scene cut and every
// interval seconds) and the audio detectors (loudness, silence, clipping),
// and adds the technical problems to rep.
func (a *auditor) pass(ctx context.Context, hasVideo, hasAudio bool) (passResult, error) {
	t := a.spec.Technical.WithDefaults()
	tmp := a.tmp
	var graph []string
	args := []string{"-loglevel", "error", "-i", a.input}
	// ffmpeg runs in tmp: the filters write there by relative names.
	vmeta, smeta, ometa, ameta := "v.txt", "s.txt", "o.txt", "a.txt"
	ocr := a.spec.OCRInterval >= 0 && hasVideo
	if hasVideo {
		n := 2
		if ocr {
			n = 3
		}
		graph = append(graph, fmt.Sprintf("[0:v:0]split=%d[va][vb]%s", n, map[bool]string{true: "[vc]"}[ocr]),
			fmt.Sprintf("[va]blackdetect=d=%s:pix_th=0.10,freezedetect=n=-60dB:d=%s,metadata=mode=print:file=%s%s",
				ftoa(t.BlackSeconds), ftoa(t.FreezeSeconds), vmeta, sink(ocr, "[out]")),
			// Solid colour: a tiny picture whose luma and chroma hardly vary.
			fmt.Sprintf("[vb]fps=4,scale=64:36,signalstats,metadata=mode=print:file=%s,nullsink", smeta))
		if ocr {
			iv := a.spec.OCRInterval
			if iv == 0 {
				iv = 2
			}
			graph = append(graph, fmt.Sprintf("[vc]select='isnan(prev_selected_t)+gt(scene\\,0.3)+gte(t-prev_selected_t\\,%s)',metadata=mode=print:file=%s[ocr]",
				ftoa(iv), ometa))
		}
	}
	if hasAudio {
		graph = append(graph, fmt.Sprintf("[0:a:0]ebur128=metadata=1:peak=true,silencedetect=n=-50dB:d=%s,"+
			"astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Peak_level+Flat_factor,ametadata=mode=print:file=%s%s",
			ftoa(t.SilenceSeconds), ameta, map[bool]string{true: ",anullsink", false: "[out]"}[hasVideo]))
	}
	args = append(args, "-filter_complex", strings.Join(graph, ";"))
	if ocr {
		args = append(args, "-map", "[ocr]", "-fps_mode", "vfr", "ocr_%05d.png")
	} else {
		// The graph's one open output goes to the null muxer, so ffmpeg maps
		// no input stream of its own (which would decode the input twice).
		args = append(args, "-map", "[out]", "-f", "null", "-")
	}
	if _, err := ffmeta.Run(ctx, tmp, args, a.duration, func(p float64) { a.progress(p * 0.6) }); err != nil {
		return passResult{}, err
	}
	var res passResult
	if hasVideo {
		if err := a.videoProblems(filepath.Join(tmp, vmeta), filepath.Join(tmp, smeta), t); err != nil {
			return res, err
		}
		if ocr {
			shots, err := a.collectShots(filepath.Join(tmp, ometa))
			if err != nil {
				return res, err
			}
			res.shots = shots
		}
	}
	if hasAudio {
		l, err := a.audioProblems(filepath.Join(tmp, ameta), t)
		if err != nil {
			return res, err
		}
		res.loudness = l
	}
	return res, nil
}

// videoProblems reads the video detectors' output. A frozen span that is
// black (black frames are frozen too) is reported once, as black.
func (a *auditor) videoProblems(vmeta, smeta string, t aispec.AuditTechnical) error {
	frames, err := ffmeta.ParseFile(vmeta)
	if err != nil {
		return err
	}
	black := ffmeta.Spans(frames, "lavfi.black_start", "lavfi.black_end", a.duration)
	freeze := ffmeta.Spans(frames, "lavfi.freezedetect.freeze_start", "lavfi.freezedetect.freeze_end", a.duration)
	stats, err := ffmeta.ParseFile(smeta)
	if err != nil {
		return err
	}
	solid := solidSpans(stats, t.BlackSeconds)
	// A black span is also a solid one: keep it as black.
	solid = subtract(solid, black, t.BlackSeconds)
	freeze = subtract(freeze, append(append([]ffmeta.Span(nil), black...), solid...), t.FreezeSeconds)
	a.rep.add("black", "technical", t.Suggestion, measured(black, "black picture")...)
	a.rep.add("solid_colour", "technical", t.Suggestion, measured(solid, "one flat colour")...)
	a.rep.add("freeze", "technical", t.Suggestion, measured(freeze, "frozen picture")...)
	return nil
}

// solidSpans finds spans of at least minDur where the sampled picture is a
// flat colour: luma and chroma ranges within a few levels.
func solidSpans(frames []ffmeta.Frame, minDur float64) []ffmeta.Span {
	var out []ffmeta.Span
	start, last := -1.0, 0.0
	flush := func(end float64) {
		if start >= 0 && end-start >= minDur {
			out = append(out, ffmeta.Span{Start: start, End: end})
		}
		start = -1
	}
	for _, f := range frames {
		flat := true
		for _, c := range []string{"Y", "U", "V"} {
			lo, ok1 := f.Float("lavfi.signalstats." + c + "MIN")
			hi, ok2 := f.Float("lavfi.signalstats." + c + "MAX")
			if !ok1 || !ok2 || hi-lo > 6 {
				flat = false
			}
		}
		if flat && start < 0 {
			start = f.Time
		}
		if !flat {
			flush(f.Time)
		}
		last = f.Time
	}
	flush(last + 0.25)
	return out
}

// subtract removes from spans every part covered by cut, keeping the
// remains of at least minDur.
func subtract(spans, cut []ffmeta.Span, minDur float64) []ffmeta.Span {
	sort.Slice(cut, func(i, j int) bool { return cut[i].Start < cut[j].Start })
	var out []ffmeta.Span
	for _, s := range spans {
		parts := []ffmeta.Span{s}
		for _, c := range cut {
			var next []ffmeta.Span
			for _, p := range parts {
				if c.End <= p.Start || c.Start >= p.End {
					next = append(next, p)
					continue
				}
				if c.Start > p.Start {
					next = append(next, ffmeta.Span{Start: p.Start, End: c.Start})
				}
				if c.End < p.End {
					next = append(next, ffmeta.Span{Start: c.End, End: p.End})
				}
			}
			parts = next
		}
		for _, p := range parts {
			if p.End-p.Start >= minDur-0.05 {
				out = append(out, p)
			}
		}
	}
	return out
}

// audioProblems reads the audio detectors' output and returns the
// integrated loudness.
func (a *auditor) audioProblems(ameta string, t aispec.AuditTechnical) (*float64, error) {
	frames, err := ffmeta.ParseFile(ameta)
	if err != nil {
		return nil, err
	}
	a.rep.add("silence", "technical", t.Suggestion,
		measured(ffmeta.Spans(frames, "lavfi.silence_start", "lavfi.silence_end", a.duration), "silence")...)
	var clip []ffmeta.Span
	var loud *float64
	for _, f := range frames {
		if v, ok := f.Float("lavfi.r128.I"); ok {
			loud = &v
		}
		peak, _ := f.Float("lavfi.astats.Overall.Peak_level")
		flat, _ := f.Float("lavfi.astats.Overall.Flat_factor")
		if peak > -0.1 && flat > 0 {
			if n := len(clip); n > 0 && f.Time-clip[n-1].End < 0.5 {
				clip[n-1].End = f.Time + 0.1
			} else {
				clip = append(clip, ffmeta.Span{Start: f.Time, End: f.Time + 0.1})
			}
		}
	}
	a.rep.add("clipping", "technical", t.Suggestion, measured(clip, "samples at full scale")...)
	if loud != nil && (*loud < t.LoudnessMin || *loud > t.LoudnessMax) {
		a.rep.add("loudness", "technical", t.Suggestion, Segment{Start: 0, End: a.duration, Confidence: 1,
			Evidence: &Evidence{Detail: fmt.Sprintf("integrated loudness %.1f LUFS outside %g..%g", *loud, t.LoudnessMin, t.LoudnessMax)}})
	}
	return loud, nil
}

// collectShots pairs the sampled frames with their times.
func (a *auditor) collectShots(ometa string) ([]frameShot, error) {
	frames, err := ffmeta.ParseFile(ometa)
	if err != nil {
		return nil, err
	}
	var shots []frameShot
	for i, f := range frames {
		src := filepath.Join(a.tmp, fmt.Sprintf("ocr_%05d.png", i+1))
		if _, err := os.Stat(src); err != nil {
			continue
		}
		shots = append(shots, frameShot{Time: f.Time, File: src})
	}
	return shots, nil
}

// sink ends a chain in a null sink when closed, else in the output label.
func sink(closed bool, label string) string {
	if closed {
		return ",nullsink"
	}
	return label
}

func measured(spans []ffmeta.Span, detail string) []Segment {
	var out []Segment
	for _, s := range spans {
		out = append(out, Segment{Start: round3(s.Start), End: round3(s.End), Confidence: 1, Evidence: &Evidence{Detail: detail}})
	}
	return out
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func ftoa(f float64) string { return fmt.Sprintf("%g", f) }
