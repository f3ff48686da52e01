package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/yutopp/go-rtmp/message"
)

// Play reads a remote rtmp:// or rtmps:// URL and calls onTag with each
// audio and video message body until the server ends the stream (nil) or
// ctx ends. It publishes nothing into a hub, so a load generator can run
// hundreds of players in one process for the cost of reading the socket.
func Play(ctx context.Context, rawURL string, onTag func(video bool, ts uint32, body []byte)) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	c, err := dialClient(ctx, u)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer c.close()
	c.readTO = 0 // a player may wait for a publisher as long as ctx allows
	sid, err := c.open(u, false)
	if err != nil {
		return ctxErr(ctx, err)
	}
	if err := c.write(csidPlay, 0, sid, commandMessage("play", 0, nil, u.name, -2000.0)); err != nil {
		return ctxErr(ctx, err)
	}
	_ = c.write(csidControl, 0, 0, &message.UserCtrl{Event: &message.UserCtrlEventSetBufferLength{StreamID: sid, LengthMs: 1000}})
	for {
		m, err := c.readMessage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("rtmp play %s: connection closed by the server", u.host)
			}
			return ctxErr(ctx, fmt.Errorf("rtmp play %s: %w", u.host, err))
		}
		switch {
		case m.sid != sid:
			if m.typ == msgUserControl && len(m.payload) >= 6 && m.payload[1] == 1 { // stream EOF
				return nil
			}
		case m.typ == msgVideo || m.typ == msgAudio:
			onTag(m.typ == msgVideo, m.ts, m.payload)
		}
	}
}
