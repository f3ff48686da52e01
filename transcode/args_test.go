package transcode

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/watermark"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, args []string) {
	t.Helper()
	got := strings.Join(args, "\n") + "\n"
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("args differ from %s:\n%s", p, got)
	}
}

func marks(name string) (watermark.Template, bool) {
	switch name {
	case "logo":
		return watermark.Template{Type: watermark.TypeImage, Image: "/srv/logo.png", Corner: watermark.TopRight, X: "2%", Y: "10", Width: "10%"}, true
	case "clock":
		return watermark.Template{Type: watermark.TypeText, Text: "%{localtime}", Corner: watermark.BottomLeft, X: "8", Y: "8", Box: true}, true
	}
	return watermark.Template{}, false
}

func TestLadderArgsGolden(t *testing.T) {
	l := Ladder{Name: "abr", Watermark: "clock", Rungs: []Rung{
		{Name: "720p", Height: 720, VideoBitrate: 2800000, Preset: "veryfast", AudioCodec: "aac", AudioBitrate: 128000},
		{Name: "480p", Height: 480, VideoBitrate: 1400000, MaxBitrate: 1500000, Profile: "main", Watermark: "logo"},
		{Name: "src", Codec: CodecSource},
		{Name: "360p", Width: 641, VideoBitrate: 800000, FPS: 15, Codec: CodecH265, Preset: "ultrafast", AudioCodec: "opus", AudioBitrate: 64000},
	}}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	plan, err := buildLadderArgs(l, ladderSource{Width: 1280, Height: 720, HasAudio: true}, marks)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Rungs) != 3 || plan.Rungs[2].Name != "360p" || plan.ProgressFD != 6 {
		t.Errorf("rungs %v progress fd %d, want 720p 480p 360p on pipes 3-5 and progress on 6", plan.Rungs, plan.ProgressFD)
	}
	golden(t, "ladder_4rungs.txt", plan.Args)
	// The 480p rung's 10% logo is sized from the rung's own width (854).
	if !strings.Contains(strings.Join(plan.Args, " "), "scale=85:-1") {
		t.Errorf("rung watermark not sized from the rung width")
	}
}

func TestLadderArgsSingleRungNoAudio(t *testing.T) {
	l := Ladder{Name: "one", GOP: 1500 * time.Millisecond, Rungs: []Rung{{Name: "low", Width: 320, Height: 180}}}
	plan, err := buildLadderArgs(l, ladderSource{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "ladder_1rung.txt", plan.Args)
}

func TestLadderRejects(t *testing.T) {
	for _, l := range []Ladder{
		{Name: "empty"},
		{Name: "dup", Rungs: []Rung{{Name: "a"}, {Name: "a"}}},
		{Name: "slash", Rungs: []Rung{{Name: "a/b"}}},
		{Name: "dots", Rungs: []Rung{{Name: ".."}}},
		{Name: "codec", Rungs: []Rung{{Name: "a", Codec: "vp9"}}},
		{Name: "audio", Rungs: []Rung{{Name: "a", AudioCodec: "mp3"}}},
		{Name: "preset", Rungs: []Rung{{Name: "a", Preset: "fast -y"}}},
		{Name: "max", Rungs: []Rung{{Name: "a", VideoBitrate: 2000, MaxBitrate: 1000}}},
		{Name: "size", Rungs: []Rung{{Name: "a", Width: -2}}},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("ladder %q accepted", l.Name)
		}
	}
	l := Ladder{Name: "wm", Watermark: "missing", Rungs: []Rung{{Name: "a"}}}
	if _, err := buildLadderArgs(l, ladderSource{}, marks); err == nil {
		t.Error("missing watermark accepted")
	}
	l = Ladder{Name: "src", Rungs: []Rung{{Name: "a", Codec: CodecSource}}}
	if _, err := buildLadderArgs(l, ladderSource{}, marks); err == nil {
		t.Error("ladder of only source rungs gave ffmpeg args")
	}
}

func TestRungSize(t *testing.T) {
	for _, tc := range []struct {
		r            Rung
		sw, sh, w, h int
	}{
		{Rung{Height: 480}, 1280, 720, 854, 480},
		{Rung{Width: 641}, 1280, 720, 640, 360},
		{Rung{}, 1280, 720, 1280, 720},
		{Rung{Width: 320, Height: 181}, 0, 0, 320, 180},
		{Rung{Height: 360}, 0, 0, 0, 360},
	} {
		if w, h := tc.r.size(tc.sw, tc.sh); w != tc.w || h != tc.h {
			t.Errorf("%+v of %dx%d = %dx%d, want %dx%d", tc.r, tc.sw, tc.sh, w, h, tc.w, tc.h)
		}
	}
}

func TestProgressParse(t *testing.T) {
	var p progress
	p.read(strings.NewReader("frame=120\nfps=29.97\nbitrate=N/A\nspeed=N/A\nprogress=continue\nframe=150\nfps=30.1\nspeed=1.02x\nprogress=continue\n"))
	if s, f := p.get(); s != 1.02 || f != 30.1 {
		t.Errorf("speed %v fps %v, want 1.02 and 30.1", s, f)
	}
}

func TestSnapshotArgs(t *testing.T) {
	golden(t, "snapshot.txt", snapshotArgs("h264", SnapshotRule{Width: 320, Quality: 4}, 0))
	golden(t, "audio_opus.txt", audioArgsFor("aac", 44100, 2, "opus", 64000))
	golden(t, "audio_aac_from_pcma.txt", audioArgsFor("pcma", 8000, 1, "aac", 128000))
}
