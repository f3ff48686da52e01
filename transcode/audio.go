package transcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// audioKey identifies a shared audio transcoder: one per source stream
// and target codec.
type audioKey struct {
	s      *stream.Stream
	target stream.Codec
}

// audioFeed is a derived stream: the source's units unchanged (new Unit
// headers over the same payload bytes: a Unit belongs to one ring) except
// one audio track, which one ffmpeg transcodes.
type audioFeed struct {
	m      *Manager
	key    audioKey
	src    *stream.Stream
	out    *stream.Stream
	in     *stream.Track // the source audio track transcoded
	outTr  *stream.Track // its replacement in out
	refs   int
	ctx    context.Context
	cancel context.CancelFunc

	wmu sync.Mutex // out has two writers: the forwarder and ffmpeg's reader

	encMu sync.Mutex
	enc   *audioInput // the running ffmpeg's stdin, nil between runs
}

// Opus returns a stream that carries s's video units unchanged (same
// tracks, same payload memory, same timestamps) and its
// audio (AAC, G.711 or MP3) transcoded to 48 kHz stereo Opus, for WebRTC
// players. The stream is shared by every caller for s: the first starts
// one ffmpeg, release drops a reference, and the last release stops it.
// The derived stream is not on the hub; it ends when s ends. If s has no
// audio, or Opus audio already, s itself is returned.
func (m *Manager) Opus(ctx context.Context, s *stream.Stream) (*stream.Stream, func(), error) {
	return m.derivedAudio(ctx, s, stream.CodecOpus)
}

// AAC is the reverse of Opus, for RTMP and HLS readers of a WebRTC (Opus)
// or G.711 source: the audio becomes 48 kHz stereo AAC-LC.
func (m *Manager) AAC(ctx context.Context, s *stream.Stream) (*stream.Stream, func(), error) {
	return m.derivedAudio(ctx, s, stream.CodecAAC)
}

func nop() {}

func (m *Manager) derivedAudio(ctx context.Context, s *stream.Stream, target stream.Codec) (*stream.Stream, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if isDone(s.Done()) {
		return nil, nil, fmt.Errorf("%s feed of %s: %w", target, s.Path(), stream.ErrClosed)
	}
	var in *stream.Track
	idx := -1
	for i, t := range s.Tracks() {
		if !t.IsVideo() {
			in, idx = t, i
			break
		}
	}
	if in == nil || in.Codec == target {
		return s, nop, nil
	}
	switch in.Codec {
	case stream.CodecAAC, stream.CodecOpus, stream.CodecMP3, stream.CodecPCMA, stream.CodecPCMU:
	default:
		return nil, nil, fmt.Errorf("%s feed of %s: cannot transcode %s audio", target, s.Path(), in.Codec)
	}
	key := audioKey{s, target}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, errors.New("transcoder closed")
	}
	f := m.audio[key]
	if f == nil {
		outTr, err := audioTrack(target)
		if err != nil {
			return nil, nil, err
		}
		// Keep every track at its index: the shared video tracks keep
		// their IDs when stream.New numbers the derived stream.
		tracks := append([]*stream.Track(nil), s.Tracks()...)
		tracks[idx] = outTr
		f = &audioFeed{m: m, key: key, src: s, in: in, outTr: outTr}
		f.out = stream.New(s.Path(), tracks, stream.Options{})
		f.ctx, f.cancel = context.WithCancel(m.ctx)
		m.audio[key] = f
		m.wg.Add(1)
		go f.run() //nolint:contextcheck // the feed runs on f.ctx, a child of the manager's
	}
	f.refs++
	var once sync.Once
	release := func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if f.refs--; f.refs <= 0 {
				if m.audio[key] == f {
					delete(m.audio, key)
				}
				f.cancel()
			}
		})
	}
	return f.out, release, nil
}

func audioTrack(c stream.Codec) (*stream.Track, error) {
	if c == stream.CodecOpus {
		return &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: 2}, nil
	}
	asc, err := (&mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("AAC config: %w", err)
	}
	return stream.NewAACTrack(asc)
}

// audioArgsFor returns the ffmpeg arguments of an audio transcoder: the
// source audio on stdin (MPEG-TS, or raw G.711), MPEG-TS on stdout.
func audioArgsFor(in stream.Codec, inRate, inChannels int, target stream.Codec, bitrate int) []string {
	a := []string{"-hide_banner", "-nostats", "-loglevel", "error"}
	switch in {
	case stream.CodecPCMA, stream.CodecPCMU:
		f := "alaw"
		if in == stream.CodecPCMU {
			f = "mulaw"
		}
		if inRate <= 0 {
			inRate = 8000
		}
		if inChannels <= 0 {
			inChannels = 1
		}
		a = append(a, "-f", f, "-ar", strconv.Itoa(inRate), "-ac", strconv.Itoa(inChannels), "-i", "pipe:0")
	default:
		a = append(a, "-probesize", "32768", "-analyzeduration", "500000", "-f", "mpegts", "-i", "pipe:0")
	}
	a = append(a, "-map", "0:a:0", "-vn")
	if target == stream.CodecOpus {
		a = append(a, "-c:a", "libopus", "-application", "lowdelay", "-frame_duration", "20")
	} else {
		a = append(a, "-c:a", "aac")
	}
	return append(a, "-b:a", strconv.Itoa(bitrate), "-ar", "48000", "-ac", "2",
		"-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1", "pipe:1")
}

// audioInput writes source audio units to one ffmpeg's stdin.
type audioInput struct {
	w      *os.File
	bw     *bufio.Writer
	mux    *tsconv.Muxer // nil for raw G.711
	anchor *anchor
}

func (a *audioInput) write(u *stream.Unit) error {
	a.anchor.mark(u.PTS)
	if a.mux != nil {
		if err := a.mux.WriteUnit(u); err != nil {
			return err
		}
	} else {
		for _, p := range u.Payload {
			if _, err := a.bw.Write(p); err != nil {
				return err
			}
		}
	}
	return a.bw.Flush()
}

func (f *audioFeed) run() {
	m := f.m
	defer func() {
		m.mu.Lock()
		if m.audio[f.key] == f {
			delete(m.audio, f.key)
		}
		m.mu.Unlock()
		f.cancel()
		f.out.Close()
		m.wg.Done()
	}()
	m.log.Info("audio transcoder started", "path", f.src.Path(), "from", f.in.Codec, "to", f.key.target)
	fwdDone := make(chan struct{})
	go func() {
		defer close(fwdDone)
		f.forward()
	}()
	bitrate := m.cfg.OpusBitrate
	if f.key.target == stream.CodecAAC {
		bitrate = m.cfg.AACBitrate
	}
	args := audioArgsFor(f.in.Codec, f.in.SampleRate, f.in.Channels, f.key.target, bitrate)
	backoff := m.cfg.RestartBackoff
	for {
		err := f.runOnce(args)
		if isDone(f.src.Done()) || f.ctx.Err() != nil {
			break
		}
		m.log.Warn("audio transcoder died; restarting", "path", f.src.Path(), "in", backoff, "error", err)
		if !sleep(f.ctx, f.src.Done(), backoff) {
			break
		}
		backoff = min(2*backoff, m.cfg.MaxBackoff)
	}
	f.cancel()
	<-fwdDone
	m.log.Info("audio transcoder stopped", "path", f.src.Path(), "to", f.key.target)
}

// forward copies the source's units to the derived stream, sending the
// transcoded track's units to ffmpeg instead.
func (f *audioFeed) forward() {
	rd := f.src.NewReader(f.ctx, stream.ReaderOptions{Protocol: "transcode-audio"})
	defer rd.Close()
	for {
		u, err := rd.Read()
		if err != nil {
			break
		}
		if u.Track == f.in {
			f.encMu.Lock()
			if f.enc != nil && f.enc.write(u) != nil {
				f.enc.w.Close()
				f.enc = nil
			}
			f.encMu.Unlock()
			continue
		}
		// A Unit can sit in one ring only (the ring numbers it), so the
		// derived stream gets a new header over the same payload bytes.
		c := *u
		f.wmu.Lock()
		err = f.out.Write(&c)
		f.wmu.Unlock()
		if err != nil {
			break
		}
	}
	// Source ended or feed stopped: let ffmpeg flush what it has.
	f.encMu.Lock()
	if f.enc != nil {
		f.enc.w.Close()
		f.enc = nil
	}
	f.encMu.Unlock()
}

func (f *audioFeed) runOnce(args []string) error {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	p, err := startPipeProc(ctx, f.m.cfg.FFmpeg, args)
	if err != nil {
		return err
	}
	cmd, inW, outR, stderr := p.cmd, p.in, p.out, p.stderr
	enc := &audioInput{w: inW, bw: bufio.NewWriterSize(inW, 16<<10), anchor: newAnchor()}
	if f.in.Codec != stream.CodecPCMA && f.in.Codec != stream.CodecPCMU {
		if enc.mux, err = tsconv.NewMuxer(enc.bw, []*stream.Track{f.in}); err != nil {
			inW.Close()
			outR.Close()
			cancel()
			_ = cmd.Wait()
			return err
		}
	}
	f.encMu.Lock()
	if isDone(f.src.Done()) || f.ctx.Err() != nil {
		inW.Close() // the forwarder is gone: nothing will come
	} else {
		f.enc = enc
	}
	f.encMu.Unlock()

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer outR.Close()
		f.readOutput(ctx, outR, enc.anchor)
		_, _ = io.Copy(io.Discard, outR)
	}()
	werr := cmd.Wait()
	f.encMu.Lock()
	if f.enc == enc {
		f.enc = nil
		inW.Close()
	}
	f.encMu.Unlock()
	<-readDone
	if werr != nil {
		return fmt.Errorf("ffmpeg: %w: %s", werr, stderr.lastLines(3))
	}
	return nil
}

// readOutput publishes the transcoded audio on the source's timeline: the
// first output packet is placed at the first input unit's time.
func (f *audioFeed) readOutput(ctx context.Context, r io.Reader, a *anchor) {
	d, err := tsconv.NewDemuxer(r)
	if err != nil {
		return
	}
	var offset time.Duration
	first := true
	for {
		u, err := d.ReadUnit()
		if err != nil {
			return
		}
		if u.Track.Codec != f.key.target {
			continue
		}
		if first {
			select {
			case <-a.set:
			case <-ctx.Done():
				return
			}
			offset, first = a.pts-u.PTS, false
		}
		u.Track = f.outTr
		u.PTS += offset
		u.DTS += offset
		u.Time = time.Now()
		f.wmu.Lock()
		err = f.out.Write(u)
		f.wmu.Unlock()
		if err != nil {
			return
		}
	}
}
