package webrtc

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
	"mps/internal/testutil"
)

// TestWHIPPublishWHEPPlay publishes H.264+Opus with a pion WHIP client,
// checks the stream on the hub, plays it with a pion WHEP client and
// decodes what arrives with ffmpeg.
func TestWHIPPublishWHEPPlay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	e := newEnv(t)
	pub := e.publish(ctx, t, "live/cam1")
	if !strings.HasPrefix(pub.Location(), "/webrtc/live/cam1/whip/") {
		t.Fatalf("Location %q", pub.Location())
	}
	st := e.waitStream(ctx, t, "live/cam1")

	tracks := st.Tracks()
	if len(tracks) != 2 {
		t.Fatalf("tracks %v, want h264 and opus", tracks)
	}
	if v := tracks[0]; v.Codec != stream.CodecH264 || v.Width != 320 || v.Height != 240 || v.SPS == nil || v.PPS == nil {
		t.Fatalf("video track %v (sps %d bytes)", v, len(v.SPS))
	}
	if a := tracks[1]; a.Codec != stream.CodecOpus || a.ClockRate != 48000 {
		t.Fatalf("audio track %v", a)
	}

	// Units reach a reader on the hub: a keyframe first, then both tracks.
	r := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	var video, audio int
	var lastVideoPTS time.Duration = -1
	for video < 45 || audio < 45 {
		u, err := r.Read()
		if err != nil {
			t.Fatalf("read after %d video, %d audio units: %v", video, audio, err)
		}
		if u.Track.IsVideo() {
			if video == 0 && (!u.Key || !h264.IsRandomAccess(u.Payload)) {
				t.Fatal("first video unit is not an IDR")
			}
			if u.PTS <= lastVideoPTS {
				t.Fatalf("video PTS not increasing: %v after %v", u.PTS, lastVideoPTS)
			}
			lastVideoPTS = u.PTS
			video++
		} else {
			if len(u.Payload) != 1 || len(u.Payload[0]) == 0 {
				t.Fatalf("opus unit payload %d frames", len(u.Payload))
			}
			audio++
		}
	}
	r.Close()

	// A WHEP player gets H.264 that starts at a keyframe and decodes, and Opus.
	pl := e.play(ctx, t, "live/cam1")
	if !strings.HasPrefix(pl.Location(), "/webrtc/live/cam1/whep/") {
		t.Fatalf("WHEP Location %q", pl.Location())
	}
	if !testutil.Eventually(ctx, func() bool { return len(pl.Frames()) >= 75 && pl.AudioPackets() >= 50 }) {
		t.Fatalf("WHEP got %d access units and %d opus packets", len(pl.Frames()), pl.AudioPackets())
	}
	if !strings.EqualFold(pl.VideoCodec(), webrtc.MimeTypeH264) {
		t.Fatalf("WHEP video codec %q", pl.VideoCodec())
	}
	if w, h := pl.VideoSize(); w != 320 || h != 240 {
		t.Fatalf("WHEP SPS says %dx%d", w, h)
	}
	if !h264.IsRandomAccess(pl.Frames()[0]) {
		t.Fatal("WHEP: first access unit is not an IDR")
	}
	file := filepath.Join(t.TempDir(), "whep.h264")
	written, err := pl.WriteAnnexB(file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-xerror", "-f", "h264", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("ffmpeg decode of the WHEP output: %v\n%s", err, out)
	}
	probe, err := exec.CommandContext(ctx, "/usr/bin/ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	f := strings.Split(strings.TrimSpace(string(probe)), ",")
	if len(f) != 3 || f[0] != "320" || f[1] != "240" {
		t.Fatalf("ffprobe of WHEP output: %q", probe)
	}
	if n, _ := strconv.Atoi(f[2]); n != written {
		t.Fatalf("ffmpeg decoded %d frames of %d access units", n, written)
	}

	// DELETE ends the player; the stream stays.
	if st, _, body := do(ctx, t, http.MethodDelete, e.url(pl.Location()), "", ""); st != http.StatusOK {
		t.Fatalf("DELETE WHEP: %d %s", st, body)
	}
	if e.hub.Get("live/cam1") == nil {
		t.Fatal("deleting the player ended the stream")
	}
	t.Logf("logs:\n%s", e.logs.String())
}

// TestWHIPDeleteAndBusy: a second publisher is refused with 409 while the
// first is live, and DELETE on the session unpublishes the stream.
func TestWHIPDeleteAndBusy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	pub := e.publish(ctx, t, "live/busy")
	e.waitStream(ctx, t, "live/busy")

	_, err := e.tryPublish(ctx, t, "live/busy", webrtc.MimeTypeH264)
	status, body := refusal(t, err)
	if status != http.StatusConflict || !strings.Contains(body, "already has a publisher") {
		t.Fatalf("second WHIP: %d %q", status, body)
	}

	if st, _, body := do(ctx, t, http.MethodDelete, e.url(pub.Location()), "", ""); st != http.StatusOK {
		t.Fatalf("DELETE: %d %s", st, body)
	}
	e.waitGone(ctx, t, "live/busy")
	if n := e.srv.SessionCount(); n != 0 {
		t.Fatalf("%d sessions left after DELETE", n)
	}
	if st, _, _ := do(ctx, t, http.MethodDelete, e.url(pub.Location()), "", ""); st != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", st)
	}

	// The path is free again.
	e.publish(ctx, t, "live/busy")
	e.waitStream(ctx, t, "live/busy")
}

// TestWHEPPLIReachesPublisher: a PLI sent by a player arrives at the WHIP
// publisher as a PLI.
func TestWHEPPLIReachesPublisher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	pub := e.publish(ctx, t, "live/pli")
	e.waitStream(ctx, t, "live/pli")
	pl := e.play(ctx, t, "live/pli")
	if err := pl.WaitFrames(ctx, 1); err != nil {
		t.Fatalf("no video on WHEP: %v", err)
	}
	before := pub.PLIs()
	// The server rate-limits PLIs to its publisher, so ask until one
	// gets through.
	ok := testutil.Eventually(ctx, func() bool {
		if pub.PLIs() > before {
			return true
		}
		if err := pl.SendPLI(); err != nil {
			t.Errorf("SendPLI: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
		return pub.PLIs() > before
	})
	if !ok {
		t.Fatalf("publisher saw no PLI after the player's (had %d before)", before)
	}
}

// TestCloseEndsSessions: Server.Close unpublishes WHIP streams and ends
// players.
func TestCloseEndsSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	e.publish(ctx, t, "live/close")
	e.waitStream(ctx, t, "live/close")
	e.play(ctx, t, "live/close")
	if n := e.srv.SessionCount(); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
	e.srv.Close()
	// the hub drops the path when the publisher's stream ends, which Close
	// waits for; the unpublish itself may finish a moment later
	testutil.WaitFor(t, 5*time.Second, "the WHIP stream to be unpublished after Close", func() bool { return e.hub.Get("live/close") == nil })
	if n := e.srv.SessionCount(); n != 0 {
		t.Fatalf("%d sessions after Close", n)
	}
	_, err := e.tryPublish(ctx, t, "live/other", webrtc.MimeTypeH264)
	if st, body := refusal(t, err); st != http.StatusServiceUnavailable {
		t.Fatalf("WHIP after Close: %d %s", st, body)
	}
}

// TestICETCP: a client that can only use TCP publishes and plays through
// the ICE-TCP port.
func TestICETCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	e.tcpOnly = true
	e.publish(ctx, t, "live/tcp")
	e.waitStream(ctx, t, "live/tcp")
	pl := e.play(ctx, t, "live/tcp")
	if err := pl.WaitFrames(ctx, 1); err != nil {
		t.Fatalf("no video over ICE-TCP: %v", err)
	}
	pair, err := pl.PeerConnection().SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Protocol != webrtc.ICEProtocolTCP {
		t.Fatalf("selected pair %v, %v: want TCP", pair, err)
	}
}
