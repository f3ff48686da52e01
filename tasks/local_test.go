package tasks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mps/internal/vod"
)

func TestRunLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := t.TempDir()
	var mu sync.Mutex
	last := map[string]float64{}
	ops := []vod.Operation{
		{Type: vod.TypeProbe},
		{Type: vod.TypeTranscode, Name: "small", Transcode: &vod.TranscodeSpec{Container: "webm", Video: vod.VideoSpec{Width: 160}, End: "1s"}},
	}
	res, err := RunLocal(ctx, testFile("h264_aac_1s_gop.mp4"), ops, out, func(op string, pct float64) {
		mu.Lock()
		last[op] = pct
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || len(res[0].Probe) == 0 || res[1].Files[0].VideoCodec != "vp9" || res[1].Files[0].Width != 160 {
		t.Fatalf("results %+v", res)
	}
	if _, err := os.Stat(filepath.Join(out, "02-small", "small.webm")); err != nil {
		t.Error(err)
	}
	if last["probe"] != 100 || last["small"] != 100 {
		t.Errorf("final progress %v", last)
	}
	// A failing operation stops the run and keeps what came before.
	res, err = RunLocal(ctx, testFile("audio_only.m4a"), []vod.Operation{{Type: vod.TypeProbe}, {Type: vod.TypeSprite}, {Type: vod.TypeProbe}}, t.TempDir(), nil)
	if err == nil || len(res) != 1 || !strings.Contains(err.Error(), "no video") {
		t.Errorf("sprite of audio: %d results, %v", len(res), err)
	}
	// Invalid operations are refused before anything runs.
	if res, err := RunLocal(ctx, testFile("h264_aac_1s_gop.mp4"), []vod.Operation{{Type: vod.TypeProbe}, {Type: "nope"}}, t.TempDir(), nil); err == nil || len(res) != 0 {
		t.Errorf("invalid op: %d results, %v", len(res), err)
	}
}
