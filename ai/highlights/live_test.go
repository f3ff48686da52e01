package highlights

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"mps/internal/testutil"
)

// TestTimelineFromLiveLog runs the live analysis graph over the events
// clip (read as MPEG-TS from a pipe, as a live path feeds it), feeds the
// log to a Timeline as it comes, and checks that the top two clips of
// the whole stretch hold the loud and the high-motion events, that a
// taken span keeps clips off it, and that the measures reach the end.
func TestTimelineFromLiveLog(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	dir := t.TempDir()
	c := makeEventClip(t, dir, 40, 320, 180)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", c.path, "-c", "copy", "-f", "mpegts", "pipe:1")
	out, err := ts.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	graph, maps := LiveGraph(true)
	ff := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
		"-f", "mpegts", "-i", "pipe:0", "-filter_complex", graph}, maps...)...)
	ff.Stdin = out
	logr, err := ff.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ff.Start(); err != nil {
		t.Fatal(err)
	}
	tl := NewTimeline(true)
	if err := tl.Feed(logr, nil); err != nil {
		t.Fatal(err)
	}
	if err := ff.Wait(); err != nil {
		t.Fatal(err)
	}
	_ = ts.Wait()
	if m := tl.Measured(); m < 39 {
		t.Fatalf("measured up to %.1f s of 40", m)
	}
	clips := tl.Pick(0, tl.Measured(), 2, 3, 6, nil)
	for _, ev := range c.events[:2] {
		found := false
		for _, cl := range clips {
			found = found || (cl.Start <= ev.start+0.5 && cl.End >= ev.end-0.5)
		}
		if !found {
			t.Errorf("no clip holds the %s event %.0f-%.0f s: %+v", ev.name, ev.start, ev.end, clips)
		}
	}
	loud := c.events[0]
	for _, cl := range tl.Pick(0, tl.Measured(), 3, 3, 6, [][2]float64{{loud.start - 1, loud.end + 1}}) {
		if cl.Start < loud.end+1 && cl.End > loud.start-1 {
			t.Errorf("clip %.1f-%.1f overlaps the taken span", cl.Start, cl.End)
		}
	}
}
