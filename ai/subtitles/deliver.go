package subtitles

import (
	"context"
	"fmt"
	"path/filepath"

	"mps/internal/aispec"
	"mps/internal/vod"
)

// DejaVuFonts is where fonts-dejavu-core installs its fonts; libass looks
// there for the burn-in font.
const DejaVuFonts = "/usr/share/fonts/truetype/dejavu"

// burnIn draws the SRT file srt (a name inside dir) into a new H.264 MP4.
func burnIn(ctx context.Context, dir, input, srt, out string, b aispec.BurnIn, info *vod.MediaInfo, progress func(float64)) error {
	if !info.HasVideo() {
		return fmt.Errorf("burn_in: the input has no video to draw on")
	}
	align, color := 2, b.Color
	if b.Position == "top" {
		align = 8
	}
	// ASS colours are &HAABBGGRR.
	bgr := color[4:6] + color[2:4] + color[0:2]
	style := fmt.Sprintf("FontName=%s,FontSize=%d,Alignment=%d,MarginV=%d,PrimaryColour=&H00%s,BorderStyle=1,Outline=1,Shadow=0",
		b.Font, b.FontSize, align, b.Margin, bgr)
	// srt and the fonts dir hold no filter-graph special characters (the
	// name is sanitised, the dir fixed), so they need no escaping.
	vf := "subtitles=f=" + srt + ":fontsdir=" + DejaVuFonts + ":force_style='" + style + "'"
	args := []string{"-i", input, "-map", "0:v:0", "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"}
	if info.HasAudio() {
		args = append(args, "-map", "0:a:0")
		if info.AudioCodec == "aac" || info.AudioCodec == "mp3" {
			args = append(args, "-c:a", "copy")
		} else {
			args = append(args, "-c:a", "aac", "-b:a", "128k")
		}
	}
	args = append(args, "-movflags", "+faststart", out)
	return runFFmpeg(ctx, dir, args, info.Duration, progress)
}

// track is one subtitle file to mux and its language.
type track struct {
	file, lang string
}

// softTrack muxes the subtitle files into a copy of the input: MP4 with
// mov_text tracks (from SRT) or WebM with WebVTT tracks. The picture and
// sound are copied, not re-encoded.
func softTrack(ctx context.Context, dir, input, container string, tracks []track, out string, info *vod.MediaInfo, progress func(float64)) error {
	if container == aispec.SoftTrackWebM {
		if info.HasVideo() && !oneOf(info.VideoCodec, "vp8", "vp9", "av1") ||
			info.HasAudio() && !oneOf(info.AudioCodec, "opus", "vorbis") {
			return fmt.Errorf("soft_track webm: WebM holds VP8/VP9/AV1 and Opus/Vorbis, the input has %s/%s; use soft_track mp4",
				info.VideoCodec, info.AudioCodec)
		}
	}
	args := []string{"-i", input}
	for _, t := range tracks {
		args = append(args, "-i", t.file)
	}
	if info.HasVideo() {
		args = append(args, "-map", "0:v:0")
	}
	if info.HasAudio() {
		args = append(args, "-map", "0:a:0")
	}
	for i := range tracks {
		args = append(args, "-map", fmt.Sprintf("%d:0", i+1))
	}
	args = append(args, "-c:v", "copy", "-c:a", "copy")
	if container == aispec.SoftTrackWebM {
		args = append(args, "-c:s", "webvtt")
	} else {
		args = append(args, "-c:s", "mov_text")
	}
	for i, t := range tracks {
		args = append(args, fmt.Sprintf("-metadata:s:s:%d", i), "language="+iso6392(t.lang))
	}
	if container == aispec.SoftTrackMP4 {
		args = append(args, "-movflags", "+faststart")
		if info.VideoCodec == "hevc" {
			args = append(args, "-tag:v", "hvc1")
		}
	}
	args = append(args, filepath.Base(out))
	return runFFmpeg(ctx, dir, args, info.Duration, progress)
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// iso6392 maps a BCP 47 tag to the ISO 639-2 code containers store
// ("und" when unknown).
func iso6392(tag string) string {
	base := tag
	if len(base) > 2 && base[2] == '-' {
		base = base[:2]
	}
	codes := map[string]string{
		"en": "eng", "de": "ger", "fr": "fre", "es": "spa", "it": "ita", "pt": "por", "nl": "dut",
		"ru": "rus", "ja": "jpn", "zh": "chi", "ko": "kor", "ar": "ara", "pl": "pol", "sv": "swe",
		"tr": "tur", "uk": "ukr", "cs": "cze", "da": "dan", "fi": "fin", "no": "nor", "hi": "hin",
	}
	if c, ok := codes[base]; ok {
		return c
	}
	if len(base) == 3 {
		return base
	}
	return "und"
}
