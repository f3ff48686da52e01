package rtmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on what one peer may make us hold. RTMP allows a 16 MB message on
// each of 65599 chunk streams; real encoders use a handful of chunk streams
// and a few hundred kB per message.
const (
	handshakeSize   = 1 + 1536 + 1536 // C0+C1+C2 (or S0+S1+S2)
	maxChunkStreams = 64
	maxBuffered     = 32 << 20 // bytes of unfinished messages across chunk streams
	maxAMFMessage   = 1 << 20
	maxChunkSize    = 0xffffff
	// libChunkSize is the chunk size the library writes with and believes
	// the peer writes with; the normalizer makes the second one true.
	libChunkSize = 65536
)

// RTMP message type IDs used here.
const (
	msgSetChunkSize = 1
	msgAbort        = 2
	msgAck          = 3
	msgUserControl  = 4
	msgWinAckSize   = 5
	msgSetPeerBW    = 6
	msgAudio        = 8
	msgVideo        = 9
	msgDataAMF3     = 15
	msgSharedAMF3   = 16
	msgCommandAMF3  = 17
	msgDataAMF0     = 18
	msgSharedAMF0   = 19
	msgCommandAMF0  = 20
	msgAggregate    = 22
)

// rawMessage is one reassembled RTMP message.
type rawMessage struct {
	csid    uint32
	ts      uint32
	typ     uint8
	sid     uint32
	payload []byte
}

type chunkStreamState struct {
	ts, delta uint32
	length    uint32
	typ       uint8
	sid       uint32
	ext       bool // last header carried an extended timestamp
	buf       []byte
}

// chunkParser reads a peer's chunk stream and returns whole messages, with
// bounded memory. It does not interpret SetChunkSize itself: the caller does,
// through SetChunkSize, so that it also sees the message.
type chunkParser struct {
	r         io.Reader
	chunkSize uint32
	streams   map[uint32]*chunkStreamState
	buffered  int
	hdr       [16]byte
	nread     uint64 // bytes consumed, for acknowledgements
}

func newChunkParser(r io.Reader) *chunkParser {
	return &chunkParser{r: r, chunkSize: 128, streams: make(map[uint32]*chunkStreamState)}
}

func (p *chunkParser) read(b []byte) error {
	n, err := io.ReadFull(p.r, b)
	p.nread += uint64(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated chunk: %w", err)
	}
	return err
}

// setChunkSize applies a peer's SetChunkSize payload.
func (p *chunkParser) setChunkSize(payload []byte) error {
	if len(payload) < 4 {
		return fmt.Errorf("short SetChunkSize message")
	}
	v := binary.BigEndian.Uint32(payload) & 0x7fffffff
	if v == 0 || v > maxChunkSize {
		return fmt.Errorf("invalid chunk size %d", v)
	}
	p.chunkSize = v
	return nil
}

// abort drops the unfinished message of the chunk stream an Abort names.
func (p *chunkParser) abort(payload []byte) {
	if len(payload) < 4 {
		return
	}
	if st, ok := p.streams[binary.BigEndian.Uint32(payload)]; ok {
		p.buffered -= cap(st.buf)
		st.buf = nil
	}
}

// readMessage reads chunks until one message is complete. Zero-length
// messages are skipped: they carry nothing and the library cannot take them.
func (p *chunkParser) readMessage() (rawMessage, error) {
	for {
		m, done, err := p.readChunk()
		if err != nil {
			return rawMessage{}, err
		}
		if done {
			return m, nil
		}
	}
}

func (p *chunkParser) readChunk() (rawMessage, bool, error) {
	h := p.hdr[:]
	if err := p.read(h[:1]); err != nil {
		return rawMessage{}, false, err
	}
	fmtType := h[0] >> 6
	csid := uint32(h[0] & 0x3f)
	switch csid {
	case 0:
		if err := p.read(h[1:2]); err != nil {
			return rawMessage{}, false, err
		}
		csid = 64 + uint32(h[1])
	case 1:
		if err := p.read(h[1:3]); err != nil {
			return rawMessage{}, false, err
		}
		csid = 64 + uint32(h[1]) + uint32(h[2])*256
	}
	st, ok := p.streams[csid]
	if !ok {
		if len(p.streams) >= maxChunkStreams {
			return rawMessage{}, false, fmt.Errorf("more than %d chunk streams", maxChunkStreams)
		}
		if fmtType != 0 {
			return rawMessage{}, false, fmt.Errorf("chunk stream %d starts without a full header", csid)
		}
		st = &chunkStreamState{}
		p.streams[csid] = st
	}
	if fmtType != 3 && len(st.buf) > 0 {
		return rawMessage{}, false, fmt.Errorf("chunk stream %d: new header inside a message", csid)
	}
	var field uint32
	switch fmtType {
	case 0:
		if err := p.read(h[:11]); err != nil {
			return rawMessage{}, false, err
		}
		field = be24(h[0:])
		st.length = be24(h[3:])
		st.typ = h[6]
		st.sid = binary.LittleEndian.Uint32(h[7:])
	case 1:
		if err := p.read(h[:7]); err != nil {
			return rawMessage{}, false, err
		}
		field = be24(h[0:])
		st.length = be24(h[3:])
		st.typ = h[6]
	case 2:
		if err := p.read(h[:3]); err != nil {
			return rawMessage{}, false, err
		}
		field = be24(h[0:])
	}
	if fmtType != 3 {
		st.ext = field == 0xffffff
	}
	if st.ext {
		// Extended timestamps repeat in type-3 chunks (RTMP spec 5.3.1.3).
		if err := p.read(h[:4]); err != nil {
			return rawMessage{}, false, err
		}
		if fmtType != 3 {
			field = binary.BigEndian.Uint32(h[:4])
		}
	}
	if len(st.buf) == 0 {
		switch fmtType {
		case 0:
			st.ts, st.delta = field, 0
		case 1, 2:
			st.delta = field
			st.ts += st.delta
		case 3:
			st.ts += st.delta
		}
	}
	if st.length == 0 {
		return rawMessage{}, false, nil
	}
	n := st.length - uint32(len(st.buf))
	if n > p.chunkSize {
		n = p.chunkSize
	}
	if st.buf == nil {
		// The message's buffer is taken at its first chunk, of the exact
		// length the header gives, so the payload handed on holds nothing
		// more and is never regrown. The reservation counts against
		// maxBuffered, so a peer announcing lengths it never sends cannot
		// make us hold more than that.
		if p.buffered+int(st.length) > maxBuffered {
			return rawMessage{}, false, fmt.Errorf("more than %d bytes of unfinished messages", maxBuffered)
		}
		st.buf = make([]byte, 0, st.length)
		p.buffered += int(st.length)
	}
	off := len(st.buf)
	st.buf = st.buf[:off+int(n)]
	if err := p.read(st.buf[off:]); err != nil {
		return rawMessage{}, false, err
	}
	if uint32(len(st.buf)) < st.length {
		return rawMessage{}, false, nil
	}
	m := rawMessage{csid: csid, ts: st.ts, typ: st.typ, sid: st.sid, payload: st.buf}
	p.buffered -= cap(st.buf)
	st.buf = nil
	return m, true, nil
}

func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

func putBE24(b []byte, v uint32) { b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v) }

// appendChunks serializes m as one type-0 chunk followed by type-3
// continuation chunks of chunkSize bytes. Continuations never repeat the
// extended timestamp, the way go-rtmp reads them.
func appendChunks(dst []byte, m *rawMessage, chunkSize int) []byte {
	return appendChunksExt(dst, m, chunkSize, false)
}

// appendChunksExt is appendChunks where repeatExt makes every continuation
// carry the extended timestamp again, as the RTMP specification (5.3.1.3)
// and the players that follow it (ffmpeg, librtmp) read them.
func appendChunksExt(dst []byte, m *rawMessage, chunkSize int, repeatExt bool) []byte {
	basic := func(fmtType byte) {
		switch {
		case m.csid < 64:
			dst = append(dst, fmtType<<6|byte(m.csid))
		case m.csid < 320:
			dst = append(dst, fmtType<<6, byte(m.csid-64))
		default:
			dst = append(dst, fmtType<<6|1, byte((m.csid-64)%256), byte((m.csid-64)/256))
		}
	}
	basic(0)
	var h [15]byte
	ts := m.ts
	if ts >= 0xffffff {
		ts = 0xffffff
	}
	putBE24(h[0:], ts)
	putBE24(h[3:], uint32(len(m.payload)))
	h[6] = m.typ
	binary.LittleEndian.PutUint32(h[7:], m.sid)
	n := 11
	if ts == 0xffffff {
		binary.BigEndian.PutUint32(h[11:], m.ts)
		n = 15
	}
	dst = append(dst, h[:n]...)
	p := m.payload
	for first := true; len(p) > 0 || first; first = false {
		if !first {
			basic(3)
			if repeatExt && n == 15 {
				dst = append(dst, h[11:15]...)
			}
		}
		k := min(len(p), chunkSize)
		dst = append(dst, p[:k]...)
		p = p[k:]
	}
	return dst
}

// splitAggregate splits an Aggregate message into its sub-messages, which
// are FLV tags whose timestamps are rebased onto the aggregate's.
func splitAggregate(m *rawMessage) ([]rawMessage, error) {
	var out []rawMessage
	b := m.payload
	var first uint32
	for i := 0; len(b) > 0; i++ {
		if len(b) < 11 {
			return nil, fmt.Errorf("aggregate: truncated sub-message header")
		}
		typ := b[0]
		size := be24(b[1:])
		ts := be24(b[4:]) | uint32(b[7])<<24
		if uint32(len(b)-11) < size {
			return nil, fmt.Errorf("aggregate: sub-message longer than the message")
		}
		if i == 0 {
			first = ts
		}
		out = append(out, rawMessage{csid: m.csid, ts: m.ts + (ts - first), typ: typ, sid: m.sid, payload: b[11 : 11+size]})
		b = b[11+size:]
		if len(b) >= 4 {
			b = b[4:] // previous tag size
		}
	}
	return out, nil
}
