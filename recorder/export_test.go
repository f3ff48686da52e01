package recorder

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exportFrames lists an exported file's decoded frames per kind
// (presentation times in seconds) and its packets' flags.
type exportFrames struct {
	video, audio []float64
	keyFirst     bool
	discarded    int
}

func probeExport(t *testing.T, file string) exportFrames {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_frames", "-show_packets",
		"-show_entries", "frame=media_type,best_effort_timestamp_time,key_frame:packet=flags", "-of", "json", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var p struct {
		Items []struct {
			Kind  string `json:"type"`
			Type  string `json:"media_type"`
			TS    string `json:"best_effort_timestamp_time"`
			Key   int    `json:"key_frame"`
			Flags string `json:"flags"`
		} `json:"packets_and_frames"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var e exportFrames
	for _, f := range p.Items {
		if f.Kind == "packet" {
			if strings.Contains(f.Flags, "D") {
				e.discarded++
			}
			continue
		}
		v, _ := strconv.ParseFloat(f.TS, 64)
		switch f.Type {
		case "video":
			if len(e.video) == 0 {
				e.keyFirst = f.Key == 1
			}
			e.video = append(e.video, v)
		case "audio":
			e.audio = append(e.audio, v)
		}
	}
	return e
}

// maxStep returns the largest interval between consecutive times.
func maxStep(ts []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}

// TestExportCutsCleanly exports 3 s from 1.5 s into a recording of 2 s
// segments (so across two boundaries, starting mid-GOP) and checks what a
// player shows, frame by frame: with the default (precise) the file starts
// exactly at the start and lasts 3 s; with precise=false it starts at the
// keyframe before (1 s) with no pre-roll hidden by an edit list; in both,
// video frames are 33 ms apart and audio frames 21 ms apart throughout,
// boundaries included. (The source is not looped: ffmpeg's loop leaves a
// jump of its own.)
func TestExportCutsCleanly(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 0)
	for _, format := range []string{FormatFMP4, FormatMPEGTS} {
		t.Run(format, func(t *testing.T) {
			rule := Rule{Enabled: true, Format: format, SegmentDuration: 2 * time.Second, PartDuration: time.Second}
			_, m, files := recordSource(t, src, rule, 0)
			if len(files) != 3 {
				t.Fatalf("got %d segments, want 3", len(files))
			}
			srv := serve(t, m)
			segs := m.Segments("live/cam1", time.Time{}, time.Time{})
			for _, tc := range []struct {
				name           string
				query          string
				first, seconds float64
			}{
				{"precise", "", 0, 3},
				{"keyframe", "false", 0, 3.5},
			} {
				t.Run(tc.name, func(t *testing.T) {
					checkExport(t, srv.URL, segs[0].Start.Add(1500*time.Millisecond), 3*time.Second, tc.query, tc.seconds, tc.seconds)
				})
			}
		})
	}
}

// checkExport exports dur from start (precise unless query is "false") and
// checks the frames of the file: it starts at 0 on a keyframe, lasts
// seconds (to upTo), hides nothing behind an edit list, and its video and audio
// frames keep their pace throughout.
func checkExport(t *testing.T, base string, start time.Time, dur time.Duration, query string, seconds, upTo float64) {
	t.Helper()
	q := url.Values{"start": {start.Format(time.RFC3339Nano)}, "duration": {dur.String()}}
	if query != "" {
		q.Set("precise", query)
	}
	out := filepath.Join(t.TempDir(), "range.mp4")
	download(t, base+APIPrefix+"/live/cam1/get?"+q.Encode(), out)
	e := probeExport(t, out)
	if len(e.video) == 0 || len(e.audio) == 0 {
		t.Fatalf("%d video and %d audio frames", len(e.video), len(e.audio))
	}
	wantFrames, maxFrames := int(seconds*30+0.5), int(upTo*30+0.5)
	t.Logf("%d video frames from %.3f to %.3f, %d audio frames from %.3f; %d discarded packets",
		len(e.video), e.video[0], e.video[len(e.video)-1], len(e.audio), e.audio[0], e.discarded)
	if e.video[0] > 0.001 || e.audio[0] > 0.022 {
		t.Errorf("first video frame at %.3f s, first audio frame at %.3f s; want the file to start at 0", e.video[0], e.audio[0])
	}
	if n := len(e.video); n < wantFrames-1 || n > maxFrames+1 {
		t.Errorf("%d video frames, want %d to %d (%.1f to %.1f s)", n, wantFrames, maxFrames, seconds, upTo)
	}
	if !e.keyFirst {
		t.Error("the first frame shown is not a keyframe")
	}
	if e.discarded > 0 {
		t.Errorf("%d packets hidden by an edit list", e.discarded)
	}
	if d, at := maxStep(e.video); d > 0.036 {
		t.Errorf("video jumps %.0f ms at frame %d (%.3f s), want 33 ms steps", d*1000, at, e.video[at])
	}
	if d, at := maxStep(e.audio); d > 0.023 {
		t.Errorf("audio jumps %.0f ms at frame %d (%.3f s), want 21 ms steps", d*1000, at, e.audio[at])
	}
}

// TestExportFromLongSegment exports 3 s from 37.5 s into one 48 s fMP4
// segment, where the reader skips the fragments before the range by their
// headers: the cut is as exact as from the start of a file.
func TestExportFromLongSegment(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 7)
	rule := Rule{Enabled: true, Format: FormatFMP4, SegmentDuration: time.Hour, PartDuration: time.Second}
	_, m, files := recordSource(t, src, rule, 16) // paced: at full speed the ring would overrun
	if len(files) != 1 {
		t.Fatalf("got %d segments, want 1", len(files))
	}
	srv := serve(t, m)
	segs := m.Segments("live/cam1", time.Time{}, time.Time{})
	if segs[0].Duration < 45*time.Second {
		t.Fatalf("recorded %s, want 48 s", segs[0].Duration)
	}
	// With precise=false the file starts at the keyframe before 37.5 s:
	// the looped source's frames drift from a 1 s grid, so anywhere
	// within a GOP before it.
	for _, tc := range []struct {
		name, query string
		seconds     float64
		upTo        float64
	}{{"precise", "", 3, 3}, {"keyframe", "false", 3.03, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			// 37.5 s: mid-GOP; the range (from the keyframe at 37 s) stays clear of
			// the jumps ffmpeg leaves where the source loops (36 s, 42 s).
			checkExport(t, srv.URL, segs[0].Start.Add(37500*time.Millisecond), 3*time.Second, tc.query, tc.seconds, tc.upTo)
		})
	}
}
