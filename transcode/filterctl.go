package transcode

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// filterControl changes a running ffmpeg filter graph: it talks to the
// graph's zmq filter, a ZeroMQ REP socket bound to a unix socket in a
// private directory, as a minimal ZMTP 3.0 DEALER peer (NULL security).
// Debian's ffmpeg is built with libzmq; no Go ZeroMQ module is at hand, and
// a DEALER needs no more than greeting, READY and framing. Commands are
// pipelined: the zmq filter runs every command waiting when a frame passes,
// so a batch takes effect on one frame.
type filterControl struct {
	conn net.Conn
	br   *bufio.Reader
}

// ZMTP framing flags.
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpCommand = 0x04
)

// dialFilterControl connects to the zmq filter's socket, retrying while
// ffmpeg is still setting up its graph, until ctx ends.
func dialFilterControl(ctx context.Context, path string) (*filterControl, error) {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			c := &filterControl{conn: conn, br: bufio.NewReader(conn)}
			if err := c.handshake(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			return c, nil
		}
		if !sleep(ctx, nil, 100*time.Millisecond) {
			return nil, fmt.Errorf("filter control %s: %w", path, context.Cause(ctx))
		}
	}
}

// handshake exchanges ZMTP 3.0 greetings and READY commands.
func (c *filterControl) handshake(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.conn.SetDeadline(time.Time{}) //nolint:errcheck // nothing to do about it
	greeting := make([]byte, 64)
	greeting[0], greeting[9], greeting[10] = 0xFF, 0x7F, 3
	copy(greeting[12:], "NULL")
	if _, err := c.conn.Write(greeting); err != nil {
		return fmt.Errorf("zmtp greeting: %w", err)
	}
	peer := make([]byte, 64)
	if _, err := io.ReadFull(c.br, peer); err != nil {
		return fmt.Errorf("zmtp greeting: %w", err)
	}
	if peer[0] != 0xFF || peer[9] != 0x7F || peer[10] < 3 || !strings.HasPrefix(string(peer[12:32]), "NULL") {
		return errors.New("zmtp greeting: not a ZMTP 3 NULL peer")
	}
	ready := []byte("\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER")
	if err := c.writeFrame(zmtpCommand, ready); err != nil {
		return fmt.Errorf("zmtp ready: %w", err)
	}
	flags, body, err := c.readFrame()
	if err != nil {
		return fmt.Errorf("zmtp ready: %w", err)
	}
	if flags&zmtpCommand == 0 || len(body) < 6 || string(body[1:6]) != "READY" {
		return fmt.Errorf("zmtp ready: unexpected %q", body)
	}
	return nil
}

func (c *filterControl) writeFrame(flags byte, body []byte) error {
	var hdr []byte
	if len(body) > 255 {
		hdr = binary.BigEndian.AppendUint64([]byte{flags | zmtpLong}, uint64(len(body)))
	} else {
		hdr = []byte{flags, byte(len(body))}
	}
	_, err := c.conn.Write(append(hdr, body...))
	return err
}

func (c *filterControl) readFrame() (byte, []byte, error) {
	flags, err := c.br.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	var n uint64
	if flags&zmtpLong != 0 {
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	} else {
		b, err := c.br.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n = uint64(b)
	}
	if n > 1<<16 {
		return 0, nil, fmt.Errorf("zmtp frame of %d bytes", n)
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.br, body)
	return flags, body, err
}

// send runs commands ("TARGET COMMAND ARG") and waits for every answer,
// at most timeout (ffmpeg answers when a frame passes its zmq filter). The
// first refused command is the error.
func (c *filterControl) send(cmds []string, timeout time.Duration) error {
	_ = c.conn.SetDeadline(time.Now().Add(timeout))
	defer c.conn.SetDeadline(time.Time{}) //nolint:errcheck // nothing to do about it
	for _, cmd := range cmds {
		if err := c.writeFrame(zmtpMore, nil); err != nil {
			return err
		}
		if err := c.writeFrame(0, []byte(cmd)); err != nil {
			return err
		}
	}
	var first error
	for _, cmd := range cmds {
		var reply []byte
		for {
			flags, body, err := c.readFrame()
			if err != nil {
				return fmt.Errorf("filter command %q: %w", cmd, err)
			}
			if flags&zmtpCommand != 0 {
				continue // a PING or the like
			}
			if len(body) > 0 {
				reply = body
			}
			if flags&zmtpMore == 0 {
				break
			}
		}
		// The zmq filter answers "CODE MESSAGE", CODE 0 on success.
		code, msg, _ := strings.Cut(string(reply), " ")
		if n, err := strconv.Atoi(code); (err != nil || n != 0) && first == nil {
			first = fmt.Errorf("filter command %q: %s", cmd, strings.TrimSpace(msg))
		}
	}
	return first
}

func (c *filterControl) Close() error { return c.conn.Close() }
