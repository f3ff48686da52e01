package webrtc

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
	"mps/internal/testutil"
)

// TestWHIPWHEPVPx publishes VP8 and VP9 over WHIP and plays them back over
// WHEP: the hub gets the right codec, the player starts on a keyframe and
// ffmpeg decodes what it got.
func TestWHIPWHEPVPx(t *testing.T) {
	for _, c := range []struct {
		mime  string
		codec stream.Codec
		key   func([]byte) bool
	}{
		{webrtc.MimeTypeVP8, stream.CodecVP8, func(f []byte) bool { return len(f) > 0 && f[0]&1 == 0 }},
		{webrtc.MimeTypeVP9, stream.CodecVP9, vp9.IsRandomAccess},
	} {
		t.Run(string(c.codec), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e := newEnv(t)
			if _, err := e.tryPublish(ctx, t, "live/vpx", c.mime); err != nil {
				t.Fatalf("WHIP: %v", err)
			}
			st := e.waitStream(ctx, t, "live/vpx")
			v := st.Tracks()[0]
			if v.Codec != c.codec || (c.codec == stream.CodecVP8 && (v.Width != 320 || v.Height != 240)) {
				t.Fatalf("video track %v", v)
			}
			pl := e.play(ctx, t, "live/vpx")
			if !testutil.Eventually(ctx, func() bool { return len(pl.Frames()) >= 45 && pl.AudioPackets() > 10 }) {
				t.Fatalf("WHEP got %d frames, %d opus packets", len(pl.Frames()), pl.AudioPackets())
			}
			if !strings.EqualFold(pl.VideoCodec(), c.mime) {
				t.Fatalf("WHEP video codec %q, want %q", pl.VideoCodec(), c.mime)
			}
			if !c.key(pl.Frames()[0][0]) {
				t.Fatal("first frame is not a keyframe")
			}
			if w, h := pl.VideoSize(); w != 320 || h != 240 {
				t.Fatalf("WHEP keyframe says %dx%d", w, h)
			}
			file := filepath.Join(t.TempDir(), "whep.ivf")
			if _, err := pl.WriteIVF(file); err != nil {
				t.Fatal(err)
			}
			out, err := exec.CommandContext(ctx, "/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", file, "-f", "null", "-").CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Fatalf("ffmpeg decode: %v\n%s", err, out)
			}
		})
	}
}
