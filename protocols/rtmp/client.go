package rtmp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/yutopp/go-amf0"
	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/handshake"
	"github.com/yutopp/go-rtmp/message"
)

// Client timeouts.
const (
	dialTimeout        = 10 * time.Second
	clientReadTimeout  = 10 * time.Second
	clientWriteTimeout = 10 * time.Second
	csidPlay           = 8
)

// rtmpURL is a parsed rtmp:// or rtmps:// URL. As in ffmpeg, the last path
// element is the stream name and the ones before it the application.
type rtmpURL struct {
	scheme, host, app, name, tcURL string
}

func parseURL(raw string) (*rtmpURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("rtmp url: %w", err)
	}
	if u.Scheme != "rtmp" && u.Scheme != "rtmps" {
		return nil, fmt.Errorf("rtmp url %q: scheme must be rtmp or rtmps", raw)
	}
	host := u.Host
	if u.Port() == "" {
		port := "1935"
		if u.Scheme == "rtmps" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	path := strings.Trim(u.Path, "/")
	i := strings.LastIndex(path, "/")
	if i <= 0 || i == len(path)-1 {
		return nil, fmt.Errorf("rtmp url %q: want rtmp://host/app/stream", raw)
	}
	r := &rtmpURL{scheme: u.Scheme, host: host, app: path[:i], name: path[i+1:]}
	if u.RawQuery != "" {
		r.name += "?" + u.RawQuery
	}
	r.tcURL = u.Scheme + "://" + host + "/" + r.app
	return r, nil
}

// clientConn is an outgoing RTMP connection. go-rtmp's ClientConn cannot
// receive messages on a media stream (its stream handler is nil there), so
// this client uses only the library's handshake and chunk writer, and reads
// with chunkParser. Writes are serialized by wmu.
type clientConn struct {
	conn   net.Conn
	br     *bufio.Reader
	parser *chunkParser
	cs     *gortmp.ChunkStreamer

	wmu       sync.Mutex
	ackWindow uint32
	acked     uint64
	pending   []rawMessage // sub-messages of an aggregate
	readTO    time.Duration
	closeOnce sync.Once
	stop      func() bool
}

type deadlineConn struct {
	net.Conn
}

func (c deadlineConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
	return c.Conn.Write(p)
}

// dialClient connects, handshakes and announces our chunk size. The
// connection is closed when ctx ends.
func dialClient(ctx context.Context, u *rtmpURL) (*clientConn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.host)
	if err != nil {
		return nil, fmt.Errorf("rtmp dial %s: %w", u.host, err)
	}
	if u.scheme == "rtmps" {
		host, _, _ := net.SplitHostPort(u.host)
		conn = tls.Client(conn, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
	}
	c := &clientConn{conn: conn, br: bufio.NewReaderSize(conn, 64<<10), readTO: clientReadTimeout}
	c.stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	dc := deadlineConn{conn}
	if err := handshake.HandshakeWithServer(c.br, dc, &handshake.Config{SkipHandshakeVerification: true}); err != nil {
		c.stop()
		_ = conn.Close()
		return nil, fmt.Errorf("rtmp handshake with %s: %w", u.host, err)
	}
	_ = conn.SetDeadline(time.Time{})
	c.parser = newChunkParser(c.br)
	c.cs = gortmp.NewChunkStreamer(eofReader{}, bufio.NewWriterSize(dc, 64<<10), nil)
	if err := c.cs.SelfState().SetChunkSize(libChunkSize); err != nil {
		c.close()
		return nil, err
	}
	if err := c.write(csidControl, 0, 0, &message.SetChunkSize{ChunkSize: libChunkSize}); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (c *clientConn) close() {
	c.closeOnce.Do(func() {
		c.stop()
		_ = c.conn.Close()
		_ = c.cs.Close()
		<-c.cs.Done()
	})
}

func (c *clientConn) write(csid int, ts, sid uint32, msg message.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.cs.Done():
		return errConnClosed
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientWriteTimeout)
	defer cancel()
	return c.cs.Write(ctx, csid, ts, &gortmp.ChunkMessage{StreamID: sid, Message: msg})
}

// flush waits until the last message written on csid has left.
func (c *clientConn) flush(csid int) {
	ctx, cancel := context.WithTimeout(context.Background(), clientWriteTimeout)
	defer cancel()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _ = c.cs.NewChunkWriter(ctx, csid)
}

// readMessage returns the next message for the caller, handling chunk
// size, acknowledgements and pings itself.
func (c *clientConn) readMessage() (rawMessage, error) {
	for {
		if len(c.pending) > 0 {
			m := c.pending[0]
			c.pending = c.pending[1:]
			return m, nil
		}
		if c.readTO > 0 {
			_ = c.conn.SetReadDeadline(time.Now().Add(c.readTO))
		}
		m, err := c.parser.readMessage()
		if err != nil {
			return m, err
		}
		if c.ackWindow > 0 && c.parser.nread-c.acked >= uint64(c.ackWindow/2) {
			c.acked = c.parser.nread
			if err := c.write(csidControl, 0, 0, &message.Ack{SequenceNumber: uint32(c.acked)}); err != nil {
				return m, err
			}
		}
		switch m.typ {
		case msgSetChunkSize:
			if err := c.parser.setChunkSize(m.payload); err != nil {
				return m, err
			}
			continue
		case msgAbort:
			c.parser.abort(m.payload)
			continue
		case msgWinAckSize:
			if len(m.payload) >= 4 {
				c.ackWindow = binary.BigEndian.Uint32(m.payload)
			}
			continue
		case msgUserControl:
			if len(m.payload) >= 6 && binary.BigEndian.Uint16(m.payload) == 6 { // ping request
				ts := binary.BigEndian.Uint32(m.payload[2:])
				if err := c.write(csidControl, 0, 0, &message.UserCtrl{Event: &message.UserCtrlEventPingResponse{Timestamp: ts}}); err != nil {
					return m, err
				}
				continue
			}
		case msgAggregate:
			subs, err := splitAggregate(&m)
			if err != nil {
				return m, err
			}
			c.pending = append(c.pending, subs...)
			continue
		case msgDataAMF0, msgCommandAMF0:
			if err := checkAMF0(m.payload); err != nil {
				return m, err
			}
		}
		return m, nil
	}
}

// decodeAMF decodes every AMF0 value of a command or data message.
func decodeAMF(payload []byte) []any {
	dec := amf0.NewDecoder(bytes.NewReader(payload))
	var out []any
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		out = append(out, v)
	}
}

// command returns the name, transaction ID and arguments of a command.
func command(m rawMessage) (name string, txn float64, args []any) {
	vals := decodeAMF(m.payload)
	if len(vals) >= 1 {
		name, _ = vals[0].(string)
	}
	if len(vals) >= 2 {
		txn, _ = vals[1].(float64)
	}
	if len(vals) > 2 {
		args = vals[2:]
	}
	return name, txn, args
}

// statusInfo returns level and code of an onStatus command's info object.
func statusInfo(args []any) (level, code, desc string) {
	for _, a := range args {
		var m map[string]any
		switch x := a.(type) {
		case map[string]any:
			m = x
		case amf0.ECMAArray:
			m = x
		}
		if m != nil {
			level, _ = m["level"].(string)
			code, _ = m["code"].(string)
			desc, _ = m["description"].(string)
			return
		}
	}
	return
}

// call sends a command on the control stream and waits for its result.
func (c *clientConn) call(name string, txn int64, args ...any) ([]any, error) {
	if err := c.write(csidCommand, 0, 0, commandMessage(name, txn, args...)); err != nil {
		return nil, fmt.Errorf("rtmp %s: %w", name, err)
	}
	for {
		m, err := c.readMessage()
		if err != nil {
			return nil, fmt.Errorf("rtmp %s: %w", name, err)
		}
		if m.typ != msgCommandAMF0 || m.sid != 0 {
			continue
		}
		cmd, t, res := command(m)
		if int64(t) != txn {
			continue
		}
		switch cmd {
		case "_result":
			return res, nil
		case "_error":
			_, code, desc := statusInfo(res)
			return nil, fmt.Errorf("rtmp %s refused: %s %s", name, code, desc)
		}
	}
}

// open connects to the application and creates a message stream.
func (c *clientConn) open(u *rtmpURL, publish bool) (uint32, error) {
	obj := map[string]any{
		"app": u.app, "type": "nonprivate", "flashVer": "FMLE/3.0 (compatible; MPS)", "tcUrl": u.tcURL,
		"fourCcList": []any{"avc1", "hvc1", "av01", "vp09", "Opus", "mp4a"},
	}
	if !publish {
		obj["fpad"] = false
		obj["capabilities"] = 15.0
		obj["audioCodecs"] = 4071.0
		obj["videoCodecs"] = 252.0
		obj["videoFunction"] = 1.0
	}
	if _, err := c.call("connect", 1, obj); err != nil {
		return 0, err
	}
	txn := int64(2)
	if publish {
		name, _, _ := strings.Cut(u.name, "?")
		_ = c.write(csidCommand, 0, 0, commandMessage("releaseStream", 2, nil, name))
		_ = c.write(csidCommand, 0, 0, commandMessage("FCPublish", 3, nil, name))
		txn = 4
	}
	res, err := c.call("createStream", txn, nil)
	if err != nil {
		return 0, err
	}
	for _, v := range res {
		if id, ok := v.(float64); ok {
			return uint32(id), nil
		}
	}
	return 0, errors.New("rtmp createStream: no stream ID in the result")
}
