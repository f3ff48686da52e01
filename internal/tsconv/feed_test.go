package tsconv

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/stream"
	"mps/internal/testutil"
)

// TestFeed: a live stream fed as MPEG-TS comes out with every unit of the
// tracks asked for (video only, or video and audio), each seen by the
// callback first, and the feed ends with io.EOF when the stream does.
func TestFeed(t *testing.T) {
	tracks, units := demuxFile(t, toTS(t, "h264_aac_1s_gop.mp4"))
	video, audio := tracks[0], tracks[1]
	for _, tc := range []struct {
		name       string
		audio      *stream.Track
		wantTracks int
	}{
		{"video and audio", audio, 2},
		{"video only", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := stream.New("feed/test", tracks, stream.Options{})
			out := filepath.Join(t.TempDir(), "out.ts")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			done := make(chan error, 1)
			go func() {
				done <- Feed(context.Background(), s, f, video, tc.audio, "test", func(*stream.Unit) { seen++ })
			}()
			testutil.WaitFor(t, 5*time.Second, "feed attached", func() bool { return s.Stats().Readers["test"] == 1 })
			want := 0
			for _, u := range units {
				if u.Track == video || u.Track == tc.audio {
					want++
				}
				if err := s.Write(u); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if err := <-done; !errors.Is(err, io.EOF) {
				t.Fatalf("feed ended with %v, want io.EOF", err)
			}
			f.Close()
			got, gotUnits := demuxFile(t, out)
			if len(got) != tc.wantTracks || len(gotUnits) != want || seen != want {
				t.Fatalf("%d tracks, %d units out, %d seen; want %d tracks and %d units", len(got), len(gotUnits), seen, tc.wantTracks, want)
			}
		})
	}
}
