package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mps/internal/redact"
	"net/url"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"

	"mps/internal/stream"
)

// Pull reads a remote HLS stream (an http(s)://….m3u8 playlist, plain or
// low-latency, fMP4 or MPEG-TS) with gohlslib's client and publishes it into
// hub as path, so an HLS origin or CDN can feed every MPS output. It returns
// when the remote fails or ends, or ctx.Err() when ctx ends.
func Pull(ctx context.Context, rawURL string, hub stream.Hub, path string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("hls pull: %q is not an http(s) URL", rawURL)
	}
	p := &puller{ctx: ctx, hub: hub, path: path, log: log, remote: u.Host}
	c := &gohlslib.Client{
		URI: rawURL,
		// start at the newest segment: an edge should add as little delay
		// as it can, and a new live playlist may hold only one segment
		StartDistance:             1,
		OnDownloadPrimaryPlaylist: func(u string) { log.Debug("hls pull: playlist", "url", redact.URL(u)) },
		OnDownloadStreamPlaylist:  func(u string) { log.Debug("hls pull: stream playlist", "url", redact.URL(u)) },
		OnDownloadSegment:         func(u string) { log.Debug("hls pull: segment", "url", redact.URL(u)) },
		OnDownloadPart:            func(u string) { log.Debug("hls pull: part", "url", redact.URL(u)) },
		OnDecodeError:             func(err error) { log.Warn("hls pull: decode error", "error", err) },
	}
	c.OnTracks = func(tracks []*gohlslib.Track) error { return p.onTracks(c, tracks) }
	if err := c.Start(); err != nil {
		return fmt.Errorf("hls pull %s: %w", u.Redacted(), err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait2() }()
	defer func() {
		c.Close()
		<-waited
		p.close()
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-waited:
		waited <- err // for the deferred receive
		if err == nil {
			err = errors.New("remote playlist ended")
		}
		return fmt.Errorf("hls pull %s: %w", u.Redacted(), err)
	}
}

// puller turns gohlslib callbacks into units. gohlslib calls back from one
// goroutine per playlist, so writes are serialised: a Stream has one writer.
type puller struct {
	ctx    context.Context
	hub    stream.Hub
	path   string
	log    *slog.Logger
	remote string

	mu      sync.Mutex
	tracks  []*stream.Track
	rebuilt map[*stream.Track]*stream.Track // announced → published, when rebuilt
	s       *stream.Stream
}

func (p *puller) onTracks(c *gohlslib.Client, tracks []*gohlslib.Track) error {
	type binding struct {
		in  *gohlslib.Track
		out *stream.Track
	}
	var bound []binding
	for _, t := range tracks {
		var out *stream.Track
		var err error
		switch cd := t.Codec.(type) {
		case *codecs.H264:
			out, err = stream.NewH264Track(cd.SPS, cd.PPS)
		case *codecs.H265:
			out, err = stream.NewH265Track(cd.VPS, cd.SPS, cd.PPS)
		case *codecs.MPEG4Audio:
			asc, e := cd.Config.Marshal()
			if e != nil {
				err = e
				break
			}
			out, err = stream.NewAACTrack(asc)
		case *codecs.Opus:
			out = &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: cd.ChannelCount}
		default:
			p.log.Warn("hls pull: track not supported, skipped", "codec", fmt.Sprintf("%T", t.Codec))
			continue
		}
		if err != nil {
			p.log.Warn("hls pull: bad track parameters, skipped", "error", err)
			continue
		}
		bound = append(bound, binding{t, out})
	}
	if len(bound) == 0 {
		return errors.New("no track MPS can carry")
	}
	p.tracks = make([]*stream.Track, len(bound))
	for i, b := range bound {
		p.tracks[i] = b.out
	}
	p.mu.Lock()
	err := p.publishIfReady()
	p.mu.Unlock()
	if err != nil {
		return err
	}
	for _, b := range bound {
		in, out := b.in, b.out
		dur := func(ticks int64) time.Duration {
			return time.Duration(ticks) * time.Second / time.Duration(in.ClockRate)
		}
		switch out.Codec {
		case stream.CodecH264, stream.CodecH265:
			hevc := out.Codec == stream.CodecH265
			c.OnDataH26x(in, func(pts, dts int64, au [][]byte) {
				key := h264.IsRandomAccess(au)
				if hevc {
					key = h265.IsRandomAccess(au)
				}
				p.writeVideo(out, &stream.Unit{Track: out, PTS: dur(pts), DTS: dur(dts), Key: key, Payload: au})
			})
		case stream.CodecAAC:
			frame := time.Duration(1024) * time.Second / time.Duration(out.SampleRate)
			c.OnDataMPEG4Audio(in, func(pts int64, aus [][]byte) {
				for i, au := range aus {
					t := dur(pts) + time.Duration(i)*frame
					p.write(&stream.Unit{Track: out, PTS: t, DTS: t, Key: true, Payload: [][]byte{au}})
				}
			})
		case stream.CodecOpus:
			c.OnDataOpus(in, func(pts int64, packets [][]byte) {
				t := dur(pts)
				for _, pkt := range packets {
					p.write(&stream.Unit{Track: out, PTS: t, DTS: t, Key: true, Payload: [][]byte{pkt}})
					t += time.Duration(opus.PacketDuration2(pkt)) * time.Second / 48000
				}
			})
		}
	}
	return nil
}

// publishIfReady publishes once every video track has its parameter sets:
// MPEG-TS playlists announce none, so they are learnt from the first
// keyframe, and the stream's tracks then report the picture size.
func (p *puller) publishIfReady() error {
	if p.s != nil {
		return nil
	}
	for _, t := range p.tracks {
		if t.IsVideo() && len(t.SPS) == 0 {
			return nil
		}
	}
	s, err := p.hub.Publish(p.ctx, stream.Request{Path: p.path, Protocol: "hls", RemoteAddr: p.remote}, p.tracks, stream.Options{})
	if err != nil {
		return err
	}
	p.s = s
	p.log.Info("hls pull publishing", "path", p.path, "tracks", len(p.tracks))
	return nil
}

// writeVideo learns missing parameter sets from a keyframe, then writes
// the unit with them in band.
func (p *puller) writeVideo(t *stream.Track, u *stream.Unit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s == nil && u.Key && len(t.SPS) == 0 {
		if nt := paramsFromAU(t.Codec, u.Payload); nt != nil {
			for i, tr := range p.tracks {
				if tr == t {
					p.tracks[i] = nt
				}
			}
			if p.rebuilt == nil {
				p.rebuilt = make(map[*stream.Track]*stream.Track)
			}
			p.rebuilt[t] = nt
			u.Track = nt
			if err := p.publishIfReady(); err != nil {
				p.log.Warn("hls pull: publish refused", "error", err)
			}
		}
	}
	if p.s == nil {
		return
	}
	u.Track = p.current(u.Track)
	if u.Key {
		u.Payload = u.Track.WithParams(u.Payload)
	}
	u.Time = time.Now()
	_ = p.s.Write(u)
}

// current maps a track announced by the playlist to the one published: a
// video track rebuilt with the parameter sets of its first keyframe
// replaces the announced one.
func (p *puller) current(t *stream.Track) *stream.Track {
	if nt, ok := p.rebuilt[t]; ok {
		return nt
	}
	return t
}

// paramsFromAU builds a video track from the parameter sets inside a
// keyframe, or returns nil when it has none.
func paramsFromAU(c stream.Codec, au [][]byte) *stream.Track {
	var vps, sps, pps []byte
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if c == stream.CodecH265 {
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				vps = n
			case h265.NALUType_SPS_NUT:
				sps = n
			case h265.NALUType_PPS_NUT:
				pps = n
			}
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	if sps == nil || pps == nil {
		return nil
	}
	var t *stream.Track
	var err error
	if c == stream.CodecH265 {
		t, err = stream.NewH265Track(vps, sps, pps)
	} else {
		t, err = stream.NewH264Track(sps, pps)
	}
	if err != nil {
		return nil
	}
	return t
}

func (p *puller) write(u *stream.Unit) {
	u.Time = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s != nil {
		u.Track = p.current(u.Track)
		_ = p.s.Write(u)
	}
}

func (p *puller) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s != nil {
		p.s.Close()
		p.s = nil
	}
}
