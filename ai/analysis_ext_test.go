package ai

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mps/ai/pertitle"
	"mps/internal/aispec"
	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/vod"
)

func clip(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if b, err := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), out)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return out
}

// TestOperationsThroughEnv runs the analysis operations as a task does:
// vod.Operation values bound to an Env whose Extensions come from
// Extensions(cfg).
func TestOperationsThroughEnv(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := clip(t, dir, "in.mp4", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4",
		"-af", "volume=0.3", "-c:v", "libx264", "-c:a", "aac")
	noAudio := clip(t, dir, "silent.mp4", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-c:v", "libx264")
	cfg := config.Defaults()
	cfg.AI.Audit.Lists = []config.AuditList{{Label: "x", Words: []string{"zebra"}, Suggestion: "block"}}
	env := &vod.Env{Extensions: Extensions(cfg, nil)}
	cases := []struct {
		name  string
		op    vod.Operation
		input string
		check func(t *testing.T, res vod.Result)
	}{
		{"audit passes a clean clip", vod.Operation{Type: vod.TypeAudit}, in, func(t *testing.T, res vod.Result) {
			var rep struct{ Suggestion string }
			if json.Unmarshal(res.Report, &rep); rep.Suggestion != "pass" {
				t.Fatalf("report %s", res.Report)
			}
		}},
		{"audit blocks a file without audio", vod.Operation{Type: vod.TypeAudit, Audit: &aispec.AuditSpec{
			Technical: aispec.AuditTechnical{Suggestion: "block"}}}, noAudio, func(t *testing.T, res vod.Result) {
			if !strings.Contains(string(res.Report), `"suggestion": "block"`) || !strings.Contains(string(res.Report), "no_audio") {
				t.Fatalf("report %s", res.Report)
			}
		}},
		{"quality", vod.Operation{Type: vod.TypeQuality, Quality: &aispec.QualitySpec{Reference: in}}, in, func(t *testing.T, res vod.Result) {
			var rep struct {
				Verdict       string
				FullReference struct{ PSNR struct{ Mean float64 } } `json:"full_reference"`
			}
			if json.Unmarshal(res.Report, &rep); rep.FullReference.PSNR.Mean != 100 {
				t.Fatalf("identical files: %s", res.Report[:200])
			}
			if !hasFile(res, "quality.json") || !hasFile(res, "quality_ssim.svg") {
				t.Fatalf("files %+v", res.Files)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.op.Bind(env).Run(context.Background(), c.input, filepath.Join(dir, c.name), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Operation != c.op.Type {
				t.Fatalf("operation %q", res.Operation)
			}
			c.check(t, res)
		})
	}
}

func hasFile(res vod.Result, name string) bool {
	for _, f := range res.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// TestAdaptiveAutoLadder packages a file with ladder: auto: the rungs come
// from the per-title search and the result's report carries it.
func TestAdaptiveAutoLadder(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	in := clip(t, dir, "in.mp4", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-c:v", "libx264", "-crf", "10")
	env := &vod.Env{Extensions: map[string]vod.Extension{
		vod.ExtLadder: ladderExt{pertitle.Search{Heights: []int{180, 120}, CRFs: []int{26, 36}, Samples: 1, SampleSeconds: 1}}}}
	op := vod.Operation{Type: vod.TypeAdaptive, Adaptive: &vod.AdaptiveSpec{Ladder: vod.LadderAuto, QualityTargets: []float64{0.97, 0.9}}}
	out := filepath.Join(dir, "out")
	res, err := op.Bind(env).Run(context.Background(), in, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rep pertitle.Report
	if err := json.Unmarshal(res.Report, &rep); err != nil || len(rep.Rungs) != 2 || len(rep.Trials) != 4 {
		t.Fatalf("report %s: %v", res.Report, err)
	}
	master, err := os.ReadFile(filepath.Join(out, res.Playlist))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(master), "#EXT-X-STREAM-INF") != 2 {
		t.Fatalf("master:\n%s", master)
	}
	t.Run("without the extension", func(t *testing.T) {
		_, err := op.Bind(&vod.Env{}).Run(context.Background(), in, filepath.Join(dir, "o2"), nil)
		if err == nil || !strings.Contains(err.Error(), "per-title search not available") {
			t.Fatalf("err = %v", err)
		}
	})
}
