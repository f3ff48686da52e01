package rtmp

import (
	"bytes"
	"context"
	"testing"
	"time"

	"mps/internal/stream"
)

// Units of an RTMP publisher hold their payload in buffers of exactly the
// message's size: the last slice of each unit ends where its buffer ends,
// so the ring keeps no spare capacity behind any frame.
func TestIngestUnitsExactSize(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, hub := startServer(t, nil, Config{})
	pub := publishFile(t, ctx, fileGOP, rtmpURLOf(s, "live/exact"))
	st := waitPath(t, hub, "live/exact")
	r := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer r.Close()
	counts := map[string]int{}
	for counts["video"] < 60 || counts["audio"] < 60 {
		u, err := r.Read()
		if err != nil {
			t.Fatalf("after %v units: %v (publisher: %s)", counts, err, pub.stderr)
		}
		kind := "audio"
		if u.Track.IsVideo() {
			kind = "video"
		}
		counts[kind]++
		last := u.Payload[len(u.Payload)-1]
		if cap(last) != len(last) {
			t.Fatalf("%s unit %d: last payload slice has capacity %d for %d bytes", kind, counts[kind], cap(last), len(last))
		}
	}
}

// chunked serializes one GOP of video messages, a 150 kB key frame and
// 29 frames of 12 kB, in chunks of chunkSize, the way a publisher writes
// them after SetChunkSize.
func chunked(chunkSize int) (wire []byte, msgs, size int) {
	for i := range 30 {
		n := 12000
		if i == 0 {
			n = 150000
		}
		m := rawMessage{csid: csidVideo, ts: uint32(i * 33), typ: msgVideo, sid: 1, payload: bytes.Repeat([]byte{0x17}, n)}
		wire = appendChunks(wire, &m, chunkSize)
		size += n
	}
	return wire, 30, size
}

// BenchmarkChunkParser reads one GOP of video messages in 4 kB chunks; run
// with -benchmem to see the bytes allocated per GOP.
func BenchmarkChunkParser(b *testing.B) {
	wire, msgs, size := chunked(4096)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		p := newChunkParser(bytes.NewReader(wire))
		p.chunkSize = 4096
		for range msgs {
			if _, err := p.readMessage(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
