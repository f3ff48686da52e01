package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/yutopp/go-amf0"
	"github.com/yutopp/go-rtmp/message"

	"mps/internal/stream"
)

// pullTrackWait is how long Pull waits for all announced tracks.
const pullTrackWait = 2 * time.Second

// Pull plays a remote rtmp:// or rtmps:// URL and publishes it into hub as
// path. It returns nil when the remote stream ends, ctx.Err() when ctx
// ends, and an error when the connection fails or the hub refuses.
func Pull(ctx context.Context, rawURL string, hub stream.Hub, path string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := dialClient(ctx, u)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer c.close()
	sid, err := c.open(u, false)
	if err != nil {
		return ctxErr(ctx, err)
	}
	if err := c.write(csidPlay, 0, sid, commandMessage("play", 0, nil, u.name, -2000.0)); err != nil {
		return ctxErr(ctx, err)
	}
	_ = c.write(csidControl, 0, 0, &message.UserCtrl{Event: &message.UserCtrlEventSetBufferLength{StreamID: sid, LengthMs: 1000}})

	in := newIngest(hub, stream.Request{Path: path, Protocol: "rtmp", RemoteAddr: u.host}, pullTrackWait, log)
	kicked := make(chan struct{})
	var watchDone chan struct{}
	defer func() {
		in.close()
		cancel()
		if watchDone != nil {
			<-watchDone
		}
	}()
	for {
		m, err := c.readMessage()
		if err != nil {
			select {
			case <-kicked:
				return stream.ErrKicked
			default:
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("rtmp pull %s: connection closed by the server", u.host)
			}
			return ctxErr(ctx, fmt.Errorf("rtmp pull %s: %w", u.host, err))
		}
		if m.sid != sid {
			if m.typ == msgUserControl && len(m.payload) >= 6 && m.payload[1] == 1 { // stream EOF
				return nil
			}
			continue
		}
		published := in.stream() != nil
		switch m.typ {
		case msgCommandAMF0:
			name, _, args := command(m)
			if name != "onStatus" {
				continue
			}
			level, code, desc := statusInfo(args)
			switch {
			case level == "error":
				return fmt.Errorf("rtmp pull %s: %s %s", rawURL, code, desc)
			case code == "NetStream.Play.Stop", code == "NetStream.Play.UnpublishNotify", code == "NetStream.Play.Complete":
				return nil
			}
		case msgDataAMF0:
			vals := decodeAMF(m.payload)
			if len(vals) > 0 && vals[0] == "@setDataFrame" {
				vals = vals[1:]
			}
			if len(vals) >= 2 && vals[0] == "onMetaData" {
				if md := asMap(vals[1]); md != nil {
					in.onMetadata(md)
				}
			}
		case msgVideo:
			err = in.onVideo(ctx, m.ts, m.payload)
		case msgAudio:
			err = in.onAudio(ctx, m.ts, m.payload)
		}
		if err != nil {
			return fmt.Errorf("rtmp pull %s into %s: %w", rawURL, path, err)
		}
		if !published && in.stream() != nil {
			s := in.stream()
			watchDone = make(chan struct{})
			go func() {
				defer close(watchDone)
				select {
				case <-s.Done():
					if s.Err() != nil {
						close(kicked)
						_ = c.conn.Close()
					}
				case <-ctx.Done():
				}
			}()
		}
	}
}

func asMap(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case amf0.ECMAArray:
		return x
	}
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Push reads s from its newest key frame on and publishes it to a remote
// rtmp:// or rtmps:// URL until s ends (nil), ctx ends (ctx.Err()) or the
// remote fails or refuses.
func Push(ctx context.Context, rawURL string, s *stream.Stream, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	mux := newTagMuxer(s.Tracks())
	if mux.empty() {
		return fmt.Errorf("rtmp push %s: no track RTMP can carry", s.Path())
	}
	log.Info("rtmp push starting", "path", s.Path())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := dialClient(ctx, u)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer c.close()
	sid, err := c.open(u, true)
	if err != nil {
		return ctxErr(ctx, err)
	}
	name := u.name
	if err := c.write(csidPlay, 0, sid, commandMessage("publish", 0, nil, name, "live")); err != nil {
		return ctxErr(ctx, err)
	}
	if err := c.waitPublishStart(sid); err != nil {
		return ctxErr(ctx, fmt.Errorf("rtmp push %s: %w", rawURL, err))
	}
	c.readTO = 0 // the server may stay silent while we publish

	r := s.NewReader(ctx, stream.ReaderOptions{Protocol: "rtmp"})
	defer r.Close()
	remoteErr := make(chan error, 1)
	go func() {
		for {
			m, err := c.readMessage()
			if err == nil && m.typ == msgCommandAMF0 && m.sid == sid {
				if n, _, args := command(m); n == "onStatus" {
					if level, code, desc := statusInfo(args); level == "error" {
						err = fmt.Errorf("%s %s", code, desc)
					}
				}
			}
			if err != nil {
				remoteErr <- err
				r.Close()
				return
			}
		}
	}()
	defer func() {
		c.close()
		<-remoteErr
	}()

	if err := c.write(csidStatus, 0, sid, dataMessage("@setDataFrame", "onMetaData", mux.metadata())); err != nil {
		return ctxErr(ctx, err)
	}
	var tags []flvTag
	for {
		unit, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = c.write(csidCommand, 0, 0, commandMessage("FCUnpublish", 5, nil, name))
				_ = c.write(csidCommand, 0, 0, commandMessage("deleteStream", 6, nil, float64(sid)))
				c.flush(csidCommand)
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			select {
			case e := <-remoteErr:
				remoteErr <- e
				return fmt.Errorf("rtmp push %s: %w", rawURL, e)
			default:
				return fmt.Errorf("rtmp push %s: %w", rawURL, err)
			}
		}
		tags = mux.mux(unit, tags[:0])
		for _, t := range tags {
			var msg message.Message = &message.VideoMessage{Payload: bytes.NewReader(t.body)}
			csid := csidVideo
			if t.typ == msgAudio {
				csid = csidAudio
				msg = &message.AudioMessage{Payload: bytes.NewReader(t.body)}
			}
			if err := c.write(csid, t.ts, sid, msg); err != nil {
				return ctxErr(ctx, fmt.Errorf("rtmp push %s: %w", rawURL, err))
			}
		}
	}
}

// waitPublishStart reads until the server accepts or refuses the publish.
func (c *clientConn) waitPublishStart(sid uint32) error {
	for {
		m, err := c.readMessage()
		if err != nil {
			return err
		}
		if m.typ != msgCommandAMF0 || m.sid != sid {
			continue
		}
		name, _, args := command(m)
		if name != "onStatus" {
			continue
		}
		level, code, desc := statusInfo(args)
		if level == "error" {
			return fmt.Errorf("publish refused: %s %s", code, desc)
		}
		if strings.HasSuffix(code, "Publish.Start") {
			return nil
		}
	}
}
