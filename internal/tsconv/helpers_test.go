package tsconv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/stream"
)

const testdataDir = "../../testdata"

// ffmpeg runs ffmpeg with args (never through a shell) and fails the test
// on a non-zero exit, showing stderr.
func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, stderr.String())
	}
}

// toTS remuxes a testdata file (or a file given by absolute path) to
// MPEG-TS with ffmpeg and returns the path of the result.
func toTS(t *testing.T, src string, extra ...string) string {
	t.Helper()
	if !filepath.IsAbs(src) {
		src = filepath.Join(testdataDir, src)
	}
	out := filepath.Join(t.TempDir(), "in.ts")
	args := append([]string{"-i", src, "-c", "copy"}, extra...)
	ffmpeg(t, append(args, "-f", "mpegts", out)...)
	return out
}

// demuxFile demuxes a whole file.
func demuxFile(t *testing.T, path string) ([]*stream.Track, []*stream.Unit) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := NewDemuxer(f)
	if err != nil {
		t.Fatalf("NewDemuxer: %v", err)
	}
	var units []*stream.Unit
	for {
		u, err := d.ReadUnit()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ReadUnit after %d units: %v", len(units), err)
		}
		units = append(units, u)
		if len(units) > 100000 {
			t.Fatal("too many units")
		}
	}
	return d.Tracks(), units
}

// muxFile writes units to a new TS file and returns its path.
func muxFile(t *testing.T, tracks []*stream.Track, units []*stream.Unit) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.ts")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := NewMuxer(f, tracks)
	if err != nil {
		t.Fatalf("NewMuxer: %v", err)
	}
	for _, u := range units {
		if err := m.WriteUnit(u); err != nil {
			t.Fatalf("WriteUnit: %v", err)
		}
	}
	return out
}

// decodeClean decodes a file fully with ffmpeg and fails on any error
// message.
func decodeClean(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("decoding %s: %v\n%s", path, err, out)
	}
}

// frameCounts returns the decoded frame count of each stream of a file,
// keyed by codec type ("video", "audio").
func frameCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,nb_read_frames", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var probe struct {
		Streams []struct {
			CodecType    string `json:"codec_type"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	counts := map[string]int{}
	for _, s := range probe.Streams {
		n, _ := strconv.Atoi(s.NbReadFrames)
		counts[s.CodecType] += n
	}
	return counts
}

// packetTimes returns pts and dts (in seconds) of every packet of the
// first video stream.
func packetTimes(t *testing.T, path string) (pts, dts []float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,dts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 2 {
			continue
		}
		p, err1 := strconv.ParseFloat(f[0], 64)
		d, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		pts, dts = append(pts, p), append(dts, d)
	}
	return pts, dts
}

func trackOf(tracks []*stream.Track, c stream.Codec) *stream.Track {
	for _, t := range tracks {
		if t.Codec == c {
			return t
		}
	}
	return nil
}

func unitsOf(units []*stream.Unit, tr *stream.Track) []*stream.Unit {
	var out []*stream.Unit
	for _, u := range units {
		if u.Track == tr {
			out = append(out, u)
		}
	}
	return out
}

func fmtInt(n int) string { return strconv.Itoa(n) }
