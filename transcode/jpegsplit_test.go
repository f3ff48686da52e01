package transcode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"testing"
)

func testJPEG(t testing.TB, w, h int, q int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestJPEGSplitter(t *testing.T) {
	a, b := testJPEG(t, 64, 48, 90), testJPEG(t, 33, 17, 20)
	// A COM segment holding a fake EOI must not end the picture.
	withCom := append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD9}, a[2:]...)
	in := bytes.Join([][]byte{{0x00, 0x12}, a, b, withCom}, nil)
	sp := newJPEGSplitter(bytes.NewReader(in))
	for i, want := range [][]byte{a, b, withCom} {
		got, err := sp.Next()
		if err != nil {
			t.Fatalf("picture %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("picture %d: %d bytes, want %d", i, len(got), len(want))
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(got)); err != nil {
			t.Fatalf("picture %d does not decode: %v", i, err)
		}
	}
	if _, err := sp.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last picture: %v, want io.EOF", err)
	}
	if _, err := newJPEGSplitter(bytes.NewReader(a[:len(a)/2])).Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated picture: %v, want io.ErrUnexpectedEOF", err)
	}
}

func FuzzJPEGSplitter(f *testing.F) {
	f.Add(testJPEG(f, 16, 16, 50))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0x00, 0xFF, 0xD0, 0xFF, 0xD9})
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		sp := newJPEGSplitter(bytes.NewReader(data))
		total := 0
		for range 1000 {
			pic, err := sp.Next()
			if err != nil {
				return
			}
			total += len(pic)
			if len(pic) < 4 || pic[0] != 0xFF || pic[1] != 0xD8 || pic[len(pic)-2] != 0xFF || pic[len(pic)-1] != 0xD9 {
				t.Fatalf("picture % x is not SOI..EOI", pic)
			}
			if total > len(data) {
				t.Fatalf("returned %d bytes from %d", total, len(data))
			}
		}
	})
}
