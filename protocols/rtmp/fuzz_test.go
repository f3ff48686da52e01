package rtmp

import (
	"bytes"
	"testing"

	"github.com/yutopp/go-amf0"
)

var (
	seedSPS  = []byte{0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x0a, 0xa8}
	seedPPS  = []byte{0x68, 0xce, 0x0f, 0xc8}
	seedAVCC = func() []byte { b, _ := buildAVCC(seedSPS, seedPPS); return b }()
)

func FuzzParseVideoTag(f *testing.F) {
	f.Add(legacyVideoTag(codecIDAVC, frameKey, pktSequenceStart, 0, seedAVCC))
	f.Add(legacyVideoTag(codecIDAVC, frameInter, pktCodedFrames, -40, joinNALUs([][]byte{{0x41, 1, 2}})))
	f.Add(exVideoTag(fourccHEVC, frameKey, pktCodedFrames, 80, joinNALUs([][]byte{{0x26, 1, 2}})))
	f.Add(exVideoTag(fourccAV1, frameKey, pktSequenceStart, 0, []byte{0x81, 0, 0, 0, 0x0a, 0x0b, 0, 0, 0, 0x42, 0xab, 0xbf, 0xc3, 0x70, 0x0b, 0xe0}))
	f.Add(exVideoTag(fourccVP9, frameInter, pktCodedFrames, 0, []byte{0x86, 0, 0x40}))
	f.Add([]byte{0x80 | 1<<4 | pktModEx, 0, 0, pktCodedFrames, 'h', 'v', 'c', '1', 0, 0, 1})
	f.Add([]byte{0x57, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tag, err := parseVideoTag(b)
		if err != nil {
			return
		}
		if len(tag.Data) > len(b) {
			t.Fatalf("data longer than the tag")
		}
		switch tag.PacketType {
		case pktSequenceStart:
			switch tag.Codec {
			case "h264":
				_, _, _, _ = parseAVCC(tag.Data)
			case "h265":
				_, _, _, _, _ = parseHVCC(tag.Data)
			case "av1":
				_, _ = parseAV1C(tag.Data)
			}
		case pktCodedFrames:
			_, _ = splitNALUs(tag.Data, 4)
			_, _ = splitNALUs(tag.Data, 2)
		}
	})
}

func FuzzParseAudioTag(f *testing.F) {
	f.Add(aacTag(pktSequenceStart, []byte{0x11, 0x90}))
	f.Add(aacTag(pktCodedFrames, []byte{0x21, 0x10, 0x04}))
	f.Add(g711Tag(soundPCMA, []byte{0xd5, 0xd5}))
	f.Add(exAudioTag(fourccOpus, pktSequenceStart, buildOpusHead(2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		tag, err := parseAudioTag(b)
		if err == nil && len(tag.Data) > len(b) {
			t.Fatalf("data longer than the tag")
		}
	})
}

func FuzzParseAVCC(f *testing.F) {
	f.Add(seedAVCC)
	f.Add([]byte{1, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sps, pps, n, err := parseAVCC(b)
		if err != nil {
			return
		}
		if len(sps) == 0 || len(pps) == 0 || (n != 1 && n != 2 && n != 4) {
			t.Fatalf("accepted avcC without parameter sets or with length size %d", n)
		}
		// What we accept we can write back and read again.
		if len(sps[0]) >= 4 {
			c, err := buildAVCC(sps[0], pps[0])
			if err != nil {
				t.Fatal(err)
			}
			s2, p2, _, err := parseAVCC(c)
			if err != nil || !bytes.Equal(s2[0], sps[0]) || !bytes.Equal(p2[0], pps[0]) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

func FuzzParseHVCC(f *testing.F) {
	f.Add(append(make([]byte, 22), 3, 0xa0, 0, 1, 0, 2, 0x40, 1, 0xa1, 0, 1, 0, 2, 0x42, 1, 0xa2, 0, 1, 0, 2, 0x44, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 0 {
			b[0] = 1
		}
		vps, sps, pps, _, err := parseHVCC(b)
		if err == nil && (len(vps) == 0 || len(sps) == 0 || len(pps) == 0) {
			t.Fatal("accepted hvcC without parameter sets")
		}
		if err == nil {
			_, _ = buildHVCC(vps[0], sps[0], pps[0])
		}
	})
}

// Whatever checkAMF0 lets through, go-amf0 decodes without blowing up.
func FuzzCheckAMF0(f *testing.F) {
	f.Add(append(amfString("connect"), 0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 3, 0, 3, 'a', 'p', 'p', 2, 0, 4, 'l', 'i', 'v', 'e', 0, 0, 9))
	f.Add([]byte{0x0a, 0, 0, 0, 2, 0x05, 0x01, 1})
	f.Add([]byte{0x08, 0, 0, 0, 1, 0, 1, 'a', 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkAMF0(b) != nil {
			return
		}
		dec := amf0.NewDecoder(bytes.NewReader(b))
		for i := 0; i < 1000; i++ {
			var v any
			if dec.Decode(&v) != nil {
				return
			}
		}
	})
}

// The chunk normalizer never panics and never returns more data than it
// read; media it delivers itself have buffers of their exact length.
func FuzzChunkStream(f *testing.F) {
	f.Add(chunk(20, 0, append(amfString("connect"), 0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 5), 15))
	f.Add(append(chunk(1, 0, []byte{0, 0, 0x10, 0}, 4), chunk(9, 1, bytes.Repeat([]byte{0x17}, 300), 300)...))
	f.Add(append([]byte{0x03, 0xff, 0xff, 0xff, 0, 0, 4, 8, 1, 0, 0, 0, 0, 0, 0, 5}, 0xaf, 1, 2, 3))
	f.Add(chunk(22, 1, []byte{9, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x17, 1, 0, 0, 0, 13}, 17))
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := &recordSink{publishing: true}
		nc := &netConn{parser: newChunkParser(bytes.NewReader(b)), sink: sink, ackWindow: 256}
		for i := 0; i < 1000; i++ {
			m, err := nc.parser.readMessage()
			if err != nil {
				return
			}
			if err := nc.handle(&m); err != nil {
				return
			}
			nc.out = nc.out[:0] // as if the library had read it
			for _, d := range sink.got {
				if cap(d.payload) != len(d.payload) {
					t.Fatalf("direct payload of %d bytes has capacity %d", len(d.payload), cap(d.payload))
				}
			}
			sink.got = sink.got[:0]
		}
	})
}
