package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProcessCLI runs `mps process` as a user would on a good file with the
// default `thumbnails` template and an inline operation, on a broken file,
// and with an unknown template, checking exit codes and output.
func TestProcessCLI(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join("..", "..", "testdata", "h264_aac_1s_gop.mp4")
	var out, errb bytes.Buffer
	code := run([]string{"process", clip, "-o", filepath.Join(dir, "ok"), "-t", "thumbnails",
		"--op", `{"type":"remux","remux":{"container":"mkv"}}`}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errb.String())
	}
	var rep struct {
		Results []struct {
			Operation string
			Files     []struct{ Path string }
			Snapshots []any
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out.String())
	}
	if len(rep.Results) != 2 || len(rep.Results[0].Snapshots) != 3 || len(rep.Results[1].Files) != 1 {
		t.Fatalf("results %+v, want 3 snapshots and one remuxed file", rep.Results)
	}
	for _, r := range rep.Results {
		for _, f := range r.Files {
			if st, err := os.Stat(f.Path); err != nil || st.Size() == 0 {
				t.Fatalf("output %s: %v", f.Path, err)
			}
		}
	}
	// not a terminal: plain progress lines, ending at 100%
	if !strings.Contains(errb.String(), "thumbnails: 100%") {
		t.Fatalf("progress lines missing:\n%s", errb.String())
	}

	bad := filepath.Join(dir, "notmedia.mp4")
	os.WriteFile(bad, []byte("this is not a video"), 0o644)
	out.Reset()
	errb.Reset()
	if code := run([]string{"process", bad, "-o", filepath.Join(dir, "bad"), "-t", "thumbnails"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "failed") {
		t.Fatalf("broken input: exit %d, stderr %q; want 1 and an error", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"process", clip, "-o", dir, "-t", "nope"}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), `unknown template "nope"`) {
		t.Fatalf("unknown template: exit %d, stderr %q", code, errb.String())
	}
}
