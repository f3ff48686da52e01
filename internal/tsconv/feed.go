package tsconv

import (
	"bufio"
	"context"
	"io"

	"mps/internal/stream"
)

// Feed writes a live stream's video and audio units to w as MPEG-TS, the
// way the live consumers that run ffmpeg (transcode ladders, live
// highlights) give it the stream on stdin, until the stream ends
// (io.EOF), ctx ends or w fails. audio may be nil. reader names the
// consumer in the stream's reader list; seen, when set, sees each unit
// before it is written (the consumers anchor their timelines on it).
// Every unit is flushed at once, so ffmpeg never waits on a half-full
// buffer of a low-rate stream.
func Feed(ctx context.Context, s *stream.Stream, w io.Writer, video, audio *stream.Track, reader string, seen func(*stream.Unit)) error {
	tracks := []*stream.Track{video}
	if audio != nil {
		tracks = append(tracks, audio)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	mux, err := NewMuxer(bw, tracks)
	if err != nil {
		return err
	}
	rd := s.NewReader(ctx, stream.ReaderOptions{Protocol: reader})
	defer rd.Close()
	for {
		u, err := rd.Read()
		if err != nil {
			return err
		}
		if u.Track != video && (audio == nil || u.Track != audio) {
			continue
		}
		if seen != nil {
			seen(u)
		}
		if err := mux.WriteUnit(u); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
}
