package rtmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// wireConn is a net.Conn that reads a fixed byte stream; netConn's reading
// side uses nothing else of it.
type wireConn struct {
	net.Conn
	r io.Reader
}

func (c wireConn) Read(p []byte) (int, error)    { return c.r.Read(p) }
func (wireConn) SetReadDeadline(time.Time) error { return nil }

// recordSink is a mediaSink that takes media on message stream 1 once
// publishing is set, and records what it is given.
type recordSink struct {
	publishing bool
	got        []rawMessage
	acks       []uint32
}

func (s *recordSink) takesMedia(sid uint32) bool { return s.publishing && sid == 1 }

func (s *recordSink) media(ts uint32, payload []byte, video bool) error {
	typ := uint8(msgAudio)
	if video {
		typ = msgVideo
	}
	s.got = append(s.got, rawMessage{ts: ts, typ: typ, payload: payload})
	return nil
}

func (s *recordSink) ack(seq uint32) error {
	s.acks = append(s.acks, seq)
	return nil
}

// A publisher's media skip the library only once the library has read the
// publish command before them, never from an aggregate or another message
// stream; everything the socket brought is acknowledged at the window the
// peer set, which the library does not see.
func TestNetConnDirectMedia(t *testing.T) {
	const window = 2000
	msg := func(typ uint8, sid, ts uint32, payload []byte) rawMessage {
		return rawMessage{csid: csidVideo, ts: ts, typ: typ, sid: sid, payload: payload}
	}
	frame := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	publish := append(append(amfString("publish"), 0, 0, 0, 0, 0, 0, 0, 0, 0), 0x05)
	sub := append([]byte{msgVideo, 0, 0, 4, 0, 0, 0, 50, 0, 0, 0}, frame(4, 0x27)...)
	sub = binary.BigEndian.AppendUint32(sub, 15)
	msgs := []rawMessage{
		msg(msgWinAckSize, 0, 0, binary.BigEndian.AppendUint32(nil, window)),
		msg(msgVideo, 1, 0, frame(300, 0x17)), // before publish: the library's
		msg(msgCommandAMF0, 1, 0, publish),
		msg(msgVideo, 1, 40, frame(3000, 0x27)),
		msg(msgAudio, 1, 41, frame(10, 0xaf)),
		msg(msgAggregate, 1, 50, sub),
		msg(msgVideo, 2, 60, frame(20, 0x27)),
		msg(msgVideo, 1, 70, frame(1500, 0x27)),
	}
	var wire []byte
	for i := range msgs {
		wire = appendChunks(wire, &msgs[i], 128)
	}
	sink := &recordSink{}
	nc := newNetConn(wireConn{r: io.MultiReader(bytes.NewReader(make([]byte, handshakeSize)), bytes.NewReader(wire))}, 0, 0, nil)
	nc.sink = sink

	// Read the way the library does: the handshake, then messages in
	// chunks of libChunkSize, handling each before reading on.
	if _, err := io.ReadFull(nc, make([]byte, handshakeSize)); err != nil {
		t.Fatal(err)
	}
	lib := newChunkParser(nc)
	lib.chunkSize = libChunkSize
	var libTypes []uint8
	for {
		m, err := lib.readMessage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		libTypes = append(libTypes, m.typ)
		if m.typ == msgCommandAMF0 {
			sink.publishing = true
		}
	}

	if want := []uint8{msgVideo, msgCommandAMF0, msgVideo, msgVideo}; !bytes.Equal(libTypes, want) {
		t.Errorf("library got message types %v, want %v", libTypes, want)
	}
	want := []rawMessage{msgs[3], msgs[4], msgs[7]}
	if len(sink.got) != len(want) {
		t.Fatalf("sink got %d media messages, want %d", len(sink.got), len(want))
	}
	for i, m := range sink.got {
		if m.ts != want[i].ts || m.typ != want[i].typ || !bytes.Equal(m.payload, want[i].payload) || cap(m.payload) != len(m.payload) {
			t.Errorf("direct message %d: ts %d type %d, %d bytes (cap %d); want ts %d type %d, %d bytes",
				i, m.ts, m.typ, len(m.payload), cap(m.payload), want[i].ts, want[i].typ, len(want[i].payload))
		}
	}
	if d, l := nc.directMedia.Load(), nc.libMedia.Load(); d != 3 || l != 3 {
		t.Errorf("media counted %d direct and %d through the library, want 3 and 3", d, l)
	}

	total := uint32(handshakeSize + len(wire))
	if len(sink.acks) < 2 {
		t.Fatalf("acknowledgements %v for %d bytes at a window of %d", sink.acks, total, window)
	}
	for i, seq := range sink.acks {
		if seq > total || (i > 0 && seq-sink.acks[i-1] < window/2) {
			t.Errorf("acknowledgement %d of %v out of place (%d bytes in all)", i, sink.acks, total)
		}
	}
	if last := sink.acks[len(sink.acks)-1]; total-last >= window/2 {
		t.Errorf("last acknowledgement %d leaves %d of %d bytes unacknowledged", last, total-last, total)
	}
}
