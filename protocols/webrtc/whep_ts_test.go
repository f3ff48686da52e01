package webrtc

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
	"mps/internal/testutil"
)

// publishTS demuxes a file through ffmpeg's MPEG-TS output and publishes
// its H.264 and AAC units on the hub, as the file/pull adapters do. It
// returns the stream, left open, and the number of video units from the
// last keyframe to the end (what a new reader gets from the GOP cache).
func publishTS(ctx context.Context, t *testing.T, e *env, path, file string) (*stream.Stream, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-i", file, "-c", "copy", "-f", "mpegts", "pipe:1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	defer func() { _, _ = io.Copy(io.Discard, out) }()
	r := &mpegts.Reader{R: out}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	var vt, at *mpegts.Track
	var asc []byte
	for _, tr := range r.Tracks() {
		switch c := tr.Codec.(type) {
		case *codecs.H264:
			vt = tr
		case *codecs.MPEG4Audio:
			at = tr
			asc, err = c.Config.Marshal()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if vt == nil || at == nil {
		t.Fatal("file lacks H.264 or AAC")
	}
	aacTrack, err := stream.NewAACTrack(asc)
	if err != nil {
		t.Fatal(err)
	}
	var st *stream.Stream
	var videoTrack *stream.Track
	sinceKey := 0
	dur := func(ticks int64) time.Duration { return time.Duration(ticks) * time.Second / 90000 }
	r.OnDataH264(vt, func(pts, dts int64, au [][]byte) error {
		key := h264.IsRandomAccess(au)
		if st == nil {
			if !key {
				return nil
			}
			var sps, pps []byte
			for _, n := range au {
				switch h264.NALUType(n[0] & 0x1f) {
				case h264.NALUTypeSPS:
					sps = n
				case h264.NALUTypePPS:
					pps = n
				}
			}
			if videoTrack, err = stream.NewH264Track(sps, pps); err != nil {
				return err
			}
			st, err = e.hub.Publish(ctx, stream.Request{Path: path, Protocol: "test"}, []*stream.Track{videoTrack, aacTrack}, stream.Options{})
			if err != nil {
				return err
			}
		}
		if key {
			sinceKey = 0
		}
		sinceKey++
		return st.Write(&stream.Unit{Track: videoTrack, PTS: dur(pts), DTS: dur(dts), Key: key, Payload: au, Time: time.Now()})
	})
	r.OnDataMPEG4Audio(at, func(pts int64, aus [][]byte) error {
		if st == nil {
			return nil
		}
		return st.Write(&stream.Unit{Track: aacTrack, PTS: dur(pts), DTS: dur(pts), Key: true, Payload: aus, Time: time.Now()})
	})
	for {
		if err := r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("demux: %v", err)
		}
	}
	if st == nil {
		t.Fatal("nothing published")
	}
	return st, sinceKey
}

// TestWHEPFromTSWithAAC plays a stream fed from a file demux (H.264 +
// AAC): the video arrives from the GOP cache, the answer carries no audio,
// the log says AAC is not carried, and ending the stream ends the session.
func TestWHEPFromTSWithAAC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	st, gop := publishTS(ctx, t, e, "vod/file", "../../testdata/h264_aac_1s_gop.mp4")
	if gop < 20 {
		t.Fatalf("last GOP has %d frames", gop)
	}
	pl := e.play(ctx, t, "vod/file")
	if err := pl.WaitFrames(ctx, gop); err != nil {
		t.Fatalf("WHEP: want the last GOP's %d access units: %v", gop, err)
	}
	aus, opus := pl.Frames(), pl.AudioPackets()
	if !h264.IsRandomAccess(aus[0]) {
		t.Fatal("first access unit is not an IDR")
	}
	if opus != 0 {
		t.Fatalf("%d audio packets from an AAC stream", opus)
	}

	var ans sdp.SessionDescription
	if err := ans.UnmarshalString(pl.Answer()); err != nil {
		t.Fatal(err)
	}
	for _, md := range ans.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		for _, a := range md.Attributes {
			if a.Key == "sendonly" || a.Key == "sendrecv" {
				t.Fatalf("answer sends audio: %q\n%s", a.Key, pl.Answer())
			}
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "AAC is not carried") {
		t.Fatalf("log does not say AAC is not carried:\n%s", logs)
	}

	// The source ends: the server hangs up on the player.
	st.Close()
	if !testutil.Eventually(ctx, func() bool { return e.srv.SessionCount() == 0 }) {
		t.Fatal("WHEP session still open after the stream ended")
	}
	if !testutil.Eventually(ctx, func() bool {
		s := pl.PeerConnection().ConnectionState()
		return s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected
	}) {
		t.Fatalf("client connection still %s", pl.PeerConnection().ConnectionState())
	}
}

// TestWHEPNoCarriableCodec: a stream with nothing WebRTC can carry is
// refused with a reason, not answered with an empty session.
func TestWHEPNoCarriableCodec(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t)
	aac, err := stream.NewAACTrack([]byte{0x12, 0x10})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.hub.Publish(ctx, stream.Request{Path: "radio/aac", Protocol: "test"}, []*stream.Track{aac}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = e.tryPlay(ctx, t, "radio/aac")
	status, body := refusal(t, err)
	if status != 415 || !strings.Contains(body, "aac") || !strings.Contains(body, "not carried") {
		t.Fatalf("WHEP of an AAC-only stream: %d %q", status, body)
	}
	if n := e.srv.SessionCount(); n != 0 {
		t.Fatalf("%d sessions after a refusal", n)
	}
	_, err = e.tryPlay(ctx, t, "no/such")
	status, body = refusal(t, err)
	if status != 404 {
		t.Fatalf("WHEP of a missing path: %d %q", status, body)
	}
}
