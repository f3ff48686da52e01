package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/server"
)

// consoleReport is what web/test/console.mjs found on each page.
type consoleReport struct {
	Errors []string
	Shots  []string
	Grid   *struct {
		FirstPaintMs int
		Paint        struct{ FCP, Now float64 }
		Thumb        struct{ W, H int }
		Text         []string
	}
	Whep, HLS, Rung *playback
	Actions         *struct{ ShotWidth, StoppedBadge int }
	Kick            *struct{ Gone bool }
	Whip            *struct {
		Cameras      int
		Text         []string
		DeleteStatus int
	}
	Recording *struct {
		Segments   int
		PlayedFrom float64
		File       string
		Deleted    int
		VictimGone bool
	}
	Task *struct {
		Status string
		Images []int
		Video  struct {
			Duration      float64
			Width, Height int
		}
		Dropped      bool
		SchemeSwitch []bool
		AIDemo       *struct {
			Spans, Cues, Reports int
			SeekedTo             float64
		}
	}
	Settings *struct {
		Sections  []string
		Caps      string
		Events    int
		CapsShown string
		Origins   string
	}
	Phone *struct{ Overflow int }
	Login *struct{ Authorized, Refused, WhepFrames, HLSFrames, OutputImages, OutputVideo int }
}

// playback is a video element measured over a few seconds of playing.
type playback struct {
	Advanced      float64
	Frames        int
	Width, Height int
	Status        string
}

// startConsoleServer runs a server with what the console shows: RTMP and
// WebRTC in, snapshots every second, every stream recorded in 2 s segments,
// the default task templates.
func startConsoleServer(t *testing.T) *server.Server {
	t.Helper()
	cfg := config.Defaults()
	cfg.Storage.DataDir = t.TempDir()
	cfg.HTTP.Address, cfg.RTMP.Address = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTSP.Enabled, cfg.SRT.Enabled = false, false
	cfg.WebRTC.ICEUDPAddress, cfg.WebRTC.ICETCPAddress = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Snapshots.Enabled, cfg.Snapshots.Interval = true, config.Duration(time.Second)
	cfg.Record.Enabled, cfg.Record.SegmentDuration = true, config.Duration(2*time.Second)
	// A ladder whose one rung passes the source through: a rendition to
	// pick without spending CPU on encoding.
	cfg.Transcode.Ladders = map[string]config.Ladder{"pass": {Rungs: []config.Rung{{Name: "src", Codec: config.CodecSource}}}}
	cfg.Paths = []config.PathRule{{Name: "live/console", Transcode: "pass"}}
	cfg.Schemes = []config.Scheme{{Name: "stills", Enabled: true, Operations: []config.OpRef{{Template: "thumbnails"}},
		Notify: config.SchemeNotify{Mode: config.NotifyFinish}}}
	srv := server.New(cfg, slog.New(slog.DiscardHandler))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestConsole publishes with ffmpeg over RTMP, then walks the console in
// headless Chromium (web/test/console.mjs) and checks what an operator
// sees on every page: the stream's card with a real thumbnail, WebRTC and
// LL-HLS playback with frames advancing, a WHIP publish from the fake
// camera showing up as a stream, a recording range downloaded as an MP4
// that ffprobe reads, an uploaded file's task running to the end with its
// outputs shown, the settings with live events, a phone-sized layout
// without sideways scrolling, and the login form when the API answers 401.
// Screenshots of each page are kept with `go test -artifacts`.
func TestConsole(t *testing.T) {
	for _, bin := range []string{"ffmpeg", "ffprobe", "node", "/usr/bin/chromium"} {
		testutil.NeedCommand(t, bin)
	}
	if _, err := os.Stat(filepath.Join("test", "node_modules", "playwright-core")); err != nil {
		t.Fatal("web/test/node_modules missing: run `make deps`")
	}
	srv := startConsoleServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	media := testutil.TestData("h264_aac_1s_gop.mp4")
	pub := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
		"-i", media, "-c", "copy", "-f", "flv", "rtmp://"+srv.RTMPAddr()+"/live/console")
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pub.Process.Kill(); _ = pub.Wait() }()
	testutil.WaitStream(t, srv.Paths(), "live/console", nil, 15*time.Second)

	out := t.ArtifactDir()
	var stdout, stderr bytes.Buffer
	node := exec.CommandContext(ctx, "node", filepath.Join("test", "console.mjs"), "http://"+srv.HTTPAddr()+"/",
		"--stream", "live/console", "--whip", "live/whip", "--upload", media, "--out", out)
	node.Stdout, node.Stderr = &stdout, &stderr
	if err := node.Run(); err != nil {
		t.Fatalf("console.mjs: %v\n%s", err, stderr.String())
	}
	var rep consoleReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", stdout.String(), err)
	}
	t.Logf("screenshots: %s", strings.Join(rep.Shots, " "))
	for _, e := range rep.Errors {
		t.Errorf("browser: %s", e)
	}
	checkLive(t, &rep)
	checkRecording(t, &rep, srv)
	checkRest(t, &rep)
}

func checkLive(t *testing.T, rep *consoleReport) {
	t.Run("grid", func(t *testing.T) {
		g := rep.Grid
		if g == nil || g.Thumb.W != 320 || g.Thumb.H != 240 {
			t.Fatalf("live grid: %+v, want a card with a 320x240 snapshot", g)
		}
		text := strings.ToLower(strings.Join(g.Text, " | "))
		for _, want := range []string{"live/console", "rtmp", "h264 320×240", "aac", "b/s"} {
			if !strings.Contains(text, want) {
				t.Errorf("card %q lacks %q", text, want)
			}
		}
		t.Logf("console load: first contentful paint %.0f ms, grid heading rendered by %.0f ms (navigation start), %d ms from the test's goto",
			g.Paint.FCP, g.Paint.Now, g.FirstPaintMs)
	})
	for name, p := range map[string]*playback{"WHEP": rep.Whep, "LL-HLS": rep.HLS, "rung": rep.Rung} {
		t.Run(name, func(t *testing.T) {
			if p == nil || p.Width != 320 || p.Height != 240 || p.Advanced < 1.3 || p.Frames < 10 {
				t.Fatalf("%s playback %+v: want 320x240, time and frames advancing", name, p)
			}
		})
	}
	t.Run("actions", func(t *testing.T) {
		if a := rep.Actions; a == nil || a.ShotWidth != 320 || a.StoppedBadge != 0 {
			t.Fatalf("stream page actions: %+v, want a 320-wide snapshot and the REC badge gone after Stop recording", a)
		}
		if rep.Kick == nil || !rep.Kick.Gone {
			t.Fatal("Kick publisher did not end the stream")
		}
	})
	t.Run("WHIP", func(t *testing.T) {
		w := rep.Whip
		if w == nil || !strings.Contains(strings.ToLower(strings.Join(w.Text, " ")), "webrtc") || w.DeleteStatus != http.StatusOK {
			t.Fatalf("WHIP publish from the fake camera: %+v, want a live/whip card published over webrtc, ended by Stop (DELETE 200)", w)
		}
	})
}

func checkRecording(t *testing.T, rep *consoleReport, srv *server.Server) {
	t.Run("recording", func(t *testing.T) {
		r := rep.Recording
		if r == nil || r.Segments < 2 || r.PlayedFrom <= 0.5 || r.Deleted != http.StatusNoContent || !r.VictimGone {
			t.Fatalf("recordings page: %+v, want ≥ 2 segments on the timeline, playback from a click, a segment deleted", r)
		}
		probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name",
			"-of", "compact=p=0:nk=1", r.File).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe of the downloaded range: %v\n%s", err, probe)
		}
		lines := strings.Fields(string(probe))
		d, _ := strconv.ParseFloat(lines[len(lines)-1], 64)
		if !strings.Contains(string(probe), "h264") || d < 2 || d > 5 {
			t.Fatalf("downloaded range %q: want h264 lasting about 3 s (1 s to 4 s selected)", probe)
		}
	})
}

func checkRest(t *testing.T, rep *consoleReport) {
	t.Run("task", func(t *testing.T) {
		k := rep.Task
		if k == nil || k.Status != "FINISH" || len(k.Images) != 3 || k.Images[0] != 320 {
			t.Fatalf("task page: %+v, want FINISH and the three 320-wide thumbnails", k)
		}
		if k.Video.Duration < 5 || k.Video.Height != 720 {
			t.Fatalf("task's mp4_720p output in the player: %+v, want 720 lines, ~6 s", k.Video)
		}
		if !k.Dropped || len(k.SchemeSwitch) != 2 || k.SchemeSwitch[0] || !k.SchemeSwitch[1] {
			t.Fatalf("tasks page: dropped file uploaded %v, scheme switched off then on %v", k.Dropped, k.SchemeSwitch)
		}
		if a := k.AIDemo; a == nil || a.Spans != 2 || a.Cues != 1 || a.Reports < 2 {
			t.Fatalf("AI results: %+v, want 2 spans on a timeline, the subtitle cue on the player, 2 reports", a)
		}
	})
	t.Run("settings", func(t *testing.T) {
		s := rep.Settings
		if s == nil || !strings.Contains(strings.Join(s.Sections, " "), "rtmp") || s.Events < 2 {
			t.Fatalf("settings: %+v, want config sections and the stream events", s)
		}
		if !strings.Contains(s.Caps, "ffmpeg") {
			t.Errorf("the server's own capabilities %q lack ffmpeg", s.Caps)
		}
		if !strings.Contains(s.Origins, "/etc/mps/mps.yaml") || !strings.Contains(s.Origins, "rtmp.address") || !strings.Contains(s.Origins, "mps.yaml:12") {
			t.Errorf("config origins shown as %q, want the file and rtmp.address at mps.yaml:12", s.Origins)
		}
		for _, want := range []string{"ffmpeg", "5.1.6", "libx265", "vmaf", "no", "transcription"} {
			if !strings.Contains(s.Caps+s.CapsShown, want) {
				t.Errorf("capabilities %q / %q lack %q", s.Caps, s.CapsShown, want)
			}
		}
	})
	t.Run("phone", func(t *testing.T) {
		if rep.Phone == nil || rep.Phone.Overflow > 0 {
			t.Fatalf("phone layout: %+v, want no sideways scrolling", rep.Phone)
		}
	})
	t.Run("login", func(t *testing.T) {
		if l := rep.Login; l == nil || l.OutputImages < 3 || l.OutputVideo == 0 {
			t.Errorf("login: %+v, want the task's stills and video shown behind the locked outputs", l)
		}
		if l := rep.Login; l == nil || l.Authorized == 0 || l.Refused == 0 || l.WhepFrames == 0 || l.HLSFrames == 0 {
			t.Fatalf("login: %+v, want refused calls before the login, authorized ones after, and both players playing", l)
		}
	})
}

// TestConsoleServesModules checks the files the page needs come with
// types a browser accepts for ES modules and an import map.
func TestConsoleServesModules(t *testing.T) {
	srv := startConsoleServer(t)
	for path, want := range map[string]string{
		"/":                         "text/html",
		"/static/app.js":            "javascript",
		"/vendor/preact/preact.mjs": "javascript",
		"/vendor/preact/hooks.mjs":  "javascript",
		"/vendor/htm/htm.mjs":       "javascript",
		"/static/console.css":       "text/css",
	} {
		resp, err := http.Get("http://" + srv.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.Contains(ct, want) {
			t.Errorf("GET %s: %d %q, want 200 %s", path, resp.StatusCode, ct, want)
		}
	}
}
