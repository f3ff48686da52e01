package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
)

// cueReport is what hls/browsertest/cues.mjs prints.
type cueReport struct {
	Fatal          []string `json:"fatal"`
	Errors         []string `json:"errors"`
	Ended          bool     `json:"ended"`
	CurrentTime    float64  `json:"currentTime"`
	SubtitleTracks []struct {
		Name, Lang string
		Default    bool
	} `json:"subtitleTracks"`
	TextTracks []struct {
		Kind, Label, Language, Mode string
		Cues                        []timedCue
	} `json:"textTracks"`
}

type timedCue struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

// TestProcessAdaptiveSubtitles runs `mps process` with a subtitles and an
// adaptive operation on a file of flite speech and checks the package as
// a viewer gets it: ffprobe still reads the master playlist, the subtitle
// playlist mirrors the media segments with valid WebVTT segments holding
// the recognised cues at their times, and hls.js in headless Chromium
// shows the English track with those cues in video.textTracks, each
// sentence's cue within 1 s of where the sentence is spoken.
func TestProcessAdaptiveSubtitles(t *testing.T) {
	testutil.NeedCommand(t, "pocketsphinx_continuous")
	dir := t.TempDir()
	pcm, placed := speechtest.Layout(t, speechtest.Set[:3], 1, 1.5)
	in := speechtest.Video(t, dir, "talk.mp4", pcm)
	outDir := filepath.Join(dir, "out")
	var out, errb bytes.Buffer
	code := run([]string{"process", in, "-o", outDir,
		"--op", `{"type":"subtitles","subtitles":{"language":"en","soft_track":"hls"}}`,
		"--op", `{"type":"adaptive","adaptive":{"segment_seconds":2,"preset":"ultrafast","rungs":[{"height":240,"video_bitrate":"300k"},{"height":120,"video_bitrate":"120k"}]}}`,
		"--op", `{"type":"adaptive","name":"ts","adaptive":{"segment_seconds":2,"segment_type":"ts","preset":"ultrafast","rungs":[{"height":240,"video_bitrate":"300k"}]}}`},
		&out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errb.String())
	}
	var rep struct {
		Results []struct {
			Operation string
			Playlist  string
			Files     []struct{ Name string }
			Subtitles []struct{ Language, VTT string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Results) != 3 {
		t.Fatalf("report %v: %s", err, out.String())
	}
	srcVTT, _ := os.ReadFile(filepath.Join(outDir, "01-subtitles", rep.Results[0].Subtitles[0].VTT))
	want := vttCues(t, string(srcVTT))
	if len(want) == 0 {
		t.Fatalf("no cues recognised:\n%s", srcVTT)
	}
	for i, pkgName := range []string{"02-adaptive", "03-ts"} {
		t.Run(pkgName, func(t *testing.T) {
			res := rep.Results[i+1]
			if res.Playlist != "master.m3u8" || !listed(res.Files, "subtitles/en/index.m3u8") {
				t.Errorf("adaptive result does not list the subtitle playlist: %+v", res)
			}
			checkPackage(t, filepath.Join(outDir, pkgName), want, placed)
		})
	}
}

// checkPackage checks one adaptive package with the English rendition of
// the cues want, recognised from the spoken sentences placed.
func checkPackage(t *testing.T, pkg string, want []timedCue, placed []speechtest.Placed) {
	master, _ := os.ReadFile(filepath.Join(pkg, "master.m3u8"))
	if !strings.Contains(string(master), `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="en",DEFAULT=YES,AUTOSELECT=YES,URI="subtitles/en/index.m3u8"`) ||
		strings.Count(string(master), `SUBTITLES="subs"`) != strings.Count(string(master), "#EXT-X-STREAM-INF:") {
		t.Errorf("master playlist:\n%s", master)
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", filepath.Join(pkg, "master.m3u8")).CombinedOutput()
	if err != nil || !strings.Contains(string(probe), "video") || !strings.Contains(string(probe), "audio") {
		t.Errorf("ffprobe of the master: %v: %s", err, probe)
	}
	checkSubtitleSegments(t, pkg, want)

	srv := httptest.NewServer(http.FileServer(http.Dir(pkg)))
	defer srv.Close()
	r := playCues(t, srv.URL+"/master.m3u8")
	if len(r.Fatal) > 0 || !r.Ended {
		t.Fatalf("hls.js: fatal %v, ended %v at %.1f s, errors %v", r.Fatal, r.Ended, r.CurrentTime, r.Errors)
	}
	if len(r.SubtitleTracks) != 1 || r.SubtitleTracks[0].Lang != "en" || !r.SubtitleTracks[0].Default {
		t.Errorf("hls.js subtitle tracks %+v", r.SubtitleTracks)
	}
	var shown []timedCue
	for _, tt := range r.TextTracks {
		if tt.Kind == "subtitles" && tt.Language == "en" && tt.Mode == "showing" {
			shown = tt.Cues
		}
	}
	if len(shown) != len(want) {
		t.Fatalf("video.textTracks shows %d cues %+v, want the %d of the WebVTT file %+v", len(shown), shown, len(want), want)
	}
	t.Logf("hls.js shows %+v; spoken %+v", shown, placed)
	for i, c := range shown {
		if c.Text != want[i].Text || math.Abs(c.Start-want[i].Start) > 1 || math.Abs(c.End-want[i].End) > 1 {
			t.Errorf("cue %d shown %+v, file has %+v", i, c, want[i])
		}
	}
	for _, p := range placed {
		first := strings.Fields(p.Text)[0]
		ok := false
		for _, c := range shown {
			ok = ok || math.Abs(c.Start-p.Start) <= 1 && strings.Contains(c.Text, first)
		}
		if !ok {
			t.Errorf("no cue starting with %q within 1 s of %.2f s: %+v", first, p.Start, shown)
		}
	}
}

func listed(files []struct{ Name string }, name string) bool {
	for _, f := range files {
		if f.Name == name {
			return true
		}
	}
	return false
}

var vttCueRE = regexp.MustCompile(`(?m)^(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})\n((?:.+\n?)+)`)

// vttCues reads the cues of a WebVTT file as a browser shows them (lines
// joined by newlines, entities decoded).
func vttCues(t *testing.T, s string) []timedCue {
	t.Helper()
	if !strings.HasPrefix(s, "WEBVTT\n") {
		t.Fatalf("not WebVTT:\n%s", s)
	}
	var out []timedCue
	for _, m := range vttCueRE.FindAllStringSubmatch(s, -1) {
		sec := func(h, mi, s string) float64 {
			a, _ := strconv.ParseFloat(h, 64)
			b, _ := strconv.ParseFloat(mi, 64)
			c, _ := strconv.ParseFloat(s, 64)
			return a*3600 + b*60 + c
		}
		text := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.TrimRight(m[7], "\n"))
		out = append(out, timedCue{Start: sec(m[1], m[2], m[3]), End: sec(m[4], m[5], m[6]), Text: text})
	}
	return out
}

// checkSubtitleSegments: the subtitle playlist has the media playlist's
// segments, each a WebVTT file with a timestamp map and exactly the cues
// that overlap its span, together all the cues of the source file.
func checkSubtitleSegments(t *testing.T, pkg string, want []timedCue) {
	t.Helper()
	durs := func(p string) []float64 {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d []float64
		for _, m := range regexp.MustCompile(`#EXTINF:([0-9.]+),`).FindAllStringSubmatch(string(b), -1) {
			f, _ := strconv.ParseFloat(m[1], 64)
			d = append(d, f)
		}
		return d
	}
	media, subs := durs(filepath.Join(pkg, "240p", "index.m3u8")), durs(filepath.Join(pkg, "subtitles", "en", "index.m3u8"))
	if len(media) < 3 || fmt.Sprint(media) != fmt.Sprint(subs) {
		t.Fatalf("subtitle segments %v, media segments %v", subs, media)
	}
	seen := map[timedCue]bool{}
	from := 0.0
	for i, d := range media {
		b, _ := os.ReadFile(filepath.Join(pkg, "subtitles", "en", fmt.Sprintf("seg_%04d.vtt", i)))
		if !regexp.MustCompile(`^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:00:00:00\.000\n`).Match(b) {
			t.Errorf("segment %d header:\n%s", i, b)
		}
		for _, c := range vttCues(t, string(b)) {
			if c.End <= from || i < len(media)-1 && c.Start >= from+d {
				t.Errorf("segment %d [%.2f, %.2f) holds cue %+v", i, from, from+d, c)
			}
			seen[c] = true
		}
		from += d
	}
	for _, c := range want {
		if !seen[c] {
			t.Errorf("cue %+v is in no segment", c)
		}
	}
}

// playCues plays url to its end with hls.js in headless Chromium, four
// times faster than real time.
func playCues(t *testing.T, url string) *cueReport {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not installed: run `make deps` (the hls.js browser test needs node and chromium)")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium not installed at %s: run `make deps`", chromium)
	}
	browsertest := filepath.Join("..", "..", "hls", "browsertest")
	if _, err := os.Stat(filepath.Join(browsertest, "node_modules", "playwright-core")); err != nil {
		t.Fatal("playwright-core missing: run `npm ci` in hls/browsertest (make deps)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(browsertest, "cues.mjs"), url, "--seconds", "40", "--rate", "4")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		var stderr []byte
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("cues.mjs: %v\n%s\n%s", err, out, stderr)
	}
	var r cueReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("cues.mjs report: %v\n%s", err, out)
	}
	return &r
}
