package transcode

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"mps/internal/stream"
)

// meanVolume decodes the audio of a TS file with ffmpeg and returns its
// mean volume in dB.
func meanVolume(t *testing.T, file string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostats", "-xerror", "-i", file, "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("decoding %s: %v\n%s", file, err, out)
	}
	m := regexp.MustCompile(`mean_volume: (-?[0-9.]+) dB`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no mean_volume in\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func testAudioFeed(t *testing.T, file string, target stream.Codec) {
	e := newEnv(t, Config{})
	pub := publishFile(t, e.hub, "av", file)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var feed func(context.Context, *stream.Stream) (*stream.Stream, func(), error) = e.m.Opus
	if target == stream.CodecAAC {
		feed = e.m.AAC
	}
	// Collect the source's video units to compare pointers.
	srcUnits := map[*byte]bool{} // first payload byte of each video unit
	srcDone := make(chan struct{})
	rd := pub.s.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	go func() {
		defer close(srcDone)
		defer rd.Close()
		for {
			u, err := rd.Read()
			if err != nil {
				return
			}
			if u.Track.IsVideo() {
				srcUnits[&u.Payload[0][0]] = true
			}
		}
	}()
	d, release, err := feed(ctx, pub.s)
	if err != nil {
		t.Fatal(err)
	}
	d2, release2, err := feed(ctx, pub.s)
	if err != nil || d2 != d {
		t.Fatalf("second caller got %p (%v), want the shared %p", d2, err, d)
	}
	release2()
	var audio *stream.Track
	for _, tr := range d.Tracks() {
		if !tr.IsVideo() {
			audio = tr
		}
	}
	if audio == nil || audio.Codec != target || audio.SampleRate != 48000 {
		t.Fatalf("derived tracks %v, want %s 48 kHz audio", d.Tracks(), target)
	}
	units, err := collect(d, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var au []*stream.Unit
	var video []*stream.Unit
	for _, u := range units {
		if u.Track == audio {
			au = append(au, u)
		} else {
			video = append(video, u)
		}
	}
	if len(au) < 50 || len(video) < 30 {
		t.Fatalf("%d %s units and %d video units in 3 s", len(au), target, len(video))
	}
	// Audio lands on the source's timeline, near the video it goes with.
	if dlt := au[0].PTS - video[0].PTS; dlt < -500*time.Millisecond || dlt > 500*time.Millisecond {
		t.Errorf("first audio at %v, first video at %v: not aligned", au[0].PTS, video[0].PTS)
	}
	rec := recordTS(t, au, []*stream.Track{audio})
	if v := meanVolume(t, rec); v < -60 {
		t.Errorf("%s audio mean volume %.1f dB, want a tone (> -60 dB)", target, v)
	}
	release()
	cancel()
	<-srcDone
	for i, u := range video {
		if !srcUnits[&u.Payload[0][0]] || u.Track != videoTrack(pub.s) {
			t.Fatalf("derived video unit %d (pts %v key %v) does not share a source unit's payload and track (of %d)", i, u.PTS, u.Key, len(srcUnits))
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.m.Stats().AudioFeeds != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.m.Stats().AudioFeeds; n != 0 {
		t.Errorf("%d audio feeds after the last release", n)
	}
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Error("derived stream still open after the last release")
	}
}

// TestOpusFromAAC gives a WebRTC player Opus audio for an H.264+AAC source.
func TestOpusFromAAC(t *testing.T) {
	testAudioFeed(t, "../testdata/h264_aac_1s_gop.mp4", stream.CodecOpus)
}

// TestAACFromOpus is the reverse, for an H.264+Opus (WHIP-like) source.
func TestAACFromOpus(t *testing.T) {
	src := filepath.Join(t.TempDir(), "opus.ts")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "libopus", "-b:a", "64k", src)
	testAudioFeed(t, src, stream.CodecAAC)
}
