package hls

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/stream"
	"mps/internal/tsconv"
)

// env is a packager on a real hub behind a loopback HTTP server.
type env struct {
	t    *testing.T
	hub  *pathmgr.Manager
	srv  *Server
	http *httptest.Server
	base string // http://127.0.0.1:PORT/hls/
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newEnv(t testing.TB, rule func(string) PathConfig, policy pathmgr.PolicyFunc) *env {
	log := testLogger(t)
	hub := pathmgr.New(log, events.NewBus(), policy)
	srv := New(Config{Rule: rule, RequestTimeout: 8 * time.Second}, hub, log)
	mux := http.NewServeMux()
	mux.Handle("/hls/", srv.Handler())
	hs := httptest.NewServer(mux)
	e := &env{hub: hub, srv: srv, http: hs, base: hs.URL + "/hls/"}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		srv.Close()
		hub.Close()
	})
	return e
}

// ruleWith returns a rule giving every path cfg (with defaults) and the
// paths in ladders their ladder.
func ruleWith(cfg PathConfig, ladders map[string][]string) func(string) PathConfig {
	return func(p string) PathConfig {
		c := cfg
		c.Ladder = ladders[p]
		return c
	}
}

func testdata(name string) string { return filepath.Join("..", "testdata", name) }

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// pubOpts say how a file is published.
type pubOpts struct {
	lossless bool     // publish as a file (VOD): full speed, writer waits for readers
	loop     bool     // loop the file forever (live)
	ffArgs   []string // extra ffmpeg output args; default -c copy
	input    []string // ffmpeg input args instead of "-i FILE" (file is then only a name)
}

// publisher is a stream fed from a file by ffmpeg through MPEG-TS.
type publisher struct {
	s      *stream.Stream
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	units  int
}

func (p *publisher) stop() {
	p.cancel()
	<-p.done
}

// publish runs ffmpeg on a test file (in real time unless lossless),
// demuxes its MPEG-TS output and publishes the units on path, as an
// ingest adapter would. The stream is announced to the packager.
func (e *env) publish(t testing.TB, path, file string, o pubOpts) *publisher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	if !o.lossless && o.input == nil {
		args = append(args, "-re")
	}
	if o.loop {
		args = append(args, "-stream_loop", "-1")
	}
	if o.input != nil {
		args = append(args, o.input...)
	} else {
		args = append(args, "-i", testdata(file))
	}
	if len(o.ffArgs) > 0 {
		args = append(args, o.ffArgs...)
	} else {
		args = append(args, "-c", "copy")
	}
	args = append(args, "-f", "mpegts", "pipe:1")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	d, err := tsconv.NewDemuxer(bufio.NewReader(out))
	if err != nil {
		cancel()
		_ = cmd.Wait()
		t.Fatalf("demux %s: %v (%s)", file, err, stderr.String())
	}
	mode := stream.Live
	if o.lossless {
		mode = stream.Lossless
	}
	s, err := e.hub.Publish(ctx, stream.Request{Path: path, Protocol: "test", RemoteAddr: "127.0.0.1:1"}, d.Tracks(), stream.Options{Mode: mode})
	if err != nil {
		cancel()
		_ = cmd.Wait()
		t.Fatalf("publish %s: %v", path, err)
	}
	e.srv.StreamStarted(s)
	p := &publisher{s: s, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer s.Close()
		defer func() { cancel(); _ = cmd.Wait() }()
		for {
			u, err := d.ReadUnit()
			if err != nil {
				if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					p.err = err
				}
				return
			}
			u.Time = time.Now()
			if err := s.Write(u); err != nil {
				return
			}
			p.units++
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// get fetches url and returns status, headers and (decompressed) body.
func get(t testing.TB, ctx context.Context, url string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("GET %s: gzip: %v", url, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, res.Header, b
}

// mustGet fetches url and fails unless it answers 200.
func mustGet(t testing.TB, ctx context.Context, url string) []byte {
	t.Helper()
	code, _, b := get(t, ctx, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, b)
	}
	return b
}

// mediaPlaylist fetches and parses a media playlist.
func mediaPlaylist(t testing.TB, ctx context.Context, url string) *playlist.Media {
	t.Helper()
	b := mustGet(t, ctx, url)
	var pl playlist.Media
	if err := pl.Unmarshal(b); err != nil {
		t.Fatalf("parse %s: %v\n%s", url, err, b)
	}
	return &pl
}

// waitSegments polls a media playlist until it lists n complete segments.
func waitSegments(t testing.TB, ctx context.Context, url string, n int) *playlist.Media {
	t.Helper()
	for {
		pl := mediaPlaylist(t, ctx, url)
		if len(pl.Segments) >= n {
			return pl
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d segments, want %d before timeout", url, len(pl.Segments), n)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ffmpegDecode decodes input with ffmpeg and fails on any error output.
func ffmpegDecode(t testing.TB, ctx context.Context, input string, stdin []byte) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", input, "-f", "null", "-")
	if stdin != nil {
		cmd = exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-v", "error", "-xerror", "-i", "pipe:0", "-f", "null", "-")
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("ffmpeg decode %s: %v\n%s", input, err, out)
	}
}

// ffprobeJSON runs ffprobe with args on input (a URL or "pipe:0").
func ffprobe(t testing.TB, ctx context.Context, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ffprobe", append([]string{"-hide_banner", "-v", "error"}, args...)...)
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ffprobe %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	return string(out)
}

// parallelism keeps heavy tests modest on the shared 2-core machine.
var heavy = make(chan struct{}, max(2, runtime.NumCPU()/2))

func limit(t testing.TB) {
	heavy <- struct{}{}
	t.Cleanup(func() { <-heavy })
}

// loadUnits demuxes a whole test file (remuxed to MPEG-TS by ffmpeg).
func loadUnits(t testing.TB, file string) ([]*stream.Track, []*stream.Unit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", testdata(file), "-c", "copy", "-f", "mpegts", "pipe:1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", file, err)
	}
	d, err := tsconv.NewDemuxer(strings.NewReader(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	var units []*stream.Unit
	for {
		u, err := d.ReadUnit()
		if err != nil {
			break
		}
		units = append(units, u)
	}
	return d.Tracks(), units
}

// cloneTracks copies tracks so each stream gets its own (Publish sets IDs).
func cloneTracks(ts []*stream.Track) ([]*stream.Track, map[*stream.Track]*stream.Track) {
	out := make([]*stream.Track, len(ts))
	m := make(map[*stream.Track]*stream.Track, len(ts))
	for i, t := range ts {
		c := *t
		out[i] = &c
		m[t] = &c
	}
	return out, m
}

// pace publishes units on path in real time (by DTS) until media time
// stopAt; with hold the stream then stays open without data until ctx ends.
func (e *env) pace(ctx context.Context, t testing.TB, path string, tracks []*stream.Track, units []*stream.Unit, stopAt time.Duration, hold bool) *stream.Stream {
	t.Helper()
	ts, m := cloneTracks(tracks)
	s, err := e.hub.Publish(ctx, stream.Request{Path: path, Protocol: "test"}, ts, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.StreamStarted(s)
	go func() {
		defer s.Close()
		start := time.Now()
		t0 := units[0].DTS
		for _, u := range units {
			if u.DTS-t0 > stopAt {
				break
			}
			if d := time.Until(start.Add(u.DTS - t0)); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
			c := *u
			c.Track = m[u.Track]
			c.Time = time.Now()
			if s.Write(&c) != nil {
				return
			}
		}
		if hold {
			<-ctx.Done()
		}
	}()
	return s
}
