package rtmp

import (
	"bytes"
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/yutopp/go-rtmp/message"

	"mps/internal/stream"
)

// flvMedia returns the audio and video tags of an FLV file as messages.
func flvMedia(flv []byte) []rawMessage {
	var tags []rawMessage
	for p := flv[min(13, len(flv)):]; len(p) >= 15; {
		size := int(be24(p[1:]))
		if len(p) < 11+size+4 {
			break
		}
		typ := p[0]
		ts := be24(p[4:]) | uint32(p[7])<<24
		if typ == msgAudio || typ == msgVideo {
			csid := uint32(csidVideo)
			if typ == msgAudio {
				csid = csidAudio
			}
			tags = append(tags, rawMessage{csid: csid, ts: ts, typ: typ, payload: p[11 : 11+size]})
		}
		p = p[11+size+4:]
	}
	return tags
}

// publisherConn waits for the server's only connection and returns it.
func publisherConn(t *testing.T, s *Server) *netConn {
	t.Helper()
	for range 200 {
		s.mu.Lock()
		for c := range s.conns {
			s.mu.Unlock()
			return c
		}
		s.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no connection")
	return nil
}

// waitNoConns waits until the server has closed every connection.
func waitNoConns(t *testing.T, s *Server) {
	t.Helper()
	for range 500 {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("connections still open")
}

// Every audio and video message of an ffmpeg publisher goes to the ingest
// without the library, and the units hold exactly the frames' bytes, in
// buffers of their exact size.
func TestIngestMediaSkipLibrary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	flv, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", fileGOP, "-c", "copy", "-f", "flv", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg to FLV: %v", err)
	}
	tags := flvMedia(flv)
	want := map[[2]uint32][]byte{} // type and timestamp: last NAL unit or AAC frame
	for _, m := range tags {
		switch {
		case m.typ == msgVideo && len(m.payload) > 5 && m.payload[1] == 1:
			nalus, err := splitNALUs(m.payload[5:], 4)
			if err != nil {
				t.Fatal(err)
			}
			want[[2]uint32{msgVideo, m.ts}] = nalus[len(nalus)-1]
		case m.typ == msgAudio && len(m.payload) > 2 && m.payload[1] == 1:
			want[[2]uint32{msgAudio, m.ts}] = m.payload[2:]
		}
	}

	s, hub := startServer(t, nil, Config{})
	pub := publishFile(t, ctx, fileGOP, rtmpURLOf(s, "live/direct"))
	st := waitPath(t, hub, "live/direct")
	nc := publisherConn(t, s)
	r := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer r.Close()
	counts := map[string]int{}
	for counts["video"] < 60 || counts["audio"] < 60 {
		u, err := r.Read()
		if err != nil {
			t.Fatalf("after %v units: %v (publisher: %s)", counts, err, pub.stderr)
		}
		kind, typ := "audio", uint32(msgAudio)
		if u.Track.IsVideo() {
			kind, typ = "video", msgVideo
		}
		counts[kind]++
		last := u.Payload[len(u.Payload)-1]
		exp, ok := want[[2]uint32{typ, uint32(u.DTS / time.Millisecond)}]
		if !ok || !bytes.Equal(last, exp) || cap(last) != len(last) {
			t.Fatalf("%s unit at %v: %d bytes (capacity %d), want %d bytes of the source (found: %v)",
				kind, u.DTS, len(last), cap(last), len(exp), ok)
		}
	}
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
	waitNoConns(t, s)
	if d, l := nc.directMedia.Load(), nc.libMedia.Load(); d != int64(len(tags)) || l != 0 {
		t.Errorf("%d media messages went around the library and %d through it; want all %d around", d, l, len(tags))
	}
}

// A real-time ffmpeg publisher keeps going for several times the read
// timeout and beyond its acknowledgement window (2.5 MB), though its media
// never return to the library, so netConn.Read does not return between
// them: each wait for a message has its own deadline. (ffmpeg does not
// wait for acknowledgements; TestPublishAcknowledged checks those.)
func TestLongPublishKeepsFlowing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, hub := startServer(t, nil, Config{ReadTimeout: time.Second})
	pub := startFFmpeg(t, ctx, "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "6",
		"-c:v", "libx264", "-preset", "ultrafast", "-qp", "5", "-g", "30", "-f", "flv", rtmpURLOf(s, "live/long"))
	st := waitPath(t, hub, "live/long")
	r := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer r.Close()
	const wantBytes = 3 << 20
	var got int
	var last time.Duration
	for got < wantBytes || last < 5900*time.Millisecond {
		u, err := r.Read()
		if err != nil {
			t.Fatalf("after %d bytes up to %v: %v (publisher: %s)", got, last, err, pub.stderr)
		}
		for _, p := range u.Payload {
			got += len(p)
		}
		last = max(last, u.DTS)
	}
	if err := pub.wait(t, 30*time.Second); err != nil {
		t.Fatalf("publisher: %v: %s", err, pub.stderr)
	}
}

// A publisher that sets a window of 256 kB gets an Acknowledgement each
// half window, counting all the bytes it sent.
func TestPublishAcknowledged(t *testing.T) {
	const window = 256 << 10
	tags := flvTags720p(t)
	_, _, c, pass := benchPublisher(t, tags)
	if err := c.write(csidControl, 0, 0, &message.WinAckSize{Size: window}); err != nil {
		t.Fatal(err)
	}
	c.flush(csidControl)
	var wire []byte
	for i := range 4 {
		w, _ := pass(i)
		wire = append(wire, w...)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.conn.Write(wire)
		errc <- err
	}()
	var acks []uint32
	for len(acks) == 0 || acks[len(acks)-1] < uint32(len(wire)-window/2) {
		m, err := c.readMessage()
		if err != nil {
			t.Fatalf("after acknowledgements %v of %d bytes: %v", acks, len(wire), err)
		}
		if m.typ == msgAck && len(m.payload) >= 4 {
			acks = append(acks, be32(m.payload))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := len(wire) / window; len(acks) < n {
		t.Errorf("%d acknowledgements for %d bytes at a window of %d, want %d or more", len(acks), len(wire), window, n)
	}
	largest := 0
	for _, m := range tags {
		largest = max(largest, len(m.payload))
	}
	for i := 1; i < len(acks); i++ {
		// each once half a window has come, at the end of a message
		if d := int(acks[i] - acks[i-1]); d < window/2 || d > window/2+largest+32 {
			t.Errorf("acknowledgements %d and %d: %d and %d", i-1, i, acks[i-1], acks[i])
		}
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
