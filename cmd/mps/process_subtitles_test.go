package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
)

// TestProcessSubtitles runs `mps process --op '{"type":"subtitles"}'` on a
// file with flite speech and on one without audio.
func TestProcessSubtitles(t *testing.T) {
	testutil.NeedCommand(t, "pocketsphinx_continuous")
	dir := t.TempDir()
	pcm, _ := speechtest.Layout(t, speechtest.Set[:2], 0.5, 1)
	in := speechtest.Video(t, dir, "talk.mp4", pcm)
	var out, errb bytes.Buffer
	code := run([]string{"process", in, "-o", filepath.Join(dir, "out"),
		"--op", `{"type":"subtitles","subtitles":{"language":"en"}}`}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errb.String())
	}
	var rep struct {
		Results []struct {
			Operation string
			VTT       string
			Files     []struct{ Name, Path string }
			Report    struct{ Text string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Results) != 1 {
		t.Fatalf("report %v: %s", err, out.String())
	}
	r := rep.Results[0]
	if r.Operation != "subtitles" || !strings.Contains(r.Report.Text, "weather") {
		t.Fatalf("result %+v", r)
	}
	var vtt string
	for _, f := range r.Files {
		if f.Name == r.VTT {
			vtt = f.Path
		}
	}
	if b, err := os.ReadFile(vtt); err != nil || !bytes.HasPrefix(b, []byte("WEBVTT")) {
		t.Fatalf("vtt %q: %v", b, err)
	}
	errb.Reset()
	code = run([]string{"process", testutil.TestData("video_only.mp4"), "-o", filepath.Join(dir, "none"),
		"--op", `{"type":"subtitles"}`}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "no audio track") {
		t.Fatalf("no audio: exit %d, stderr %q", code, errb.String())
	}
}
