package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxJPEG bounds one picture read from ffmpeg's image2pipe output.
const maxJPEG = 32 << 20

var errJPEGTooBig = errors.New("jpeg: picture larger than 32 MiB")

// jpegSplitter cuts a stream of concatenated JPEG files (ffmpeg's
// image2pipe with mjpeg) into pictures. It walks the marker segments by
// their lengths and scans only entropy-coded data for markers, so bytes
// that look like an EOI inside a segment do not cut a picture short.
type jpegSplitter struct {
	r   *bufio.Reader
	buf []byte
}

func newJPEGSplitter(r io.Reader) *jpegSplitter {
	return &jpegSplitter{r: bufio.NewReaderSize(r, 64<<10)}
}

func (s *jpegSplitter) byte() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, err
	}
	if len(s.buf) >= maxJPEG {
		return 0, errJPEGTooBig
	}
	s.buf = append(s.buf, c)
	return c, nil
}

// Next returns the next complete picture (SOI to EOI). Bytes before an
// SOI are skipped. It returns io.EOF at a clean end of input and
// io.ErrUnexpectedEOF inside a picture.
func (s *jpegSplitter) Next() ([]byte, error) {
	// find SOI
	prev := byte(0)
	skipped := 0
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if prev == 0xFF && c == 0xD8 {
			break
		}
		prev = c
		if skipped++; skipped > maxJPEG {
			return nil, fmt.Errorf("jpeg: no start of image in %d bytes", maxJPEG)
		}
	}
	s.buf = append(s.buf[:0], 0xFF, 0xD8)
	pic, err := s.segments()
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return pic, err
}

// segments reads marker segments after the SOI up to and including EOI.
func (s *jpegSplitter) segments() ([]byte, error) {
	for {
		c, err := s.byte()
		if err != nil {
			return nil, err
		}
		if c != 0xFF {
			return nil, fmt.Errorf("jpeg: expected a marker, got 0x%02x", c)
		}
		m, err := s.marker()
		if err != nil {
			return nil, err
		}
		for {
			switch {
			case m == 0xD9:
				return append([]byte(nil), s.buf...), nil
			case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
				// no payload
			case m == 0xD8:
				return nil, errors.New("jpeg: start of image inside a picture")
			default:
				if err := s.skipSegment(); err != nil {
					return nil, err
				}
				if m == 0xDA {
					// entropy-coded data runs to the next real marker
					if m, err = s.scan(); err != nil {
						return nil, err
					}
					continue
				}
			}
			break
		}
	}
}

// marker reads the marker code after an 0xFF, skipping fill bytes.
func (s *jpegSplitter) marker() (byte, error) {
	for {
		m, err := s.byte()
		if err != nil || m != 0xFF {
			return m, err
		}
	}
}

// skipSegment reads a length-prefixed segment payload.
func (s *jpegSplitter) skipSegment() error {
	hi, err := s.byte()
	if err != nil {
		return err
	}
	lo, err := s.byte()
	if err != nil {
		return err
	}
	n := int(hi)<<8 | int(lo)
	if n < 2 {
		return fmt.Errorf("jpeg: segment length %d", n)
	}
	for range n - 2 {
		if _, err := s.byte(); err != nil {
			return err
		}
	}
	return nil
}

// scan reads entropy-coded data and returns the marker that ends it
// (stuffed 0xFF00 and restart markers belong to the data).
func (s *jpegSplitter) scan() (byte, error) {
	for {
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		if c != 0xFF {
			continue
		}
		m, err := s.marker()
		if err != nil {
			return 0, err
		}
		if m == 0x00 || (m >= 0xD0 && m <= 0xD7) {
			continue
		}
		return m, nil
	}
}
