package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fileTimes returns ffprobe's start_time and duration of a file.
func fileTimes(t *testing.T, file string) (start, dur float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=start_time,duration", "-of", "json", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var p struct {
		Format struct {
			Start string `json:"start_time"`
			Dur   string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	start, _ = strconv.ParseFloat(p.Format.Start, 64)
	dur, _ = strconv.ParseFloat(p.Format.Dur, 64)
	return start, dur
}

// decodeAll decodes every stream of input with -xerror and fails on any
// message ffmpeg prints at level error.
func decodeAll(t *testing.T, input string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", input, "-map", "0", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || strings.TrimSpace(stderr.String()) != "" {
		t.Fatalf("ffmpeg -xerror %s: %v\n%s", input, err, stderr.String())
	}
}

// TestSegmentTimelines records 12 s in 4 s segments and checks each file
// opens on its own timeline (fMP4 from 0; MPEG-TS from the same origin in
// every file), that the recordings' HLS VOD decodes with -xerror across
// the segment boundaries, and that a range across segments still comes out
// whole from the playback API.
func TestSegmentTimelines(t *testing.T) {
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1)
	for _, format := range []string{FormatFMP4, FormatMPEGTS} {
		t.Run(format, func(t *testing.T) {
			rule := Rule{Enabled: true, Format: format, SegmentDuration: 4 * time.Second, PartDuration: time.Second}
			_, m, files := recordSource(t, src, rule, 0)
			if len(files) != 3 {
				t.Fatalf("got %d segments, want 3", len(files))
			}
			var first float64
			for i, f := range files {
				start, dur := fileTimes(t, f)
				t.Logf("%s: start_time %.3f duration %.3f", filepath.Base(f), start, dur)
				if i == 0 {
					first = start
				}
				if format == FormatFMP4 && start > 0.1 {
					t.Errorf("segment %d starts at %.3f s, want its own timeline from 0", i, start)
				}
				if format == FormatMPEGTS && (start-first > 0.05 || first-start > 0.05) {
					t.Errorf("segment %d starts at %.3f s, segment 0 at %.3f s: want every segment on its own timeline from the same origin", i, start, first)
				}
				if dur < 3.9 || dur > 4.2 {
					t.Errorf("segment %d: duration %.3f s, want 4 s", i, dur)
				}
			}
			srv := serve(t, m)
			segs := m.Segments("live/cam1", time.Time{}, time.Time{})
			decodeAll(t, srv.URL+HLSPrefix+"live/cam1/index.m3u8")

			// 6 s from 3 s in spans all three segments.
			q := url.Values{"start": {segs[0].Start.Add(3 * time.Second).Format(time.RFC3339Nano)}, "duration": {"6s"}}
			out := filepath.Join(t.TempDir(), "range.mp4")
			download(t, srv.URL+APIPrefix+"/live/cam1/get?"+q.Encode(), out)
			_, d := fileTimes(t, out)
			n := decode(t, "-i", out)
			if d < 5.9 || d > 6.1 || n < 178 || n > 182 {
				t.Errorf("range of 6 s across segments: %.3f s, %d frames; want 6 s, 180 frames", d, n)
			}
		})
	}
}
