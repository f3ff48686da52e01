package webrtc

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"
	"github.com/pion/webrtc/v4"

	"mps/server/stream"
)

// TestWHIPWHEPVPx publishes VP8 and VP9 over WHIP and plays them back over
// WHEP: the hub gets the right codec, the player starts on a keyframe and
// ffmpeg decodes what it got.
func TestWHIPWHEPVPx(t *testing.T) {
	for _, c := range []struct {
		mime   string
		codec  stream.Codec
		fourcc string
		key    func([]byte) bool
	}{
		{webrtc.MimeTypeVP8, stream.CodecVP8, "VP80", func(f []byte) bool { return len(f) > 0 && f[0]&1 == 0 }},
		{webrtc.MimeTypeVP9, stream.CodecVP9, "VP90", vp9.IsRandomAccess},
	} {
		t.Run(string(c.codec), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e := newEnv(t)
			_, status, body := tryWHIPCodec(ctx, t, e, "live/vpx", c.mime)
			if status != 201 {
				t.Fatalf("WHIP: %d %s", status, body)
			}
			st := e.waitStream(ctx, t, "live/vpx")
			v := st.Tracks()[0]
			if v.Codec != c.codec || (c.codec == stream.CodecVP8 && (v.Width != 320 || v.Height != 240)) {
				t.Fatalf("video track %v", v)
			}
			pl := startWHEP(ctx, t, e, "live/vpx")
			if err := waitFor(ctx, func() bool { fs, opus := pl.frames(); return len(fs) >= 45 && opus > 10 }); err != nil {
				fs, opus := pl.frames()
				t.Fatalf("WHEP got %d frames, %d opus packets", len(fs), opus)
			}
			fs, _ := pl.frames()
			if !c.key(fs[0][0]) {
				t.Fatal("first frame is not a keyframe")
			}
			file := filepath.Join(t.TempDir(), "whep.ivf")
			writeIVF(t, file, c.fourcc, fs)
			out, err := exec.CommandContext(ctx, "/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", file, "-f", "null", "-").CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Fatalf("ffmpeg decode: %v\n%s", err, out)
			}
		})
	}
}

// writeIVF writes frames as an IVF file at 30 fps.
func writeIVF(t *testing.T, file, fourcc string, frames [][][]byte) {
	t.Helper()
	hdr := make([]byte, 32)
	copy(hdr, "DKIF")
	binary.LittleEndian.PutUint16(hdr[6:], 32)
	copy(hdr[8:], fourcc)
	binary.LittleEndian.PutUint16(hdr[12:], 320)
	binary.LittleEndian.PutUint16(hdr[14:], 240)
	binary.LittleEndian.PutUint32(hdr[16:], 30)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], uint32(len(frames)))
	b := hdr
	for i, f := range frames {
		fh := make([]byte, 12)
		binary.LittleEndian.PutUint32(fh, uint32(len(f[0])))
		binary.LittleEndian.PutUint64(fh[4:], uint64(i))
		b = append(b, fh...)
		b = append(b, f[0]...)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
