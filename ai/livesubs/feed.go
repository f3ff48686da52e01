package livesubs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"mps/ai/speech"
	"mps/ai/subtitles"
	"mps/internal/stream"
	"mps/internal/tsconv"
)

// feed is the recogniser of one published stream.
type feed struct {
	m     *Manager
	s     *stream.Stream
	audio *stream.Track
	model speech.Model
	hub   *hub

	ctx    context.Context
	cancel context.CancelFunc
}

func (f *feed) run() {
	m := f.m
	path := f.s.Path()
	defer func() {
		f.cancel()
		m.mu.Lock()
		if m.feeds[path] == f {
			delete(m.feeds, path)
		}
		m.mu.Unlock()
		m.dropHub(path)
		m.wg.Done()
	}()
	m.log.Info("live subtitles started", "path", path, "language", f.model.Tag)
	backoff := m.cfg.RestartBackoff
	for {
		err := f.runOnce()
		if f.done() {
			return
		}
		m.log.Warn("live recogniser died; restarting", "path", path, "in", backoff, "error", err)
		select {
		case <-f.ctx.Done():
			return
		case <-f.s.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, m.cfg.MaxBackoff)
	}
}

func (f *feed) done() bool {
	select {
	case <-f.s.Done():
		return true
	default:
		return f.ctx.Err() != nil
	}
}

// runOnce runs one recogniser until the stream ends or it dies. Audio
// units go from a ring Reader through an MPEG-TS muxer into ffmpeg's
// stdin; pocketsphinx's times count from the first unit written, which
// anchors them on the stream's clock and the wall clock.
func (f *feed) runOnce() error {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(pw, 8<<10)
	mux, err := tsconv.NewMuxer(bw, []*stream.Track{f.audio})
	if err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("muxer: %w", err)
	}
	anchor := make(chan [2]time.Duration, 1) // first PTS, wall clock (Unix ns)
	go func() {
		defer pw.Close()
		defer cancel()
		f.pump(ctx, mux, bw, anchor)
	}()
	var first *[2]time.Duration
	emit := func(seg speech.Segment) {
		if first == nil {
			select {
			case a := <-anchor:
				first = &a
			default:
				return
			}
		}
		base := first[0].Seconds()
		wall0 := time.Unix(0, int64(first[1]))
		cues := subtitles.Build(&speech.Transcript{Segments: []speech.Segment{shift(seg, base)}}, subtitles.DefaultLayout)
		f.hub.publish(cues, func(t float64) time.Time {
			return wall0.Add(time.Duration((t - base) * float64(time.Second)))
		})
	}
	err = speech.Recognize(ctx, f.model, speech.Input{
		Args:  []string{"-probesize", "32768", "-analyzeduration", "500000", "-f", "mpegts", "-i", "pipe:0"},
		Stdin: pr,
	}, emit)
	pr.Close()
	return err
}

// pump copies the audio units of the stream into the muxer until the
// stream ends or ctx is done.
func (f *feed) pump(ctx context.Context, mux *tsconv.Muxer, bw *bufio.Writer, anchor chan<- [2]time.Duration) {
	rd := f.s.NewReader(ctx, stream.ReaderOptions{Protocol: "subtitles"})
	defer rd.Close()
	sent := false
	for {
		u, err := rd.Read()
		if err != nil {
			return
		}
		if u.Track != f.audio {
			continue
		}
		if !sent {
			anchor <- [2]time.Duration{u.PTS, time.Duration(time.Now().UnixNano())}
			sent = true
		}
		if mux.WriteUnit(u) != nil || bw.Flush() != nil {
			return
		}
	}
}

// shift moves a segment's times by base seconds.
func shift(s speech.Segment, base float64) speech.Segment {
	s.Start += base
	s.End += base
	ws := make([]speech.Word, len(s.Words))
	for i, w := range s.Words {
		w.Start += base
		w.End += base
		ws[i] = w
	}
	s.Words = ws
	return s
}
