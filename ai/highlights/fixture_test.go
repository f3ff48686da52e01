package highlights

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/ai/summary"
)

// event is a known interesting moment of the generated clip.
type event struct {
	name       string
	start, end float64
}

// eventClip describes a generated test clip: calm footage (static bars
// and a slow test pattern, cut every few tens of seconds, quiet noise)
// with three events: a loud burst, a high-motion burst after a scene cut,
// and a spoken keyword. It also has a black span and a silent span that
// no clip may hold.
type eventClip struct {
	path           string
	transcript     string
	events         []event
	black, silence span
}

// makeEventClip writes the clip into dir: dur seconds of w x h at 25 fps
// with H.264 keyframes every 2 s (so some clip starts fall between
// keyframes) and AAC audio.
func makeEventClip(t testing.TB, dir string, dur float64, w, h int) eventClip {
	t.Helper()
	at := func(f float64) float64 { return float64(int(dur * f)) }
	c := eventClip{
		path:       filepath.Join(dir, "events.mp4"),
		transcript: filepath.Join(dir, "transcript.json"),
		events: []event{
			{"loud", at(0.2), at(0.2) + 3},
			{"motion", at(0.5), at(0.5) + 3},
			{"keyword", at(0.77), at(0.77) + 1},
		},
		black:   span{at(0.87), at(0.87) + 2},
		silence: span{at(0.34), at(0.34) + 2},
	}
	size := fmt.Sprintf("s=%dx%d:r=25", w, h)
	calmA, calmB := "testsrc="+size, "smptehdbars="+size
	burst := "testsrc2=" + size + ",noise=alls=70:allf=t+u,hue=H=t*3"
	type seg struct {
		src string
		d   float64
	}
	mot := c.events[1]
	segs := []seg{
		{calmA, at(0.15)}, {calmB, at(0.3) - at(0.15)}, {calmA, mot.start - at(0.3)},
		{burst, mot.end - mot.start}, {calmA, at(0.65) - mot.end}, {calmB, c.black.Start - at(0.65)},
		{"color=c=black:" + size, c.black.End - c.black.Start}, {calmA, dur - c.black.End},
	}
	var args []string
	var concat strings.Builder
	for i, s := range segs {
		args = append(args, "-f", "lavfi", "-t", fmt.Sprint(s.d), "-i", s.src)
		fmt.Fprintf(&concat, "[%d:v]", i)
	}
	loud := c.events[0]
	noise := fmt.Sprintf("aevalsrc='(0.08*(2*random(0)-1)+between(t,%g,%g)*0.8*sin(2*PI*330*t))*(1-between(t,%g,%g))':s=48000:d=%g",
		loud.start, loud.end, c.silence.Start, c.silence.End, dur)
	kw := c.events[2]
	args = append(args, "-f", "lavfi", "-i", noise, "-f", "lavfi", "-i", "flite=text='goal':voice=slt")
	n := len(segs)
	graph := fmt.Sprintf("%sconcat=n=%d:v=1:a=0,format=yuv420p[v];[%d:a]aresample=48000,adelay=%d:all=1[k];[%d:a][k]amix=inputs=2:normalize=0:duration=first[a]",
		concat.String(), n, n+1, int(kw.start*1000), n)
	args = append(args, "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-c:a", "aac", "-t", fmt.Sprint(dur), c.path)
	ffmpeg(t, args...)
	words := []summary.Word{
		{Word: "the", Start: kw.start - 0.3, End: kw.start - 0.1},
		{Word: "goal", Start: kw.start, End: kw.start + 0.5},
	}
	b, _ := json.Marshal(words)
	if err := os.WriteFile(c.transcript, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}
