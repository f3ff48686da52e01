package ffexec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mps/internal/vod"
)

// OutputFiles describes files an operation wrote into dir, by name,
// probing the media ones (mp4, jpg...) for their facts.
func OutputFiles(ctx context.Context, dir string, names ...string) ([]vod.File, error) {
	var files []vod.File
	for _, name := range names {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		f := vod.File{Name: filepath.ToSlash(name), Path: p, Size: fi.Size()}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".mp4", ".jpg", ".png", ".mkv", ".webm":
			if m, err := vod.Probe(ctx, p); err == nil {
				f.Duration, f.Format = m.Duration, m.Format
				f.VideoCodec, f.AudioCodec, f.Width, f.Height = m.VideoCodec, m.AudioCodec, m.Width, m.Height
			}
		}
		files = append(files, f)
	}
	return files, nil
}
