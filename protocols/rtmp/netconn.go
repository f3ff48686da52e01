package rtmp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// netConn sits between a server connection's socket and go-rtmp. Reading,
// it passes the handshake through and then normalizes the chunk stream:
// whole, validated messages, one chunk of libChunkSize each, with
// SetChunkSize and Abort consumed here. Writing, it announces libChunkSize
// right after the handshake, so the library can write big chunks from the
// first message on, and bounds every write with a deadline.
//
// A publisher's audio and video messages skip the library: once the
// library has read everything before one, the message goes straight to
// the sink (the connection's handler), so its payload, read once into a
// buffer of its exact length, becomes the unit's. Through the library it
// was re-chunked, copied into a buffer of the library's and copied out
// twice more. Because media then no longer passes the
// library's byte count, netConn sends the Acknowledgements itself, over
// every byte of the socket.
//
// It also serializes writers. go-rtmp shares one message encoder between
// the connection's read goroutine (which answers commands) and any other
// goroutine calling Conn.Write. The read goroutine owns sem except while it
// waits on the network inside Read; other writers take sem around each
// write, so the two never encode at once.
type netConn struct {
	net.Conn
	br     *bufio.Reader
	parser *chunkParser
	out    []byte
	off    int
	rawIn  int
	body   []byte // reused while reading a media payload from the library

	sink      mediaSink // nil: every message goes to the library
	ackWindow uint32    // the peer's Window Acknowledgement Size; 0: no acknowledgements
	acked     uint64    // parser.nread at the last Acknowledgement

	// Media messages handed to the sink and to the library; tests read them.
	directMedia, libMedia atomic.Int64

	readTimeout  atomic.Int64 // nanoseconds; 0: none
	writeTimeout time.Duration

	wmu      sync.Mutex
	rawOut   int
	injected bool

	sem       chan struct{}
	closeOnce sync.Once
	onClose   func()
}

// mediaSink is what netConn needs of the connection's handler. netConn
// calls it on the goroutine that runs the library's handlers, holding
// sem, so the sink may use handler state and write as a handler does.
type mediaSink interface {
	// takesMedia reports whether audio and video on message stream sid
	// may skip the library: the connection publishes on that stream.
	takesMedia(sid uint32) bool
	// media handles one audio or video message as OnAudio and OnVideo
	// would; the payload is the sink's to keep.
	media(ts uint32, payload []byte, video bool) error
	// ack sends an Acknowledgement of seq bytes received.
	ack(seq uint32) error
}

func newNetConn(c net.Conn, readTimeout, writeTimeout time.Duration, onClose func()) *netConn {
	br := bufio.NewReaderSize(c, 64<<10)
	nc := &netConn{
		Conn: c, br: br, parser: newChunkParser(br),
		rawIn: handshakeSize, rawOut: handshakeSize,
		ackWindow:    math.MaxInt32, // the library's default, until the peer sets one
		writeTimeout: writeTimeout, sem: make(chan struct{}, 1), onClose: onClose,
	}
	nc.readTimeout.Store(int64(readTimeout))
	nc.sem <- struct{}{} // held by the reading goroutine
	return nc
}

// lock lets a goroutine other than the reader write to the connection.
func (c *netConn) lock(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *netConn) unlock() { <-c.sem }

// Read implements io.Reader for go-rtmp. It returns only once it has
// something for the library: media it delivers itself does not count.
func (c *netConn) Read(p []byte) (int, error) {
	if c.off < len(c.out) {
		n := copy(p, c.out[c.off:])
		c.off += n
		return n, nil
	}
	if c.rawIn > 0 {
		return c.readHandshake(p)
	}
	if cap(c.out) > 1<<20 {
		c.out = nil
	}
	c.out, c.off = c.out[:0], 0
	for len(c.out) == 0 {
		m, err := c.readMessage()
		if err != nil {
			return 0, err
		}
		if err := c.handle(&m); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.off = n
	return n, nil
}

// readHandshake passes the peer's handshake through unchanged.
func (c *netConn) readHandshake(p []byte) (int, error) {
	<-c.sem // let other writers in while we wait for the peer
	defer func() { c.sem <- struct{}{} }()
	c.setReadDeadline()
	n, err := c.br.Read(p[:min(len(p), c.rawIn)])
	c.rawIn -= n
	return n, err
}

// readMessage waits for the peer's next message. Other writers may write
// meanwhile; the read timeout bounds each wait, so a publisher whose
// media never returns to the library is still timed out when it goes
// silent.
func (c *netConn) readMessage() (rawMessage, error) {
	<-c.sem
	defer func() { c.sem <- struct{}{} }()
	c.setReadDeadline()
	return c.parser.readMessage()
}

func (c *netConn) setReadDeadline() {
	if d := time.Duration(c.readTimeout.Load()); d > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	} else {
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
}

// handle acknowledges what m brought and delivers it: to the sink if it
// is media the sink takes, else, normalized, to the library's input.
func (c *netConn) handle(m *rawMessage) error {
	if err := c.acknowledge(); err != nil {
		return err
	}
	// Only once the library has read all before m, or a command it has
	// yet to handle (publish, deleteStream) would come after m.
	if (m.typ == msgAudio || m.typ == msgVideo) && len(c.out) == 0 && c.sink != nil && c.sink.takesMedia(m.sid) {
		c.directMedia.Add(1)
		return c.sink.media(m.ts, m.payload, m.typ == msgVideo)
	}
	return c.forward(m, 0)
}

// acknowledge sends an Acknowledgement each half window of bytes
// received, as the library did (encoders stop sending when a whole window
// goes unacknowledged). The sequence number counts every byte of the
// socket, handshake included, and wraps as the specification says.
func (c *netConn) acknowledge() error {
	if c.ackWindow == 0 || c.sink == nil || c.parser.nread-c.acked < uint64(c.ackWindow/2) {
		return nil
	}
	c.acked = c.parser.nread
	if err := c.sink.ack(uint32(handshakeSize + c.acked)); err != nil {
		return fmt.Errorf("rtmp acknowledgement: %w", err)
	}
	return nil
}

// forward validates m and appends it, normalized, to the library's input.
func (c *netConn) forward(m *rawMessage, depth int) error {
	switch m.typ {
	case msgSetChunkSize:
		return c.parser.setChunkSize(m.payload)
	case msgAbort:
		c.parser.abort(m.payload)
		return nil
	case msgAggregate:
		if depth > 0 {
			return fmt.Errorf("nested aggregate message")
		}
		subs, err := splitAggregate(m)
		if err != nil {
			return err
		}
		for i := range subs {
			if err := c.forward(&subs[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	case msgDataAMF0, msgCommandAMF0:
		if len(m.payload) > maxAMFMessage {
			return fmt.Errorf("AMF message of %d bytes", len(m.payload))
		}
		if err := checkAMF0(m.payload); err != nil {
			return err
		}
	case msgWinAckSize:
		// Kept from the library, which would acknowledge only the bytes
		// it reads itself; acknowledge does it for all of them.
		if len(m.payload) < 4 {
			return fmt.Errorf("short Window Acknowledgement Size message")
		}
		c.ackWindow = binary.BigEndian.Uint32(m.payload) & 0x7fffffff
		return nil
	case msgAudio, msgVideo:
		c.libMedia.Add(1)
	case msgAck, msgUserControl, msgSetPeerBW:
	default:
		return fmt.Errorf("unsupported message type %d", m.typ)
	}
	c.out = appendChunks(c.out, m, libChunkSize)
	return nil
}

// readPayload returns the rest of r (the library's reader over one media
// message) in a new buffer of exactly its length: the stream keeps these
// bytes for as long as the unit stays in its ring, so none may be spare.
// The message is first read into a buffer reused across messages, so
// reading does not grow and copy a fresh one each time.
func (c *netConn) readPayload(r io.Reader) ([]byte, error) {
	b := c.body[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if cap(b) <= 1<<20 {
		c.body = b
	} else {
		c.body = nil
	}
	return append(make([]byte, 0, len(b)), b...), nil
}

// setChunkSizeChunk announces libChunkSize on chunk stream 2; the library's
// first message on any chunk stream has a full header, so this chunk does
// not disturb its header compression.
var setChunkSizeChunk = []byte{0x02, 0, 0, 0, 0, 0, 4, msgSetChunkSize, 0, 0, 0, 0, 0, 1, 0, 0}

// Write implements io.Writer for go-rtmp.
func (c *netConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writeTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	written := 0
	if c.rawOut > 0 {
		k := min(len(p), c.rawOut)
		n, err := c.Conn.Write(p[:k])
		c.rawOut -= n
		written += n
		if err != nil || k == len(p) {
			return written, err
		}
		p = p[k:]
	}
	if !c.injected {
		c.injected = true
		if _, err := c.Conn.Write(setChunkSizeChunk); err != nil {
			return written, err
		}
	}
	n, err := c.Conn.Write(p)
	return written + n, err
}

// writeChunks writes messages a player's egress serialized itself, all in
// one write, between the library's own writes.
func (c *netConn) writeChunks(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writeTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	if !c.injected {
		c.injected = true
		b = append(append([]byte(nil), setChunkSizeChunk...), b...)
	}
	_, err := c.Conn.Write(b)
	return err
}

// Close implements io.Closer; go-rtmp calls it once the connection is done.
func (c *netConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

// kick closes the socket so that the connection's goroutines wind down.
func (c *netConn) kick() { _ = c.Conn.Close() }
