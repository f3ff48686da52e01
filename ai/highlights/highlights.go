// Package highlights finds the most interesting moments of a video file
// and cuts them into a reel. One ffmpeg pass measures scene cuts, motion,
// momentary loudness, black and silent spans; every second gets a score
// with the reasons behind it (a spoken keyword from a transcript counts
// too); the best clips are cut, by stream copy from the first keyframe and
// re-encoded only before it, and joined into highlights.mp4 with a JPEG
// thumbnail each and highlights.json describing them.
package highlights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"mps/ai/internal/ffexec"
	"mps/ai/summary"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// Extension runs the highlights operation type.
type Extension struct{}

// Report is highlights.json, also the operation result's report.
type Report struct {
	Duration float64 `json:"duration"`
	// Clips are the picked highlights, best first.
	Clips []Clip `json:"clips"`
	// Reel is the joined clips in time order (empty with no_reel or no clip).
	Reel      string       `json:"reel,omitempty"`
	SceneCuts []float64    `json:"scene_cuts"`
	Black     [][2]float64 `json:"black,omitempty"`
	Silence   [][2]float64 `json:"silence,omitempty"`
	// Audio is false when the file has no audio: loudness and silence were
	// not measured.
	Audio bool `json:"audio"`
	// Seconds is the interest score of every second.
	Seconds []Second `json:"seconds"`
}

// ErrNoVideo is returned for an input without a picture.
var ErrNoVideo = errors.New("the input has no video track to pick highlights from")

// Run analyses input, picks the clips and writes the reel, thumbnails and
// highlights.json into outDir. Progress: analysis 0-70%, cutting 70-100%.
func (Extension) Run(ctx context.Context, op vod.Operation, input, outDir string, progress func(float64)) (vod.Result, error) {
	var spec aispec.Highlights
	if op.Highlights != nil {
		spec = *op.Highlights
	}
	spec = spec.WithDefaults()
	info, err := vod.Probe(ctx, input)
	if err != nil {
		return vod.Result{}, err
	}
	if !info.HasVideo() {
		return vod.Result{}, ErrNoVideo
	}
	var words []summary.Word
	if spec.Transcript != "" {
		if words, err = summary.ReadTranscript(summary.SiblingPath(outDir, spec.Transcript)); err != nil {
			return vod.Result{}, err
		}
	}
	a, err := analyze(ctx, input, info.Duration, info.HasAudio(), func(f float64) { progress(f * 70) })
	if err != nil {
		return vod.Result{}, err
	}
	secs := scoreSeconds(a, words, spec.Keywords)
	clips := pickClips(secs, a, spec.Top, spec.MinSeconds, spec.MaxSeconds)
	rep := Report{Duration: info.Duration, Clips: clips, SceneCuts: a.cuts, Audio: a.audio, Seconds: secs}
	for _, s := range a.black {
		rep.Black = append(rep.Black, [2]float64{round3(s.Start), round3(s.End)})
	}
	for _, s := range a.silence {
		rep.Silence = append(rep.Silence, [2]float64{round3(s.Start), round3(s.End)})
	}
	if rep.SceneCuts == nil {
		rep.SceneCuts = []float64{}
	}
	names, err := writeMedia(ctx, input, outDir, info, &rep, !spec.NoReel, spec.Crossfade, progress)
	if err != nil {
		return vod.Result{}, err
	}
	report, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return vod.Result{}, err
	}
	if err := os.WriteFile(filepath.Join(outDir, "highlights.json"), report, 0o644); err != nil {
		return vod.Result{}, err
	}
	files, err := ffexec.OutputFiles(ctx, outDir, append(names, "highlights.json")...)
	if err != nil {
		return vod.Result{}, err
	}
	return vod.Result{Files: files, Report: report}, nil
}

// writeMedia writes a thumbnail per clip and, when reel is set, the reel
// (cut and copied, or blended with crossfade seconds between clips); it
// returns the names written.
func writeMedia(ctx context.Context, input, outDir string, info *vod.MediaInfo, rep *Report, reel bool, crossfade float64, progress func(float64)) ([]string, error) {
	work, err := os.MkdirTemp("", "mps-reel-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }()
	video, err := seekable(ctx, input, info, work)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range rep.Clips {
		c := &rep.Clips[i]
		c.Thumbnail = fmt.Sprintf("highlight_%02d.jpg", c.Rank)
		if err := thumbnail(ctx, video, c.Peak, filepath.Join(outDir, c.Thumbnail)); err != nil {
			return nil, err
		}
		names = append(names, c.Thumbnail)
	}
	if !reel || len(rep.Clips) == 0 {
		return names, nil
	}
	inTime := append([]Clip(nil), rep.Clips...)
	sort.Slice(inTime, func(i, j int) bool { return inTime[i].Start < inTime[j].Start })
	if crossfade > 0 {
		spans := make([][2]float64, len(inTime))
		for i, c := range inTime {
			spans[i] = [2]float64{c.Start, c.End}
		}
		rep.Reel = "highlights.mp4"
		if err := joinCrossfade(ctx, video, input, spans, info.HasAudio(), crossfade, filepath.Join(outDir, rep.Reel)); err != nil {
			return nil, err
		}
		return append(names, rep.Reel), nil
	}
	keys, err := keyframes(ctx, video)
	if err != nil {
		return nil, err
	}
	w := &reelWriter{video: video, input: input, copyable: info.VideoCodec == "h264", audio: info.HasAudio(),
		fps: max(info.FPS, 1), dir: work}
	frame := 1 / max(info.FPS, 1)
	for i, c := range inTime {
		if err := w.add(ctx, planCut(keys, c.Start, c.End, frame)); err != nil {
			return nil, err
		}
		progress(70 + 25*float64(i+1)/float64(len(inTime)))
	}
	rep.Reel = "highlights.mp4"
	if err := w.join(ctx, filepath.Join(outDir, rep.Reel)); err != nil {
		return nil, err
	}
	return append(names, rep.Reel), nil
}

// seekable returns a file of the input's video that ffmpeg seeks in
// exactly: the input itself when it is MP4, else a stream copy of the
// video into MP4 (H.264, whose parts are copied) or Matroska (other
// codecs, only ever decoded) in work. An MPEG-TS file has no index, so a
// seek may land on a frame that is not a keyframe; in Matroska ffmpeg
// seeks a stream copy with B-frames to the keyframe before the one asked
// for. Either would cut the wrong picture.
func seekable(ctx context.Context, input string, info *vod.MediaInfo, work string) (string, error) {
	if strings.Contains(info.Format, "mp4") {
		return input, nil
	}
	out := filepath.Join(work, "video.mkv")
	if info.VideoCodec == "h264" {
		out = filepath.Join(work, "video.mp4")
	}
	if err := ffexec.FFmpeg(ctx, []string{"-i", input, "-map", "0:v:0", "-c", "copy", out}, 0, nil); err != nil {
		return "", fmt.Errorf("index the video for cutting: %w", err)
	}
	return out, nil
}
