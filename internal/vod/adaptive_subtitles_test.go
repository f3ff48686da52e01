package vod

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// adaptivePackage makes a 9 s two-rung ladder with 2 s segments.
func adaptivePackage(t *testing.T, segType string) (Result, string) {
	t.Helper()
	in := generate(t, "in.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=9",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=9", "-c:v", "libx264", "-preset", "ultrafast",
		"-bf", "2", "-c:a", "aac", "-shortest")
	spec := &AdaptiveSpec{SegmentSeconds: 2, SegmentType: segType, Preset: "ultrafast", Rungs: []Rung{
		{Height: 240, VideoBitrate: "400k"}, {Height: 120, VideoBitrate: "150k"}}}
	return runOp(t, Operation{Type: TypeAdaptive, Adaptive: spec}, in)
}

const testVTT = `WEBVTT

1
00:00:00.500 --> 00:00:01.500
first words

2
00:00:03.000 --> 00:00:05.000
across the
segment boundary

3
00:00:08.200 --> 00:00:09.500
last one
`

// TestAddSubtitles adds English and German renditions to fMP4 and MPEG-TS
// ladders and checks what a player reads: the multivariant playlist (also
// through ffprobe), the subtitle playlists mirroring the media segments,
// and WebVTT segments with the cues of their time span and a timestamp
// map pointing at the media's first video timestamp.
func TestAddSubtitles(t *testing.T) {
	for _, segType := range []string{"fmp4", "ts"} {
		t.Run(segType, func(t *testing.T) {
			res, dir := adaptivePackage(t, segType)
			src := t.TempDir()
			for _, f := range []string{"s.en.vtt", "s.de.vtt"} {
				if err := os.WriteFile(filepath.Join(src, f), []byte(testVTT), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			nfiles := len(res.Files)
			err := AddSubtitles(context.Background(), dir, &res, src, []SubtitleTrack{{"en", "s.en.vtt"}, {"de", "s.de.vtt"}})
			if err != nil {
				t.Fatal(err)
			}
			master, _ := os.ReadFile(filepath.Join(dir, MasterPlaylist))
			for _, want := range []string{
				`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="en",DEFAULT=YES,AUTOSELECT=YES,URI="subtitles/en/index.m3u8"`,
				`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="de",NAME="de",DEFAULT=NO,AUTOSELECT=YES,URI="subtitles/de/index.m3u8"`,
			} {
				if !strings.Contains(string(master), want+"\n") {
					t.Errorf("master lacks %s:\n%s", want, master)
				}
			}
			if n, m := strings.Count(string(master), "#EXT-X-STREAM-INF:"), strings.Count(string(master), `SUBTITLES="subs"`); n != 2 || m != 2 {
				t.Errorf("%d variants, %d with SUBTITLES:\n%s", n, m, master)
			}
			types := probeTypes(t, filepath.Join(dir, MasterPlaylist))
			if !strings.Contains(types, "video") || !strings.Contains(types, "audio") {
				t.Errorf("ffprobe of the master finds %q", types)
			}
			media, _ := segmentDurations(filepath.Join(dir, "240p", "index.m3u8"))
			subs, err := segmentDurations(filepath.Join(dir, "subtitles", "en", "index.m3u8"))
			if err != nil || len(subs) != len(media) || len(media) < 4 {
				t.Fatalf("subtitle segments %v (%v), media %v", subs, err, media)
			}
			wantMap := videoStart(t, filepath.Join(dir, "240p", "index.m3u8"))
			checkSegments(t, filepath.Join(dir, "subtitles", "en"), media, wantMap)
			if segType == "ts" && wantMap < 126000 {
				t.Errorf("MPEG-TS timestamps start at %d, want >= 1.4 s", wantMap)
			}
			if got := len(res.Files) - nfiles; got != 2*(len(media)+1) {
				t.Errorf("result lists %d new files, want %d", got, 2*(len(media)+1))
			}
		})
	}
}

// checkSegments asserts every cue of testVTT sits in exactly the segments
// its time span overlaps, each segment valid WebVTT.
func checkSegments(t *testing.T, dir string, durs []float64, wantMap int64) {
	t.Helper()
	want, _ := parseWebVTT([]byte(testVTT))
	from := 0.0
	for i, d := range durs {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("seg_%04d.vtt", i)))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^X-TIMESTAMP-MAP=MPEGTS:(\d+),LOCAL:00:00:00\.000$`).FindSubmatch(b)
		if m == nil || string(m[1]) != strconv.FormatInt(wantMap, 10) {
			t.Errorf("segment %d: timestamp map %q, want MPEGTS:%d", i, m, wantMap)
		}
		got, err := parseWebVTT(b)
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		to := from + d
		var exp []vttCue
		for _, c := range want {
			if c.start < to && c.end > from || i == len(durs)-1 && c.start >= to {
				exp = append(exp, c)
			}
		}
		if len(got) != len(exp) {
			t.Fatalf("segment %d [%.2f, %.2f): cues %+v, want %+v", i, from, to, got, exp)
		}
		for k := range got {
			if got[k] != exp[k] {
				t.Errorf("segment %d: cue %+v, want %+v", i, got[k], exp[k])
			}
		}
		from = to
	}
}

// TestAddSubtitlesBadTrack: a malformed or missing WebVTT file is a clear
// error and the package is left exactly as it was.
func TestAddSubtitlesBadTrack(t *testing.T) {
	res, dir := adaptivePackage(t, "fmp4")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "bad.vtt"), []byte("WEBVTT\n\n1\n00:00:01.000 -> 00:00:02.000\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "srt.vtt"), []byte("1\n00:00:01,000 --> 00:00:02,000\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, MasterPlaylist))
	n := len(res.Files)
	for _, tc := range []struct {
		tracks []SubtitleTrack
		want   string
	}{
		{[]SubtitleTrack{{"en", "bad.vtt"}}, `bad.vtt: line 4: bad cue timing "00:00:01.000 -> 00:00:02.000"`},
		{[]SubtitleTrack{{"en", "srt.vtt"}}, "not a WebVTT file"},
		{[]SubtitleTrack{{"en", "missing.vtt"}}, "no such file"},
		{nil, "no subtitle track"},
		{[]SubtitleTrack{{`en",DEFAULT=YES`, "bad.vtt"}}, "not a language tag"},
	} {
		err := AddSubtitles(context.Background(), dir, &res, src, tc.tracks)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.tracks, err, tc.want)
		}
		after, _ := os.ReadFile(filepath.Join(dir, MasterPlaylist))
		if !bytes.Equal(before, after) {
			t.Errorf("%v: master changed:\n%s", tc.tracks, after)
		}
		if _, err := os.Stat(filepath.Join(dir, SubtitlesDir)); !os.IsNotExist(err) {
			t.Errorf("%v: subtitles dir left behind (%v)", tc.tracks, err)
		}
		if len(res.Files) != n {
			t.Errorf("%v: result files changed", tc.tracks)
		}
	}
	if types := probeTypes(t, filepath.Join(dir, MasterPlaylist)); !strings.Contains(types, "video") {
		t.Errorf("package no longer plays: %q", types)
	}
}

func TestParseWebVTT(t *testing.T) {
	cues, err := parseWebVTT([]byte("\ufeffWEBVTT - title\r\n\r\nNOTE a note\r\n\r\n01:02.500 --> 1:00:00.000 line:90%\r\n<b>x</b>\r\n"))
	if err != nil || len(cues) != 1 || cues[0] != (vttCue{62.5, 3600, "<b>x</b>"}) {
		t.Fatalf("%+v %v", cues, err)
	}
	if _, err := parseWebVTT([]byte("WEBVTT\n\n\n\n00:01.000 --> 00:02.000\nx\n\nid\n00:03.000 -> 00:04.000\ny\n")); err == nil || !strings.Contains(err.Error(), "line 9:") {
		t.Errorf("line number of a bad timing: %v", err)
	}
	for _, bad := range []string{"WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nx\n", "WEBVTT\n\n00:61:00.000 --> 01:00:00.000\nx\n", "WEBVTTX\n"} {
		if _, err := parseWebVTT([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func probeTypes(t *testing.T, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	return string(out)
}

// videoStart is an independent reading of a variant's first video
// timestamp in 90 kHz units.
func videoStart(t *testing.T, playlist string) int64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=start_pts,time_base", "-of", "csv=p=0", playlist).Output()
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	tb, pts, _ := strings.Cut(first, ",") // ffprobe prints time_base first
	p, _ := strconv.ParseInt(pts, 10, 64)
	num, den, _ := strings.Cut(tb, "/")
	n, _ := strconv.ParseFloat(num, 64)
	d, _ := strconv.ParseFloat(den, 64)
	if d == 0 {
		t.Fatalf("ffprobe start: %q", out)
	}
	return int64(float64(p)*n/d*90000 + 0.5)
}

// BenchmarkAddSubtitles measures adding an English and a German
// rendition of 300 cues to a two-rung package of 9 s (ffprobe of the
// first variant included).
func BenchmarkAddSubtitles(b *testing.B) {
	dir := b.TempDir()
	op := Operation{Type: TypeAdaptive, Adaptive: &AdaptiveSpec{SegmentSeconds: 2, Preset: "ultrafast", Rungs: []Rung{
		{Height: 240, VideoBitrate: "400k"}, {Height: 120, VideoBitrate: "150k"}}}}
	in := filepath.Join(b.TempDir(), "in.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=9",
		"-f", "lavfi", "-i", "sine=duration=9", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", in).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	res, err := op.Run(context.Background(), in, dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	src := b.TempDir()
	var vtt strings.Builder
	vtt.WriteString("WEBVTT\n")
	for i := range 300 {
		fmt.Fprintf(&vtt, "\n%s --> %s\nline %d of the talk\n", vttTime(float64(i)*0.03), vttTime(float64(i)*0.03+1.5), i)
	}
	for _, f := range []string{"en.vtt", "de.vtt"} {
		if err := os.WriteFile(filepath.Join(src, f), []byte(vtt.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	master, _ := os.ReadFile(filepath.Join(dir, MasterPlaylist))
	b.ResetTimer()
	for range b.N {
		r := res
		r.Files = append([]File(nil), res.Files...)
		if err := AddSubtitles(context.Background(), dir, &r, src, []SubtitleTrack{{"en", "en.vtt"}, {"de", "de.vtt"}}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = os.RemoveAll(filepath.Join(dir, SubtitlesDir))
		_ = os.WriteFile(filepath.Join(dir, MasterPlaylist), master, 0o644)
		b.StartTimer()
	}
}
