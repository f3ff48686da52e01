package tasks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/aispec"
	"mps/internal/config"
	"mps/internal/vod"
)

// vttWriter is a subtitles stand-in that writes a fixed WebVTT file: the
// task service's part is carrying its file into the adaptive package, not
// the recognition (ai/subtitles and cmd/mps test that on real speech).
type vttWriter string

func (v vttWriter) Run(_ context.Context, _ vod.Operation, _, outDir string, _ func(float64)) (vod.Result, error) {
	p := filepath.Join(outDir, "subs.en.vtt")
	if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
		return vod.Result{}, err
	}
	return vod.Result{Files: []vod.File{{Name: "subs.en.vtt", Path: p}}, VTT: "subs.en.vtt",
		Subtitles: []vod.SubtitleTrack{{Language: "en", VTT: "subs.en.vtt"}}}, nil
}

var ladderOp = vod.Operation{Type: vod.TypeAdaptive, Adaptive: &vod.AdaptiveSpec{SegmentSeconds: 2, Preset: "ultrafast",
	Rungs: []vod.Rung{{Height: 120, VideoBitrate: "150k"}}}}

// TestTaskAddsSubtitleRendition: a task with an adaptive and a subtitles
// operation, in either order, ends with a package whose master playlist
// has the subtitles rendition and whose result lists its files; a
// malformed subtitle file fails the subtitles operation with the parser's
// message and leaves the package and its operation as they were.
func TestTaskAddsSubtitleRendition(t *testing.T) {
	good := "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nhello there\n"
	bad := "WEBVTT\n\n00:00:01.000 -> 00:00:02.500\nhello there\n"
	subsOp := vod.Operation{Type: vod.TypeSubtitles}
	for _, tc := range []struct {
		name    string
		vtt     string
		ops     []vod.Operation
		pkg     int
		wantErr string
	}{
		{"adaptive first", good, []vod.Operation{ladderOp, subsOp}, 0, ""},
		{"subtitles first", good, []vod.Operation{subsOp, ladderOp}, 1, ""},
		{"malformed", bad, []vod.Operation{ladderOp, subsOp}, 0, `bad cue timing "00:00:01.000 -> 00:00:02.500"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, _ := startService(t, Config{Extensions: map[string]vod.Extension{vod.TypeSubtitles: vttWriter(tc.vtt)}})
			var refs []config.OpRef
			for _, op := range tc.ops {
				refs = append(refs, config.OpRef{Operation: op})
			}
			task, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"), Operations: refs})
			if err != nil {
				t.Fatal(err)
			}
			end := waitEnd(t, svc, task.ID, 2*time.Minute)
			pkg, subs := end.Ops[tc.pkg], end.Ops[1-tc.pkg]
			dir := filepath.Join(svc.cfg.Tasks.OutputDir, end.Output, pkg.Dir)
			master, err := os.ReadFile(filepath.Join(dir, vod.MasterPlaylist))
			if err != nil || pkg.State != StatusSuccess {
				t.Fatalf("package op %s (%s): %v", pkg.State, pkg.Error, err)
			}
			listed := map[string]string{}
			for _, f := range pkg.Result.Files {
				listed[f.Name] = f.Path
			}
			if tc.wantErr != "" {
				if end.Status != StatusFail || subs.State != StatusFail || !strings.Contains(subs.Error, tc.wantErr) {
					t.Errorf("task %s, subtitles %s %q; want FAIL with %q", end.Status, subs.State, subs.Error, tc.wantErr)
				}
				if strings.Contains(string(master), "SUBTITLES") || listed["subtitles/en/index.m3u8"] != "" {
					t.Errorf("package changed:\n%s", master)
				}
				if _, err := os.Stat(filepath.Join(dir, vod.SubtitlesDir)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("subtitles dir left behind: %v", err)
				}
				return
			}
			if end.Status != StatusFinish {
				t.Fatalf("task %s: %s %+v", end.Status, end.Error, end.Ops)
			}
			if !strings.Contains(string(master), `TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en"`) || !strings.Contains(string(master), `SUBTITLES="subs"`) {
				t.Errorf("master:\n%s", master)
			}
			want := "/outputs/" + end.Output + "/" + pkg.Dir + "/subtitles/en/seg_0000.vtt"
			if listed["subtitles/en/seg_0000.vtt"] != want || listed["subtitles/en/index.m3u8"] == "" {
				t.Errorf("result files %v, want seg_0000.vtt at %s", listed, want)
			}
			seg, _ := os.ReadFile(filepath.Join(dir, "subtitles", "en", "seg_0000.vtt"))
			if !strings.Contains(string(seg), "00:00:01.000 --> 00:00:02.500\nhello there") {
				t.Errorf("first segment:\n%s", seg)
			}
		})
	}
}

// TestSoftTrackHLSNeedsAdaptive: soft_track hls without an adaptive
// operation is refused before anything runs, by the API and locally.
func TestSoftTrackHLSNeedsAdaptive(t *testing.T) {
	op := vod.Operation{Type: vod.TypeSubtitles, Subtitles: &aispec.Subtitles{SoftTrack: aispec.SoftTrackHLS}}
	svc, _ := startService(t, Config{})
	_, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"), Operations: []config.OpRef{{Operation: op}}})
	var bad *BadRequestError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "needs an adaptive operation") {
		t.Errorf("submit: %v", err)
	}
	out := t.TempDir()
	if _, err := RunLocal(context.Background(), testFile("h264_aac_1s_gop.mp4"), []vod.Operation{op}, out, nil); !errors.Is(err, errNoAdaptive) {
		t.Errorf("local: %v", err)
	}
	if _, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"),
		Operations: []config.OpRef{{Operation: op}, {Operation: ladderOp}}}); err != nil {
		t.Errorf("with a ladder: %v", err)
	}
}
