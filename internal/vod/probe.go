package vod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MediaInfo is what ffprobe says about a file, reduced to what operations
// and results need. Raw keeps ffprobe's whole JSON for the probe operation.
type MediaInfo struct {
	Format     string          `json:"format"`
	Duration   float64         `json:"duration"`
	Size       int64           `json:"size"`
	VideoCodec string          `json:"video_codec,omitempty"`
	AudioCodec string          `json:"audio_codec,omitempty"`
	Width      int             `json:"width,omitempty"`
	Height     int             `json:"height,omitempty"`
	FPS        float64         `json:"fps,omitempty"`
	SampleRate int             `json:"sample_rate,omitempty"`
	Channels   int             `json:"channels,omitempty"`
	Raw        json.RawMessage `json:"-"`
}

// HasVideo reports whether the file has a video stream.
func (m *MediaInfo) HasVideo() bool { return m.VideoCodec != "" }

// HasAudio reports whether the file has an audio stream.
func (m *MediaInfo) HasAudio() bool { return m.AudioCodec != "" }

// Result is what an operation produced.
type Result struct {
	// Operation is the operation type.
	Operation string `json:"operation"`
	// Files are every file written, with media facts for media files.
	Files []File `json:"files"`
	// Snapshots lists the images of snapshot/sample operations in time order.
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	// VTT is the sprite's WebVTT thumbnails track (name within the output dir).
	VTT string `json:"vtt,omitempty"`
	// Playlist is the (multivariant) playlist of an HLS output.
	Playlist string `json:"playlist,omitempty"`
	// Subtitles are the subtitle files of the subtitles operation, one
	// per language, for the HLS rendition a task adds to its adaptive
	// package.
	Subtitles []SubtitleTrack `json:"subtitles,omitempty"`
	// Probe is ffprobe's JSON for the probe operation.
	Probe json.RawMessage `json:"probe,omitempty"`
	// Report is the operation's own findings as JSON, for the operations
	// whose result is more than files (the AI operations: a transcript,
	// ranked highlights, an audit verdict, quality figures).
	Report json.RawMessage `json:"report,omitempty"`
}

// File is one output file. Name is relative to the operation's output
// directory; media fields are filled for audio/video/image files.
type File struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// URL is where the file can be fetched from a storage target (a
	// presigned URL) when the task's output names one.
	URL        string  `json:"url,omitempty"`
	Size       int64   `json:"size"`
	Duration   float64 `json:"duration,omitempty"`
	Format     string  `json:"format,omitempty"`
	VideoCodec string  `json:"video_codec,omitempty"`
	AudioCodec string  `json:"audio_codec,omitempty"`
	Width      int     `json:"width,omitempty"`
	Height     int     `json:"height,omitempty"`
}

// Snapshot is one extracted image and the input time it shows.
type Snapshot struct {
	Name string  `json:"name"`
	Time float64 `json:"time"`
}

// ErrNotMedia is returned (wrapped) when ffprobe finds no audio or video in
// the input.
var ErrNotMedia = errors.New("not a media file")

type ffprobeOut struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		SampleRate   string `json:"sample_rate"`
		Channels     int    `json:"channels"`
		Duration     string `json:"duration"`
		Disposition  struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		Size       string `json:"size"`
	} `json:"format"`
}

// Probe runs ffprobe on path. A file with neither audio nor video is
// refused with ErrNotMedia.
func Probe(ctx context.Context, path string) (*MediaInfo, error) {
	if err := CheckMediaFile(path); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", inputProtocols,
		"-show_format", "-show_streams", "-of", "json", "--", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{max: 4096, buf: &stderr}
	detach(cmd)
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("probe %s: %w", filepath.Base(path), context.Cause(ctx))
		}
		return nil, fmt.Errorf("probe %s: %w: %s", filepath.Base(path), ErrNotMedia, lastLine(stderr.String()))
	}
	var out ffprobeOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("probe %s: bad ffprobe output: %w", filepath.Base(path), err)
	}
	for _, f := range strings.Split(out.Format.FormatName, ",") {
		if referenceFormats[f] {
			return nil, fmt.Errorf("probe %s: %w", filepath.Base(path), ErrReferenceFile)
		}
	}
	m := &MediaInfo{Format: out.Format.FormatName, Raw: json.RawMessage(stdout.Bytes())}
	m.Duration, _ = strconv.ParseFloat(out.Format.Duration, 64)
	m.Size, _ = strconv.ParseInt(out.Format.Size, 10, 64)
	for _, s := range out.Streams {
		switch s.CodecType {
		case "video":
			if m.VideoCodec != "" || s.Disposition.AttachedPic != 0 {
				continue
			}
			m.VideoCodec, m.Width, m.Height = s.CodecName, s.Width, s.Height
			m.FPS = parseRate(s.AvgFrameRate)
			if m.FPS == 0 {
				m.FPS = parseRate(s.RFrameRate)
			}
		case "audio":
			if m.AudioCodec != "" {
				continue
			}
			m.AudioCodec, m.Channels = s.CodecName, s.Channels
			m.SampleRate, _ = strconv.Atoi(s.SampleRate)
		}
		if m.Duration == 0 {
			m.Duration, _ = strconv.ParseFloat(s.Duration, 64)
		}
	}
	if m.VideoCodec == "" && m.AudioCodec == "" {
		return nil, fmt.Errorf("probe %s: %w: no audio or video stream", filepath.Base(path), ErrNotMedia)
	}
	return m, nil
}

// parseRate turns "30000/1001" into 29.97.
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	n, _ := strconv.ParseFloat(num, 64)
	d, _ := strconv.ParseFloat(den, 64)
	if d == 0 {
		return 0
	}
	return n / d
}

// mediaExts are the outputs worth an ffprobe for the result; segments and
// other files only get their size.
var mediaExts = map[string]bool{
	".mp4": true, ".webm": true, ".mkv": true, ".ts": true, ".mp3": true, ".m4a": true,
	".flac": true, ".m3u8": true, ".jpg": true, ".png": true, ".webp": true, ".gif": true,
}

// collect lists the files under dir; the named ones (or all media files when
// probeAll) are probed.
func collect(ctx context.Context, dir string, probe func(name string) bool) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		f := File{Name: filepath.ToSlash(rel), Path: p, Size: fi.Size()}
		if probe(f.Name) && mediaExts[strings.ToLower(filepath.Ext(p))] {
			if m, err := Probe(ctx, p); err == nil {
				f.Duration, f.Format = m.Duration, m.Format
				f.VideoCodec, f.AudioCodec, f.Width, f.Height = m.VideoCodec, m.AudioCodec, m.Width, m.Height
			}
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list outputs: %w", err)
	}
	sort.Slice(files, func(a, b int) bool { return files[a].Name < files[b].Name })
	return files, nil
}

func probeAll(string) bool { return true }

func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	return nil
}

func writeFile(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
