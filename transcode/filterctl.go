package transcode

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-zeromq/zmq4"
)

// filterControl changes a running ffmpeg filter graph: it talks to the
// graph's zmq filter, a ZeroMQ REP socket bound to a unix socket in a
// private directory, as a DEALER peer (go-zeromq's ZMTP). Commands are
// pipelined: the zmq filter runs every command waiting when a frame
// passes, so a batch takes effect on one frame.
type filterControl struct {
	sock zmq4.Socket
	// cancel ends the socket's context: Close, or a batch whose answers
	// did not come in time (the socket is unusable after that).
	cancel context.CancelFunc
}

// dialFilterControl connects to the zmq filter's socket, retrying while
// ffmpeg is still setting up its graph, until ctx ends.
func dialFilterControl(ctx context.Context, path string) (*filterControl, error) {
	for {
		// The socket lives until Close, past the dial's own context.
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		sock := zmq4.NewDealer(sctx, zmq4.WithDialerMaxRetries(0), zmq4.WithDialerTimeout(5*time.Second), zmq4.WithTimeout(5*time.Second))
		err := sock.Dial("ipc://" + path)
		if err == nil {
			return &filterControl{sock: sock, cancel: cancel}, nil
		}
		_ = sock.Close()
		cancel()
		if !sleep(ctx, nil, 100*time.Millisecond) {
			return nil, fmt.Errorf("filter control %s: %w (last: %w)", path, context.Cause(ctx), err)
		}
	}
}

// send runs commands ("TARGET COMMAND ARG") and waits for every answer,
// at most timeout (ffmpeg answers when a frame passes its zmq filter). The
// first refused command is the error. After a time-out the control is
// closed.
func (c *filterControl) send(cmds []string, timeout time.Duration) error {
	expired := time.AfterFunc(timeout, c.cancel)
	defer expired.Stop()
	for _, cmd := range cmds {
		// A DEALER talking to a REP sends the empty delimiter frame itself.
		if err := c.sock.Send(zmq4.NewMsgFrom([]byte{}, []byte(cmd))); err != nil {
			return fmt.Errorf("filter command %q: %w", cmd, err)
		}
	}
	var first error
	for _, cmd := range cmds {
		msg, err := c.sock.Recv()
		if err != nil {
			return fmt.Errorf("filter command %q: no answer: %w", cmd, err)
		}
		var reply []byte
		for _, f := range msg.Frames {
			if len(f) > 0 {
				reply = f
			}
		}
		// The zmq filter answers "CODE MESSAGE", CODE 0 on success.
		code, text, _ := strings.Cut(string(reply), " ")
		if n, err := strconv.Atoi(code); (err != nil || n != 0) && first == nil {
			first = fmt.Errorf("filter command %q: %s", cmd, strings.TrimSpace(text))
		}
	}
	return first
}

// Close ends the connection.
func (c *filterControl) Close() error {
	err := c.sock.Close()
	c.cancel()
	return err
}
