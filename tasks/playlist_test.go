package tasks

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlaylistInputsRefused uploads an HLS playlist whose segment is an
// absolute path outside the allowed roots (as .m3u8, and disguised as
// .mp4) and names one by URL: the submissions are refused, the URL task
// fails, and nothing is written to the outputs.
func TestPlaylistInputsRefused(t *testing.T) {
	secretDir := t.TempDir() // not an input root
	secret := generate(t, filepath.Join(secretDir, "secret.ts"), "-f", "lavfi", "-i", "testsrc2=s=160x120:d=2", "-c:v", "libx264", "-preset", "ultrafast")
	playlist := fmt.Sprintf("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n%s\n#EXT-X-ENDLIST\n", secret)
	data := t.TempDir()
	svc, ts := startService(t, Config{DataDir: data})
	remux := []any{map[string]any{"type": "remux", "remux": map[string]any{"container": "mp4"}}}
	for _, name := range []string{"list.m3u8", "disguised.mp4"} {
		t.Run("upload "+name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+"/api/v1/uploads?name="+name, "application/octet-stream", strings.NewReader(playlist))
			if err != nil {
				t.Fatal(err)
			}
			var up Upload
			if err := decodeBody(resp, &up); err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %v", resp.StatusCode, err)
			}
			var answer map[string]any
			code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": up.Input, "operations": remux}, &answer)
			if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(answer["error"]), "playlists") {
				t.Errorf("task on an uploaded playlist = %d %v, want 400 naming playlists", code, answer)
			}
		})
	}
	t.Run("by URL", func(t *testing.T) {
		web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(playlist))
		}))
		defer web.Close()
		var created Task
		if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": web.URL + "/live.m3u8", "operations": remux}, &created); code != http.StatusCreated {
			t.Fatalf("POST = %d", code)
		}
		end := waitEnd(t, svc, created.ID, 20*time.Second)
		if end.Status != StatusFail || !strings.Contains(end.Error, "playlists") {
			t.Errorf("URL playlist task: %s %q, want FAIL naming playlists", end.Status, end.Error)
		}
	})
	var outputs []string
	_ = filepath.Walk(filepath.Join(data, "outputs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			outputs = append(outputs, p)
		}
		return nil
	})
	if len(outputs) != 0 {
		t.Errorf("outputs written: %v", outputs)
	}
	if b, _ := os.ReadFile(secret); !bytes.HasPrefix(b, []byte{0x47}) {
		t.Fatal("the secret file is not a TS file; the test proves nothing")
	}
}
