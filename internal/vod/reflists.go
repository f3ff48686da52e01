package vod

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Inputs that refer to other files: an HLS playlist, a DASH manifest, an
// ffconcat list or an SDP description makes ffmpeg open whatever they name
// (local files anywhere, or network addresses). Such a file uploaded or
// dropped as a task input would make a task read media outside the
// allowed input folders, so operations take media files only: these are
// refused before ffprobe or ffmpeg opens them, every ffmpeg input is
// limited to the file and pipe protocols, and a demuxer of this kind found
// by ffprobe is refused too.

// ErrReferenceFile refuses an input that is a playlist or list of other
// files.
var ErrReferenceFile = errors.New("playlists, manifests and file lists are not accepted as inputs (they make ffmpeg open other files); give the media file itself")

// referenceFormats are ffmpeg demuxers that open the files or addresses
// their input names.
var referenceFormats = map[string]bool{"hls": true, "applehttp": true, "concat": true, "dash": true, "sdp": true, "rtp": true, "rtsp": true}

// inputProtocols are the only protocols an ffmpeg input may use.
const inputProtocols = "file,pipe"

// CheckMediaFile refuses a file whose content is a playlist, manifest or
// file list, by looking at its first bytes.
func CheckMediaFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("input %s: %w: %w", filepath.Base(path), ErrNotMedia, err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("input %s: %w", filepath.Base(path), err)
	}
	if isReferenceText(head[:n]) {
		return fmt.Errorf("input %s: %w", filepath.Base(path), ErrReferenceFile)
	}
	return nil
}

func isReferenceText(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	lower := bytes.ToLower(b)
	switch {
	case bytes.HasPrefix(b, []byte("#EXTM3U")), bytes.Contains(b, []byte("#EXT-X-")), bytes.Contains(b, []byte("#EXTINF")):
		return true
	case bytes.HasPrefix(lower, []byte("ffconcat")), bytes.HasPrefix(b, []byte("v=0")):
		return true
	case bytes.Contains(lower, []byte("<mpd")):
		return true
	}
	return false
}

// guardInputs puts -protocol_whitelist before every -i of args.
func guardInputs(args []string) []string {
	out := make([]string, 0, len(args)+4)
	for _, a := range args {
		if a == "-i" {
			out = append(out, "-protocol_whitelist", inputProtocols)
		}
		out = append(out, a)
	}
	return out
}
