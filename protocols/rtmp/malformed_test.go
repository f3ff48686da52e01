package rtmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/yutopp/go-rtmp/handshake"
)

// chunk builds one type-0 chunk (no splitting) on csid 3.
func chunk(typ byte, sid uint32, payload []byte, length uint32) []byte {
	b := []byte{0x03, 0, 0, 0}
	b = append(b, byte(length>>16), byte(length>>8), byte(length), typ)
	b = binary.LittleEndian.AppendUint32(b, sid)
	return append(b, payload...)
}

func amfString(s string) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{0x02}, uint16(len(s))), s...)
}

// Hostile clients that pass the handshake and then misbehave are dropped,
// one by one, while a real ffmpeg stream keeps flowing to a reader.
func TestMalformedClientsDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, _ := startServer(t, nil, Config{PlayWait: 20 * time.Second, ReadTimeout: 3 * time.Second})
	url := rtmpURLOf(s, "live/ok")
	r, out := readToFile(t, ctx, url)
	time.Sleep(300 * time.Millisecond)
	pub := publishFile(t, ctx, fileGOP, url)

	garbage := make([]byte, 64<<10)
	rand.New(rand.NewSource(1)).Read(garbage)
	connectCmd := append(amfString("connect"), 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0)
	strictBomb := append(append([]byte{}, connectCmd...), 0x0a, 0x7f, 0xff, 0xff, 0xff, 0x05)
	deep := append([]byte{}, connectCmd...)
	for i := 0; i < 100000; i++ {
		deep = append(deep, 0x03, 0, 0) // object { "": object { ...
	}
	cases := map[string][]byte{
		"garbage":            garbage,
		"strict array bomb":  chunk(20, 0, strictBomb, uint32(len(strictBomb))),
		"deep nesting":       chunk(20, 0, deep, uint32(len(deep))),
		"truncated chunk":    chunk(9, 1, []byte{0x17, 0}, 1000),
		"absurd length":      chunk(9, 1, bytes.Repeat([]byte{1}, 4096), 0xffffff),
		"zero chunk size":    chunk(1, 0, []byte{0, 0, 0, 0}, 4),
		"AMF3 command":       chunk(17, 0, []byte{0, 2, 0, 1, 'x'}, 5),
		"many chunk streams": manyChunkStreams(),
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(15 * time.Second))
			if err := handshake.HandshakeWithServer(c, c, &handshake.Config{SkipHandshakeVerification: true}); err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write(payload)
			// The server must hang up (not time out on our side).
			n, err := io.Copy(io.Discard, c)
			if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server kept the connection open (read %d bytes)", n)
			}
		})
	}

	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatalf("reader: %v: %s", err, r.stderr)
	}
	if n := frames(t, probe(t, out)["video"]); n != 180 {
		t.Errorf("concurrent reader got %d frames, want 180", n)
	}
}

func manyChunkStreams() []byte {
	var b []byte
	for i := 0; i < 200; i++ {
		b = append(b, 0x00, byte(i)) // csid 64+i, type 0
		b = append(b, 0, 0, 0, 0, 0x10, 0, 9, 1, 0, 0, 0)
		b = append(b, 0x17)
	}
	return b
}
