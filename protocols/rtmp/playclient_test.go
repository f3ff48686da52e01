package rtmp

import (
	"context"
	"testing"
	"time"
)

// Play, the load tool's player, gets every video frame of the file and
// returns without an error when the publisher ends the stream.
func TestPlayClientGetsEveryFrame(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, _ := startServer(t, nil, Config{PlayWait: 20 * time.Second})
	url := rtmpURLOf(s, "live/play")
	frames, audio := 0, 0
	done := make(chan error, 1)
	go func() {
		done <- Play(ctx, url, func(video bool, _ uint32, body []byte) {
			switch {
			case video && len(body) > 1 && body[1] == pktCodedFrames:
				frames++
			case !video && len(body) > 1 && body[1] == pktCodedFrames:
				audio++
			}
		})
	}()
	time.Sleep(500 * time.Millisecond) // let the player connect first
	pub := publishFile(t, ctx, fileGOP, url)
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Play: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Play did not return after the publisher ended")
	}
	if frames != 180 || audio == 0 {
		t.Errorf("got %d video frames and %d audio frames, want 180 and some", frames, audio)
	}
}
