package srt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/testutil"
)

func TestPublishAndTwoReaders(t *testing.T) {
	s := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	pub := publish(t, ctx, "h264_aac_1s_gop.mp4", 0, s.url("publish:live/a", ""))
	st := testutil.WaitStream(t, s.hub, "live/a", nil, 10*time.Second)

	dir := t.TempDir()
	var readers []*proc
	var outs []string
	for i, id := range []string{"read:live/a", "#!::r=live/a,m=request"} {
		out := filepath.Join(dir, fmt.Sprintf("reader%d.ts", i))
		outs = append(outs, out)
		readers = append(readers, startFFmpeg(t, ctx, "-i", s.url(id, ""), "-c", "copy", "-f", "mpegts", out))
	}
	waitReaders(t, st, 2, 10*time.Second)
	time.Sleep(2500 * time.Millisecond) // let a few GOPs through
	pub.stop(t)

	// The publisher left: each reader is hung up and ends by itself.
	for i, r := range readers {
		if err := r.wait(t, 10*time.Second); err != nil {
			t.Errorf("reader %d: %v\n%s", i, err, r.stderr.String())
		}
	}
	for _, out := range outs {
		checkRecording(t, out, 60)
	}
}
