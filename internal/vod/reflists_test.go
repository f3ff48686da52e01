package vod

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestReferenceInputsRefused gives operations a playlist naming a local
// file, an ffconcat list and a DASH manifest: each is refused before
// ffmpeg runs, and the output folder stays empty.
func TestReferenceInputsRefused(t *testing.T) {
	media := testFile("h264_aac_1s_gop.mp4")
	for name, body := range map[string]string{
		"list.m3u8":  fmt.Sprintf("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n%s\n#EXT-X-ENDLIST\n", media),
		"list.txt":   fmt.Sprintf("ffconcat version 1.0\nfile '%s'\n", media),
		"stream.mpd": `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>`,
	} {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(in, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			_, err := Operation{Type: TypeRemux, Remux: &RemuxSpec{Container: "mkv"}}.Run(context.Background(), in, out, nil)
			if !errors.Is(err, ErrReferenceFile) {
				t.Errorf("remux of %s: %v, want ErrReferenceFile", name, err)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("output written: %v", entries)
			}
		})
	}
}

// TestFFmpegInputsStayLocal runs ffmpeg the way operations do on a
// playlist whose segment is a loopback URL: the server never sees a
// request. (Debian's ffmpeg 5.1 already declines this playlist on its own;
// the protocol whitelist keeps it so whatever the build.)
func TestFFmpegInputsStayLocal(t *testing.T) {
	var hits atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.ServeFile(w, r, testFile("h264_aac_1s_gop.mp4"))
	}))
	defer web.Close()
	dir := t.TempDir()
	list := filepath.Join(dir, "remote.m3u8")
	body := fmt.Sprintf("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n%s/seg.ts\n#EXT-X-ENDLIST\n", web.URL)
	if err := os.WriteFile(list, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := runFFmpeg(ctx, []string{"-i", list, "-c", "copy", "-f", "matroska", filepath.Join(dir, "out.mkv")}, 0, nil)
	if err == nil {
		t.Error("ffmpeg followed a playlist to a URL")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the URL in the playlist was fetched %d times", n)
	}
}
