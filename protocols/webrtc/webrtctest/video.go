package webrtctest

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"
	"github.com/pion/webrtc/v4"
)

// VideoSize returns the picture size the player received, read from the
// first H.264 SPS or VP8/VP9 keyframe header, or 0, 0 when none arrived
// yet. It lets a test check resolution without running ffprobe.
func (p *Player) VideoSize() (w, h int) {
	mime := strings.ToLower(p.VideoCodec())
	for _, fr := range p.Frames() {
		switch mime {
		case strings.ToLower(webrtc.MimeTypeH264):
			for _, n := range fr {
				if len(n) == 0 || h264.NALUType(n[0]&0x1f) != h264.NALUTypeSPS {
					continue
				}
				var sps h264.SPS
				if sps.Unmarshal(n) == nil {
					return sps.Width(), sps.Height()
				}
			}
		case strings.ToLower(webrtc.MimeTypeVP8):
			// Keyframe: 3-byte tag (bit 0 clear), start code 9d 01 2a,
			// then 14-bit width and height.
			if f := fr[0]; len(f) >= 10 && f[0]&1 == 0 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a {
				return int(binary.LittleEndian.Uint16(f[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(f[8:]) & 0x3fff)
			}
		case strings.ToLower(webrtc.MimeTypeVP9):
			var hdr vp9.Header
			if hdr.Unmarshal(fr[0]) == nil && !hdr.NonKeyFrame && hdr.FrameSize != nil {
				return hdr.Width(), hdr.Height()
			}
		}
	}
	return 0, 0
}

// WriteAnnexB writes the H.264 access units received so far to path as
// an Annex-B stream, for decoding with ffmpeg -f h264. It returns how many
// it wrote, since more keep arriving: a test compares that with ffmpeg's
// frame count.
func (p *Player) WriteAnnexB(path string) (int, error) {
	if !strings.EqualFold(p.VideoCodec(), webrtc.MimeTypeH264) {
		return 0, fmt.Errorf("video is %q, not H.264", p.VideoCodec())
	}
	frames := p.Frames()
	var b []byte
	for _, au := range frames {
		enc, err := h264.AnnexB(au).Marshal()
		if err != nil {
			return 0, fmt.Errorf("annex-b: %w", err)
		}
		b = append(b, enc...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return len(frames), nil
}

// WriteIVF writes the VP8/VP9 frames received so far to path as an IVF
// file at FrameRate, for decoding with ffmpeg. It returns how many it
// wrote.
func (p *Player) WriteIVF(path string) (int, error) {
	var fourcc string
	switch strings.ToLower(p.VideoCodec()) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		fourcc = "VP80"
	case strings.ToLower(webrtc.MimeTypeVP9):
		fourcc = "VP90"
	default:
		return 0, fmt.Errorf("video is %q, not VP8 or VP9", p.VideoCodec())
	}
	frames := p.Frames()
	w, h := p.VideoSize()
	hdr := make([]byte, 32)
	copy(hdr, "DKIF")
	binary.LittleEndian.PutUint16(hdr[6:], 32)
	copy(hdr[8:], fourcc)
	binary.LittleEndian.PutUint16(hdr[12:], uint16(w))
	binary.LittleEndian.PutUint16(hdr[14:], uint16(h))
	binary.LittleEndian.PutUint32(hdr[16:], FrameRate)
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
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return len(frames), nil
}
