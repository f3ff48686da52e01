package vod

import (
	"fmt"
	"path/filepath"
)

// RemuxSpec changes the container without re-encoding.
type RemuxSpec struct {
	// Container is mp4, mkv, ts, webm, m4a, mp3, flac or hls.
	Container string `json:"container" yaml:"container"`
	// HLS shapes the segments when Container is hls.
	HLS HLSSpec `json:"hls,omitzero" yaml:"hls,omitempty"`
}

func (s *RemuxSpec) validate() error {
	if _, ok := containers[s.Container]; !ok {
		return fmt.Errorf("unknown container %q", s.Container)
	}
	return nil
}

func (j *job) remux() (Result, error) {
	s := j.op.Remux
	c := containers[s.Container]
	name := j.base() + c.ext
	args := []string{"-i", j.input}
	if c.video != "" && j.in.HasVideo() {
		args = append(args, "-map", "0:v:0")
	}
	if j.in.HasAudio() {
		args = append(args, "-map", "0:a:0")
	}
	if c.video == "" && !j.in.HasAudio() {
		return Result{}, fmt.Errorf("container %s holds only audio and the input has none", s.Container)
	}
	args = append(args, "-c", "copy", "-map_metadata", "-1")
	if s.Container == "mp4" && j.in.VideoCodec == "hevc" {
		args = append(args, "-tag:v", "hvc1")
	}
	args = append(args, muxArgs(s.Container, j.outDir, j.base(), s.HLS)...)
	args = append(args, filepath.Join(j.outDir, name))
	if err := j.ffmpeg(args, j.in.Duration, j.progress); err != nil {
		return Result{}, err
	}
	files, err := collect(j.ctx, j.outDir, func(n string) bool { return n == name })
	if err != nil {
		return Result{}, err
	}
	res := Result{Files: files}
	if s.Container == "hls" {
		res.Playlist = name
	}
	return res, nil
}

// probe writes ffprobe's JSON next to the other outputs and returns it.
func (j *job) probe() (Result, error) {
	name := j.base() + ".json"
	if err := writeFile(filepath.Join(j.outDir, name), j.in.Raw); err != nil {
		return Result{}, err
	}
	files, err := collect(j.ctx, j.outDir, func(string) bool { return false })
	if err != nil {
		return Result{}, err
	}
	return Result{Files: files, Probe: j.in.Raw}, nil
}
