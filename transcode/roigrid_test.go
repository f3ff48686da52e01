package transcode

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
)

func TestROIGridStates(t *testing.T) {
	for _, c := range []struct {
		w, h, cell, cols, rows int
	}{{640, 360, 32, 20, 12}, {1280, 720, 64, 20, 12}, {1920, 1080, 80, 24, 14}, {320, 180, 16, 20, 12}, {100, 60, 16, 7, 4}} {
		g := newROIGrid("roi0", c.w, c.h, -0.4)
		if g.cell != c.cell || g.cols != c.cols || g.rows != c.rows {
			t.Errorf("%dx%d: cell %d, %dx%d cells; want %d, %dx%d", c.w, c.h, g.cell, g.cols, g.rows, c.cell, c.cols, c.rows)
		}
		if n := strings.Count(g.chain("a", "b", g.off()), "addroi"); n != 2*(c.cols+c.rows)-2 {
			t.Errorf("%dx%d: %d addroi filters", c.w, c.h, n)
		}
	}
	g := newROIGrid("roi0", 640, 360, -0.4)
	cases := []struct {
		box  image.Rectangle
		want gridState
	}{
		{image.Rect(70, 100, 160, 200), gridState{2, 5, 3, 7}},
		{image.Rect(64, 96, 160, 224), gridState{2, 5, 3, 7}},
		{image.Rect(600, 300, 700, 400), gridState{18, 20, 9, 12}},
		{image.Rect(-10, -10, 5, 5), gridState{0, 1, 0, 1}},
		{image.Rectangle{}, g.off()},
		{image.Rect(700, 0, 800, 100), g.off()},
	}
	for _, c := range cases {
		if got := g.state(c.box); got != c.want {
			t.Errorf("state(%v) = %+v, want %+v", c.box, got, c.want)
		}
	}
	cmds := g.commands(g.off(), gridState{2, 5, 3, 7})
	want := []string{"streamselect@roi0_l map 2", "streamselect@roi0_r map 5", "streamselect@roi0_t map 3", "streamselect@roi0_b map 7"}
	if !slices.Equal(cmds, want) {
		t.Errorf("commands %q, want %q", cmds, want)
	}
	if cmds := g.commands(gridState{2, 5, 3, 7}, gridState{3, 20, 3, 7}); !slices.Equal(cmds, []string{"streamselect@roi0_l map 3", "streamselect@roi0_r map 0"}) {
		t.Errorf("moving right to the edge: %q", cmds)
	}
	if cmds := g.commands(gridState{2, 5, 3, 7}, gridState{2, 5, 3, 7}); cmds != nil {
		t.Errorf("no move: %q", cmds)
	}
}

// TestROIGridBitExact checks the grid trick itself: an encode through the
// grid set to a box is bit for bit the encode with a plain addroi of that
// box, and differs from the encode with the grid off.
func TestROIGridBitExact(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	g := newROIGrid("roi0", 320, 180, -0.5)
	st := g.state(image.Rect(40, 30, 150, 120))
	box := image.Rect(st.x0*g.cell, st.y0*g.cell, min(st.x1*g.cell, g.w), min(st.y1*g.cell, g.h))
	encode := func(name, graph string) []byte {
		p := filepath.Join(dir, name+".h264")
		ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", "-filter_complex", graph, "-map", "[v]",
			"-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-b:v", "100k", "-f", "h264", p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	grid := encode("grid", g.chain("0:v", "v", st))
	static := encode("static", fmt.Sprintf("[0:v]addroi=x=%d:y=%d:w=%d:h=%d:qoffset=-0.5[v]", box.Min.X, box.Min.Y, box.Dx(), box.Dy()))
	off := encode("off", g.chain("0:v", "v", g.off()))
	if !bytes.Equal(grid, static) {
		t.Errorf("grid at %v (%d bytes) differs from addroi of the box (%d bytes)", box, len(grid), len(static))
	}
	if bytes.Equal(grid, off) {
		t.Error("grid off encodes like the grid with a box")
	}
}

// TestLadderArgsROI checks the plan of a ladder with an ROI rung: the
// frame tap as the last output, one zmq filter on the control socket, the
// grid sized for the rung; and the refusals.
func TestLadderArgsROI(t *testing.T) {
	l := Ladder{Name: "faces", Rungs: []Rung{
		{Name: "720p", Height: 720, VideoBitrate: 2000000},
		{Name: "360p", Height: 360, VideoBitrate: 500000, ROI: &RungROI{}},
		{Name: "src", Codec: CodecSource},
	}}
	plan, err := buildLadderArgs(l, ladderSource{Width: 1920, Height: 1080, Control: "/tmp/mps-roi-1/ctl"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(plan.Args, " ")
	if plan.Tap == nil || plan.Tap.FD != 6 || plan.Tap.Width != 640 || plan.Tap.Height != 360 || plan.Tap.Interval != DefaultROISampleInterval {
		t.Errorf("tap %+v", plan.Tap)
	}
	if !strings.HasSuffix(args, "-map [tap] -f rawvideo -pix_fmt gray pipe:6") || !strings.Contains(args, "[s2]fps=1,scale=640:360,format=gray[tap]") {
		t.Errorf("no tap output in %s", args)
	}
	if strings.Count(args, "zmq=b=ipc\\\\:///tmp/mps-roi-1/ctl") != 1 || strings.Count(args, "streamselect@roi1_") != 4 {
		t.Errorf("zmq or grid missing: %s", args)
	}
	if len(plan.ROI) != 1 || plan.ROI[0].Grid.w != 640 || plan.ROI[0].Grid.h != 360 || plan.ROI[0].Grid.qoffset != DefaultROIQOffset {
		t.Errorf("grids %+v", plan.ROI)
	}
	for name, c := range map[string]struct {
		l   Ladder
		src ladderSource
	}{
		"unknown size": {l, ladderSource{Control: "/tmp/x"}},
		"bad socket":   {l, ladderSource{Width: 640, Height: 360, Control: "/tmp/a:b"}},
	} {
		if _, err := buildLadderArgs(c.l, c.src, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, r := range []Rung{
		{Name: "a", Codec: CodecH265, ROI: &RungROI{}},
		{Name: "a", Preset: "ultrafast", ROI: &RungROI{}},
		{Name: "a", ROI: &RungROI{QOffset: 0.5}},
		{Name: "a", ROI: &RungROI{SampleInterval: time.Millisecond}},
	} {
		if err := (Ladder{Name: "x", Rungs: []Rung{r}}).Validate(); err == nil {
			t.Errorf("rung %+v accepted", r)
		}
	}
}
