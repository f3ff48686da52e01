package hls

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mps/internal/pathmgr"
)

// TestHTTPHeaders checks content types, caching, gzip and CORS.
func TestHTTPHeaders(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	cfg := PathConfig{AlwaysOn: true, CORSOrigins: []string{"https://player.example"}}
	e := newEnv(t, ruleWith(cfg, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.publish(t, "live/h", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	pl := waitSegments(t, ctx, e.base+"live/h/stream.m3u8", 1)

	check := func(name, url, wantType, wantCache string) http.Header {
		t.Helper()
		code, h, b := get(t, ctx, url, "Origin", "https://player.example", "Accept-Encoding", "gzip")
		if code != http.StatusOK || len(b) == 0 {
			t.Fatalf("%s: %d (%d bytes)", name, code, len(b))
		}
		if got := h.Get("Content-Type"); got != wantType {
			t.Errorf("%s Content-Type %q, want %q", name, got, wantType)
		}
		if got := h.Get("Cache-Control"); got != wantCache {
			t.Errorf("%s Cache-Control %q, want %q", name, got, wantCache)
		}
		if got := h.Get("Access-Control-Allow-Origin"); got != "https://player.example" {
			t.Errorf("%s Access-Control-Allow-Origin %q, want the allowed origin", name, got)
		}
		return h
	}
	for _, f := range []string{"index.m3u8", "stream.m3u8"} {
		h := check(f, e.base+"live/h/"+f, typePlaylist, "no-cache")
		if h.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s not gzipped for a client that accepts gzip", f)
		}
	}
	check("init", e.base+"live/h/"+pl.Map.URI, "video/mp4", cacheForever)
	check("segment", e.base+"live/h/"+pl.Segments[0].URI, "video/mp4", cacheForever)
	check("part", e.base+"live/h/"+pl.Segments[0].Parts[0].URI, "video/mp4", cacheForever)

	// No gzip unless asked; an origin not in the list gets no CORS grant.
	code, h, _ := get(t, ctx, e.base+"live/h/stream.m3u8", "Origin", "https://evil.example", "Accept-Encoding", "gzip;q=0")
	if code != 200 || h.Get("Content-Encoding") != "" || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin / no gzip: %d encoding %q allow-origin %q", code, h.Get("Content-Encoding"), h.Get("Access-Control-Allow-Origin"))
	}
	// Preflight.
	req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, e.base+"live/h/stream.m3u8", nil)
	req.Header.Set("Origin", "https://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("preflight: %d methods %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Methods"))
	}
	// Wrong method.
	res, err = http.Post(e.base+"live/h/stream.m3u8", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", res.StatusCode)
	}
}

// TestHTTPNotFoundAndTraversal checks unknown paths and files are 404 and
// that no URL reaches outside its stream, DVR directory included.
func TestHTTPNotFoundAndTraversal(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	dir := t.TempDir()
	dvr := filepath.Join(dir, "dvr")
	secret := "TOP-SECRET-CONTENT"
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1.seg"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, ruleWith(PathConfig{AlwaysOn: true, DVRWindow: 10 * time.Second, Directory: dvr}, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.publish(t, "live/t", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	pl := waitSegments(t, ctx, e.base+"live/t/stream.m3u8", 2)
	seg := pl.Segments[1].URI

	for _, p := range []string{
		"nothing/here/stream.m3u8",
		"live/t/other.m3u8",
		"live/t/seg_zz_1.mp4",
		"live/t/seg_" + strings.Split(seg, "_")[1] + "_999999.mp4",
		"live/t/part_x_1_99.mp4",
		"live/t/secret.txt",
		"live/t/",
		"live/t",
	} {
		if code, _, b := get(t, ctx, e.base+p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", p, code, b)
		}
	}
	// Raw request lines, so no client cleans the dots away.
	raw := []string{
		"/hls/../secret.txt",
		"/hls/live/t/../../../secret.txt",
		"/hls/live/t/..%2f..%2f..%2fsecret.txt",
		"/hls/live/%2e%2e/%2e%2e/secret.txt",
		"/hls/live/t/%2e%2e/1.seg",
		"/hls/..%2f..%2f/1.seg",
		"/hls/live/t/seg_" + strings.Split(seg, "_")[1] + "_..%2f..%2f1.mp4",
		"/hls//etc/passwd",
		"/hls/live/t/%00/stream.m3u8",
	}
	host := strings.TrimPrefix(e.http.URL, "http://")
	for _, p := range raw {
		code, body := rawGet(t, host, p)
		if code == http.StatusOK || strings.Contains(body, secret) || strings.Contains(body, "root:") {
			t.Errorf("GET %s: %d, leaked or served: %.80q", p, code, body)
		}
	}
	// The DVR segments are served by name from inside the stream's own
	// directory only.
	if b := mustGet(t, ctx, e.base+"live/t/"+seg); strings.Contains(string(b), secret) || len(b) < 1000 {
		t.Errorf("segment from the DVR directory: %d bytes", len(b))
	}
}

func rawGet(t *testing.T, host, path string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil || sb.Len() > 1<<20 {
			break
		}
	}
	return res.StatusCode, sb.String()
}

// TestHTTPAuth maps the hub's refusal to 401 with a challenge, and lets
// the right credentials through.
func TestHTTPAuth(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := newEnv(t, ruleWith(PathConfig{AlwaysOn: true}, nil), func(string) pathmgr.Policy {
		return pathmgr.Policy{ReadUser: "viewer", ReadPass: "s3cret"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.publish(t, "live/a", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	for _, f := range []string{"index.m3u8", "stream.m3u8", "init_x.mp4"} {
		code, h, _ := get(t, ctx, e.base+"live/a/"+f)
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s without credentials: %d %q, want 401 with a Basic challenge", f, code, h.Get("WWW-Authenticate"))
		}
	}
	u := strings.Replace(e.base, "http://", "http://viewer:s3cret@", 1)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"live/a/stream.m3u8", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("with credentials: %d, want 200", res.StatusCode)
	}
}

// TestPlaylistGzipPooled checks that gzipped playlists come out whole when
// compressors are reused, and that serving one no longer allocates a
// compressor (about a megabyte) per request: a blocking LL-HLS player asks
// for a playlist every part, so before the pool this was most of the
// server's allocation under load.
func TestPlaylistGzipPooled(t *testing.T) {
	s := New(Config{}, nil, nil)
	body := []byte(strings.Repeat("#EXT-X-PART:DURATION=0.2,URI=\"part.mp4\"\n", 40))
	serve := func() []byte {
		r := httptest.NewRequest(http.MethodGet, "/hls/a/index.m3u8", nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		s.writePlaylist(w, r, body)
		return w.Body.Bytes()
	}
	for i := range 3 {
		zr, err := gzip.NewReader(bytes.NewReader(serve()))
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("response %d: %d bytes, %v; want the playlist back", i, len(got), err)
		}
	}
	// Against a fresh compressor per request, measured the same way. The
	// pool may drop a writer now and then (at a GC, or on purpose under
	// the race detector), so the bar is half the fresh figure, not zero.
	perCall := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 100
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	fresh := perCall(func() {
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		_, _ = zw.Write(body)
		_ = zw.Close()
	})
	if pooled := perCall(func() { serve() }); pooled > fresh/2 {
		t.Errorf("%d bytes allocated per gzipped playlist, %d with a new compressor each time; want a pooled compressor", pooled, fresh)
	} else {
		t.Logf("%d bytes allocated per gzipped playlist, %d with a new compressor each time", pooled, fresh)
	}
}
