package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
)

// source is a demuxed test file: its tracks and every access unit, in the
// order ffmpeg muxed them.
type source struct {
	tracks []*stream.Track
	units  []*stream.Unit
	video  int // number of video units
}

func testdata(name string) string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "testdata", name)
}

// loadSource runs ffmpeg to remux file (played loops+1 times, with a
// continuous timeline) into MPEG-TS and demuxes it with mediacommon.
func loadSource(tb testing.TB, file string, loops int) *source {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	if loops > 0 {
		args = append(args, "-stream_loop", strconv.Itoa(loops))
	}
	args = append(args, "-i", testdata(file), "-c", "copy", "-f", "mpegts", "pipe:1")
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).Output()
	if err != nil {
		tb.Fatalf("ffmpeg remux %s: %v", file, err)
	}
	src, err := demuxTS(bytes.NewReader(out))
	if err != nil {
		tb.Fatalf("demux %s: %v", file, err)
	}
	return src
}

func demuxTS(r io.Reader) (*source, error) {
	rd := &mpegts.Reader{R: r}
	if err := rd.Initialize(); err != nil {
		return nil, err
	}
	src := &source{}
	var td mpegts.TimeDecoder
	td.Initialize()
	toDur := func(ts int64) time.Duration { return fromTicks(td.Decode(ts), 90000) }
	var videoTrack *stream.Track
	for _, mt := range rd.Tracks() {
		switch c := mt.Codec.(type) {
		case *tscodecs.H264:
			t := &stream.Track{Codec: stream.CodecH264, ClockRate: 90000}
			videoTrack = t
			src.tracks = append(src.tracks, t)
			rd.OnDataH264(mt, func(pts, dts int64, au [][]byte) error {
				for _, n := range au {
					switch h264.NALUType(n[0] & 0x1f) {
					case h264.NALUTypeSPS:
						if t.SPS == nil {
							nt, err := stream.NewH264Track(n, nil)
							if err == nil {
								t.SPS, t.Width, t.Height = n, nt.Width, nt.Height
							}
						}
					case h264.NALUTypePPS:
						if t.PPS == nil {
							t.PPS = n
						}
					}
				}
				d, p := toDur(dts), toDur(pts)
				src.units = append(src.units, &stream.Unit{Track: t, DTS: d, PTS: p, Key: h264.IsRandomAccess(au), Payload: au})
				src.video++
				return nil
			})
		case *tscodecs.MPEG4Audio:
			asc, err := c.Config.Marshal()
			if err != nil {
				return nil, err
			}
			t, err := stream.NewAACTrack(asc)
			if err != nil {
				return nil, err
			}
			src.tracks = append(src.tracks, t)
			rd.OnDataMPEG4Audio(mt, func(pts int64, aus [][]byte) error {
				d := toDur(pts)
				src.units = append(src.units, &stream.Unit{Track: t, DTS: d, PTS: d, Key: true, Payload: aus})
				return nil
			})
		}
	}
	for {
		if err := rd.Read(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			return nil, err
		}
	}
	_ = videoTrack
	return src, nil
}

// newHub returns a real path manager.
func newHub(tb testing.TB, bus *events.Bus) *pathmgr.Manager {
	h := pathmgr.New(slog.New(slog.DiscardHandler), bus, nil)
	tb.Cleanup(h.Close)
	return h
}

// publish publishes src on path (tracks copied so streams never share
// them) and returns the stream and a function that writes the units at
// speed times real time (0: as fast as possible), calling each(i) after
// unit i. The stream is closed at the end.
func publish(tb testing.TB, hub stream.Hub, path string, src *source) (*stream.Stream, func(ctx context.Context, speed float64, each func(i int, u *stream.Unit))) {
	tb.Helper()
	tracks := make([]*stream.Track, len(src.tracks))
	byOld := map[*stream.Track]*stream.Track{}
	for i, t := range src.tracks {
		c := *t
		tracks[i] = &c
		byOld[t] = &c
	}
	s, err := hub.Publish(context.Background(), stream.Request{Path: path, Protocol: "test"}, tracks, stream.Options{})
	if err != nil {
		tb.Fatalf("publish %s: %v", path, err)
	}
	run := func(ctx context.Context, speed float64, each func(int, *stream.Unit)) {
		defer s.Close()
		t0 := time.Now()
		first := src.units[0].DTS
		for i, u := range src.units {
			if speed > 0 {
				due := t0.Add(time.Duration(float64(u.DTS-first) / speed))
				if d := time.Until(due); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
			}
			nu := *u
			nu.Track = byOld[u.Track]
			nu.Time = time.Time{}
			if err := s.Write(&nu); err != nil {
				return
			}
			if each != nil {
				each(i, &nu)
			}
		}
	}
	return s, run
}

// probe is what ffprobe says about a file.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Packets   string `json:"nb_read_packets"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(tb testing.TB, file string) probe {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_packets",
		"-show_entries", "stream=codec_type,codec_name,width,nb_read_packets:format=duration",
		"-of", "json", file).Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v", file, err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		tb.Fatalf("ffprobe json: %v", err)
	}
	return p
}

func (p probe) packets(kind string) int {
	n := 0
	for _, s := range p.Streams {
		if s.CodecType == kind {
			v, _ := strconv.Atoi(s.Packets)
			n += v
		}
	}
	return n
}

func (p probe) duration() time.Duration {
	f, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return time.Duration(f * float64(time.Second))
}

// videoPackets lists the video packets of file: pts in seconds and key flag.
func videoPackets(tb testing.TB, file string) (pts []float64, key []bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", file).Output()
	if err != nil {
		tb.Fatalf("ffprobe packets %s: %v", file, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[0], 64)
		pts = append(pts, v)
		key = append(key, strings.HasPrefix(f[1], "K"))
	}
	return pts, key
}

// decode fully decodes file (or an ffmpeg input given by args) with
// -xerror and returns the number of decoded video frames.
func decode(tb testing.TB, inputArgs ...string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-hide_banner", "-nostdin", "-v", "error", "-xerror"}, inputArgs...)
	args = append(args, "-map", "0:v:0", "-f", "framecrc", "-")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(stderr.String()) != "" {
		tb.Fatalf("decode %v: %v: %s", inputArgs, err, stderr.String())
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

// segmentFiles lists the recorded files of path under dir, oldest first.
func segmentFiles(tb testing.TB, dir, path string) []string {
	tb.Helper()
	var out []string
	entries, _ := os.ReadDir(filepath.Join(dir, path))
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, filepath.Join(dir, path, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// waitEvent waits for an event of type typ on sub.
func waitEvent(tb testing.TB, sub *events.Subscription, typ string, timeout time.Duration) events.Event {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-sub.C:
			if e.Type == typ {
				return e
			}
		case <-deadline:
			tb.Fatalf("no %s event within %s", typ, timeout)
		}
	}
}

// newManager builds a Manager over dir with rule for every path.
func newManager(tb testing.TB, cfg Config, bus *events.Bus) *Manager {
	tb.Helper()
	m, err := New(cfg, bus, slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.WaitIndexed(ctx); err != nil {
		tb.Fatalf("index rebuild: %v", err)
	}
	return m
}

// testWriter sends logs to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ruleFunc(r Rule) func(string) Rule { return func(string) Rule { return r } }
